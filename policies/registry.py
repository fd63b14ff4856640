"""The registry of policy types: each policy module registers its class under ``Policy.name`` with
:func:`register_policy`; :func:`make_policy` builds a fresh one from config fields, :func:`get_policy_class` finds a
class by name (``Policy.load`` uses it for a checkpoint's ``type``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from twinarm.policies.base import Policy
from twinarm.policies.config import config_from_dict
from twinarm.policies.errors import PolicyError

_REGISTRY: dict[str, type[Policy]] = {}


def register_policy(cls: type[Policy]) -> type[Policy]:
    """Class decorator adding a policy to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin() -> None:
    import twinarm.policies.act
    import twinarm.policies.bc
    import twinarm.policies.diffusion  # noqa: F401


def get_policy_class(name: str | None) -> type[Policy]:
    """The registered policy class ``name``; a :class:`PolicyError` lists the valid names."""
    _load_builtin()
    if name not in _REGISTRY:
        raise PolicyError(f"unknown policy {name!r}; valid policies: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def available_policies() -> list[str]:
    """The names of every registered policy type, sorted."""
    _load_builtin()
    return sorted(_REGISTRY)


def make_policy(name: str, stats: dict[str, dict[str, Any]] | None = None, **fields: Any) -> Policy:
    """A fresh policy ``name`` whose config takes ``fields`` (unknown keys raise, naming the valid ones)."""
    cls = get_policy_class(name)
    valid = {f.name for f in dataclasses.fields(cls.config_class)}
    unknown = sorted(set(fields) - valid)
    if unknown:
        raise PolicyError(f"{name} policy: unknown config keys {unknown}; valid keys: {sorted(valid)}")
    return cls(config_from_dict(cls.config_class, fields), stats)
