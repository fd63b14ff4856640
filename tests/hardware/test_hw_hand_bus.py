"""SCS0009 on the wire: big-endian vectors, no SYNC_READ, and an STS bus and an SCS bus driven by one process."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator import Emulator, EmulatorConfig, servos_for, so101_servos
from twinarm.hardware.errors import BusTimeoutError, EncodingError
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import SCS0009, STS3215
from twinarm.hardware.hand import AMAZING_HAND_RIGHT, amazing_hand, nominal_hand_calibration
from twinarm.hardware.motors import SO101_FOLLOWER
from twinarm.hardware.robots import so101_follower
from twinarm.robot.spec import JOINT_POS

HAND_IDS = list(range(1, 9))
HAND_SERVOS = servos_for(AMAZING_HAND_RIGHT)


def test_register_values_are_big_endian_on_scs_and_little_endian_on_sts() -> None:
    assert SCS0009.encode(SCS0009.GOAL_POSITION, 1000) == b"\x03\xe8"
    assert STS3215.encode(STS3215.GOAL_POSITION, 1000) == b"\xe8\x03"
    assert SCS0009.decode(SCS0009.PRESENT_POSITION, b"\x01\xff") == 511
    assert SCS0009.decode(SCS0009.MODEL_NUMBER, b"\x05\x04") == 1284
    # feedback is sign-magnitude: velocity bit 15, load bit 10 (as rustypot decodes them)
    assert SCS0009.decode(SCS0009.PRESENT_VELOCITY, b"\x80\x14") == -20
    assert SCS0009.decode(SCS0009.PRESENT_LOAD, b"\x04\x0a") == -10
    assert SCS0009.encode(SCS0009.PRESENT_VELOCITY, -20) == b"\x80\x14"
    with pytest.raises(EncodingError, match="Goal_Position"):  # positions are plain unsigned on SCS
        SCS0009.encode(SCS0009.GOAL_POSITION, -1)


def test_sync_write_packet_vectors_differ_only_in_value_bytes() -> None:
    scs = proto.sync_write_packet(42, 2, [(1, SCS0009.encode(SCS0009.GOAL_POSITION, v)) for v in (511,)])
    assert scs == bytes.fromhex("ff ff fe 07 83 2a 02 01 01 ff 4a")
    two = [(1, 511), (2, 1000)]
    scs = proto.sync_write_packet(42, 2, [(i, SCS0009.encode(SCS0009.GOAL_POSITION, v)) for i, v in two])
    sts = proto.sync_write_packet(42, 2, [(i, STS3215.encode(STS3215.GOAL_POSITION, v)) for i, v in two])
    assert scs == bytes.fromhex("ff ff fe 0a 83 2a 02 01 01 ff 02 03 e8 5a")
    assert sts == bytes.fromhex("ff ff fe 0a 83 2a 02 01 ff 01 02 e8 03 5a")  # same checksum: it cannot catch order


def test_scs_table_addresses_match_the_published_memory_map() -> None:
    addresses = {r.name: r.address for r in SCS0009}
    expected = {"ID": 5, "Min_Position_Limit": 9, "Max_Position_Limit": 11, "Torque_Enable": 40, "Goal_Position": 42}
    expected |= {"Goal_Time": 44, "Goal_Velocity": 46, "Lock": 48, "Present_Position": 56, "Present_Velocity": 58}
    expected |= {"Present_Load": 60, "Present_Voltage": 62, "Present_Temperature": 63, "Moving": 66}
    assert {k: addresses[k] for k in expected} == expected
    assert "Homing_Offset" not in SCS0009 and "Operating_Mode" not in SCS0009 and "Torque_Limit" not in SCS0009
    assert SCS0009.resolution == 1024 and SCS0009.ticks_per_turn == pytest.approx(1228.8)
    assert not SCS0009.supports_sync_read and SCS0009.phase_bits is None


def test_scs_status_reply_is_decoded_big_endian_from_the_emulator() -> None:
    with Emulator(EmulatorConfig(servos=HAND_SERVOS)) as emu, FeetechBus(emu.port, table=SCS0009) as b:
        emu.set_position(3, 700)
        assert emu.servo(3).mem[56:58] == b"\x02\xbc"
        assert b.read(3, SCS0009.PRESENT_POSITION) == 700
        b.write(3, SCS0009.GOAL_POSITION, 600)
        assert emu.servo(3).mem[42:44] == b"\x02\x58"


def test_scs_servos_ignore_sync_read_so_the_bus_reads_one_by_one() -> None:
    with Emulator(EmulatorConfig(servos=HAND_SERVOS)) as emu:
        with FeetechBus(emu.port, table=SCS0009) as bus:
            before = emu.stats.requests
            assert bus.sync_read(SCS0009.PRESENT_POSITION, HAND_IDS).tolist() == [511] * 8
            assert emu.stats.requests - before == 8  # one READ per servo
        pretend = dataclasses.replace(SCS0009, supports_sync_read=True)  # a host that assumes SYNC_READ works
        with FeetechBus(emu.port, table=pretend, timeout_s=0.005, retries=0) as bus:
            with pytest.raises(BusTimeoutError, match=r"no reply from servo id\(s\) \[1, 2"):
                bus.sync_read(SCS0009.PRESENT_POSITION, HAND_IDS)


def test_one_process_drives_an_sts_bus_and_an_scs_bus_in_interleaved_cycles() -> None:
    sts_cfg = EmulatorConfig(servos=so101_servos())
    scs_cfg = EmulatorConfig(servos=HAND_SERVOS)
    with Emulator(sts_cfg) as sts_emu, Emulator(scs_cfg) as scs_emu:
        with FeetechBus(sts_emu.port) as sts, FeetechBus(scs_emu.port, table=SCS0009) as scs:
            arm_ids = [1, 2, 3, 4, 5, 6]
            sts.sync_write(STS3215.TORQUE_ENABLE, arm_ids, [1] * 6)
            scs.sync_write(SCS0009.TORQUE_ENABLE, HAND_IDS, [1] * 8)
            for k in range(20):
                arm = sts.sync_read(STS3215.PRESENT_POSITION, arm_ids)
                hand = scs.sync_read(SCS0009.PRESENT_POSITION, HAND_IDS)
                assert np.all(np.abs(arm - 2048) < 200) and np.all(np.abs(hand - 511) < 40)
                sts.sync_write(STS3215.GOAL_POSITION, arm_ids, [2048 + 5 * k] * 6)
                scs.sync_write(SCS0009.GOAL_POSITION, HAND_IDS, [511 - k] * 8)
            assert sts.read(1, STS3215.GOAL_POSITION) == 2048 + 95 and scs.read(8, SCS0009.GOAL_POSITION) == 492
        assert sts_emu.servo(1).mem[42:44] == (2048 + 95).to_bytes(2, "little")
        assert scs_emu.servo(8).mem[42:44] == (492).to_bytes(2, "big")
        assert sts.stats.retries == scs.stats.retries == 0


def test_an_arm_and_a_hand_robot_run_side_by_side() -> None:
    arm_cal, hand_cal = nominal_calibration(SO101_FOLLOWER), nominal_hand_calibration()
    with Emulator(EmulatorConfig()) as arm_emu, Emulator(EmulatorConfig(servos=HAND_SERVOS)) as h_emu:
        with FeetechBus(arm_emu.port) as bus:
            write_calibration(bus, arm_cal)
        with FeetechBus(h_emu.port, table=SCS0009) as bus:
            write_calibration(bus, hand_cal)
        with so101_follower(arm_emu.port, arm_cal) as arm, amazing_hand(h_emu.port, calibration=hand_cal) as hand:
            for _ in range(10):
                arm.get_observation(), hand.get_observation()
                arm.send_action(arm.last_target + 0.01)
                hand.send_action(hand.last_target + 0.01)
            time.sleep(0.2)  # the emulated servos settle (time constant 0.05 s)
            assert arm.get_observation()[JOINT_POS][0] == pytest.approx(0.1, abs=0.01)
            assert hand.get_observation()[JOINT_POS][0] == pytest.approx(0.1, abs=0.01)  # index flexion
