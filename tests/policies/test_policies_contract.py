"""Self-describing checkpoints: the policy contract (JSON round trip, validation, old checkpoints), the one image
conversion, robots refused when they cannot feed a policy, and `eval` reproducing the training run's figure."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from tests.policies.helpers_policies import HW, tiny_policy
from twinarm.cli import cmd_policy
from twinarm.cli.main import main
from twinarm.policies.base import Policy
from twinarm.robot.contract_file import CONTRACT_FILE, contract_from_dict, contract_to_dict, load_contract
from twinarm.robot.features import JOINT_POS, image_key
from twinarm.robot.models import AMAZING_HAND, SO101
from twinarm.robot.observation import ObservationPipeline, crop_box, fit_image
from twinarm.robot.policy_contract import ContractError, PolicyMismatchError, check_robot_spec
from twinarm.robot.spec import CameraSpec


def _contract(cameras=("front", "wrist")):
    return tiny_policy("bc", cameras=cameras).contract


def test_contract_json_round_trip_is_exact(tmp_path: Path) -> None:
    policy = tiny_policy("bc", cameras=("front", "wrist"))
    policy.save(tmp_path / "ckpt")
    raw = json.loads((tmp_path / "ckpt" / CONTRACT_FILE).read_text())
    assert raw["version"] == 1 and raw["robot"] == "so101" and raw["joint_unit"] == "rad"
    assert raw["image"]["rule"] == "center_crop_resize" and raw["image"]["color_order"] == "rgb"
    assert raw["action"]["kind"] == "absolute_joint_position" and raw["action"]["chunk_size"] == 8
    assert contract_from_dict(raw) == policy.contract
    assert contract_from_dict(json.loads(json.dumps(contract_to_dict(policy.contract)))) == policy.contract
    loaded = Policy.load(tmp_path / "ckpt")
    assert loaded.contract == policy.contract and not loaded.contract.legacy


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r.update(version=7), "'version' is 7; this twinarm reads version 1"),
        (lambda r: r.update(colour="bgr"), r"unknown keys \['colour'\]; valid keys: \[.*'image'"),
        (lambda r: r.pop("control_hz"), r"missing keys \['control_hz'\]"),
        (lambda r: r["image"].update(color_order="bgr"), r"'image.color_order' is 'bgr'; valid values: \['rgb'\]"),
        (lambda r: r["action"].update(n_action_steps=99), r"'action.n_action_steps' is invalid; expected in \[1, "),
        (lambda r: r["cameras"][0].update(height=0), r"'cameras\[0\].height' is invalid"),
        (lambda r: r.update(joint_names=[]), "'joint_names' must be a non-empty list"),
    ],
)
def test_invalid_contract_names_file_key_and_valid_values(tmp_path: Path, edit, message: str) -> None:
    raw = contract_to_dict(_contract())
    edit(raw)
    (tmp_path / CONTRACT_FILE).write_text(json.dumps(raw))
    with pytest.raises(ContractError, match=message) as info:
        load_contract(tmp_path)
    assert str(tmp_path / CONTRACT_FILE) in str(info.value)


def test_old_checkpoint_without_contract_loads_with_one_note(tmp_path: Path, caplog, capsys) -> None:
    tiny_policy("bc", cameras=("front",), contract=False).save(tmp_path / "old")
    assert not (tmp_path / "old" / CONTRACT_FILE).exists()
    with caplog.at_level(logging.WARNING):
        policy = Policy.load(tmp_path / "old")
    notes = [r.getMessage() for r in caplog.records if "policy_contract.json" in r.getMessage()]
    assert len(notes) == 1 and "assuming robot so101" in notes[0] and "front 96x96" in notes[0]
    assert policy.contract.legacy and policy.contract.cameras[0].height == 96
    assert cmd_policy.main(["info", str(tmp_path / "old")]) == 0
    assert "ASSUMED" in capsys.readouterr().out


def test_policy_info_prints_the_contract(tmp_path: Path, capsys) -> None:
    tiny_policy("bc", cameras=("front",)).save(tmp_path / "ckpt")
    assert main(["policy", "info", str(tmp_path / "ckpt")]) == 0
    out = capsys.readouterr().out
    assert "bc policy" in out and "robot so101, 30 Hz" in out and f"camera front: {HW[0]}x{HW[1]} px input" in out
    assert "absolute_joint_position [rad], chunk 8, execute 4" in out
    assert main(["policy", "info", str(tmp_path / "nothing")]) == 1
    assert "not a policy checkpoint" in capsys.readouterr().err


def test_fit_image_crops_the_centre_then_resizes_never_squashes() -> None:
    frame = np.zeros((72, 96, 3), np.uint8)
    frame[:, :12] = (255, 0, 0)  # left and right margins outside the centred 72x72 window
    frame[:, -12:] = (255, 0, 0)
    frame[30:42, 42:54] = (0, 255, 0)  # a square in the middle
    assert crop_box(72, 96, (48, 48)) == (0, 12, 72, 72)
    out = fit_image(frame, (48, 48))
    assert out.shape == (48, 48, 3) and out.dtype == np.uint8
    assert out[..., 0].max() == 0  # the margins were cropped, not squashed in
    ys, xs = np.nonzero(out[..., 1] > 128)
    assert abs((ys.max() - ys.min()) - (xs.max() - xs.min())) <= 1  # the square stays square
    assert fit_image(frame, (72, 96)) is frame  # native size: unchanged
    batch = np.stack([frame, frame[::-1]])
    assert np.array_equal(fit_image(batch, (48, 48))[1], fit_image(frame[::-1], (48, 48)))
    with pytest.raises(PolicyMismatchError, match="uint8 RGB"):
        fit_image(frame.astype(np.float32), (48, 48))


def test_pipeline_feeds_only_the_contract_inputs_at_their_size() -> None:
    contract = _contract(("front",))
    obs = {
        JOINT_POS: np.zeros(6, np.float32),
        "joint_vel": np.zeros(6, np.float32),
        image_key("front"): np.full((120, 160, 3), 7, np.uint8),
    }
    out = ObservationPipeline(contract)(obs)
    assert set(out) == {JOINT_POS, image_key("front")} and out[image_key("front")].shape == (*HW, 3)
    with pytest.raises(PolicyMismatchError, match=r"needs observation keys \['image_front'\]"):
        ObservationPipeline(contract)({JOINT_POS: np.zeros(6, np.float32)})


def test_a_robot_that_cannot_feed_the_policy_is_refused_in_one_line() -> None:
    contract = _contract(("front", "wrist"))
    spec = SO101.with_cameras((CameraSpec("front", 480, 640), CameraSpec("wrist", 240, 320)))
    check_robot_spec(contract, spec)  # other camera sizes are fine: the pipeline converts them
    cases = [
        (SO101.with_cameras((CameraSpec("front"),)), r"needs cameras \['front', 'wrist'\]; robot 'so101' has \['fr"),
        (spec.with_rate(50.0), "runs at 30 Hz; robot 'so101' is controlled at 50 Hz"),
        (AMAZING_HAND, "trained on robot 'so101'; this robot is 'amazing_hand'"),
        (dataclasses.replace(spec, joints=spec.joints[::-1]), "expects joints"),
    ]
    for robot, message in cases:
        with pytest.raises(PolicyMismatchError, match=message) as info:
            check_robot_spec(contract, robot)
        assert "\n" not in str(info.value)
