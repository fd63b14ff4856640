"""The official ROBOTIS SDK (dynamixel-sdk, protocol 2.0) drives the Dynamixel emulator as it drives real servos."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from twinarm.hardware.dynamixel.tables import XL330_M077, XL330_M288, XL430_W250
from twinarm.hardware.emulator import Emulator, EmulatorConfig, ServoConfig

dxl = pytest.importorskip("dynamixel_sdk")

MODELS = {1: "xl430-w250", 2: "xl430-w250", 3: "xl330-m288", 4: "xl330-m288", 5: "xl330-m288", 6: "xl330-m288"}
IDS = list(MODELS)
T = XL430_W250  # the X-series share these addresses


def _eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """A write without reply lands when the emulator thread gets to it: poll with a generous deadline."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def _config(models: dict[int, str], baudrate: int = 1_000_000) -> EmulatorConfig:
    servos = [ServoConfig(i, m, 2048 + 17 * i) for i, m in models.items()]
    return EmulatorConfig(servos=servos, baudrate=baudrate)


@pytest.fixture(autouse=True)
def _generous_sdk_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # the SDK's reply deadline is the bytes' wire time + 2 x its USB latency timer (16 ms) + 2 ms; the emulator
    # shares a loaded 2-core machine, so the tests give the SDK a 100 ms latency timer (the protocol is unchanged)
    monkeypatch.setattr(dxl.port_handler, "LATENCY_TIMER", 100)


@pytest.fixture(params=[1_000_000, 4_000_000], ids=["1M", "4M"])
def sdk(request) -> Iterator[tuple[Emulator, object, object]]:
    with Emulator(_config(MODELS, request.param)) as emu:
        port = dxl.PortHandler(emu.port)
        assert port.openPort() and port.setBaudRate(request.param)
        try:
            yield emu, port, dxl.PacketHandler(2.0)
        finally:
            port.closePort()


def test_sdk_ping_reports_model_numbers_and_absent_ids_time_out(sdk) -> None:
    _emu, port, ph = sdk
    assert ph.ping(port, 1) == (1060, dxl.COMM_SUCCESS, 0)
    assert ph.ping(port, 3) == (1200, dxl.COMM_SUCCESS, 0)
    _model, result, _ = ph.ping(port, 9)
    assert result == dxl.COMM_RX_TIMEOUT
    found, result = ph.broadcastPing(port)
    assert result == dxl.COMM_SUCCESS
    assert {i: model for i, (model, _fw) in found.items()} == {i: (1060 if i < 3 else 1200) for i in IDS}


def test_sdk_leader_model_number() -> None:
    with Emulator(_config({7: "xl330-m077"})) as emu:
        port = dxl.PortHandler(emu.port)
        assert port.openPort() and port.setBaudRate(1_000_000)
        try:
            assert dxl.PacketHandler(2.0).ping(port, 7)[:2] == (XL330_M077.model_number, dxl.COMM_SUCCESS)
        finally:
            port.closePort()


def test_sdk_read_write_1_2_4_bytes(sdk) -> None:
    emu, port, ph = sdk
    assert ph.read4ByteTxRx(port, 2, T.PRESENT_POSITION.address) == (2048 + 34, dxl.COMM_SUCCESS, 0)
    assert ph.read2ByteTxRx(port, 3, T.MODEL_NUMBER.address) == (1200, dxl.COMM_SUCCESS, 0)
    assert ph.write4ByteTxRx(port, 1, T.PROFILE_VELOCITY.address, 123456) == (dxl.COMM_SUCCESS, 0)
    assert emu.servo(1).get(T.PROFILE_VELOCITY) == 123456
    assert ph.write2ByteTxRx(port, 4, XL330_M288.GOAL_CURRENT.address, 0xFFFF - 99) == (dxl.COMM_SUCCESS, 0)
    assert emu.servo(4).get(XL330_M288.GOAL_CURRENT) == -100  # two's complement
    assert ph.write1ByteTxRx(port, 5, T.OPERATING_MODE.address, 4) == (dxl.COMM_SUCCESS, 0)
    assert ph.read1ByteTxRx(port, 5, T.OPERATING_MODE.address) == (4, dxl.COMM_SUCCESS, 0)
    # EEPROM with torque on: the servo refuses with an access error, as a real one does
    assert ph.write1ByteTxRx(port, 5, T.TORQUE_ENABLE.address, 1) == (dxl.COMM_SUCCESS, 0)
    result, error = ph.write1ByteTxRx(port, 5, T.OPERATING_MODE.address, 3)
    assert result == dxl.COMM_SUCCESS and error == 7 and emu.servo(5).get(T.OPERATING_MODE) == 4
    _value, result, _ = ph.read4ByteTxRx(port, 42, T.PRESENT_POSITION.address)
    assert result == dxl.COMM_RX_TIMEOUT


def test_sdk_group_sync_write_then_sync_read_and_fast_sync_read(sdk) -> None:
    emu, port, ph = sdk
    writer = dxl.GroupSyncWrite(port, ph, T.GOAL_POSITION.address, 4)
    goals = {i: 1000 + 100 * i for i in IDS}
    for i, goal in goals.items():
        assert writer.addParam(i, list(goal.to_bytes(4, "little")))
    assert writer.txPacket() == dxl.COMM_SUCCESS
    assert _eventually(lambda: all(emu.servo(i).get(T.GOAL_POSITION) == g for i, g in goals.items()))
    reader = dxl.GroupSyncRead(port, ph, T.GOAL_POSITION.address, 4)
    for i in IDS:
        assert reader.addParam(i)
    assert reader.txRxPacket() == dxl.COMM_SUCCESS
    assert {i: reader.getData(i, T.GOAL_POSITION.address, 4) for i in IDS} == goals
    assert reader.fastSyncRead() == dxl.COMM_SUCCESS
    assert {i: reader.getData(i, T.GOAL_POSITION.address, 4) for i in IDS} == goals
    # an absent id: the sync read times out instead of returning stale data
    reader.addParam(9)
    assert reader.txRxPacket() != dxl.COMM_SUCCESS


def test_sdk_group_bulk_read_and_write(sdk) -> None:
    emu, port, ph = sdk
    bw = dxl.GroupBulkWrite(port, ph)
    assert bw.addParam(1, T.LED.address, 1, [1])
    assert bw.addParam(3, T.PROFILE_ACCELERATION.address, 4, list((77).to_bytes(4, "little")))
    assert bw.txPacket() == dxl.COMM_SUCCESS
    assert _eventually(lambda: emu.servo(1).get(T.LED) == 1 and emu.servo(3).get(T.PROFILE_ACCELERATION) == 77)
    br = dxl.GroupBulkRead(port, ph)
    assert br.addParam(1, T.PRESENT_POSITION.address, 4)
    assert br.addParam(3, T.MODEL_NUMBER.address, 2)
    assert br.addParam(6, T.PRESENT_TEMPERATURE.address, 1)
    assert br.txRxPacket() == dxl.COMM_SUCCESS
    assert br.getData(1, T.PRESENT_POSITION.address, 4) == emu.servo(1).get(T.PRESENT_POSITION)
    assert br.getData(3, T.MODEL_NUMBER.address, 2) == 1200
    assert br.getData(6, T.PRESENT_TEMPERATURE.address, 1) == 30
