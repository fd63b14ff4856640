"""Bus diagnostics under noise: what arrived is classified (silence, bad checksums, babble) and said."""

from __future__ import annotations

import pytest

from twinarm.hardware.emulator import Emulator, EmulatorConfig, FaultConfig
from twinarm.hardware.errors import BusTimeoutError, CorruptPacketError
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.diagnostics import ReplyKind, diagnose
from twinarm.hardware.feetech.tables import STS3215

IDS = [1, 2, 3, 4, 5, 6]


def test_diagnose_classifies_what_arrived() -> None:
    good = proto.status_packet(3, 0, b"\x01\x02")
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    assert diagnose(good, [3], 2).kind is ReplyKind.OK
    assert diagnose(b"", [3], 2).kind is ReplyKind.SILENT
    assert diagnose(good[:5], [3], 2).kind is ReplyKind.SHORT
    d = diagnose(bytes(bad), [3], 2)
    assert d.kind is ReplyKind.BAD_CHECKSUM and d.bad_checksum_ids == (3,)
    d = diagnose(bytes(range(0x10, 0x18)), [3], 2)
    assert d.kind is ReplyKind.BABBLE and d.junk_bytes == 8


def test_babble_is_reported_as_noise_not_as_power() -> None:
    cfg = EmulatorConfig(faults=FaultConfig(silent_ids=[4], babble_prob=1.0, babble_bytes=12))
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.005, retries=1) as bus:
        with pytest.raises(CorruptPacketError) as info:
            bus.read(4, STS3215.PRESENT_POSITION)
    msg = str(info.value)
    assert "noise" in msg and "babble" in msg and "check power" not in msg
    assert info.value.servo_id == 4 and info.value.register is STS3215.PRESENT_POSITION


def test_silence_still_says_check_power() -> None:
    cfg = EmulatorConfig(faults=FaultConfig(silent_ids=[4]))
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.005, retries=1) as bus:
        with pytest.raises(BusTimeoutError, match=r"2 silent.*check power"):
            bus.read(4, STS3215.PRESENT_POSITION)


def test_check_servos_does_not_call_corrupt_answers_missing() -> None:
    cfg = EmulatorConfig(faults=FaultConfig(corrupt_prob=1.0, seed=3))
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.005, retries=2) as bus:
        with pytest.raises(CorruptPacketError) as info:
            bus.check_servos(IDS)
    msg = str(info.value)
    assert "did not answer" not in msg and "could not be read through noise" in msg
    assert str(IDS) in msg


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scan_under_babble_is_complete_or_says_why(seed: int) -> None:
    cfg = EmulatorConfig(faults=FaultConfig(babble_prob=0.4, seed=seed))
    with Emulator(cfg) as emu, FeetechBus(emu.port, timeout_s=0.005, retries=3) as bus:
        try:
            found = bus.scan(range(10))
        except CorruptPacketError as exc:
            assert "scan incomplete: noise hid servo id(s)" in str(exc) and "found so far" in str(exc)
        else:
            assert sorted(found) == IDS  # never a silent subset
    with Emulator(EmulatorConfig(faults=FaultConfig(babble_prob=1.0))) as emu:
        with FeetechBus(emu.port, timeout_s=0.005, retries=1) as bus, pytest.raises(CorruptPacketError, match="scan"):
            bus.scan(range(10))
