"""``twinarm policy info PATH``: what a checkpoint expects before it is pointed at an arm (no torch needed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from twinarm.robot.errors import TwinarmError

HELP = "inspect a policy checkpoint: info PATH prints its input/output contract (robot, joints, cameras, rate)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="twinarm policy", description=HELP)
    sub = p.add_subparsers(dest="action", required=True)
    info = sub.add_parser("info", help="the contract: robot, joints [rad], cameras and preprocessing, rate, actions")
    info.add_argument("path", type=Path, help="checkpoint directory (config.json, model.safetensors)")
    info.add_argument("--json", action="store_true", help="print the contract as JSON")
    return p


def _read(path: Path) -> tuple[dict, object]:
    """(``config.json`` as a dict, the contract) of the checkpoint at ``path``; damaged files raise ContractError."""
    from twinarm.robot.contract_file import load_contract, read_json
    from twinarm.robot.policy_contract import ContractError

    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        raise ContractError(f"{path}: not a policy checkpoint (no config.json)")
    config = read_json(cfg_path)
    if not isinstance(config, dict):
        raise ContractError(f"{cfg_path}: expected a JSON object, got {type(config).__name__}")
    return config, load_contract(path, {k: v for k, v in config.items() if k != "type"})


def info_text(path: Path) -> str:
    """Human-readable description of the checkpoint at ``path``."""
    from twinarm.robot.contract_file import CONTRACT_FILE, check_weights_file

    config, contract = _read(path)
    source = path / CONTRACT_FILE if not contract.legacy else "assumed (no " + CONTRACT_FILE + ")"
    tensors = check_weights_file(path / "model.safetensors")
    return (
        f"{path}: {config.get('type', '?')} policy\n{contract.summary()}\nsource: {source}\n"
        f"weights: model.safetensors, {tensors} tensors"
    )


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.json:
            from twinarm.robot.contract_file import contract_to_dict

            print(json.dumps(contract_to_dict(_read(args.path)[1]), indent=2))
        else:
            print(info_text(args.path))
        return 0
    except TwinarmError as e:
        print(f"twinarm policy {args.action}: {e}", file=sys.stderr)
        return 1
