"""Policy configuration: plain dataclasses, serialised to ``config.json`` next to the weights."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from twinarm.policies.errors import PolicyConfigError

NORM_MODES = ("mean_std", "min_max", "identity")


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """Fields every policy shares.

    Attributes:
        state_dim: length n of ``observation.state`` (joint positions [rad]).
        action_dim: length of one action (joint targets [rad]); n for an arm.
        cameras: camera names whose images the policy sees, e.g. ``("front", "wrist")``; may be empty.
        chunk_size: actions predicted per inference call (covering ``chunk_size`` control steps).
        n_action_steps: actions of each chunk executed before planning again (<= chunk_size).
        n_obs_steps: observation steps the policy conditions on (current one last).
        state_norm / action_norm: ``mean_std`` (zero mean, unit std), ``min_max`` (to [-1, 1]) or ``identity``.
        ema_decay: EMA of weights during training (0 disables it); evaluation uses the EMA weights.
    """

    state_dim: int = 6
    action_dim: int = 6
    cameras: tuple[str, ...] = ("front", "wrist")
    chunk_size: int = 20
    n_action_steps: int = 10
    n_obs_steps: int = 1
    state_norm: str = "mean_std"
    action_norm: str = "mean_std"
    ema_decay: float = 0.0

    def __post_init__(self) -> None:
        check_field(self.state_dim > 0, "state_dim", self.state_dim, "> 0")
        check_field(self.action_dim > 0, "action_dim", self.action_dim, "> 0")
        check_field(self.chunk_size > 0, "chunk_size", self.chunk_size, "> 0")
        check_field(
            0 < self.n_action_steps <= self.chunk_size,
            "n_action_steps",
            self.n_action_steps,
            f"in [1, chunk_size={self.chunk_size}]",
        )
        check_field(self.n_obs_steps > 0, "n_obs_steps", self.n_obs_steps, "> 0")
        check_field(0.0 <= self.ema_decay < 1.0, "ema_decay", self.ema_decay, "in [0, 1)")
        for key in ("state_norm", "action_norm"):
            check_field(getattr(self, key) in NORM_MODES, key, getattr(self, key), f"one of {NORM_MODES}")
        check_field(len(set(self.cameras)) == len(self.cameras), "cameras", self.cameras, "distinct names")


def check_field(ok: bool, key: str, value: Any, valid: str) -> None:
    if not ok:
        raise PolicyConfigError(f"policy config {key}={value!r} is invalid; expected {valid}")


def config_to_dict(cfg: PolicyConfig) -> dict[str, Any]:
    """JSON-ready dict (tuples become lists)."""
    return dataclasses.asdict(cfg)


C = TypeVar("C", bound=PolicyConfig)


def config_from_dict(cls: type[C], raw: dict[str, Any]) -> C:
    """``cls`` built from ``raw`` (lists become tuples); unknown keys raise naming the valid ones."""
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - valid)
    if unknown:
        raise PolicyConfigError(f"{cls.__name__}: unknown keys {unknown}; valid keys: {sorted(valid)}")
    return cls(**{k: _tuples(v) for k, v in raw.items()})


def _tuples(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_tuples(x) for x in v)
    return v
