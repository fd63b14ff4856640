"""Commands that run a checkpoint take its inputs from its contract: `eval` with no extra keys reproduces the
training command's own evaluation episode by episode, and deploy feeds sim and hardware-in-the-loop frames through
the same conversion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.policies.helpers_policies import TINY
from twinarm.cli.main import main
from twinarm.robot import observation


def test_demo_then_eval_without_extra_keys_gives_the_same_episodes(tmp_path: Path, capsys) -> None:
    """A demo-sized run on 48x64 images (not the 96x96 env default): `eval` of the printed checkpoint on the
    demo's seeds gives the demo's per-episode results exactly; forcing the old default size changes them."""
    demo = tmp_path / "demo"
    argv = ["demo", "demos=2", "demo_frames=20", "cameras=[front]", "image_size=48", "image_width=64", "steps=4"]
    argv += ["batch_size=8", "eval_episodes=2", "num_envs=2", "videos=0", "threads=1", f"output_dir={demo}"]
    assert main([*argv, "reality_episodes=2", "keep_failed_demos=true"]) == 0  # 20 frames: too short to lift
    printed = capsys.readouterr().out
    report = json.loads((demo / "report.json").read_text())
    assert report["randomize"] == "full" and report["reality"]["episodes"] == 2  # robust by default
    assert "hidden reality 1" in printed
    ckpt = report["checkpoint"]
    assert f"twinarm eval policy.path={ckpt} episodes=2 seed=0" in printed
    assert f"twinarm deploy policy.path={ckpt} task=lift robot.port=emulator" in printed

    def eval_info(name: str, *extra: str) -> dict:
        out = tmp_path / name
        argv = ["eval", f"policy.path={ckpt}", "episodes=2", "seed=0", "num_envs=2", "videos=0", f"output_dir={out}"]
        assert main([*argv, *extra]) == 0
        return json.loads((out / "eval_info.json").read_text())

    info = eval_info("eval")
    assert info["env_kwargs"]["image_size"] == [48, 64] and info["env_kwargs"]["cameras"] == ["front"]
    assert info["seeds"] == report["seeds"] == [0, 1]
    assert info["episode_successes"] == report["episode_successes"]
    assert info["episode_returns"] == report["episode_returns"]
    squashed = eval_info("eval96", "+env_kwargs.image_size=[96,96]")  # the size eval used before contracts
    assert squashed["episode_returns"] != report["episode_returns"]


def test_demo_on_the_koch_records_trains_and_evaluates_its_own_task(tmp_path: Path, capsys) -> None:
    """`twinarm demo robot=koch` runs the Koch's lift (koch_lift, twinarm/KochLift-v0); `eval` of the checkpoint
    finds that env from the contract alone; the deploy hint runs it on the Koch's (Dynamixel) emulated bus."""
    demo = tmp_path / "demo"
    argv = ["demo", "robot=koch", "demos=2", "demo_frames=20", "cameras=[front]", "image_size=32", "steps=2"]
    argv += ["batch_size=8", "eval_episodes=1", "num_envs=1", "videos=0", "threads=1", f"output_dir={demo}"]
    argv += ["keep_failed_demos=true", "reality_episodes=1"]  # 20 frames: too short to lift
    assert main(argv) == 0
    printed = capsys.readouterr().out
    report = json.loads((demo / "report.json").read_text())
    assert (report["robot"], report["task"]) == ("koch", "koch_lift")
    assert f"twinarm deploy policy.path={report['checkpoint']} task=koch_lift robot.model=koch robot.port=emulator" in (
        printed
    )
    out = tmp_path / "eval"
    argv = ["eval", f"policy.path={report['checkpoint']}", "episodes=1", "seed=0", "num_envs=1", "videos=0"]
    assert main([*argv, f"output_dir={out}"]) == 0
    info = json.loads((out / "eval_info.json").read_text())
    assert "Koch" in info["env_id"] and info["episode_returns"] == report["episode_returns"]


def _tiny_act(directory: Path, capture_hw: tuple[int, int], input_hw: tuple[int, int]) -> Path:
    import torch

    from twinarm.policies.contract import make_contract
    from twinarm.policies.registry import make_policy
    from twinarm.robot.models import SO101

    torch.manual_seed(0)
    home = np.array([0.0, -0.35, 0.41, 1.51, 0.0, 0.6], np.float32)
    stats = {
        key: {"mean": home, "std": np.full(6, 0.1, np.float32), "min": home - 0.3, "max": home + 0.3}
        for key in ("observation.state", "action")
    }
    policy = make_policy("act", stats=stats, cameras=("front",), **TINY["act"])
    captures = {"front": capture_hw}
    policy.set_contract(make_contract(policy.config, SO101.name, SO101.joint_names, 30.0, captures, input_hw))
    return policy.save(directory)


def test_deploy_on_sim_and_on_the_hil_arm_converts_frames_identically(tmp_path: Path, monkeypatch) -> None:
    ckpt = _tiny_act(tmp_path / "ckpt", (72, 96), (48, 48))
    calls: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    real_fit = observation.fit_image

    def spy(image: np.ndarray, target_hw: tuple[int, int]) -> np.ndarray:
        out = real_fit(image, target_hw)
        if tuple(target_hw) != (72, 96):  # not a camera bringing its own frame to its configured size
            calls.setdefault(backend, []).append((np.array(image), np.array(out)))
        return out

    monkeypatch.setattr(observation, "fit_image", spy)
    for backend, port in (("sim", []), ("hil", ["robot.port=emulator", "physics=sim"])):
        argv = ["deploy", f"policy.path={ckpt}", "episodes=1", "max_steps=6", f"output_dir={tmp_path / backend}"]
        assert main([*argv, *port]) == 0
    for backend in ("sim", "hil"):
        frames = calls[backend]
        assert frames, f"{backend}: the policy saw no frame"
        for native, fed in frames:  # cameras render at the contract's capture size, the pipeline converts
            assert native.shape == (72, 96, 3) and fed.shape == (48, 48, 3)
    sim_native, sim_fed = calls["sim"][0]
    hil_native, hil_fed = calls["hil"][0]
    # same rendered image -> byte-identical policy input on both paths (the pipeline is one function)
    assert np.array_equal(real_fit(hil_native, (48, 48)), hil_fed)
    assert np.array_equal(real_fit(sim_native, (48, 48)), sim_fed)
    # and the two backends render the same scene (same seed, arm at home) nearly identically
    assert sim_native.std() > 5 and hil_native.std() > 5  # real renders, not blank frames
    assert np.abs(sim_native.astype(int) - hil_native.astype(int)).mean() < 8.0


def test_deploy_refuses_a_checkpoint_asking_for_a_missing_camera(tmp_path: Path, capsys) -> None:
    ckpt = _tiny_act(tmp_path / "ckpt", (48, 48), (48, 48))
    argv = ["deploy", f"policy.path={ckpt}", "robot.cameras=[wrist]", f"output_dir={tmp_path / 'out'}"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"the policy {ckpt} needs cameras ['front']; robot 'so101' has ['wrist']" in err
    argv = ["eval", f"policy.path={ckpt}", "+env_kwargs.cameras=[wrist]", "episodes=1", f"output_dir={tmp_path}"]
    assert main(argv) == 1
    assert "needs cameras ['front']" in capsys.readouterr().err


def test_record_source_policy_refuses_another_control_rate(tmp_path: Path, capsys) -> None:
    ckpt = _tiny_act(tmp_path / "ckpt", (48, 48), (48, 48))
    argv = ["record", "source=policy", f"policy.path={ckpt}", "robot.control_hz=20", "keys=none"]
    assert main([*argv, "episodes=1", "episode_time_s=0.2", f"dataset.root={tmp_path / 'ds'}"]) == 1
    assert "runs at 30 Hz; robot 'so101' is controlled at 20 Hz" in capsys.readouterr().err
