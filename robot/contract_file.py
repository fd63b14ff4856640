"""``policy_contract.json``: a :class:`~twinarm.robot.policy_contract.PolicyContract` as JSON, validated on load.

Every key is checked: an unknown or missing key, a wrong enum value or an out-of-range number raises
:class:`~twinarm.robot.policy_contract.ContractError` naming the file, the key and the valid values. A checkpoint
saved before contracts existed (no file) gets :func:`legacy_contract`, what twinarm ran such checkpoints with, and
one logged note saying so.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
from pathlib import Path
from typing import Any

from twinarm.robot.files import write_json_atomic
from twinarm.robot.models import AMAZING_HAND, SO101
from twinarm.robot.policy_contract import (
    CONTRACT_VERSION,
    ActionSemantics,
    CameraInput,
    ContractError,
    ImagePreprocessing,
    PolicyContract,
    validate_contract,
)

CONTRACT_FILE = "policy_contract.json"
#: Camera size old checkpoints (no contract) were run with: the default of ``twinarm eval`` and ``deploy`` [px].
LEGACY_IMAGE_HW = (96, 96)
#: The robot models that existed before contracts: an old checkpoint is one of them, told apart by its joint count.
LEGACY_MODELS = (SO101, AMAZING_HAND)

log = logging.getLogger(__name__)


# -- JSON ----------------------------------------------------------------------------------------------------
def contract_to_dict(contract: PolicyContract) -> dict[str, Any]:
    """JSON-ready dict (enums as their values, tuples as lists); ``legacy`` is not saved."""
    raw = dataclasses.asdict(contract)
    raw.pop("legacy")
    return json.loads(json.dumps(raw, default=lambda v: v.value))


def contract_from_dict(raw: Any, where: str = "policy contract") -> PolicyContract:
    """Validate ``raw`` (the parsed JSON) and build the contract; :class:`ContractError` names ``where``, the key
    and the valid values."""
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    version = raw.get("version")
    if version != CONTRACT_VERSION:
        raise ContractError(f"{where}: key 'version' is {version!r}; this twinarm reads version {CONTRACT_VERSION}")
    fields = _take(raw, PolicyContract, where, "")
    fields["joint_names"] = tuple(_strings(fields["joint_names"], where, "joint_names"))
    fields["cameras"] = tuple(
        _build(cam, CameraInput, where, f"cameras[{i}].") for i, cam in enumerate(_list(fields["cameras"], where))
    )
    fields["action"] = _build(fields["action"], ActionSemantics, where, "action.")
    if "image" in fields:
        fields["image"] = _build(fields["image"], ImagePreprocessing, where, "image.")
    contract = PolicyContract(**fields)
    validate_contract(contract, where)
    return contract


def _take(raw: dict[str, Any], cls: type, where: str, prefix: str) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "legacy"}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ContractError(f"{where}: unknown keys {[prefix + k for k in unknown]}; valid keys: {sorted(fields)}")
    required = [n for n, f in fields.items() if f.default is dataclasses.MISSING and n not in raw]
    if required:
        raise ContractError(f"{where}: missing keys {[prefix + k for k in required]}")
    return dict(raw)


def _build(raw: Any, cls: type, where: str, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: key {prefix[:-1]!r} must be an object, got {raw!r}")
    fields = _take(raw, cls, where, prefix)
    for f in dataclasses.fields(cls):
        if f.name in fields and isinstance(f.default, enum.Enum):
            enum_cls = type(f.default)
            valid = [e.value for e in enum_cls]
            if fields[f.name] not in valid:
                raise ContractError(f"{where}: key {prefix + f.name!r} is {fields[f.name]!r}; valid values: {valid}")
            fields[f.name] = enum_cls(fields[f.name])
    return cls(**fields)


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ContractError(f"{where}: key 'cameras' must be a list, got {value!r}")
    return value


def _strings(value: Any, where: str, key: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ContractError(f"{where}: key {key!r} must be a non-empty list of names, got {value!r}")
    return value


# -- files ---------------------------------------------------------------------------------------------------
def save_contract(contract: PolicyContract, directory: str | Path) -> Path:
    """Write ``policy_contract.json`` into ``directory``; returns its path."""
    return write_json_atomic(contract_to_dict(contract), Path(directory) / CONTRACT_FILE)


def load_contract(directory: str | Path, config: dict[str, Any] | None = None) -> PolicyContract:
    """The contract of the checkpoint in ``directory``. A checkpoint saved before contracts existed gets
    :func:`legacy_contract` from its ``config.json`` (``config``, read from disk when None) and one logged note."""
    path = Path(directory) / CONTRACT_FILE
    if path.is_file():
        return contract_from_dict(read_json(path), str(path))
    if config is None:
        cfg_path = Path(directory) / "config.json"
        if not cfg_path.is_file():
            raise ContractError(f"{directory}: not a policy checkpoint (no {CONTRACT_FILE} and no config.json)")
        config = read_json(cfg_path)
        if not isinstance(config, dict):
            raise ContractError(f"{cfg_path}: expected a JSON object, got {type(config).__name__}")
    contract = legacy_contract(config)
    cams = ", ".join(f"{c.name} {c.height}x{c.width}" for c in contract.cameras) or "none"
    log.warning(
        "%s has no %s (saved before policy contracts): assuming robot %s at %g Hz, joints %s [rad], cameras %s "
        "(RGB, centre crop + resize), absolute joint targets [rad]; override the camera size if it was trained on "
        "another one",
        directory,
        CONTRACT_FILE,
        contract.robot,
        contract.control_hz,
        ", ".join(contract.joint_names),
        cams,
    )
    return contract


def read_json(path: Path) -> Any:
    """The parsed JSON of ``path``; unreadable or malformed text raises :class:`ContractError` naming the file."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: unreadable ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not valid JSON ({exc})") from None


def check_weights_file(path: Path) -> int:
    """The number of tensors in the safetensors file ``path``, from its header alone (no torch, no tensor read).
    A missing, truncated or non-safetensors file raises :class:`ContractError` naming it and what is wrong."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            length = int.from_bytes(head, "little") if len(head) == 8 else -1
            if not 2 <= length <= size - 8:
                raise ContractError(
                    f"{path}: not a safetensors file ({size} bytes; header length {length}); it may be truncated "
                    "or corrupt"
                )
            header = json.loads(f.read(length))
        tensors = {k: v for k, v in header.items() if k != "__metadata__"}
        end = max((int(v["data_offsets"][1]) for v in tensors.values()), default=0)
    except FileNotFoundError:
        raise ContractError(f"{path}: missing; a checkpoint needs its weights") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, IndexError, TypeError) as e:
        raise ContractError(f"{path}: not a safetensors file (unreadable header: {e!r}); it may be corrupt") from None
    if 8 + length + end != size:
        raise ContractError(
            f"{path}: holds {size} bytes but its header describes {8 + length + end}; it is truncated or corrupt"
        )
    return len(tensors)


def legacy_contract(config: dict[str, Any]) -> PolicyContract:
    """What old checkpoints (``config.json`` only) were run with: the model with ``state_dim`` joints (the SO-101
    for 6) at its default rate, 96x96 RGB cameras."""
    try:
        return _legacy_contract(config)
    except (TypeError, ValueError) as exc:
        raise ContractError(
            f"config.json: a value has the wrong type ({exc}); expected integers for state_dim, "
            "chunk_size, n_action_steps, n_obs_steps and a list of camera names"
        ) from None


def _legacy_contract(config: dict[str, Any]) -> PolicyContract:
    h, w = LEGACY_IMAGE_HW
    cams = tuple(CameraInput(str(name), h, w, h, w) for name in config.get("cameras", ()))
    chunk = int(config.get("chunk_size", 1))
    n = int(config.get("state_dim", SO101.num_joints))
    model = next((m for m in LEGACY_MODELS if m.num_joints == n), None)
    return PolicyContract(
        robot=model.name if model else "unknown",
        joint_names=model.joint_names if model else tuple(f"joint_{i}" for i in range(n)),
        cameras=cams,
        control_hz=model.control_hz if model else SO101.control_hz,
        n_obs_steps=int(config.get("n_obs_steps", 1)),
        action=ActionSemantics(chunk, int(config.get("n_action_steps", chunk))),
        legacy=True,
    )
