"""The official vendor SDK (scservo_sdk) talks to the emulator: ping, read, write, GroupSyncRead/Write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from twinarm.hardware.emulator import Emulator, EmulatorConfig, ServoConfig
from twinarm.hardware.feetech.tables import SCS0009, STS3215

scs = pytest.importorskip("scservo_sdk")
IDS = [1, 2, 3, 4, 5, 6]


@pytest.fixture
def sdk() -> Iterator[tuple[Emulator, object, object]]:
    with Emulator(EmulatorConfig()) as emu:
        port = scs.PortHandler(emu.port)
        assert port.openPort() and port.setBaudRate(1_000_000)
        try:
            yield emu, port, scs.PacketHandler(0)  # 0: little-endian (STS)
        finally:
            port.closePort()


def test_sdk_ping_read_write(sdk) -> None:
    emu, port, ph = sdk
    assert ph.ping(port, 1) == (777, scs.COMM_SUCCESS, 0)
    _model, result, _ = ph.ping(port, 9)
    assert result == scs.COMM_RX_TIMEOUT
    pos, result, err = ph.read2ByteTxRx(port, 2, STS3215.PRESENT_POSITION.address)
    assert (pos, result, err) == (emu.config.servos[1].position, scs.COMM_SUCCESS, 0)
    assert ph.write2ByteTxRx(port, 3, STS3215.TORQUE_LIMIT.address, 321) == (scs.COMM_SUCCESS, 0)
    assert emu.servo(3).get(STS3215.TORQUE_LIMIT) == 321
    assert ph.write1ByteTxRx(port, 3, STS3215.LOCK.address, 0) == (scs.COMM_SUCCESS, 0)
    assert emu.servo(3).get(STS3215.LOCK) == 0


def test_sdk_group_sync_read_and_write(sdk) -> None:
    emu, port, ph = sdk
    writer = scs.GroupSyncWrite(port, ph, STS3215.GOAL_POSITION.address, 2)
    goals = [2000 + 10 * i for i in IDS]
    for servo_id, goal in zip(IDS, goals):
        assert writer.addParam(servo_id, [scs.SCS_LOBYTE(goal), scs.SCS_HIBYTE(goal)])
    assert writer.txPacket() == scs.COMM_SUCCESS
    reader = scs.GroupSyncRead(port, ph, STS3215.GOAL_POSITION.address, 2)
    for servo_id in IDS:
        reader.addParam(servo_id)
    assert reader.txRxPacket() == scs.COMM_SUCCESS
    assert [reader.getData(i, STS3215.GOAL_POSITION.address, 2) for i in IDS] == goals
    assert [emu.servo(i).get(STS3215.GOAL_POSITION) for i in IDS] == goals


def test_sdk_big_endian_scs0009() -> None:
    cfg = EmulatorConfig(servos=[ServoConfig(1, "scs0009", 300), ServoConfig(2, "scs0009", 700)])
    with Emulator(cfg) as emu:
        port = scs.PortHandler(emu.port)
        assert port.openPort()
        try:
            ph = scs.PacketHandler(1)  # 1: big-endian (SCS)
            assert ph.ping(port, 2) == (1284, scs.COMM_SUCCESS, 0)
            assert ph.read2ByteTxRx(port, 1, SCS0009.PRESENT_POSITION.address)[0] == 300
            assert ph.write2ByteTxRx(port, 2, SCS0009.GOAL_POSITION.address, 600)[0] == scs.COMM_SUCCESS
            assert emu.servo(2).get(SCS0009.GOAL_POSITION) == 600
        finally:
            port.closePort()
            scs.PacketHandler(0)  # the SDK keeps byte order in a module global: restore the default


def test_sdk_broadcast_ping_finds_every_servo(sdk) -> None:
    """What lerobot's FeetechMotorsBus.broadcast_ping (scan_port, setup_motors) does through the SDK: one PING to
    0xFE, then read status packets (6 bytes each) until the packet timeout, and parse them."""
    _emu, port, ph = sdk
    tx = [0xFF, 0xFF, scs.BROADCAST_ID, 2, scs.INST_PING, 0]
    assert ph.txPacket(port, tx) == scs.COMM_SUCCESS
    port.setPacketTimeoutMillis(6 * 10 * 10 / 1000 + 3.0 * 253 + 16.0)
    rx: list[int] = []
    while not port.isPacketTimeout() and len(rx) < 6 * len(IDS):
        rx += port.readPort(6 * len(IDS) - len(rx))
    found = {}
    for off in range(0, len(rx) - 5, 6):
        pkt = rx[off : off + 6]
        assert pkt[:2] == [0xFF, 0xFF] and pkt[3] == 2 and (~sum(pkt[2:5]) & 0xFF) == pkt[5]
        found[pkt[2]] = pkt[4]
    assert found == dict.fromkeys(IDS, 0)
