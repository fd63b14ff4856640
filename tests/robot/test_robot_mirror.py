"""The live sim mirror (``sim.mirror``) and ``twinarm mirror`` with a shadow simulation, on sim and emulator."""

from __future__ import annotations

import json
import time

import av
import mujoco
import numpy as np

from twinarm.cli.main import main
from twinarm.compose.scripted import WaveSource
from twinarm.robot.loop import run_loop
from twinarm.robot.models import SO101
from twinarm.sim.ik import ArmIK
from twinarm.sim.mirror import LiveMirror, MirrorScene, ShadowSink
from twinarm.sim.sim_robot import SO101_SIM, SimRobot

STATE_ONLY = SO101.with_cameras(())


def test_mirror_scene_takes_the_measured_pose() -> None:
    scene = MirrorScene(SO101_SIM, SO101.joint_names)
    ik = ArmIK(mujoco.MjModel.from_xml_path(str(SO101_SIM.xml)), SO101.joint_names, SO101.joint_names[:5])
    site = scene.model.site("gripperframe").id
    for q in ([0.3, -0.2, 0.5, 1.0, 0.4, 0.2], [-0.8, 0.6, -0.9, -0.3, 1.5, 1.0]):
        scene.set_joints(np.array(q))
        pos, rot = ik.forward(np.array(q))  # the grasp point, 1 cm behind the site along its x axis
        site_pos = scene.data.site_xpos[site]
        np.testing.assert_allclose(scene.data.site_xmat[site].reshape(3, 3), rot, atol=1e-9)
        np.testing.assert_allclose(site_pos + rot @ ik.offset, pos, atol=1e-9)


def test_live_mirror_writes_a_video_without_slowing_the_loop(tmp_path) -> None:
    path = tmp_path / "mirror.mp4"
    with SimRobot(SO101_SIM, STATE_ONLY.with_rate(60.0)) as robot:
        with LiveMirror(SO101_SIM, SO101.joint_names, video=path, size=(64, 80), fps=20.0) as mirror:
            report = run_loop(robot, WaveSource(robot.spec), [mirror], max_steps=60)
    assert mirror.updates == 60 and report.duration_s < 1.5  # 1 s of 60 Hz cycles: rendering runs beside it
    assert 10 <= mirror.frames <= 22  # 1 s at 20 fps (a loaded machine may skip a few)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.height, stream.width) == (64, 80)
        assert sum(1 for _ in container.decode(stream)) == mirror.frames


def test_shadow_of_a_simulated_robot_does_not_diverge() -> None:
    # the "real" robot is the same simulation: the shadow must predict it exactly, up to the servos' position
    # quantization (the shadow starts from the measured, tick-rounded pose; both report whole ticks)
    with SimRobot(SO101_SIM, STATE_ONLY) as live, SimRobot(SO101_SIM, STATE_ONLY) as sim:
        shadow = ShadowSink(sim)
        run_loop(live, WaveSource(live.spec, amplitude=0.4, frequency_hz=1.0), [shadow], max_steps=40, rate_hz=1e4)
    div = shadow.divergence()
    assert div.measured.shape == div.predicted.shape == (39, 6)
    assert np.ptp(div.measured, axis=0).max() > 0.1  # it moved
    assert div.max_abs().max() < 1.5 * 2 * np.pi / 4096  # within a tick


def test_mirror_command_with_shadow_on_the_emulator(tmp_path) -> None:
    out = tmp_path / "out"
    t0 = time.monotonic()
    args = ["robot.port=emulator", "source=wave", "shadow=true", "duration_s=1.5", "keys=none", "height=48", "width=64"]
    assert main(["mirror", *args, f"output_dir={out}"]) == 0
    assert time.monotonic() - t0 < 30
    report = json.loads((out / "report.json").read_text())
    assert report["mirror"]["measurements"] == report["loop"]["steps"] > 30
    assert report["mirror"]["frames"] > 10 and (out / "mirror.mp4").stat().st_size > 0
    shadow = json.loads((out / "shadow.json").read_text())
    assert set(shadow["rms_rad"]) == set(SO101.joint_names)
    # the emulator's first-order servos are not MuJoCo's actuators: some divergence, but the same motion
    rms = np.array(list(shadow["rms_rad"].values()))
    assert 0.0 < rms.max() < 0.3
    assert len(shadow["series"]["t_s"]) == shadow["compared_steps"] == report["loop"]["steps"] - 1
    assert (out / "shadow.png").read_bytes()[:4] == b"\x89PNG"


def test_mirror_refuses_an_unknown_camera(tmp_path, capsys) -> None:
    assert main(["mirror", "camera=top", "duration_s=0.1", "keys=none", f"output_dir={tmp_path}"]) == 1
    assert "cameras: ['front', 'wrist']" in capsys.readouterr().err


def test_mirror_shadow_of_a_hidden_reality_runs_sim_params(tmp_path) -> None:
    """With reality.seed the robot is the hidden reality and the shadow the model under test (sim.params): its
    own truth predicts it to a few ticks, the default preset visibly worse (what sysid has to remove)."""
    truth = tmp_path / "truth.json"
    base = ["reality.seed=2", "source=wave", "shadow=true", "duration_s=1.5", "keys=none", "video=false"]
    rms = {}
    for name, extra in (("default", [f"reality.truth={truth}"]), ("truth", [f"sim.params={truth}"])):
        out = tmp_path / name
        assert main(["mirror", *base, *extra, f"output_dir={out}"]) == 0
        report = json.loads((out / "report.json").read_text())
        rms[name] = max(report["shadow"]["rms_rad"].values())
    assert report["shadow"]["params"].startswith("reality_2")
    assert rms["truth"] < 3 * 2 * np.pi / 4096 < rms["default"], rms
