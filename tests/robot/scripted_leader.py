"""A leader arm for tests: an emulated SO-101 leader bus with a calibration file, moved by a scripted hand."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from twinarm.hardware.calibration import Calibration
from twinarm.hardware.calibration_file import save_calibration
from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator.config import EmulatorConfig, so101_servos
from twinarm.hardware.emulator.server import Emulator
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import table_for
from twinarm.hardware.motors import SO101_LEADER


class LeaderRig:
    """``port`` and ``calibration_file`` for ``leader.port=... leader.calibration=...``; :meth:`play` moves it."""

    def __init__(self, emulator: Emulator, calibration: Calibration, calibration_file: Path) -> None:
        self.emulator, self.calibration, self.calibration_file = emulator, calibration, calibration_file
        self.port = emulator.port
        self._threads: list[threading.Thread] = []

    def move_to(self, joint_pos: Sequence[float]) -> None:
        """Put every shaft where joint positions ``joint_pos`` [rad] (spec order) read, as a hand would."""
        ticks = self.calibration.ticks.to_ticks(np.asarray(joint_pos, dtype=np.float32))
        for motor, tick in zip(self.calibration.motors, ticks):
            self.emulator.set_position(motor.id, float(tick))

    def play(self, poses: Sequence[tuple[float, Sequence[float]]]) -> None:
        """In the background, move to each ``(t_s, joint_pos)`` at ``t_s`` [s] from now."""
        t0 = time.monotonic()

        def script() -> None:
            for t_s, q in poses:
                time.sleep(max(0.0, t0 + t_s - time.monotonic()))
                self.move_to(q)

        thread = threading.Thread(target=script, daemon=True)
        thread.start()
        self._threads.append(thread)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10.0)


@contextlib.contextmanager
def scripted_leader(directory: Path) -> Iterator[LeaderRig]:
    """An emulated, calibrated SO-101 leader (calibration file written to ``directory``) for the block."""
    servos = so101_servos()
    calibration = nominal_calibration(SO101_LEADER)
    with Emulator(EmulatorConfig(servos=servos)) as emulator:
        with FeetechBus(emulator.port, table=table_for(servos[0].model)) as bus:
            write_calibration(bus, calibration)
        path = save_calibration(calibration, directory / "leader_calibration.json")
        rig = LeaderRig(emulator, calibration, path)
        try:
            yield rig
        finally:
            rig.join()
