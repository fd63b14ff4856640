"""Units guard (issue 11, defect 9): `train` refuses a dataset whose joint units or names differ from the
policy's robot (lerobot SO-101 datasets: degrees, '<joint>.pos' names, no units entry) unless told to convert,
and converts exactly when told; `deploy` refuses a checkpoint whose joints differ from the robot's."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.policies.helpers_policies import HW, tiny_policy
from twinarm.cli import cmd_train
from twinarm.cli.main import main
from twinarm.dataset import Recorder
from twinarm.dataset.errors import UnitsMismatchError
from twinarm.dataset.units import JointUnit
from twinarm.policies.base import Policy
from twinarm.policies.contract import make_contract
from twinarm.robot.models import SO101

LEROBOT_NAMES = [f"{j}.pos" for j in SO101.joint_names]
#: How lerobot's SO-101 follower stores a use_degrees=True recording: body joints in degrees, gripper 0..100.
LEROBOT_DEGREES = ["deg"] * 5 + ["range_0_100"]


def _values(frames: int) -> np.ndarray:
    """Joint positions [rad] inside the SO-101's ranges, (frames, 6)."""
    t = np.arange(frames)[:, None] / 10.0
    return (0.5 * np.sin(t + np.arange(6)) + 0.6).astype(np.float32)


def _record(root: Path, rows: np.ndarray) -> Path:
    with Recorder(root, SO101.with_cameras(())) as rec:
        rec.start_episode("reach")
        for t, pos in enumerate(rows):
            rec.add_frame({"joint_pos": pos, "joint_vel": np.zeros(6, np.float32)}, pos, timestamp=t / 30)
        rec.save_episode()
    return root


def _edit_info(root: Path, robot_type: str, names: list[str] | None, units: object) -> None:
    path = root / "meta" / "info.json"
    info = json.loads(path.read_text())
    info["robot_type"] = robot_type
    for key in ("observation.state", "action", "observation.velocity"):
        if names is not None:
            info["features"][key]["names"] = names
        if units is None:
            info["features"][key].pop("units", None)
        else:
            info["features"][key]["units"] = units
    path.write_text(json.dumps(info))


def _to_lerobot(rad: np.ndarray) -> np.ndarray:
    """What lerobot would have stored for ``rad``: degrees, gripper as 0..100 of its range."""
    out = np.degrees(rad)
    g = SO101.joints[5]
    out[:, 5] = (rad[:, 5] - g.lower) / (g.upper - g.lower) * 100.0
    return out.astype(np.float32)


@pytest.fixture(scope="module")
def rad_rows() -> np.ndarray:
    return _values(20)


@pytest.fixture(scope="module")
def lerobot_ds(tmp_path_factory, rad_rows) -> Path:
    root = _record(tmp_path_factory.mktemp("ds") / "lerobot", _to_lerobot(rad_rows))
    _edit_info(root, "so101_follower", LEROBOT_NAMES, None)  # as lerobot writes it: no units entry
    return root


@pytest.fixture(scope="module")
def twinarm_ds(tmp_path_factory, rad_rows) -> Path:
    return _record(tmp_path_factory.mktemp("ds") / "twinarm", rad_rows)


def _cfg(root: Path, out: Path, **dataset) -> cmd_train.Config:
    cfg = cmd_train.Config(policy="bc", policy_args={"chunk_size": 2, "n_action_steps": 1, "hidden_dims": [16]})
    cfg.dataset.root = str(root)
    for key, value in dataset.items():
        setattr(cfg.dataset, key, value)
    cfg.train.output_dir = str(out)
    cfg.train.steps, cfg.train.batch_size, cfg.train.progress, cfg.train.save_every = 1, 4, False, 1
    return cfg


def _trained(out: Path) -> Policy:
    return Policy.load(out / "checkpoints" / "000001" / "pretrained_model")


def test_a_lerobot_dataset_without_units_is_refused_with_the_keys_to_pass(lerobot_ds: Path, tmp_path, capsys):
    assert main(["train", "policy=bc", f"dataset.root={lerobot_ds}", f"train.output_dir={tmp_path}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "states no joint units" in err[0] and "so101_follower" in err[0]
    assert "robot=<model>" in err[0] and "dataset.units" in err[0]
    with pytest.raises(UnitsMismatchError, match=r"states no joint units.*dataset\.units=\[UNIT\]"):
        cmd_train.run(dataclass_robot(_cfg(lerobot_ds, tmp_path), "so101"))


def dataclass_robot(cfg: cmd_train.Config, robot: str) -> cmd_train.Config:
    cfg.robot = robot
    return cfg


def test_declared_degrees_without_convert_are_refused_naming_both_sides(lerobot_ds: Path, tmp_path) -> None:
    cfg = dataclass_robot(_cfg(lerobot_ds, tmp_path, units=LEROBOT_DEGREES), "so101")
    with pytest.raises(UnitsMismatchError) as info:
        cmd_train.run(cfg)
    message = str(info.value)  # the names differ first: both lists are named
    assert "shoulder_pan.pos" in message and "'shoulder_pan'" in message and "convert_units=true" in message


def test_stored_degrees_are_refused_then_converted_to_radians(twinarm_ds: Path, tmp_path, rad_rows) -> None:
    deg = tmp_path / "deg"
    _record(deg, np.degrees(rad_rows).astype(np.float32))
    _edit_info(deg, "so101", None, "deg")
    with pytest.raises(UnitsMismatchError, match=r"dataset joints are in deg; robot 'so101' .* use rad"):
        cmd_train.run(_cfg(deg, tmp_path / "refused"))
    cmd_train.run(_cfg(deg, tmp_path / "converted", convert_units=True))
    converted = _trained(tmp_path / "converted")
    cmd_train.run(_cfg(twinarm_ds, tmp_path / "rad"))
    reference = _trained(tmp_path / "rad")
    # normalization stats (buffers of the model) were computed in rad: the same as for the rad recording
    sd_c, sd_r = converted.state_dict(), reference.state_dict()
    norm = [k for k in sd_r if k.startswith("normalization.")]
    assert norm, "expected normalization buffers"
    for k in norm:
        np.testing.assert_allclose(sd_c[k].numpy(), sd_r[k].numpy(), rtol=1e-4, atol=1e-5, err_msg=k)


def test_convert_maps_lerobot_names_and_units_to_the_robots_radians(lerobot_ds: Path, rad_rows) -> None:
    from twinarm.dataset import metadata
    from twinarm.dataset.units import joint_conversion
    from twinarm.policies.bc import BCConfig
    from twinarm.policies.dataset import LeRobotSource

    info = metadata.read_info(lerobot_ds)
    conv = joint_conversion(info, str(lerobot_ds), SO101, LEROBOT_DEGREES, convert=True)
    assert conv.units == tuple(LEROBOT_DEGREES) and not conv.identity
    src = LeRobotSource(lerobot_ds, BCConfig(cameras=(), chunk_size=1, n_action_steps=1), conversion=conv)
    np.testing.assert_allclose(src.state, rad_rows, atol=1e-5)  # every joint back in rad, the gripper included
    np.testing.assert_allclose(src.stats()["observation.state"]["max"], rad_rows.max(0), atol=1e-5)
    assert math.isclose(float(src.state[3, 0]), math.radians(float(_to_lerobot(rad_rows)[3, 0])), abs_tol=1e-6)


def test_train_with_convert_writes_the_robots_joints_into_the_contract(lerobot_ds: Path, tmp_path) -> None:
    cfg = dataclass_robot(_cfg(lerobot_ds, tmp_path, units=LEROBOT_DEGREES, convert_units=True), "so101")
    cmd_train.run(cfg)
    contract = _trained(tmp_path).contract
    assert contract.robot == "so101" and contract.joint_names == SO101.joint_names


def test_reordered_joints_are_mapped_by_name(twinarm_ds: Path, tmp_path, rad_rows) -> None:
    from twinarm.dataset import metadata
    from twinarm.dataset.units import joint_conversion

    shuffled = tmp_path / "shuffled"
    perm = [5, 0, 1, 2, 3, 4]
    _record(shuffled, rad_rows[:, perm])
    _edit_info(shuffled, "so101", [SO101.joint_names[i] for i in perm], "rad")
    info = metadata.read_info(shuffled)
    with pytest.raises(UnitsMismatchError, match="differ from robot 'so101'"):
        joint_conversion(info, str(shuffled), SO101)
    conv = joint_conversion(info, str(shuffled), SO101, convert=True)
    np.testing.assert_allclose(conv.apply(rad_rows[:, perm]), rad_rows, atol=1e-7)


def test_unknown_unit_names_the_valid_ones(lerobot_ds: Path, tmp_path) -> None:
    cfg = dataclass_robot(_cfg(lerobot_ds, tmp_path, units=["grad"]), "so101")
    with pytest.raises(UnitsMismatchError, match=f"valid units: {[u.value for u in JointUnit]}".replace("[", r"\[")):
        cmd_train.run(cfg)


def test_deploy_refuses_a_checkpoint_whose_joints_differ(tmp_path: Path, capsys) -> None:
    policy = tiny_policy("bc", cameras=("front",))
    policy.set_contract(make_contract(policy.config, SO101.name, LEROBOT_NAMES, SO101.control_hz, {"front": HW}))
    ckpt = policy.save(tmp_path / "ckpt")
    argv = ["deploy", f"policy.path={ckpt}", "episodes=1", "max_steps=2", f"output_dir={tmp_path / 'out'}"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expects joints ['shoulder_pan.pos'" in err[0] and "'shoulder_pan'" in err[0], err


def test_a_twinarm_dataset_saved_before_units_is_assumed_radians(tmp_path: Path, rad_rows) -> None:
    from twinarm.dataset import metadata
    from twinarm.dataset.units import joint_conversion

    old = _record(tmp_path / "old", rad_rows)
    _edit_info(old, "so101", None, None)  # twinarm's names and robot_type, no units entry
    conv = joint_conversion(metadata.read_info(old), str(old), SO101)
    assert conv.identity and conv.units == ("rad",) * 6
    _edit_info(old, "so101_follower", None, None)  # the same without twinarm's robot_type: not assumed
    with pytest.raises(UnitsMismatchError, match="states no joint units"):
        joint_conversion(metadata.read_info(old), str(old), SO101)
