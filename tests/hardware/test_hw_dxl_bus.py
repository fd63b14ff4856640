"""DynamixelBus against the Dynamixel emulator on a real pty: instructions, signs, stuffing, faults and retries."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from twinarm.hardware.dynamixel.bus import DynamixelBus
from twinarm.hardware.dynamixel.tables import XL330_M288, XL430_W250
from twinarm.hardware.emulator import Emulator, EmulatorConfig, FaultConfig, ServoConfig
from twinarm.hardware.errors import (
    BusError,
    BusTimeoutError,
    EncodingError,
    MissingServoError,
    ModelMismatchError,
    ServoStatusError,
    TorqueEnabledError,
)

IDS = [1, 2, 3, 4, 5, 6]
MODELS = ["xl430-w250", "xl430-w250", "xl330-m288", "xl330-m288", "xl330-m288", "xl330-m288"]
T = XL430_W250


def _config(faults: FaultConfig | None = None, baudrate: int = 1_000_000) -> EmulatorConfig:
    servos = [ServoConfig(i, m, 2048 + 10 * i) for i, m in zip(IDS, MODELS)]
    return EmulatorConfig(servos=servos, baudrate=baudrate, faults=faults or FaultConfig())


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(_config()) as e:
        yield e


@pytest.fixture
def bus(emu: Emulator) -> Iterator[DynamixelBus]:
    with DynamixelBus(emu.port, timeout_s=0.2) as b:  # generous: 2 cores shared by many processes
        yield b


def _eventually(check, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def test_ping_check_and_model_mismatch(bus: DynamixelBus) -> None:
    assert bus.ping(1) == 1060 and bus.ping(3) == 1200
    assert bus.check_servos(dict(zip(IDS, [1060, 1060, 1200, 1200, 1200, 1200]))) == dict(
        zip(IDS, [1060, 1060, 1200, 1200, 1200, 1200])
    )
    with pytest.raises(ModelMismatchError, match="model 1200, expected model 1190"):
        bus.check_servos({3: 1190})
    assert bus.scan(range(8)) == dict(zip(IDS, [1060, 1060, 1200, 1200, 1200, 1200]))


def test_two_complement_values_roundtrip(bus: DynamixelBus, emu: Emulator) -> None:
    for value in (-1, -300_000, 2**31 - 1, -(2**31)):
        bus.write(2, T.GOAL_POSITION, value)
        assert bus.read(2, T.GOAL_POSITION) == value
    bus.write(3, XL330_M288.GOAL_CURRENT, -120)
    assert emu.servo(3).get(XL330_M288.GOAL_CURRENT) == -120
    with pytest.raises(EncodingError, match=r"\[-2147483648, 2147483647\]"):
        bus.write(2, T.GOAL_POSITION, 2**31)


def test_reads_in_requested_order_all_four_ways(bus: DynamixelBus) -> None:
    order = [5, 1, 3]
    want = [2048 + 10 * i for i in order]
    assert bus.sync_read(T.PRESENT_POSITION, order).tolist() == want
    assert bus.fast_sync_read(T.PRESENT_POSITION, order).tolist() == want
    state = bus.sync_read_state(order)
    assert state.position.tolist() == want and state.velocity.tolist() == [0, 0, 0]
    assert bus.bulk_read([(5, T.PRESENT_POSITION), (1, T.MODEL_NUMBER), (3, T.ID)]) == [2098, 1060, 3]


def test_sync_write_moves_and_velocity_is_signed(bus: DynamixelBus) -> None:
    bus.sync_write(T.TORQUE_ENABLE, IDS, [1] * 6)
    bus.sync_write(T.GOAL_POSITION, IDS, [1000] * 6)
    # moving down: negative velocities (0.229 rpm units), once the emulator has the goals (SYNC_WRITE: no reply)
    assert _eventually(lambda: np.all(bus.sync_read_state(IDS).velocity < 0))
    assert _eventually(lambda: np.all(np.abs(bus.sync_read(T.PRESENT_POSITION, IDS) - 1000) <= 2))


def test_bulk_write_reg_write_action_and_broadcast(bus: DynamixelBus, emu: Emulator) -> None:
    bus.bulk_write([(1, T.LED, 1), (4, T.PROFILE_VELOCITY, 300)])
    assert _eventually(lambda: emu.servo(1).get(T.LED) == 1 and emu.servo(4).get(T.PROFILE_VELOCITY) == 300)
    bus.reg_write(2, T.PROFILE_ACCELERATION, 55)
    assert bus.read(2, T.REGISTERED_INSTRUCTION) == 1 and bus.read(2, T.PROFILE_ACCELERATION) == 0
    bus.action()
    assert _eventually(lambda: emu.servo(2).get(T.PROFILE_ACCELERATION) == 55)
    bus.write(0xFE, T.LED, 1)  # broadcast: no reply expected
    assert _eventually(lambda: all(emu.servo(i).get(T.LED) == 1 for i in IDS))


def test_replies_needing_byte_stuffing(bus: DynamixelBus) -> None:
    # a present position of -131073 ticks is FF FF FD FF on the wire: the servo stuffs an FD into its reply
    bus.write_eeprom(2, T.HOMING_OFFSET, -131073 - 2068)
    assert bus.read(2, T.PRESENT_POSITION) == -131073
    assert bus.sync_read_state([1, 2, 3]).position.tolist() == [2058, -131073, 2078]
    assert bus.fast_sync_read(T.PRESENT_POSITION, [2, 3]).tolist() == [-131073, 2078]
    assert bus.stats.retries == 0


def test_sync_write_values_needing_byte_stuffing_and_bad_values(bus: DynamixelBus, emu: Emulator) -> None:
    bus.sync_write(T.GOAL_POSITION, [1, 2], [-131073, 5])  # FF FF FD FF: the packet is stuffed
    assert _eventually(lambda: [emu.servo(i).get(T.GOAL_POSITION) for i in (1, 2)] == [-131073, 5])
    bus.sync_write(T.GOAL_POSITION, np.array([1, 2]), np.array([7, 8]))
    assert _eventually(lambda: [emu.servo(i).get(T.GOAL_POSITION) for i in (1, 2)] == [7, 8])
    with pytest.raises(EncodingError, match="Goal_Position: 2147483648 out of range"):
        bus.sync_write(T.GOAL_POSITION, [1, 2], [0, 2**31])
    with pytest.raises(EncodingError, match="2 ids but 1 values"):
        bus.sync_write(T.GOAL_POSITION, [1, 2], [0])


def test_eeprom_needs_torque_off_and_id_change(bus: DynamixelBus, emu: Emulator) -> None:
    bus.write(1, T.TORQUE_ENABLE, 1)
    with pytest.raises(TorqueEnabledError, match="Homing_Offset"):
        bus.write_eeprom(1, T.HOMING_OFFSET, 100)
    with pytest.raises(ServoStatusError, match="access error") as info:
        bus.write(1, T.HOMING_OFFSET, 100)  # the servo itself refuses
    assert info.value.flags == 7 and info.value.servo_id == 1
    with pytest.raises(ServoStatusError, match="access error"):
        bus.write(1, T.PRESENT_POSITION, 5)  # read-only
    bus.write(1, T.TORQUE_ENABLE, 0)
    bus.write_eeprom(1, T.HOMING_OFFSET, -100)
    assert bus.read(1, T.PRESENT_POSITION) == 2048 + 10 - 100  # present = actual + offset
    bus.write_eeprom(6, T.ID, 9)
    assert bus.ping(9) == 1200
    with pytest.raises(BusTimeoutError):
        bus.ping(6, retries=0)


def test_reboot_and_factory_reset(bus: DynamixelBus, emu: Emulator) -> None:
    bus.write(3, T.TORQUE_ENABLE, 1)
    bus.reboot(3)
    assert bus.read(3, T.TORQUE_ENABLE) == 0
    bus.write_eeprom(3, T.RETURN_DELAY_TIME, 0)
    bus.write_eeprom(3, T.OPERATING_MODE, 4)
    bus.factory_reset(3)
    assert bus.read(3, T.OPERATING_MODE) == 3 and bus.ping(3) == 1200


def test_status_return_level_zero_answers_ping_only(bus: DynamixelBus) -> None:
    with pytest.raises(BusTimeoutError):  # the level applies at once: not even this write is answered
        bus.write(4, T.STATUS_RETURN_LEVEL, 0)
    assert bus.ping(4) == 1200
    with pytest.raises(BusTimeoutError, match=r"\[4\]"):
        bus.read(4, T.PRESENT_POSITION)


def test_corrupt_and_dropped_replies_are_retried_and_counted() -> None:
    faults = FaultConfig(seed=3, corrupt_prob=0.02, drop_prob=0.02)
    with Emulator(_config(faults)) as emu, DynamixelBus(emu.port, timeout_s=0.05, retries=8) as bus:
        for _ in range(200):
            pos = bus.sync_read(T.PRESENT_POSITION, IDS)
            assert pos.tolist() == [2048 + 10 * i for i in IDS]
            bus.sync_write(T.GOAL_POSITION, IDS, pos.tolist())
    injected = emu.stats.dropped + emu.stats.corrupted
    assert injected > 15
    assert bus.stats.retries == bus.stats.timeouts + bus.stats.corrupt
    assert bus.stats.corrupt > 0 and bus.stats.timeouts > 0


def test_silent_servo_is_named() -> None:
    with (
        Emulator(_config(FaultConfig(silent_ids=[4]))) as emu,
        DynamixelBus(emu.port, timeout_s=0.2, retries=1) as bus,
    ):
        with pytest.raises(MissingServoError) as info:
            bus.check_servos(IDS)
        assert info.value.missing == [4] and info.value.answered == [1, 2, 3, 5, 6]
        with pytest.raises(BusTimeoutError, match=r"servo id\(s\) \[4\]") as tinfo:
            bus.sync_read(T.PRESENT_POSITION, IDS)
        assert tinfo.value.register is T.PRESENT_POSITION and isinstance(tinfo.value, BusError)
        with pytest.raises(BusTimeoutError, match=r"\[4"):
            bus.fast_sync_read(T.PRESENT_POSITION, IDS)


@pytest.mark.parametrize(("fault", "bit"), [("overheat_ids", 0x04), ("overload_ids", 0x20), ("low_voltage_ids", 0x01)])
def test_hardware_errors_raise_the_alert(fault: str, bit: int) -> None:
    with Emulator(_config(FaultConfig(**{fault: [2]}))) as emu, DynamixelBus(emu.port, timeout_s=0.2) as bus:
        assert bus.sync_read(T.PRESENT_POSITION, [1, 3]).tolist() == [2058, 2078]
        with pytest.raises(ServoStatusError, match="hardware alert") as info:
            bus.sync_read(T.PRESENT_POSITION, [1, 2])
        assert info.value.servo_id == 2 and info.value.flags == 0x80
        with pytest.raises(ServoStatusError, match="hardware alert") as info:
            bus.fast_sync_read(T.PRESENT_POSITION, [1, 2, 3])
        assert info.value.servo_id == 2 and bus.stats.retries == 0  # a condition, not noise: no retry
        bus.status_mask = 0x7F  # ignore the alert bit, still raise on error numbers
        assert bus.read(2, T.HARDWARE_ERROR_STATUS) == bit
        assert bus.last_status[2] == 0x80
        assert bus.sync_read(T.PRESENT_POSITION, [1, 2]).tolist() == [2058, 2068]
        assert bus.fast_sync_read(T.PRESENT_POSITION, [2, 3]).tolist() == [2068, 2078]
        assert bus.last_status == {1: 0, 2: 0x80, 3: 0} and bus.stats.status_errors == 2
