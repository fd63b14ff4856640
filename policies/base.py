"""The Policy interface: normalization, inference with an action queue, save/load (the registry of policy types is
:mod:`policies.registry`).

A policy maps observations to chunks of future joint targets [rad]. Two entry points share one model:

* training: ``forward(batch) -> (loss, logs)`` on a batch from :mod:`policies.data` (lerobot key names:
  ``observation.state`` (B, [T,] n), ``observation.images.<cam>`` (B, [T,] 3, H, W) float in [0, 1],
  ``action`` (B, chunk, n), ``action_is_pad`` (B, chunk));
* control: ``select_action(obs)`` with a Robot observation dict (``joint_pos`` (n,) [rad], ``image_<cam>``
  (H, W, 3) uint8) returning (n,) float32 joint targets [rad]. It plans a chunk, then replays its first
  ``n_action_steps`` actions before planning again. Batched observations (a leading env axis) give (B, n).

State, action and image normalization statistics live in the model as buffers, so a checkpoint (directory with
``model.safetensors`` + ``config.json``, the Hugging Face hub layout; no pickles) is self-contained. A policy
trained by twinarm also carries its input/output contract (``policy.contract``, saved as ``policy_contract.json``,
see :mod:`twinarm.robot.policy_contract`): with one, every observation passes through the contract's
:class:`~twinarm.robot.observation.ObservationPipeline` (cameras at any size -> the trained input size) first.
"""

from __future__ import annotations

import abc
import json
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from twinarm.policies.checkpoint_files import load_weights, read_json_object, read_tensors
from twinarm.policies.config import PolicyConfig, config_from_dict, config_to_dict
from twinarm.policies.data import ACTION, ACTION_IS_PAD, STATE, image_feature, observation_to_batch
from twinarm.policies.errors import CheckpointError, PolicyError
from twinarm.policies.normalize import Normalization
from twinarm.robot.contract_file import load_contract, save_contract
from twinarm.robot.features import JOINT_POS
from twinarm.robot.observation import ObservationPipeline
from twinarm.robot.policy_contract import PolicyContract

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"

Batch = dict[str, Tensor]


class Policy(nn.Module, abc.ABC):
    """Base of every policy; subclasses implement ``compute_loss`` and ``sample_chunk`` on normalized tensors."""

    name: ClassVar[str]
    config_class: ClassVar[type[PolicyConfig]]

    def __init__(self, config: PolicyConfig, stats: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.config = config
        self.normalization = Normalization(config)
        if stats is not None:
            self.normalization.set_stats(stats)
        self._action_queue: deque[Tensor] = deque()
        self._obs_history: deque[Batch] = deque(maxlen=config.n_obs_steps)
        self.contract: PolicyContract | None = None
        self._pipeline: ObservationPipeline | None = None

    def set_contract(self, contract: PolicyContract) -> None:
        """Attach the input/output contract (saved with the weights; drives the observation pipeline)."""
        cfg = self.config
        mismatches = {
            "cameras": (sorted(contract.camera_names), sorted(cfg.cameras)),
            "state_dim": (len(contract.joint_names), cfg.state_dim),
            "chunk_size": (contract.action.chunk_size, cfg.chunk_size),
            "n_action_steps": (contract.action.n_action_steps, cfg.n_action_steps),
            "n_obs_steps": (contract.n_obs_steps, cfg.n_obs_steps),
        }
        bad = {k: v for k, v in mismatches.items() if v[0] != v[1]}
        if bad:
            detail = "; ".join(f"{k}: contract {a}, config {b}" for k, (a, b) in bad.items())
            raise PolicyError(f"{self.name} policy: contract does not match its config ({detail})")
        self.contract = contract
        self._pipeline = ObservationPipeline(contract)

    # -- hooks --------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def compute_loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        """Training loss on a normalized batch: ``state`` (B, T, n), ``images`` {cam: (B, T, 3, H, W)},
        ``action`` (B, chunk, n), ``action_is_pad`` (B, chunk) bool."""

    @abc.abstractmethod
    def sample_chunk(self, batch: Batch) -> Tensor:
        """Normalized action chunk (B, chunk, n) for a normalized observation batch (no ``action`` key)."""

    # -- training -----------------------------------------------------------------------------------------
    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """Loss and scalar logs for a training batch with lerobot key names (see the module docstring)."""
        return self.compute_loss(self.prepare(batch, with_action=True))

    def prepare(self, batch: dict[str, Tensor], with_action: bool = False) -> Batch:
        """Lerobot-keyed tensors -> normalized internal batch with a time axis on observations."""
        cfg = self.config
        state = _with_time_axis(batch[STATE], 2)
        out: Batch = {"state": self.normalization.normalize(STATE, state)}
        images = {}
        for cam in cfg.cameras:
            key = image_feature(cam)
            if key not in batch:
                raise PolicyError(f"{self.name} policy: batch lacks {key!r}; keys: {sorted(batch)}")
            images[cam] = self.normalization.normalize(key, _with_time_axis(batch[key], 4))
        out["images"] = images  # type: ignore[assignment]
        if with_action:
            out[ACTION] = self.normalization.normalize(ACTION, batch[ACTION])
            pad = batch.get(ACTION_IS_PAD)
            out[ACTION_IS_PAD] = pad.bool() if pad is not None else torch.zeros(out[ACTION].shape[:2], dtype=torch.bool)
        return out

    # -- inference ----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget queued actions and observation history (call at every episode start)."""
        self._action_queue.clear()
        self._obs_history.clear()

    @torch.no_grad()
    def predict_chunk(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Joint targets [rad] for the next ``chunk_size`` steps: (chunk, n), or (B, chunk, n) if batched."""
        batched = np.asarray(obs[JOINT_POS]).ndim == 2
        chunk = self._plan(self._observe(obs))
        return chunk.numpy() if batched else chunk[0].numpy()

    @torch.no_grad()
    def select_action(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Next joint target [rad]: (n,) float32, or (B, n) for a batched observation."""
        batched = np.asarray(obs[JOINT_POS]).ndim == 2
        batch = self._observe(obs)
        if not self._action_queue:
            chunk = self._plan(batch)  # (B, chunk, n)
            for i in range(self.config.n_action_steps):
                self._action_queue.append(chunk[:, i])
        action = self._action_queue.popleft()
        return action.numpy() if batched else action[0].numpy()

    def _observe(self, obs: dict[str, np.ndarray]) -> Batch:
        """Append ``obs`` (through the contract's pipeline, if any) to the history and return a (B, T, ...)
        lerobot-keyed batch of the last T steps."""
        if self._pipeline is not None:
            obs = self._pipeline(obs)
        step = observation_to_batch(obs, self.config.cameras)
        if self._obs_history and len(self._obs_history[-1][STATE]) != len(step[STATE]):
            self.reset()  # another batch size: a new set of episodes
        if not self._obs_history:
            for _ in range(self.config.n_obs_steps - 1):
                self._obs_history.append(step)  # pad the history with the first observation
        self._obs_history.append(step)
        return {k: torch.stack([h[k] for h in self._obs_history], dim=1) for k in step}

    def _plan(self, batch: Batch) -> Tensor:
        was_training = self.training
        self.eval()
        try:
            chunk = self.sample_chunk(self.prepare(batch))
        finally:
            self.train(was_training)
        return self.normalization.unnormalize(ACTION, chunk).float()

    # -- persistence --------------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``config.json``, ``model.safetensors`` (weights and normalization stats) and, when the policy has
        one, ``policy_contract.json`` to ``directory``."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        if self.contract is not None:
            save_contract(self.contract, path)
        (path / CONFIG_FILE).write_text(json.dumps({"type": self.name, **config_to_dict(self.config)}, indent=2))
        tensors = {k: v.detach().contiguous().clone() for k, v in self.state_dict().items()}
        save_file(tensors, str(path / WEIGHTS_FILE), metadata={"format": "pt", "policy": self.name})
        return path

    @classmethod
    def load(cls, directory: str | Path) -> Policy:
        """The policy saved in ``directory`` (any registered type when called on the base class), with its contract
        (a checkpoint saved without one gets the assumed legacy contract and a logged note)."""
        path = Path(directory)
        cfg_path = path / CONFIG_FILE
        if not path.is_dir():
            raise CheckpointError(f"{path}: no such checkpoint directory (needs {CONFIG_FILE} and {WEIGHTS_FILE})")
        if not cfg_path.is_file() and not (path / WEIGHTS_FILE).is_file():
            raise CheckpointError(f"{path}: not a policy checkpoint (needs {CONFIG_FILE} and {WEIGHTS_FILE})")
        raw = read_json_object(cfg_path)
        kind = raw.pop("type", None)
        if cls is Policy:
            from twinarm.policies.registry import get_policy_class  # the registry imports this module

            try:
                policy_cls = get_policy_class(kind)
            except PolicyError as exc:
                raise CheckpointError(f"{cfg_path}: key 'type': {exc}") from None
        else:
            policy_cls = cls
        if kind != policy_cls.name:
            raise PolicyError(f"{cfg_path}: holds a {kind!r} policy, not {policy_cls.name!r}")
        try:
            policy = policy_cls(config_from_dict(policy_cls.config_class, raw))
        except (TypeError, ValueError) as exc:  # PolicyConfigError included: a value of the wrong type or range
            raise CheckpointError(f"{cfg_path}: invalid policy config ({exc})") from None
        load_weights(policy, read_tensors(path / WEIGHTS_FILE), path / WEIGHTS_FILE)
        policy.set_contract(load_contract(path, raw))
        policy.eval()
        return policy

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def _with_time_axis(x: Tensor, feature_dims: int) -> Tensor:
    """(B, *feat) -> (B, 1, *feat); tensors that already have a time axis pass through."""
    return x.unsqueeze(1) if x.ndim == feature_dims else x
