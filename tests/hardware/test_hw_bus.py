"""FeetechBus against the emulator on a real pty, and the port factory."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from twinarm.hardware.emulator import Emulator, EmulatorConfig, ServoConfig, servos_for
from twinarm.hardware.errors import BusTimeoutError, EncodingError, PortError, PortLostError, TorqueEnabledError
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import SCS0009, STS3215
from twinarm.hardware.hand import AMAZING_HAND_RIGHT
from twinarm.hardware.ports import open_port
from twinarm.robot.errors import NotConnectedError

IDS = [1, 2, 3, 4, 5, 6]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig()) as emulator:
        yield emulator


@pytest.fixture
def bus(emu: Emulator) -> Iterator[FeetechBus]:
    with FeetechBus(emu.port, timeout_s=0.05) as b:
        yield b


def test_ping_scan_and_read(bus: FeetechBus, emu: Emulator) -> None:
    assert bus.ping(1) == 777
    assert bus.scan(range(0, 9)) == dict.fromkeys(IDS, 777)
    assert bus.read(2, STS3215.PRESENT_POSITION) == emu.config.servos[1].position
    assert bus.read(3, STS3215.ID) == 3
    assert bus.check_servos(dict.fromkeys(IDS, 777)) == dict.fromkeys(IDS, 777)


def test_sync_read_in_requested_order(bus: FeetechBus, emu: Emulator) -> None:
    order = [6, 1, 4]
    got = bus.sync_read(STS3215.PRESENT_POSITION, order)
    assert got.dtype == np.int64 and got.shape == (3,)
    assert got.tolist() == [emu.servo(i).get(STS3215.PRESENT_POSITION) for i in order]


def test_sync_write_moves_servos(bus: FeetechBus) -> None:
    bus.sync_write(STS3215.TORQUE_ENABLE, IDS, [1] * 6)
    goals = [2100, 2000, 1900, 2200, 2300, 1800]
    bus.sync_write(STS3215.GOAL_POSITION, IDS, goals)
    assert bus.sync_read(STS3215.GOAL_POSITION, IDS).tolist() == goals
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        pos = bus.sync_read(STS3215.PRESENT_POSITION, IDS)
        if np.all(np.abs(pos - goals) <= 2):
            break
        time.sleep(0.02)
    assert np.all(np.abs(pos - goals) <= 2), pos


def test_write_waits_for_status_and_roundtrips(bus: FeetechBus) -> None:
    bus.write(1, STS3215.P_COEFFICIENT, 16)  # EEPROM while Lock=1: the servo ignores it
    assert bus.read(1, STS3215.P_COEFFICIENT) == 32
    bus.write(1, STS3215.TORQUE_LIMIT, 500)
    assert bus.read(1, STS3215.TORQUE_LIMIT) == 500
    assert bus.stats.transactions == 4 and bus.stats.retries == 0


def test_sign_magnitude_values(bus: FeetechBus, emu: Emulator) -> None:
    bus.write(1, STS3215.GOAL_POSITION, -20)
    assert bus.read(1, STS3215.GOAL_POSITION) == -20
    assert emu.servo(1).mem[43] & 0x80  # bit 15 on the wire, not two's complement
    bus.write_eeprom(2, STS3215.HOMING_OFFSET, -300)
    assert bus.read(2, STS3215.HOMING_OFFSET) == -300
    assert emu.servo(2).mem[32] == 0x08 | (300 >> 8)  # bit 11 + magnitude high bits
    # present = actual - offset
    time.sleep(0.002)
    assert bus.read(2, STS3215.PRESENT_POSITION) == 2008 + 300


def test_eeprom_lock(bus: FeetechBus, emu: Emulator) -> None:
    assert bus.read(1, STS3215.LOCK) == 1
    bus.write(1, STS3215.MAX_POSITION_LIMIT, 3000)  # locked: ignored by the servo
    assert bus.read(1, STS3215.MAX_POSITION_LIMIT) == 4095
    bus.write_eeprom(1, STS3215.MAX_POSITION_LIMIT, 3000)
    assert bus.read(1, STS3215.MAX_POSITION_LIMIT) == 3000
    assert bus.read(1, STS3215.LOCK) == 1  # re-locked
    with bus.unlocked(1):
        assert bus.read(1, STS3215.LOCK) == 0
        bus.write(1, STS3215.PHASE, 0x1C)
    assert bus.read(1, STS3215.PHASE) == 0x1C and bus.read(1, STS3215.LOCK) == 1


def test_eeprom_write_refused_with_torque_on(bus: FeetechBus) -> None:
    bus.write(3, STS3215.TORQUE_ENABLE, 1)
    with pytest.raises(TorqueEnabledError, match=r"servo 3.*Homing_Offset") as info:
        bus.write_eeprom(3, STS3215.HOMING_OFFSET, 10)
    assert info.value.port == bus.port
    assert bus.read(3, STS3215.LOCK) == 1


def test_change_id(bus: FeetechBus) -> None:
    bus.write_eeprom(6, STS3215.ID, 9)
    assert bus.scan(range(1, 10)).keys() == {1, 2, 3, 4, 5, 9}
    assert bus.read(9, STS3215.LOCK) == 1


def test_reg_write_and_action(bus: FeetechBus) -> None:
    bus.reg_write(1, STS3215.TORQUE_LIMIT, 700)
    bus.reg_write(2, STS3215.TORQUE_LIMIT, 600)
    assert bus.read(1, STS3215.TORQUE_LIMIT) == 1000
    bus.action()
    time.sleep(0.01)
    assert bus.sync_read(STS3215.TORQUE_LIMIT, [1, 2]).tolist() == [700, 600]


def test_broadcast_write_has_no_reply(bus: FeetechBus) -> None:
    bus.write(0xFE, STS3215.TORQUE_LIMIT, 800)
    assert bus.sync_read(STS3215.TORQUE_LIMIT, IDS).tolist() == [800] * 6
    assert bus.stats.timeouts == 0


def test_bad_values_and_closed_bus(bus: FeetechBus) -> None:
    with pytest.raises(EncodingError, match="Goal_Position"):
        bus.sync_write(STS3215.GOAL_POSITION, [1], [40000])
    bus.close()
    assert not bus.is_open
    with pytest.raises(NotConnectedError, match=bus.port):
        bus.read(1, STS3215.ID)


def test_scs0009_bus_reads_one_by_one() -> None:
    cfg = EmulatorConfig(servos=[ServoConfig(i, "scs0009", 500 + i) for i in (1, 2, 3)])
    with Emulator(cfg) as emu, FeetechBus(emu.port, table=SCS0009) as bus:
        assert bus.ping(2) == 1284
        assert bus.sync_read(SCS0009.PRESENT_POSITION, [3, 1]).tolist() == [503, 501]
        assert emu.stats.requests == 2 + 2  # ping = PING + READ Model_Number; then 2 READs, no SYNC_READ
        bus.write(1, SCS0009.GOAL_POSITION, 1000)
        assert emu.servo(1).mem[42:44] == b"\x03\xe8"  # big-endian


def test_timeout_when_nothing_answers(emu: Emulator) -> None:
    with FeetechBus(emu.port, timeout_s=0.005, retries=1) as bus:
        with pytest.raises(BusTimeoutError) as info:
            bus.read(42, STS3215.PRESENT_POSITION)
    err = info.value
    assert err.servo_id == 42 and err.register is STS3215.PRESENT_POSITION and err.port == emu.port
    assert "42" in str(err) and "Present_Position" in str(err) and emu.port in str(err)
    assert bus.stats.retries == 1 and bus.stats.timeouts == 2


def test_port_error_names_port_and_lists_ports() -> None:
    with pytest.raises(PortError, match=r"/dev/does-not-exist.*available ports") as info:
        open_port("/dev/does-not-exist")
    assert info.value.port == "/dev/does-not-exist"
    with pytest.raises(PortError):
        FeetechBus("/dev/does-not-exist").open()


def test_loop_url_opens_through_factory() -> None:
    port = open_port("loop://", timeout_s=0.05)
    try:
        port.write(b"\xff\xff\x01")
        assert port.read(3) == b"\xff\xff\x01"
    finally:
        port.close()


def test_spy_url_dumps_traffic(emu: Emulator, tmp_path) -> None:
    trace = tmp_path / "trace.txt"
    with FeetechBus(f"spy://{emu.port}?file={trace}", timeout_s=0.05) as bus:
        assert bus.ping(1) == 777
    text = trace.read_text()
    assert "FF FF 01 02 01 FB" in text.upper()


def test_sync_read_state_returns_signed_position_and_velocity_in_one_transaction(bus: FeetechBus) -> None:
    bus.sync_write(STS3215.TORQUE_ENABLE, IDS, [1] * 6)
    bus.sync_write(STS3215.GOAL_POSITION, [2], [1000])  # servo 2 moves down from 2008: negative velocity
    deadline = time.monotonic() + 2.0
    while True:
        before = bus.stats.transactions
        state = bus.sync_read_state([2, 1])
        assert bus.stats.transactions == before + 1
        if state.velocity[0] < -10 or time.monotonic() > deadline:
            break
    assert state.position.dtype == state.velocity.dtype == np.int64
    assert state.velocity[0] < -10 and state.velocity[1] == 0, state  # sign-magnitude decoded, not 32768 + ...
    assert 1000 <= state.position[0] < 2008 and state.position[1] == 2048


def test_sync_read_state_reads_each_scs_servo_once() -> None:
    with Emulator(EmulatorConfig(servos=servos_for(AMAZING_HAND_RIGHT))) as emu:
        emu.set_position(3, 700)
        with FeetechBus(emu.port, table=SCS0009) as bus:
            before = emu.stats.requests
            state = bus.sync_read_state([3, 1])
            assert emu.stats.requests - before == 2  # one 4-byte READ per servo: no SYNC_READ on SCS
    assert state.position.tolist() == [700, 511] and state.velocity.tolist() == [0, 0]


def test_a_port_that_vanishes_raises_a_typed_error_naming_it() -> None:
    emu = Emulator(EmulatorConfig()).start()
    with FeetechBus(emu.port, timeout_s=0.05) as bus:
        assert bus.sync_read_state(IDS).position.shape == (6,)
        emu.stop()  # the pty goes away under the open port, as on a USB unplug
        t0 = time.monotonic()
        with pytest.raises(PortLostError, match=rf"^{emu.port}: .*is the adapter still connected\?"):
            bus.sync_read_state(IDS)
        with pytest.raises(PortLostError, match=emu.port):
            bus.sync_write(STS3215.TORQUE_ENABLE, IDS, [0] * 6)
        assert time.monotonic() - t0 < 1.0
