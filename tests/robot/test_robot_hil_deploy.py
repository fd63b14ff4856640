"""`twinarm deploy` end to end (sim, hardware in the loop, a port in another process) and `emulate physics=sim`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.policies.helpers_policies import TINY
from twinarm.cli.main import main
from twinarm.compose.hil import sim_bus
from twinarm.hardware.calibration_file import save_calibration
from twinarm.hardware.robots import so101_follower
from twinarm.robot.spec import JOINT_POS


def tiny_act(directory: Path, cameras: tuple[str, ...]) -> Path:
    """An untrained tiny ACT checkpoint (plumbing only: its chunks stay near the home pose's statistics)."""
    import torch

    from twinarm.policies.registry import make_policy

    torch.manual_seed(0)
    home = np.array([0.0, -0.35, 0.41, 1.51, 0.0, 0.6], np.float32)
    stats = {
        key: {"mean": home, "std": np.full(6, 0.1, np.float32), "min": home - 0.3, "max": home + 0.3}
        for key in ("observation.state", "action")
    }
    return make_policy("act", stats=stats, cameras=cameras, **TINY["act"]).save(directory)


def deploy_info(out: Path) -> dict:
    return json.loads((out / "deploy_info.json").read_text())


def test_deploy_expert_on_the_hil_emulator_succeeds_like_in_sim(tmp_path: Path) -> None:
    results = {}
    for name, port in (("sim", []), ("hil", ["robot.port=emulator", "physics=sim"])):
        out = tmp_path / name
        assert main(["deploy", "source=expert", "task=lift", "episodes=2", f"output_dir={out}", *port]) == 0
        results[name] = deploy_info(out)
    for info in results.values():
        assert [e["seed"] for e in info["episodes"]] == [1000, 1001]
        assert info["successes"] == 2 and all(e["stopped_by"] == "source" for e in info["episodes"])
    sim_steps = [e["steps"] for e in results["sim"]["episodes"]]
    hil_steps = [e["steps"] for e in results["hil"]["episodes"]]
    assert np.abs(np.subtract(sim_steps, hil_steps)).max() <= 5  # same seeds, same physics: similar episodes


def test_deploy_expert_runs_hand_tasks_in_sim(tmp_path: Path) -> None:
    out = tmp_path / "hand"
    argv = ["deploy", "source=expert", "task=grasp", "robot.model=amazing_hand", "episodes=2", f"output_dir={out}"]
    assert main(argv) == 0
    info = deploy_info(out)
    assert [e["seed"] for e in info["episodes"]] == [1000, 1001]
    assert info["successes"] == 2  # the hand grasped the object and the task's wrist lift raised it
    # success ends an episode: the grasp test passes only once the lift (1.5 s to 2.5 s at 30 Hz) is over
    assert all(e["stopped_by"] == "source" and 75 <= e["steps"] < 105 for e in info["episodes"])


def test_deploy_says_which_robot_a_task_needs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["deploy", "source=expert", "task=grasp", f"output_dir={tmp_path}"]) == 1
    assert "robot.model=amazing_hand" in capsys.readouterr().err


def test_deploy_policy_with_cameras_on_the_hil_emulator(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ckpt = tiny_act(tmp_path / "ckpt", ("front", "wrist"))
    out = tmp_path / "out"
    argv = ["deploy", f"policy.path={ckpt}", "robot.port=emulator", "episodes=2", "max_steps=25", f"output_dir={out}"]
    assert main(argv) == 0
    info = deploy_info(out)
    assert len(info["episodes"]) == 2 and info["successes"] == 0  # an untrained policy does not lift the cube
    for e in info["episodes"]:
        assert e["steps"] == 25 and e["stopped_by"] == "steps"
        assert e["chunks"] >= 2  # chunk_size 8: the worker refilled the plan while the loop ran
    assert "success 0/2" in capsys.readouterr().out


def test_deploy_rejects_what_it_cannot_do(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["deploy", "source=expert", "robot.port=/dev/ttyNONE"]) == 1
    assert "simulator state" in capsys.readouterr().err
    assert main(["deploy", "policy.path=", "robot.port=emulator"]) == 1
    assert "policy.path is required" in capsys.readouterr().err
    assert main(["deploy", "source=expert", "physics=rigid"]) == 1
    assert "sim, first_order" in capsys.readouterr().err
    ckpt = tiny_act(tmp_path / "ckpt", ("front",))
    argv = ["deploy", f"policy.path={ckpt}", "robot.port=emulator", "physics=first_order", f"output_dir={tmp_path}"]
    assert main(argv) == 1  # a bus dry run has no cameras to feed the policy
    assert "robot.camera_sources" in capsys.readouterr().err


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigterm_mid_deploy_releases_torque(tmp_path: Path) -> None:
    """A deploy process on a (MuJoCo-backed) bus it reaches by port, killed with SIGTERM: torque ends up off."""
    ckpt = tiny_act(tmp_path / "ckpt", ())
    with sim_bus() as bus:
        cal = save_calibration(bus.calibration, tmp_path / "cal.json")
        servos = [bus.emulator.servo(i) for i in range(1, 7)]
        cmd = [
            sys.executable,
            "-m",
            "twinarm.cli.main",
            "deploy",
            f"policy.path={ckpt}",
            f"robot.port={bus.emulator.port}",
        ]
        cmd += [f"robot.calibration={cal}", "prompt=false", "max_steps=100000", f"output_dir={tmp_path / 'out'}"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(lambda: all(s.torque_enabled for s in servos) or proc.poll() is not None, 60, "torque on")
            time.sleep(1.0)  # mid-episode: the loop and the chunk worker are running
            assert proc.poll() is None, proc.communicate()
            requests = bus.emulator.stats.requests
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
        assert requests > 30  # it was running the loop
        assert proc.returncode == 128 + signal.SIGTERM, err
        _wait_for(lambda: not any(s.torque_enabled for s in servos), 2.0, "torque off")


def test_emulate_physics_sim_serves_the_mujoco_arm(tmp_path: Path) -> None:
    link = tmp_path / "so101"
    cmd = [sys.executable, "-m", "twinarm.cli.main", "emulate", "physics=sim", f"link={link}", f"output_dir={tmp_path}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving"):
                break
        assert "physics: MuJoCo, cube at" in "".join(lines), lines
        with so101_follower(str(link), tmp_path / "calibration.json") as robot:
            start = robot.get_observation()[JOINT_POS]
            assert np.abs(start - [0.0, -0.35, 0.41, 1.51, 0.0, 0.6]).max() < 0.02  # the sim's home pose
            target = start + np.array([0.3, 0, 0, 0, -0.3, 0], np.float32)
            for _ in range(30):
                robot.send_action(target)
                time.sleep(1 / 30)
            assert np.abs(robot.get_observation()[JOINT_POS] - target)[[0, 4]].max() < 0.01
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "served" in out
