"""Reading a checkpoint's files with every failure typed: a malformed ``config.json``, a truncated or foreign
``model.safetensors`` or weights that do not fit the model raise :class:`CheckpointError` naming the file and what
is wrong with it (never a bare ``JSONDecodeError``, ``SafetensorError`` or ``RuntimeError``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from twinarm.policies.errors import CheckpointError

#: The text shown when a file looks damaged: what the user can do about it.
REDO_HINT = "re-copy the checkpoint or point policy.path at another one"


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; a missing, unreadable, malformed or non-object file raises
    :class:`CheckpointError` naming it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing; a checkpoint needs it ({REDO_HINT})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: unreadable ({exc}); {REDO_HINT}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc}); {REDO_HINT}") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(raw).__name__}; {REDO_HINT}")
    return raw


def read_tensors(path: Path) -> dict[str, Tensor]:
    """The tensors of the safetensors file ``path``; a missing, truncated or non-safetensors file raises
    :class:`CheckpointError` naming it."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{path}: missing; a checkpoint needs it ({REDO_HINT})")
    try:
        return load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own SafetensorError (and OSError, ValueError)
        size = path.stat().st_size
        raise CheckpointError(
            f"{path}: not a readable safetensors file ({size} bytes: {exc}); it may be truncated or corrupt; "
            f"{REDO_HINT}"
        ) from None


def load_weights(module: nn.Module, tensors: dict[str, Tensor], path: Path) -> None:
    """``module.load_state_dict(tensors)``; missing, unexpected or mis-shaped tensors raise
    :class:`CheckpointError` naming ``path`` and the first offending keys."""
    own = module.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    shapes = [
        f"{k} {tuple(tensors[k].shape)} (model {tuple(v.shape)})"
        for k, v in own.items()
        if k in tensors and tuple(tensors[k].shape) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing tensors {_few(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors {_few(unexpected)}")
    if shapes:
        problems.append(f"wrong shapes {_few(shapes)}")
    if problems:
        raise CheckpointError(
            f"{path}: weights do not fit the model its config.json describes: {'; '.join(problems)}; {REDO_HINT}"
        )
    module.load_state_dict(tensors)


def _few(items: list[str], n: int = 3) -> str:
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more
