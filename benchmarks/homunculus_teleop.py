"""Teleop from the Homunculus glove (or exoskeleton) emulator: sensor stream rate vs its limits, loop rate and
latency of ``source=homunculus``.

The device emulator runs in its own process (no GIL shared with the loop) and streams the firmware's lines over a
pty at 115200-baud pace; the driver, calibration, filter and joint map of ``twinarm teleop`` read it. The robot is
``--robot``: ``synthetic`` (an ideal in-memory robot with the map's joints: the source's cost alone) or a registry
model (``hopejr_hand``, ``hopejr_arm``) simulated in MuJoCo. Figures:

* stream: lines/s the driver receives vs the wire limit (115200 baud / 10 bits / line bytes) and the board's scan
  limit (1 / scan period), bad lines;
* loop: rate vs target, jitter, time per ``act`` [ms], share of cycles with a new line;
* latency: age of the newest line when its target is sent (p50/p99) [ms], and the lag between the emulated motion
  and the targets sent (best-fitting delay, without and with the default low-pass, which adds ~1/(2 pi f_c)).

    python benchmarks/homunculus_teleop.py [--device homunculus_glove] [--seconds 4] [--hz 100] [--robot synthetic]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from twinarm.compose.homunculus import DeviceSource, HomunculusSettings
from twinarm.compose.scripted import SyntheticRobot
from twinarm.hardware.homunculus.device import HallDevice
from twinarm.hardware.homunculus.emulator import DeviceEmulator, DeviceEmulatorConfig
from twinarm.hardware.homunculus.joint_map import MAPS, JointScaler
from twinarm.hardware.homunculus.motion import SineMotion, nominal_calibration
from twinarm.hardware.homunculus.stream import DEVICES, format_line, line_time_s
from twinarm.robot.loop import run_loop
from twinarm.robot.spec import JointSpec, RobotSpec


def _serve(cfg: DeviceEmulatorConfig, out: mp.Queue, stop: mp.Event) -> None:  # type: ignore[valid-type]
    with DeviceEmulator(cfg) as emu:
        out.put((emu.port, emu.started_s, len(format_line(emu.spec, emu.fields_at(1.0)))))
        stop.wait()


class Probe:
    """Wraps the device source: time per act, fresh share, age of the line behind each fresh target."""

    def __init__(self, inner: DeviceSource) -> None:
        self.inner, self.seconds, self.calls, self.ages = inner, 0.0, 0, []
        self.t: list[float] = []  # time.monotonic of each fresh target, and the target (the source's, unclipped)
        self.sent: list[np.ndarray] = []

    def reset(self) -> None:
        self.inner.reset()

    def act(self, obs: dict) -> np.ndarray | None:
        t = time.perf_counter()
        out = self.inner.act(obs)
        self.seconds, self.calls = self.seconds + time.perf_counter() - t, self.calls + 1
        if out is not None:
            now = time.monotonic()
            self.ages.append(now - self.inner.device.raw().t)
            self.t.append(now)
            self.sent.append(out.copy())
        return out


def motion_lag_ms(trace: Probe, want, t0: float) -> float:
    """Lag [ms] of the source's targets behind ``want(t)`` that fits best (1 ms steps up to 150 ms)."""
    t, sent = np.array(trace.t), np.stack(trace.sent)
    keep = t > t[0] + 0.3
    lags = np.arange(0.0, 0.150, 0.001)
    err = [np.mean((sent[keep] - np.stack([want(ti - t0 - lag) for ti in t[keep]])) ** 2) for lag in lags]
    return 1e3 * float(lags[int(np.argmin(err))])


def robot_for(name: str, dmap, hz: float):
    if name == "synthetic":
        joints = tuple(JointSpec(j, -1.0, 1.5, 100.0) for j in dmap.joint_names)
        return SyntheticRobot(RobotSpec(f"synthetic ({dmap.robot} joints)", joints, control_hz=hz))
    from twinarm.compose.registry import get_model
    from twinarm.sim.sim_robot import SimRobot

    sim = get_model(name).sim
    return SimRobot(sim, sim.spec.with_rate(hz).with_cameras(()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="homunculus_glove", choices=sorted(DEVICES))
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--hz", type=float, default=100.0)
    ap.add_argument("--robot", default="synthetic", help="synthetic, or a registry model (hopejr_hand, hopejr_arm)")
    args = ap.parse_args()
    spec, dmap = DEVICES[args.device], MAPS[args.device]
    cfg = DeviceEmulatorConfig(args.device, frequency_hz=0.5, noise_counts=2.0)
    ctx = mp.get_context("spawn")
    ports, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=_serve, args=(cfg, ports, stop), daemon=True)
    child.start()
    try:
        port, started, nbytes = ports.get(timeout=20)
        motion, cal = SineMotion(spec, cfg.frequency_hz), nominal_calibration(spec)
        wire_hz, scan_hz = 1 / line_time_s(spec, nbytes), 1 / spec.scan_period_s
        with HallDevice(spec, port, cal, cutoff_hz=0.0) as dev:
            dev.wait_frame(0)
            n0, b0, t0 = dev.stats.lines, dev.stats.bad_lines, time.monotonic()
            time.sleep(min(args.seconds, 2.0))
            lines, rate = dev.stats.lines - n0, (dev.stats.lines - n0) / (time.monotonic() - t0)
        print(f"{args.device}: {nbytes}-byte lines; emulator in its own process; {args.seconds:g} s per loop row")
        print(
            f"stream        {rate:6.1f} lines/s received ({lines} lines, {dev.stats.bad_lines - b0} bad); limits: wire "
            f"{wire_hz:.1f}/s at {spec.baudrate} baud, board scan {scan_hz:.0f}/s -> {rate / wire_hz:.3f} x wire"
        )
        settings = HomunculusSettings()
        default_cutoff = getattr(settings, f"{args.device.removeprefix('homunculus_')}_cutoff_hz")
        for cutoff in (0.0, default_cutoff):
            with contextlib.ExitStack() as stack:
                dev = stack.enter_context(HallDevice(spec, port, cal, cutoff_hz=cutoff))
                dev.wait_frame(0)
                robot = stack.enter_context(robot_for(args.robot, dmap, args.hz))
                scaler = JointScaler(dmap, robot.spec.joints)
                probe = Probe(DeviceSource(dev, scaler))
                r = run_loop(robot, probe, duration_s=args.seconds)
            lag = motion_lag_ms(probe, lambda t, scale=scaler: scale(motion(t)), started)
            ages = 1e3 * np.array(probe.ages)
            fresh = len(ages) / max(probe.calls, 1)
            print(
                f"loop f_c={cutoff:4.1f} Hz {r.rate_hz:6.1f} Hz ({r.rate_hz / args.hz:5.3f} x {args.hz:g})  jitter p50 "
                f"{r.jitter_p50_s * 1e3:.2f} p99 {r.jitter_p99_s * 1e3:.2f} ms  "
                f"act {1e3 * probe.seconds / probe.calls:.3f} ms  new line in {fresh:.0%} of cycles  "
                f"line age p50 {np.percentile(ages, 50):.1f} p99 {np.percentile(ages, 99):.1f} ms  "
                f"motion -> target lag {lag:.0f} ms  ({robot.spec.name})"
            )
    finally:
        stop.set()
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()


if __name__ == "__main__":
    main()
