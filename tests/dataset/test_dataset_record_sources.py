"""Recording through the control loop from every kind of source: episode controls, teleop on emulators, the sim
expert (unpaced), a policy checkpoint."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest

from tests.dataset.fake_source import SPEC
from tests.robot.fake_robot import FakeRobot
from tests.robot.scripted_leader import scripted_leader
from twinarm.cli import cmd_record
from twinarm.cli.main import main
from twinarm.compose.backends import RobotConfig
from twinarm.dataset import LeRobotDatasetReader, Recorder, RecorderSettings
from twinarm.dataset.errors import RecorderError
from twinarm.dataset.inspect import check
from twinarm.dataset.session import EpisodePlan, record_episodes
from twinarm.robot.keyboard import EpisodeEvent
from twinarm.robot.models import SO101
from twinarm.sim.envs import HAND_ENV_IDS


class Ramp:
    """Each episode ramps joint 0 up from 0 by 0.01 rad per step."""

    def __init__(self) -> None:
        self.k = 0

    def reset(self) -> None:
        self.k = 0

    def act(self, obs: dict) -> np.ndarray:
        self.k += 1
        return np.array([0.01 * self.k, 0.0, 0.0], np.float32)


class ScriptedControls:
    """Returns ``script[i]`` at the i-th poll (a list of events), nothing after the script."""

    def __init__(self, script: dict[int, list[EpisodeEvent]]) -> None:
        self.script, self.calls = script, 0

    def events(self) -> list[EpisodeEvent]:
        self.calls += 1
        return self.script.get(self.calls, [])


def test_next_rerecord_and_stop_keys(tmp_path) -> None:
    # polls: 5 frames (0..4) of episode 0 then NEXT; 3 frames of episode 1 then RERECORD (nothing kept);
    # episode 1 again: full 10 frames; episode 2: 2 frames then STOP (kept, session over)
    controls = ScriptedControls({6: [EpisodeEvent.NEXT], 10: [EpisodeEvent.RERECORD], 23: [EpisodeEvent.STOP]})
    scenes: list[int] = []
    with Recorder(tmp_path / "ds", SPEC) as rec, FakeRobot(SPEC) as robot:
        plan = EpisodePlan(episodes=5, episode_time_s=10 / 30, task="ramp", realtime=False)
        done = record_episodes(rec, robot, Ramp(), plan, controls=controls, reset_scene=scenes.append)
    assert [e.summary.frames for e in done] == [5, 10, 2]
    assert scenes == [0, 1, 1, 2]  # the re-recorded episode restarts from the same scene
    reader = LeRobotDatasetReader(tmp_path / "ds")
    assert reader.num_episodes == 3 and len(reader) == 17
    actions = reader.lowdim()["action"][:, 0]
    np.testing.assert_allclose(actions[:5], 0.01 * np.arange(1, 6), atol=1e-6)  # no frame of the discarded take
    np.testing.assert_allclose(actions[5:15], 0.01 * np.arange(1, 11), atol=1e-6)
    assert check(tmp_path / "ds").ok


def test_fps_must_be_the_control_rate(tmp_path) -> None:
    with Recorder(tmp_path / "ds", SPEC, RecorderSettings(fps=15.0)) as rec, FakeRobot(SPEC) as robot:
        with pytest.raises(RecorderError, match="control rate 30 Hz"):
            record_episodes(rec, robot, Ramp(), EpisodePlan(1, 1.0, "x"))


def test_record_teleop_from_a_scripted_leader_on_emulators(tmp_path) -> None:
    pose = np.array([0.3, -0.4, 0.5, 0.2, -0.6, 0.8])
    root = tmp_path / "ds"
    with scripted_leader(tmp_path) as leader:
        leader.play([(0.2, pose / 2), (0.45, pose)])
        args = [
            "source=leader",
            "robot.port=emulator",
            f"leader.port={leader.port}",
            f"leader.calibration={leader.calibration_file}",
            "episodes=2",
            "episode_time_s=0.5",
            "reset_time_s=0.2",  # the leader keeps driving the arm, nothing is recorded
            "keys=none",
            f"dataset.root={root}",
        ]
        t0 = time.monotonic()
        assert main(["record", *args]) == 0
        assert time.monotonic() - t0 >= 1.2  # real time: two 0.5 s episodes and a 0.2 s reset between them
    assert check(root).ok
    reader = LeRobotDatasetReader(root)
    assert reader.num_episodes == 2 and len(reader) == 30 and reader.fps == 30
    assert reader.info["robot_type"] == "so101" and not any(k.startswith("observation.images") for k in reader.features)
    data = reader.lowdim()
    np.testing.assert_allclose(data["action"][-1], pose, atol=0.01)  # the leader's reading is the action
    np.testing.assert_allclose(data["observation.state"][-1], pose, atol=0.05)  # and the follower followed
    assert np.ptp(data["observation.state"][:, 0]) > 0.2  # from its start pose (about 0) to the leader's
    for ep in range(2):  # the recorded action is the target sent: clipped per step (the reset is not recorded)
        actions = data["action"][data["episode_index"] == ep]
        assert np.abs(np.diff(actions, axis=0)).max() <= SO101.max_step.max() + 1e-5


def test_expert_in_sim_records_faster_than_real_time(tmp_path) -> None:
    cfg = cmd_record.Config(
        source="expert",
        robot=RobotConfig(cameras=["front"], camera_height=32, camera_width=32),
        episodes=1,
        episode_time_s=4.0,
        keys="none",
        dataset=cmd_record.DatasetTarget(root=str(tmp_path / "ds")),
    )
    t0 = time.monotonic()
    cmd_record.run(cfg)
    assert time.monotonic() - t0 < 4.0  # 120 frames of 4 s of sim time, not paced by the wall clock
    reader = LeRobotDatasetReader(tmp_path / "ds")
    assert len(reader) == 120 and check(tmp_path / "ds").ok
    data = reader.lowdim()
    np.testing.assert_allclose(data["timestamp"], np.arange(120) / 30.0, atol=1e-6)
    assert np.ptp(data["action"][:, 5]) > 0.5  # the expert opened and closed the gripper


def test_expert_records_a_hand_task_in_sim(tmp_path) -> None:
    root = tmp_path / "ds"
    argv = ["record", "source=expert", "robot.model=amazing_hand", "task=reach_pose", "robot.cameras=[side]"]
    argv += ["robot.camera_height=24", "robot.camera_width=32", "episodes=2", "episode_time_s=1.0", "keys=none"]
    assert main([*argv, f"dataset.root={root}"]) == 0
    reader = LeRobotDatasetReader(root)
    assert check(root).ok and reader.num_episodes == 2 and len(reader) == 60
    assert reader.info["robot_type"] == "amazing_hand" and "observation.images.side" in reader.features
    data = reader.lowdim()
    for ep, seed in enumerate((0, 1)):  # episode k starts from the scene of seed k: the env's target pose
        env = gym.make(HAND_ENV_IDS["reach_pose"])
        try:
            target = env.reset(seed=seed)[1]["privileged"]["target_pose"]
        finally:
            env.close()
        state = data["observation.state"][data["episode_index"] == ep]
        assert np.abs(state[-1] - target).max() < 0.1  # the expert reached it within 1 s


def test_record_source_validation(tmp_path, capsys) -> None:
    assert main(["record", "source=joystick", f"dataset.root={tmp_path}"]) == 1
    assert "synthetic" in capsys.readouterr().err
    assert main(["record", "source=expert", "robot.port=emulator", "realtime=false", f"dataset.root={tmp_path}"]) == 1
    assert "realtime=false needs a simulated robot" in capsys.readouterr().err


def test_record_a_policy_checkpoint_in_sim(tmp_path) -> None:
    pytest.importorskip("torch")
    from tests.policies.helpers_policies import tiny_policy

    tiny_policy("bc", cameras=("front",)).save(tmp_path / "ckpt")
    cfg = cmd_record.Config(
        source="policy",
        policy=cmd_record.PolicyRef(path=str(tmp_path / "ckpt")),
        robot=RobotConfig(cameras=["front"], camera_height=48, camera_width=48),
        episodes=1,
        episode_time_s=0.5,
        keys="none",
        dataset=cmd_record.DatasetTarget(root=str(tmp_path / "ds")),
    )
    cmd_record.run(cfg)
    reader = LeRobotDatasetReader(tmp_path / "ds")
    assert len(reader) == 15 and check(tmp_path / "ds").ok
    assert np.isfinite(reader.lowdim()["action"]).all()


def test_record_task_is_the_sim_task_and_label_the_text(tmp_path, capsys) -> None:
    """``task=place`` records the place expert (as ``sim``/``eval`` read it); the text goes in ``label=``."""
    common = ["source=expert", "robot.cameras=[]", "episodes=1", "episode_time_s=0.2", "keys=none"]
    assert main(["record", *common, "task=place", 'label="Put it down"', f"dataset.root={tmp_path / 'a'}"]) == 0
    assert "sim task place" in capsys.readouterr().out
    assert LeRobotDatasetReader(tmp_path / "a").tasks == ["Put it down"]
    assert main(["record", *common, "task=reach", f"dataset.root={tmp_path / 'b'}"]) == 0
    assert "sim task reach" in capsys.readouterr().out
    assert LeRobotDatasetReader(tmp_path / "b").tasks == [cmd_record.DEFAULT_LABELS["reach"]]
    # the old spelling still works: sim_task picks the task, an old-style text in task= becomes the label
    old = ["sim_task=place", 'task="Place it"', f"dataset.root={tmp_path / 'c'}"]
    assert main(["record", *common, *old]) == 0
    out = capsys.readouterr().out
    assert "sim task place" in out and "deprecated" in out
    assert LeRobotDatasetReader(tmp_path / "c").tasks == ["Place it"]
    assert main(["record", *common, 'task="Lift the cube"', f"dataset.root={tmp_path / 'd'}"]) == 1
    assert "label=" in capsys.readouterr().err
