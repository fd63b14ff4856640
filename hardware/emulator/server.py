"""Emulator: a pty serving emulated servos (Feetech or Dynamixel, by their models), in a background thread.

``with Emulator(EmulatorConfig()) as emu: FeetechBus(emu.port)`` -- the port is a real tty path (or a symlink
at ``config.link``), so the vendor SDKs and ``twinarm`` commands can open it too. What the servos answer is the
protocol's :class:`~hardware.emulator.handlers.Handler`; timing, fault injection and the motion model are here.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from twinarm.hardware.emulator.config import EmulatorConfig
from twinarm.hardware.emulator.handlers import Handler, handler_for
from twinarm.hardware.emulator.motion import Backdrivable, FirstOrderMotion, GainAware, MotionModel
from twinarm.hardware.emulator.servo import EmulatedServo
from twinarm.hardware.errors import ProtocolError
from twinarm.robot.errors import ConfigError

_MIN_STEP_S = 0.0005  # motion is integrated at most every 0.5 ms (lazily, when packets arrive)
# A status packet due less than this after the previous one goes out with it (never early; late by less than
# this): at 4 Mbaud a packet lasts ~30 us, and one pty write per packet costs the reader a wakeup each.
_COALESCE_S = 0.0002


@dataclass
class EmulatorStats:
    requests: int = 0
    replies: int = 0
    dropped: int = 0
    corrupted: int = 0
    delayed: int = 0
    rx_errors: int = 0
    babbles: int = 0


def _wait_until(deadline: float) -> None:
    """Sleep until ``deadline`` (time.monotonic) with ~10 us precision: coarse sleep, then spin."""
    remaining = deadline - time.monotonic()
    if remaining > 0.0003:
        time.sleep(remaining - 0.0002)
    while time.monotonic() < deadline:
        pass


class Emulator:
    """Serve ``config.servos`` on a pty until :meth:`stop`. ``motion`` defaults to :class:`FirstOrderMotion`."""

    def __init__(self, config: EmulatorConfig, motion: MotionModel | None = None) -> None:
        config.validate()
        self.config = config
        self.handler: Handler = handler_for([s.model for s in config.servos])
        self.servos: list[EmulatedServo] = [
            self.handler.make_servo(s.id, s.model, s.position, config.return_delay) for s in config.servos
        ]
        self.motion: MotionModel = motion or FirstOrderMotion(
            np.array([s.position for s in config.servos], dtype=np.float64),
            config.time_constant_s,
            config.max_speed_tps,
        )
        faults = config.faults
        self._rng = random.Random(faults.seed)
        self._silent = set(faults.silent_ids)
        for servo in self.servos:
            servo.inject_faults(
                overheat=servo.id in faults.overheat_ids,
                low_voltage=servo.id in faults.low_voltage_ids,
                overload=servo.id in faults.overload_ids,
            )
        self._by_id = {s.id: s for s in self.servos}
        # a motion model that honours the P_Coefficient / Torque_Limit registers gets them at every step
        self._gain_regs = None
        if isinstance(self.motion, GainAware) and all("Torque_Limit" in s.table for s in self.servos):
            self._gain_regs = [(s.table.P_COEFFICIENT, s.table.TORQUE_LIMIT) for s in self.servos]
        self._byte_s = 10.0 / config.baudrate  # wire time of one byte [s]
        self.stats = EmulatorStats()
        self._master = self._slave = -1
        self._wake_r = self._wake_w = -1
        self._thread: threading.Thread | None = None
        self._tty_path = ""
        self._last_step = time.monotonic()
        self._bus_free = 0.0  # [s, time.monotonic] when the last byte on the emulated wire ends (wire_timing)
        self._state_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------------------
    @property
    def port(self) -> str:
        """Path to open: the symlink if ``config.link`` is set, else the pty slave."""
        if not self._tty_path:
            raise ConfigError("emulator not started: use `with Emulator(cfg) as emu:` or call start()")
        return self.config.link or self._tty_path

    def start(self) -> Emulator:
        if self._thread is not None:
            return self
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self._tty_path = os.ttyname(self._slave)
        if self.config.link:
            link = self.config.link
            if os.path.lexists(link):
                if not os.path.islink(link):
                    self._close_fds()
                    raise ConfigError(f"emulator link={link!r} exists and is not a symlink; choose another path")
                os.unlink(link)
            os.symlink(self._tty_path, link)
        self._wake_r, self._wake_w = os.pipe()
        self._last_step = time.monotonic()
        self._thread = threading.Thread(target=self._serve, name=f"{self.handler.name}-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        os.write(self._wake_w, b"x")
        thread.join(timeout=5.0)
        link = self.config.link
        if link and os.path.islink(link) and os.readlink(link) == self._tty_path:
            os.unlink(link)
        self._close_fds()

    def _close_fds(self) -> None:
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = self._wake_r = self._wake_w = -1

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, stop: threading.Event) -> None:
        """Serve (in the background thread) until ``stop`` is set; for CLI processes."""
        self.start()
        try:
            while not stop.wait(0.2):
                pass
        finally:
            self.stop()

    # -- test helpers ---------------------------------------------------------------------------------------
    def servo(self, servo_id: int) -> EmulatedServo:
        try:
            return self._by_id[servo_id]
        except KeyError:
            raise ConfigError(f"no emulated servo with id {servo_id}; ids: {sorted(self._by_id)}") from None

    def set_position(self, servo_id: int, ticks: float) -> None:
        """Move a shaft by hand (needs a Backdrivable motion model, e.g. the default one)."""
        if not isinstance(self.motion, Backdrivable):
            raise ConfigError(f"motion model {type(self.motion).__name__} cannot be moved by hand")
        servo = self.servo(servo_id)
        with self._state_lock:
            self.motion.set_position(self.servos.index(servo), ticks)
            servo.update(float(ticks), 0.0, 0.0)

    # -- serving --------------------------------------------------------------------------------------------
    def _serve(self) -> None:
        decoder = self.handler.decoder()
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._master, 4096)
            except BlockingIOError:
                continue
            except OSError:  # pty closed under us
                return
            arrival = time.monotonic()  # before decoding: the emulator's own Python time is not wire time
            decoder.feed(data)
            while True:
                try:
                    packet = decoder.pop()
                except ProtocolError:
                    self.stats.rx_errors += 1
                    continue
                if packet is None:
                    break
                with self._state_lock:
                    self._handle(packet, arrival)

    def _advance(self) -> None:
        now = time.monotonic()
        dt = now - self._last_step
        if dt < _MIN_STEP_S:
            return
        self._last_step = now
        servos = self.servos
        goals = np.fromiter((s.goal_actual for s in servos), dtype=np.float64, count=len(servos))
        torque = np.fromiter((s.torque_enabled for s in servos), dtype=bool, count=len(servos))
        if self._gain_regs is not None:
            regs = [(s.get(p), s.get(t)) for s, (p, t) in zip(servos, self._gain_regs)]
            self.motion.set_gains(np.array([r[0] for r in regs]), np.array([r[1] for r in regs]))
        pos, vel, load = self.motion.step(min(dt, 1.0), goals, torque)
        for servo, p, v, f in zip(servos, pos.tolist(), vel.tolist(), load.tolist()):  # Python floats, no indexing
            servo.update(p, v, f)

    def _handle(self, packet: NamedTuple, arrival: float | None = None) -> None:
        """Answer one request that was read at ``arrival`` [s, time.monotonic; None: now].

        With ``wire_timing`` the bus is a virtual clock: a request's bytes start on the wire when it arrived or
        when the bus fell silent, whichever is later, and its replies are due from the end of its last byte (a real
        servo answers Return_Delay_Time after that). Requests without a reply only keep the bus busy (no waiting
        here), so the emulator's Python time between packets is not added to the wire time a real bus would take.
        """
        self.stats.requests += 1
        t_rx = time.monotonic() if arrival is None else arrival
        if self.config.wire_timing:  # the request's own bytes take time on the wire
            t_rx = max(t_rx, self._bus_free) + self.handler.frame_size(packet) * self._byte_s
            self._bus_free = t_rx
        self._advance()
        faults = self.config.faults
        if faults.babble_prob and self._rng.random() < faults.babble_prob:  # a foreign device talks first
            self.stats.babbles += 1
            self._write(bytes(self._rng.randrange(0xFF) for _ in range(faults.babble_bytes)))
        replies = self.handler.dispatch(self, packet)
        if replies:
            self._bus_free = self._reply(replies, t_rx)

    def silent(self, servo_id: int) -> bool:
        """Fault injection: ``servo_id`` ignores everything (handlers ask before answering)."""
        return servo_id in self._silent

    def reindex(self) -> None:
        """Rebuild the id -> servo map after a servo's ID changed."""
        self._by_id = {s.id: s for s in self.servos}

    def by_id(self, servo_id: int) -> EmulatedServo | None:
        return self._by_id.get(servo_id)

    def _reply(self, replies: list[tuple[EmulatedServo, bytes]], t_rx: float) -> float:
        """Send each ``(servo, status packet)`` after the servo's return delay, faults injected per packet; returns
        when the last one ends on the wire [s, time.monotonic]."""
        faults, rng = self.config.faults, self._rng
        timed = self.config.wire_timing or any(s.return_delay_s for s, _ in replies) or faults.delay_prob
        t = t_rx
        groups: list[tuple[float, bytearray]] = []  # (when the last packet of the group is due, the group's bytes)
        for servo, packet in replies:
            if faults.drop_prob and rng.random() < faults.drop_prob:
                self.stats.dropped += 1
                continue
            if faults.corrupt_prob and rng.random() < faults.corrupt_prob:
                self.stats.corrupted += 1
                buf = bytearray(packet)
                buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
                packet = bytes(buf)
            self.stats.replies += 1
            due = t
            if timed:
                due += servo.return_delay_s
                if faults.delay_prob and rng.random() < faults.delay_prob:
                    self.stats.delayed += 1
                    due += faults.delay_s
                if self.config.wire_timing:
                    due += len(packet) * self._byte_s
            if groups and due - t <= _COALESCE_S:  # held until this one is due too (fewer wakeups, one wait)
                groups[-1][1].extend(packet)
                groups[-1] = (due, groups[-1][1])
            else:
                groups.append((due, bytearray(packet)))
            t = due
        for due, data in groups:  # never early
            if timed:
                _wait_until(due)
            self._write(bytes(data))
        return t

    def _write(self, data: bytes) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # nobody reading: a real bus would lose it too
            os.write(self._master, data)


@contextlib.contextmanager
def emulated_bus(config: EmulatorConfig | None = None) -> Iterator[Emulator]:
    """Shorthand: ``with emulated_bus() as emu:`` serves the SO-101 servo set."""
    with Emulator(config or EmulatorConfig()) as emu:
        yield emu
