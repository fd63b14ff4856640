"""Teleoperation at 100 Hz: each action source and each sink of ``twinarm teleop``/``mirror`` on an emulated bus.

The follower (and the leader) are emulated buses of ``--robot`` (SO-101: Feetech; koch: Dynamixel) in their own
processes with wire timing at the bus rate, driven by the real driver, calibration and safety layers
(``FeetechRobot`` at the loop rate). Rows:

* baseline: a scripted wave source, no sink (the bus cycle alone), measured first in the same run;
* leader -> follower; keyboard/gamepad end-effector teleop (IK on the MuJoCo model each cycle, the target moving
  on a circle as a held key or stick would move it);
* the baseline plus the live mirror (mp4 rendered in its own thread) and plus the shadow simulation.

Figures: loop rate (and its ratio to the target), jitter p50/p99 and overruns; time per ``act`` of each source
and per ``on_step`` of each sink [ms], as ratios against the baseline's.

    python benchmarks/teleop.py [--seconds 3] [--hz 100] [--robot so101|koch]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mujoco
import numpy as np

from twinarm.compose.registry import get_model
from twinarm.compose.scripted import WaveSource
from twinarm.hardware.calibration_io import nominal_calibration
from twinarm.hardware.emulator.config import EmulatorConfig
from twinarm.hardware.emulator.process import EmulatorProcess
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.loop import LoopReport, run_loop
from twinarm.robot.sources import LeaderSource
from twinarm.robot.teleop import CartesianTeleopSource, EECommand
from twinarm.sim.ik import ArmIK
from twinarm.sim.mirror import LiveMirror, ShadowSink
from twinarm.sim.sim_robot import SimRobot


class Circle:
    """An input device moving the gripper frame on a 3 cm circle at 0.05 m/s (a key or stick held)."""

    def __init__(self) -> None:
        self.t = 0.0

    def read(self, dt: float) -> EECommand:
        self.t += dt
        w = 0.05 / 0.03
        return EECommand(np.array([-np.sin(w * self.t), np.cos(w * self.t), 0.0]) * 0.05, 0.0, 0.0)


class Timed:
    """Wraps a source or a sink and accumulates the time spent in it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.seconds, self.calls = inner, 0.0, 0

    def reset(self) -> None:
        self.inner.reset()

    def act(self, obs: dict) -> Any:
        t = time.perf_counter()
        try:
            return self.inner.act(obs)
        finally:
            self.seconds, self.calls = self.seconds + time.perf_counter() - t, self.calls + 1

    def on_step(self, obs: dict, sent: np.ndarray, t_loop: float) -> None:
        t = time.perf_counter()
        self.inner.on_step(obs, sent, t_loop)
        self.seconds, self.calls = self.seconds + time.perf_counter() - t, self.calls + 1

    @property
    def ms(self) -> float:
        return 1e3 * self.seconds / max(self.calls, 1)


def row(label: str, r: LoopReport, hz: float, cost: str) -> str:
    return (
        f"{label:<28} {r.rate_hz:6.1f} Hz ({r.rate_hz / hz:5.3f} x target)  jitter p50 {r.jitter_p50_s * 1e3:5.2f} ms "
        f"p99 {r.jitter_p99_s * 1e3:6.2f} ms  overruns {r.overruns:3d}/{r.steps}  {cost}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--hz", type=float, default=100.0)
    ap.add_argument("--robot", default="so101", help="a registry model with a follower and a leader bus")
    args = ap.parse_args()
    hz, secs = args.hz, args.seconds
    entry = get_model(args.robot)
    arm, hand = entry.bus("follower"), entry.bus("leader")
    sim_model = entry.sim

    def emu(role: str) -> EmulatorConfig:
        return EmulatorConfig(servos=entry.emulator_servos(role), baudrate=arm.baudrate, wire_timing=True)

    with (
        EmulatorProcess(emu("follower")) as follower_port,
        EmulatorProcess(emu("leader")) as leader_port,
        contextlib.ExitStack() as stack,
    ):
        follower = FeetechRobot(arm, follower_port, nominal_calibration(arm), check_eeprom=False, control_hz=hz)
        robot = stack.enter_context(follower)
        leader = FeetechRobot(hand, leader_port, nominal_calibration(hand), check_eeprom=False)
        stack.enter_context(leader)
        spec = robot.spec
        ee = get_model(spec.name).ee
        model = mujoco.MjModel.from_xml_path(str(sim_model.xml))
        ik = ArmIK(model, spec.joint_names, ee.arm_joints, offset=ee.grasp_offset)
        out = Path(tempfile.mkdtemp(prefix="twinarm_bench_teleop_"))

        def measure(label: str, source: Any, sinks: list[Any] = ()) -> tuple[LoopReport, Timed, list[Timed]]:
            timed, timed_sinks = Timed(source), [Timed(s) for s in sinks]
            report = run_loop(robot, timed, timed_sinks, duration_s=secs)
            return report, timed, timed_sinks

        base, base_src, _ = measure("baseline", WaveSource(spec))
        print(
            f"{arm.name} on an emulated {arm.baudrate / 1e6:g} Mbaud {arm.bus.value} bus (wire timing), {hz:g} Hz "
            f"target, {secs:g} s per row"
        )
        print(row("baseline (wave source)", base, hz, f"act {base_src.ms:.3f} ms"))
        for label, source in (
            ("leader -> follower", LeaderSource(leader, spec.joint_names)),
            (
                "keyboard/gamepad via IK",
                CartesianTeleopSource(spec, Circle(), ik, ee.workspace, gripper_joint=ee.gripper),
            ),
        ):
            r, src, _ = measure(label, source)
            print(row(label, r, hz, f"act {src.ms:.3f} ms = {src.ms / base_src.ms:.1f}x the wave's"))
        robot.reset_target()
        mirror = LiveMirror(sim_model, spec.joint_names, video=out / "mirror.mp4", fps=30.0)
        with mirror:
            r, _, (sink,) = measure("+ mirror", WaveSource(spec), [mirror])
        print(row("baseline + mirror (mp4)", r, hz, f"on_step {sink.ms:.3f} ms, {mirror.frames} frames"))
        with SimRobot(sim_model, sim_model.spec.with_rate(hz).with_cameras(())) as sim:
            r, _, (sink,) = measure("+ shadow", WaveSource(spec), [ShadowSink(sim)])
        print(row("baseline + shadow sim", r, hz, f"on_step {sink.ms:.3f} ms"))


if __name__ == "__main__":
    main()
