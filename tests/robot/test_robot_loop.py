from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

from tests.robot.fake_robot import FakeRobot
from twinarm.robot import SO101
from twinarm.robot.loop import RateClock, run_loop

STATE_ONLY = SO101.with_cameras(())


class Constant:
    def __init__(self, target: np.ndarray, stall_after: int | None = None) -> None:
        self.target = target
        self.calls = 0
        self.stall_after = stall_after

    def reset(self) -> None:
        self.calls = 0

    def act(self, obs: dict) -> np.ndarray | None:
        self.calls += 1
        if self.stall_after is not None and self.calls > self.stall_after:
            return None
        return self.target


class Collect:
    def __init__(self) -> None:
        self.sent: list[np.ndarray] = []

    def on_step(self, obs: dict, sent: np.ndarray, t: float) -> None:
        self.sent.append(sent)


def test_loop_runs_at_rate_without_drift() -> None:
    with FakeRobot(STATE_ONLY.with_rate(200.0)) as robot:
        report = run_loop(robot, Constant(np.zeros(6, np.float32)), max_steps=100)
    assert report.steps == 100
    assert 0.45 < report.duration_s < 0.60  # 100 periods of 5 ms, no accumulated drift
    assert report.watchdog_trips == 0


def test_rate_clock_counts_overruns_and_reanchors() -> None:
    clock = RateClock(100.0)
    time.sleep(0.035)  # miss three deadlines at once
    late = clock.wait()
    assert clock.overruns == 1 and late > 0.02
    assert clock.wait() < 0.005  # next cycle is on schedule again, not a burst


def test_watchdog_holds_when_source_stalls() -> None:
    sink = Collect()
    with FakeRobot(STATE_ONLY.with_rate(100.0)) as robot:
        report = run_loop(
            robot, Constant(np.full(6, 0.5, np.float32), stall_after=5), [sink], max_steps=40, stall_timeout_s=0.1
        )
    assert report.watchdog_trips >= 2
    # after the stall the robot keeps the last target (0.5 clipped by max step ramps), never moves on
    np.testing.assert_allclose(sink.sent[-1], sink.sent[5], rtol=1e-6)


def test_loop_output_respects_limits_every_cycle() -> None:
    sink = Collect()
    rng = np.random.default_rng(0)

    class Wild:
        def reset(self) -> None: ...

        def act(self, obs: dict) -> np.ndarray:
            return rng.normal(0, 5, 6).astype(np.float32)

    with FakeRobot(STATE_ONLY.with_rate(1000.0)) as robot:
        run_loop(robot, Wild(), [sink], max_steps=200)
    sent = np.stack(sink.sent)
    assert (sent >= STATE_ONLY.lower - 1e-6).all() and (sent <= STATE_ONLY.upper + 1e-6).all()
    steps = np.abs(np.diff(sent, axis=0))
    assert (steps <= STATE_ONLY.with_rate(1000.0).max_step + 1e-6).all()


def test_sigterm_mid_loop_releases_torque(tmp_path) -> None:
    marker = tmp_path / "torque.txt"
    script = textwrap.dedent(
        f"""
        import numpy as np, sys
        sys.path.insert(0, {os.getcwd()!r})
        from twinarm.robot import SO101
        from twinarm.robot.loop import run_loop, terminate_on_sigterm
        from tests.robot.fake_robot import FakeRobot

        class R(FakeRobot):
            def _disconnect(self):
                super()._disconnect()
                open({str(marker)!r}, "w").write("off")

        class S:
            def reset(self): ...
            def act(self, obs): return np.zeros(6, np.float32)

        robot = R(SO101.with_cameras(()))
        with terminate_on_sigterm(), robot:
            print("running", flush=True)
            run_loop(robot, S(), duration_s=30)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "running"
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    assert marker.read_text() == "off"
