"""Fault injection: corrupted/dropped replies are retried and counted; silent and unhealthy servos are named."""

from __future__ import annotations

import numpy as np
import pytest

from twinarm.hardware.emulator import Emulator, EmulatorConfig, FaultConfig
from twinarm.hardware.errors import BusError, BusTimeoutError, CorruptPacketError, MissingServoError, ServoStatusError
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import STS3215

IDS = [1, 2, 3, 4, 5, 6]


def test_2000_cycles_with_1pct_corrupt_and_1pct_dropped() -> None:
    faults = FaultConfig(seed=7, corrupt_prob=0.01, drop_prob=0.01)
    cfg = EmulatorConfig(faults=faults)
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.01, retries=3) as bus:
        bus.sync_write(STS3215.TORQUE_ENABLE, IDS, [1] * 6)
        goals = np.full(6, 2048)
        for k in range(2000):
            pos = bus.sync_read(STS3215.PRESENT_POSITION, IDS)
            assert pos.shape == (6,) and np.all((pos > 1500) & (pos < 2600))
            goals = 2048 + (k % 50) - 25 + np.zeros(6, dtype=int)
            bus.sync_write(STS3215.GOAL_POSITION, IDS, goals)
    injected = emu.stats.dropped + emu.stats.corrupted
    assert injected > 100  # ~1% of ~12,000 replies each
    # every injected fault cost one retry (two faults may share one), counted by kind; a few more may come
    # from replies late beyond the 10 ms deadline on a loaded machine
    assert bus.stats.retries == bus.stats.timeouts + bus.stats.corrupt
    assert 0.5 * injected <= bus.stats.retries <= injected + 10
    assert bus.stats.corrupt > 0 and bus.stats.timeouts > 0


def test_missing_servo_names_id_and_port() -> None:
    cfg = EmulatorConfig(faults=FaultConfig(silent_ids=[4]))
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.005, retries=1) as bus:
        with pytest.raises(MissingServoError) as info:
            bus.check_servos(IDS)
        err = info.value
        assert err.missing == [4] and err.answered == [1, 2, 3, 5, 6] and err.port == emu.port
        assert "[4]" in str(err) and emu.port in str(err)
        with pytest.raises(BusTimeoutError, match=r"servo id\(s\) \[4\]") as tinfo:
            bus.sync_read(STS3215.PRESENT_POSITION, IDS)
        assert tinfo.value.servo_id == 4 and tinfo.value.register is STS3215.PRESENT_POSITION
        assert isinstance(tinfo.value, BusError)


@pytest.mark.parametrize(
    ("fault", "flag", "word"),
    [("overheat_ids", 0x04, "overheat"), ("overload_ids", 0x20, "overload"), ("low_voltage_ids", 0x01, "voltage")],
)
def test_status_bits_raise_servo_status_error(fault: str, flag: int, word: str) -> None:
    cfg = EmulatorConfig(faults=FaultConfig(**{fault: [5]}))
    with Emulator(cfg) as emu, FeetechBus(emu.port) as bus:
        assert bus.read(1, STS3215.PRESENT_POSITION) > 0
        with pytest.raises(ServoStatusError) as info:
            bus.sync_read(STS3215.PRESENT_POSITION, IDS)
        err = info.value
        assert (err.servo_id, err.register, err.flags & flag) == (5, STS3215.PRESENT_POSITION, flag)
        assert word in str(err) and "servo 5" in str(err) and emu.port in str(err)
        assert bus.stats.retries == 0  # conditions are not retried
        bus.status_mask = 0  # a caller may choose to read through the condition
        assert bus.sync_read(STS3215.PRESENT_POSITION, IDS).shape == (6,)
        assert bus.last_status[5] & flag


def test_persistent_corruption_is_classified() -> None:
    cfg = EmulatorConfig(faults=FaultConfig(corrupt_prob=1.0, seed=1))
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.005, retries=2) as bus:
        with pytest.raises((CorruptPacketError, BusTimeoutError)) as info:
            bus.read(2, STS3215.PRESENT_POSITION)
        assert info.value.servo_id == 2
        assert bus.stats.retries == 2 and bus.stats.corrupt + bus.stats.timeouts == 3
        assert bus.stats.corrupt >= 1


def test_delayed_reply_beyond_deadline_is_a_timeout() -> None:
    cfg = EmulatorConfig(faults=FaultConfig(delay_prob=1.0, delay_s=0.02))
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.005, retries=0) as bus:
        with pytest.raises(BusTimeoutError):
            bus.read(1, STS3215.ID)
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.1, retries=0) as bus:
        assert bus.read(1, STS3215.ID) == 1
