"""Emulator semantics: control table, lock, offsets, limits, phase, motion model hook, timing, SCS0009."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import serial

from twinarm.hardware.emulator import (
    Backdrivable,
    EmulatedServo,
    Emulator,
    EmulatorConfig,
    FaultConfig,
    FirstOrderMotion,
    MotionModel,
    ServoConfig,
    servos_for,
)
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import SCS0009, STS3215
from twinarm.hardware.hand import AMAZING_HAND_LEFT
from twinarm.robot.errors import ConfigError

T = STS3215


def test_default_servo_set_is_so101() -> None:
    cfg = EmulatorConfig()
    assert [(s.id, s.model) for s in cfg.servos] == [(i, "sts3215") for i in range(1, 7)]
    assert all(abs(s.position - 2048) < 100 for s in cfg.servos)
    hand = servos_for(AMAZING_HAND_LEFT)
    assert [(s.id, s.model, s.position) for s in hand] == [(i, "scs0009", 511) for i in range(11, 19)]
    with pytest.raises(ConfigError, match="3 start offsets for 8 servos"):
        servos_for(AMAZING_HAND_LEFT, (1, 2, 3))
    with pytest.raises(ConfigError, match="duplicate"):
        Emulator(EmulatorConfig(servos=[ServoConfig(1), ServoConfig(1)]))


def test_servo_lock_and_read_only_semantics() -> None:
    s = EmulatedServo(1, T, 2048)
    s.write(T.MAX_POSITION_LIMIT.address, T.encode(T.MAX_POSITION_LIMIT, 3000))  # locked: ignored
    assert s.get(T.MAX_POSITION_LIMIT) == 4095
    s.write(T.LOCK.address, b"\x00")
    s.write(T.MAX_POSITION_LIMIT.address, T.encode(T.MAX_POSITION_LIMIT, 3000))
    assert s.get(T.MAX_POSITION_LIMIT) == 3000
    s.write(T.PRESENT_POSITION.address, b"\x00\x00")  # read-only
    assert s.get(T.PRESENT_POSITION) == 2048
    assert s.get(T.MODEL_NUMBER) == 777


def test_servo_offset_limits_and_phase() -> None:
    s = EmulatedServo(1, T, 100)
    s.write(T.LOCK.address, b"\x00")
    s.write(T.HOMING_OFFSET.address, T.encode(T.HOMING_OFFSET, 300))
    s.update(100.0, 0.0, 0.0)
    assert s.get(T.PRESENT_POSITION) == (100 - 300) % 4096  # single turn: wraps
    s.write(T.PHASE.address, bytes([0x0C | 0x10]))  # multi-turn feedback
    s.update(100.0, 0.0, 0.0)
    assert s.get(T.PRESENT_POSITION) == -200
    s.write(T.MIN_POSITION_LIMIT.address, T.encode(T.MIN_POSITION_LIMIT, 1000))
    s.write(T.MAX_POSITION_LIMIT.address, T.encode(T.MAX_POSITION_LIMIT, 3000))
    s.write(T.GOAL_POSITION.address, T.encode(T.GOAL_POSITION, 3500))
    assert s.goal_actual == 3000 + 300  # clamped to the limit, then shifted to the shaft frame
    s.write(T.GOAL_POSITION.address, T.encode(T.GOAL_POSITION, 10))
    assert s.goal_actual == 1000 + 300


def test_first_order_motion_converges_and_respects_speed() -> None:
    m = FirstOrderMotion(np.array([0.0, 0.0]), time_constant_s=0.05, max_speed_tps=1000.0)
    goals, on = np.array([2000.0, 10.0]), np.array([True, False])
    pos, vel, load = m.step(0.5, goals, on)
    assert pos[0] == pytest.approx(500.0) and vel[0] == pytest.approx(1000.0)
    assert pos[1] == 0.0 and vel[1] == 0.0 and load[1] == 0.0  # torque off: stays
    for _ in range(40):
        pos, vel, _ = m.step(0.1, goals, on)
    assert pos[0] == pytest.approx(2000.0, abs=0.5)
    assert isinstance(m, MotionModel) and isinstance(m, Backdrivable)


class _Recorder:
    """A custom motion model (structural typing, no base class): shafts jump to goals."""

    def __init__(self, n: int) -> None:
        self.calls: list[tuple[float, np.ndarray, np.ndarray]] = []
        self.pos = np.full(n, 2048.0)

    def step(self, dt_s, goals, torque_enabled):
        self.calls.append((dt_s, goals.copy(), torque_enabled.copy()))
        self.pos = np.where(torque_enabled, goals, self.pos)
        return self.pos, np.zeros_like(self.pos), np.full_like(self.pos, -7.0)


def test_pluggable_motion_model() -> None:
    rec = _Recorder(6)
    assert isinstance(rec, MotionModel)
    with Emulator(EmulatorConfig(), motion=rec) as emu, FeetechBus(emu.port) as bus:
        bus.write(2, T.TORQUE_ENABLE, 1)
        bus.write(2, T.GOAL_POSITION, 1234)
        time.sleep(0.002)
        assert bus.read(2, T.PRESENT_POSITION) == 1234
        assert bus.read(2, T.PRESENT_LOAD) == -7
        _, goals, torque = rec.calls[-1]
        assert goals[1] == 1234 and torque.tolist() == [False, True, False, False, False, False]
        with pytest.raises(ConfigError, match="by hand"):
            emu.set_position(1, 100)


def test_backdrive_and_link(tmp_path) -> None:
    link = str(tmp_path / "so101")
    with Emulator(EmulatorConfig(link=link)) as emu:
        assert emu.port == link and os.path.islink(link)
        with FeetechBus(link) as bus:
            emu.set_position(3, 1000)
            assert bus.read(3, T.PRESENT_POSITION) == 1000
    assert not os.path.lexists(link)


def _raw(port: str, request: bytes, n: int, timeout_s: float = 0.05) -> bytes:
    with serial.Serial(port, timeout=timeout_s) as ser:
        ser.write(request)
        return ser.read(n)


def test_sync_read_replies_per_servo_in_order_and_broadcast_write_is_silent() -> None:
    with Emulator(EmulatorConfig()) as emu:
        data = _raw(emu.port, proto.sync_read_packet(T.ID.address, 1, [3, 1]), 100)
        assert data == proto.status_packet(3, 0, b"\x03") + proto.status_packet(1, 0, b"\x01")
        broadcast_write = proto.write_packet(proto.BROADCAST_ID, T.GOAL_POSITION.address, b"\x00\x08")
        assert _raw(emu.port, broadcast_write, 10, 0.02) == b""
        assert _raw(emu.port, proto.read_packet(1, 250, 10), 10, 0.02) == b""  # beyond the table: silent


def test_broadcast_ping_is_answered_by_every_servo_after_its_return_delay() -> None:
    """lerobot's scan_port / setup_motors send PING to 0xFE and parse one status packet per servo."""
    cfg = EmulatorConfig(return_delay=250, faults=FaultConfig(silent_ids=[5]))  # 250 x 2 us = 0.5 ms each
    with Emulator(cfg) as emu:
        t0 = time.monotonic()
        data = _raw(emu.port, proto.ping_packet(proto.BROADCAST_ID), 6 * 5, 0.2)
        elapsed = time.monotonic() - t0
        assert data == b"".join(proto.status_packet(i) for i in (1, 2, 3, 4, 6))
        assert elapsed >= 5 * 0.0005  # one return delay per answering servo, in turn


def test_scan_uses_broadcast_ping() -> None:
    with Emulator(EmulatorConfig()) as emu, FeetechBus(emu.port, timeout_s=0.02, retries=0) as bus:
        t0 = time.monotonic()
        assert bus.scan() == dict.fromkeys(range(1, 7), T.model_number)  # all 254 ids
        elapsed = time.monotonic() - t0
        assert bus.scan([2, 5, 200]) == dict.fromkeys([2, 5], T.model_number)
    assert elapsed < 1.0  # pinging 248 absent ids one by one would wait 248 x 20 ms = 5 s


def test_response_status_level_zero_only_answers_reads() -> None:
    with Emulator(EmulatorConfig()) as emu, FeetechBus(emu.port, timeout_s=0.01, retries=0) as bus:
        emu.servo(1).mem[T.RESPONSE_STATUS_LEVEL.address] = 0
        assert _raw(emu.port, proto.write_packet(1, T.TORQUE_LIMIT.address, b"\x10\x00"), 10, 0.02) == b""
        assert bus.read(1, T.TORQUE_LIMIT) == 16


def test_return_delay_and_wire_timing() -> None:
    cfg = EmulatorConfig(return_delay=250, wire_timing=True, baudrate=115_200)
    with Emulator(cfg) as emu, FeetechBus(emu.port, baudrate=115_200, timeout_s=0.1) as bus:
        t0 = time.perf_counter()
        bus.sync_read(T.PRESENT_POSITION, [1, 2, 3, 4, 5, 6])
        elapsed = time.perf_counter() - t0
    # 6 x 500 us return delay + (14 + 6 x 8) bytes x 10 bits at 115200 baud ~ 8.4 ms
    assert elapsed >= 0.0083


def test_wire_timing_runs_on_a_bus_clock_from_the_arrival() -> None:
    """Replies are due from the end of the request's bytes on the wire, counted from its arrival or from the end
    of the traffic before it (a request without reply keeps the bus busy, nobody waits for it): the time the
    emulator spends before handling a packet is not added to the wire time."""
    baud = 9600  # 1.04 ms per byte
    write = proto.sync_write_packet(T.GOAL_POSITION.address, 2, [(i, b"\x00\x08") for i in range(1, 7)])
    read = proto.read_packet(1, T.PRESENT_POSITION.address, 2)
    decoder = proto.PacketDecoder()
    decoder.feed(write + read)
    write_packet, read_packet = decoder.pop(), decoder.pop()
    with Emulator(EmulatorConfig(wire_timing=True, baudrate=baud)) as emu:
        with serial.Serial(emu.port, baud, timeout=1.0) as host:
            t0 = time.monotonic()
            emu._handle(write_packet, arrival=t0)
            no_wait = time.monotonic() - t0
            emu._handle(read_packet, arrival=t0)  # arrived together with the write: queued behind it on the wire
            queued = time.monotonic() - t0
            assert host.read(8) == proto.status_packet(1, 0, (2048).to_bytes(2, "little"))
            time.sleep(0.05)  # the bus falls silent
            t1 = time.monotonic()
            emu._handle(read_packet, arrival=t1 - 1.0)  # read 1 s after it arrived: its reply is long due
            late = time.monotonic() - t1
            assert host.read(8) == proto.status_packet(1, 0, (2048).to_bytes(2, "little"))
    assert no_wait < 0.02  # the write's 26 bytes take 27 ms on the wire
    assert queued >= (len(write) + len(read) + 8) * 10 / baud  # 44 ms
    assert late < 0.012  # timed from its handling it would take 16.7 ms more


def test_scs0009_servo_is_big_endian() -> None:
    cfg = EmulatorConfig(servos=[ServoConfig(1, "scs0009", 700)])
    with Emulator(cfg) as emu:
        data = _raw(emu.port, proto.read_packet(1, SCS0009.PRESENT_POSITION.address, 2), 8)
        assert data == proto.status_packet(1, 0, (700).to_bytes(2, "big"))
        assert emu.servo(1).get(SCS0009.MODEL_NUMBER) == 1284
