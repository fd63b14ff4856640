"""Corrupt checkpoints (issue 11, defect 4): every damaged file gives a typed error naming it, and the CLI
(``eval``, ``deploy``, ``policy info``) prints one line and exits 1 instead of a traceback."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.policies.helpers_policies import tiny_policy
from twinarm.cli.main import main
from twinarm.compose.policy import PolicyRef, load_policy
from twinarm.policies.base import CONFIG_FILE, WEIGHTS_FILE, Policy
from twinarm.robot.contract_file import CONTRACT_FILE
from twinarm.robot.errors import TwinarmError


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _edit_json(name: str, edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def apply(ckpt: Path) -> None:
        raw = json.loads((ckpt / name).read_text())
        (ckpt / name).write_text(json.dumps(edit(raw)))

    return apply


def _set(raw: dict, key: str, value: object) -> dict:
    raw[key] = value
    return raw


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (damage, file named in the message, what the message says is wrong)
    "config not json": (lambda c: (c / CONFIG_FILE).write_text("{ not json"), CONFIG_FILE, "not valid JSON"),
    "config a list": (lambda c: (c / CONFIG_FILE).write_text("[1, 2]"), CONFIG_FILE, "expected a JSON object"),
    "config empty": (lambda c: (c / CONFIG_FILE).write_text(""), CONFIG_FILE, "not valid JSON"),
    "config bad type": (_edit_json(CONFIG_FILE, lambda r: _set(r, "type", "nope")), CONFIG_FILE, "unknown policy"),
    "config bad value": (_edit_json(CONFIG_FILE, lambda r: _set(r, "chunk_size", "x")), CONFIG_FILE, "invalid"),
    "config missing": (lambda c: (c / CONFIG_FILE).unlink(), CONFIG_FILE, "missing"),
    "weights truncated": (lambda c: _truncate(c / WEIGHTS_FILE), WEIGHTS_FILE, "truncated or corrupt"),
    "weights random": (lambda c: (c / WEIGHTS_FILE).write_bytes(os.urandom(4096)), WEIGHTS_FILE, "corrupt"),
    "weights empty": (lambda c: (c / WEIGHTS_FILE).write_bytes(b""), WEIGHTS_FILE, "0 bytes"),
    "weights missing": (lambda c: (c / WEIGHTS_FILE).unlink(), WEIGHTS_FILE, "missing"),
    "weights other model": (
        _edit_json(CONFIG_FILE, lambda r: _set(r, "hidden_dims", [32])),
        WEIGHTS_FILE,
        "wrong shapes",
    ),
    "contract not json": (lambda c: (c / CONTRACT_FILE).write_text("{"), CONTRACT_FILE, "not valid JSON"),
    "contract bad steps": (
        _edit_json(CONTRACT_FILE, lambda r: {**r, "action": {**r["action"], "n_action_steps": "4"}}),
        CONTRACT_FILE,
        "n_action_steps",
    ),
    "contract bad scale": (
        _edit_json(CONTRACT_FILE, lambda r: {**r, "image": {**r["image"], "scale": "x"}}),
        CONTRACT_FILE,
        "image.scale",
    ),
}


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "good"
    tiny_policy("bc").save(path)
    return path


def _damaged(good: Path, tmp_path: Path, name: str) -> Path:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    for f in good.iterdir():
        (ckpt / f.name).write_bytes(f.read_bytes())
    CORRUPTIONS[name][0](ckpt)
    return ckpt


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_load_raises_a_typed_error_naming_the_file(good: Path, tmp_path: Path, name: str) -> None:
    ckpt = _damaged(good, tmp_path, name)
    _, filename, what = CORRUPTIONS[name]
    with pytest.raises(TwinarmError) as info:
        load_policy(PolicyRef(str(ckpt)), command="eval")
    message = str(info.value)
    assert filename in message and what in message, message


@pytest.mark.parametrize("name", ["config not json", "weights truncated", "contract bad steps"])
def test_eval_and_deploy_print_one_line_and_exit_1(good: Path, tmp_path: Path, capsys, name: str) -> None:
    ckpt = _damaged(good, tmp_path, name)
    for command in (["eval", "episodes=1"], ["deploy", "source=policy", "episodes=1"]):
        assert main([*command, f"policy.path={ckpt}", f"output_dir={tmp_path / 'out'}"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"twinarm {command[0]}: error: ") and str(ckpt) in err[0], err


@pytest.mark.parametrize("name", ["config not json", "config a list", "contract not json", "contract bad scale"])
def test_policy_info_prints_one_line_and_exits_1(good: Path, tmp_path: Path, capsys, name: str) -> None:
    ckpt = _damaged(good, tmp_path, name)
    for extra in ([], ["--json"]):
        assert main(["policy", "info", str(ckpt), *extra]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and CORRUPTIONS[name][1] in err[0], err


@pytest.mark.parametrize("name", ["weights truncated", "weights random", "weights empty", "weights missing"])
def test_policy_info_checks_the_weights_without_torch(good: Path, tmp_path: Path, capsys, name: str) -> None:
    ckpt = _damaged(good, tmp_path, name)
    assert main(["policy", "info", str(ckpt)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and WEIGHTS_FILE in err[0] and ("corrupt" in err[0] or "missing" in err[0]), err


def test_policy_info_counts_the_tensors_of_an_intact_checkpoint(good: Path, capsys) -> None:
    assert main(["policy", "info", str(good)]) == 0
    n = len(Policy.load(good).state_dict())
    assert f"weights: model.safetensors, {n} tensors" in capsys.readouterr().out


def test_an_intact_checkpoint_still_loads(good: Path) -> None:
    assert Policy.load(good).contract.robot == "so101"
