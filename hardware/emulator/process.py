"""Run an Emulator in a separate process (no GIL sharing with the bus under test: benchmarks, robot tests)."""

from __future__ import annotations

import multiprocessing as mp
import queue

from twinarm.hardware.emulator.config import EmulatorConfig
from twinarm.robot.errors import ConfigError


def _child(config: EmulatorConfig, ports: mp.Queue, stop: mp.Event) -> None:  # type: ignore[valid-type]
    from twinarm.hardware.emulator.server import Emulator

    with Emulator(config) as emu:
        ports.put(emu.port)
        stop.wait()


class EmulatorProcess:
    """``with EmulatorProcess(cfg) as port:`` serves ``cfg`` from a child process; ``port`` is the tty path.

    Only the default motion model is available (the config is all that crosses the process boundary).
    """

    def __init__(self, config: EmulatorConfig, start_timeout_s: float = 20.0) -> None:
        config.validate()
        self.config = config
        self.start_timeout_s = start_timeout_s
        ctx = mp.get_context("spawn")
        self._ports: mp.Queue = ctx.Queue()
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_child, args=(config, self._ports, self._stop), daemon=True)
        self.port = ""

    def __enter__(self) -> str:
        self._proc.start()
        try:
            self.port = self._ports.get(timeout=self.start_timeout_s)
        except queue.Empty:
            self.close()
            raise ConfigError(
                f"emulator process did not start within {self.start_timeout_s} s (exit code {self._proc.exitcode})"
            ) from None
        return self.port

    def close(self) -> None:
        self._stop.set()
        self._proc.join(timeout=5.0)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=2.0)

    def __exit__(self, *exc: object) -> None:
        self.close()
