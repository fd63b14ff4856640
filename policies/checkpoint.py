"""Training checkpoints without pickles: tensors in safetensors, scalars in JSON.

Layout (the lerobot one)::

    <output_dir>/checkpoints/<step:06d>/pretrained_model/   config.json, model.safetensors (EMA weights if used)
    <output_dir>/checkpoints/<step:06d>/training_state/     optimizer.safetensors, model_raw.safetensors,
                                                            training_state.json (step, param groups, RNG)
    <output_dir>/checkpoints/last -> <step:06d>
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from twinarm.policies.base import Policy
from twinarm.policies.checkpoint_files import load_weights, read_json_object, read_tensors
from twinarm.policies.errors import CheckpointError, PolicyError

PRETRAINED = "pretrained_model"
STATE_DIR = "training_state"
LAST = "last"


def optimizer_to_flat(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimizer state as (tensors keyed ``state.<param>.<name>``, JSON-ready rest)."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entry in sd["state"].items():
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{pid}.{name}"] = value.detach().contiguous().clone()
            else:
                scalars.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_flat(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    for pid, entry in rest.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(entry)
    opt.load_state_dict({"state": state, "param_groups": rest["param_groups"]})


def save_checkpoint(
    output_dir: Path, step: int, policy: Policy, eval_policy: Policy, opt: torch.optim.Optimizer
) -> Path:
    """Write the checkpoint of ``step``; ``eval_policy`` (the EMA copy, or ``policy``) is the released model."""
    ckpt = output_dir / "checkpoints" / f"{step:06d}"
    eval_policy.save(ckpt / PRETRAINED)
    state_dir = ckpt / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    tensors, rest = optimizer_to_flat(opt)
    save_file(tensors, str(state_dir / "optimizer.safetensors"))
    if eval_policy is not policy:
        save_file(
            {k: v.contiguous().clone() for k, v in policy.state_dict().items()},
            str(state_dir / "model_raw.safetensors"),
        )
    save_file({"torch": torch.get_rng_state()}, str(state_dir / "rng.safetensors"))
    (state_dir / "training_state.json").write_text(json.dumps({"step": step, **rest}, indent=1))
    last = output_dir / "checkpoints" / LAST
    tmp = last.with_name(LAST + ".tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(ckpt.name)
    tmp.replace(last)
    return ckpt


def load_checkpoint(ckpt: Path, policy: Policy, eval_policy: Policy, opt: torch.optim.Optimizer) -> int:
    """Restore weights, EMA, optimizer and RNG from ``ckpt``; returns the step it was saved at."""
    state_dir = ckpt / STATE_DIR
    meta_path = state_dir / "training_state.json"
    if not meta_path.is_file():
        raise PolicyError(f"{ckpt}: not a training checkpoint (no {STATE_DIR}/training_state.json)")
    meta = read_json_object(meta_path)
    released = read_tensors(ckpt / PRETRAINED / "model.safetensors")
    raw_path = state_dir / "model_raw.safetensors"
    if raw_path.is_file():
        load_weights(policy, read_tensors(raw_path), raw_path)
    else:
        load_weights(policy, released, ckpt / PRETRAINED / "model.safetensors")
    if eval_policy is not policy:
        load_weights(eval_policy, released, ckpt / PRETRAINED / "model.safetensors")
    try:
        optimizer_from_flat(opt, read_tensors(state_dir / "optimizer.safetensors"), meta)
        torch.set_rng_state(read_tensors(state_dir / "rng.safetensors")["torch"])
        step = int(meta["step"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        if isinstance(exc, PolicyError):
            raise
        raise CheckpointError(f"{state_dir}: training state does not fit this run ({exc!r})") from None
    return step


def last_checkpoint(output_dir: Path) -> Path | None:
    last = output_dir / "checkpoints" / LAST
    return last.resolve() if last.exists() else None
