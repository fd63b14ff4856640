"""Plumbing shared by the loop commands (teleop, mirror, record): clean stops, tracking figures, JSON reports. The
robot itself comes from ``compose.backends.open_robot``."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from twinarm.robot.keyboard import EpisodeEvent, EpisodeKeys
from twinarm.robot.loop import LoopReport
from twinarm.robot.robot import Observation
from twinarm.robot.spec import JOINT_POS, RobotSpec


@contextlib.contextmanager
def stop_on_interrupt(stop: threading.Event) -> Iterator[None]:
    """Within the block the first Ctrl-C sets ``stop`` (the loop ends cleanly and reports); a second one raises
    KeyboardInterrupt as usual. Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_check(controls: EpisodeKeys | None, source_quit: Callable[[], bool]) -> Callable[[Observation], bool]:
    """An ``is_done`` for ``run_loop``: true once the stop key was pressed or the source asked to quit."""
    stopped = False

    def is_done(obs: Observation) -> bool:
        nonlocal stopped
        if controls is not None and EpisodeEvent.STOP in controls.events():
            stopped = True
        return stopped or source_quit()

    return is_done


class TrackingSink:
    """Loop sink: how closely the robot follows its targets. The target sent at one cycle is compared with the
    position measured at the next one (so it includes one period of motion); also keeps the last of both."""

    def __init__(self, spec: RobotSpec) -> None:
        self.spec = spec
        self.n = 0
        self._sq = np.zeros(spec.num_joints)
        self._max = np.zeros(spec.num_joints)
        self.last_sent: np.ndarray | None = None
        self.last_measured: np.ndarray | None = None

    def on_step(self, obs: Observation, sent: np.ndarray, t: float) -> None:
        measured = np.asarray(obs[JOINT_POS], dtype=np.float64)
        if self.last_sent is not None:
            err = measured - self.last_sent
            self._sq += err**2
            np.maximum(self._max, np.abs(err), out=self._max)
            self.n += 1
        self.last_sent, self.last_measured = np.asarray(sent, dtype=np.float64), measured

    def as_dict(self) -> dict[str, Any]:
        names = self.spec.joint_names
        rms = np.sqrt(self._sq / max(self.n, 1))

        def per_joint(values: np.ndarray | None) -> dict[str, float] | None:
            return None if values is None else {n: float(v) for n, v in zip(names, values)}

        return {
            "compared_steps": self.n,
            "rms_rad": per_joint(rms),
            "max_abs_rad": per_joint(self._max),
            "final_target_rad": per_joint(self.last_sent),
            "final_measured_rad": per_joint(self.last_measured),
        }


def loop_summary(report: LoopReport, realtime: bool = True) -> str:
    """The loop's timing line; an unpaced run only has a throughput (its 'overruns' mean nothing)."""
    if realtime:
        return report.summary()
    return f"{report.steps} steps in {report.duration_s:.2f} s ({report.rate_hz:.1f} steps/s, unpaced)"


def write_json(data: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
