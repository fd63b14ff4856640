"""Packet codec and control tables: hand-computed byte vectors, round trips, sign-magnitude."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinarm.hardware.errors import ChecksumError, EncodingError, MalformedPacketError, UnknownRegisterError
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.registers import ByteOrder, RegisterSpan, StsPhase
from twinarm.hardware.feetech.tables import MODELS_BY_NUMBER, SCS0009, STS3215, STS3250, table_for
from twinarm.robot.errors import ConfigError, TwinarmError

# (packet, expected bytes) computed by hand: CHK = ~(ID + LEN + INST + sum(P)) & 0xFF
VECTORS = [
    (proto.ping_packet(1), "ff ff 01 02 01 fb"),
    (proto.read_packet(1, 56, 2), "ff ff 01 04 02 38 02 be"),
    (proto.write_packet(1, 42, bytes([0x00, 0x08])), "ff ff 01 05 03 2a 00 08 c4"),
    (proto.sync_read_packet(56, 2, [1, 2]), "ff ff fe 06 82 38 02 01 02 3c"),
    (proto.status_packet(1, 0, bytes([0x00, 0x08])), "ff ff 01 04 00 00 08 f2"),
    (proto.action_packet(), "ff ff fe 02 05 fa"),
    # SYNC_WRITE Goal_Position: id 1 -> 2048 (00 08), id 2 -> 1024 (00 04)
    (proto.sync_write_packet(42, 2, [(1, b"\x00\x08"), (2, b"\x00\x04")]), "ff ff fe 0a 83 2a 02 01 00 08 02 00 04 39"),
]


@pytest.mark.parametrize(("packet", "expected"), VECTORS)
def test_known_vectors(packet: bytes, expected: str) -> None:
    assert packet.hex(" ") == expected


def test_decode_known_status() -> None:
    pkt = proto.decode_packet(bytes.fromhex("ffff01040000 08f2".replace(" ", "")))
    assert pkt == proto.Packet(1, 0, b"\x00\x08")


def test_decode_rejects_bad_checksum_and_length() -> None:
    good = bytearray(proto.status_packet(3, 0, b"\x01\x02"))
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    with pytest.raises(ChecksumError, match="servo 3"):
        proto.decode_packet(bad)
    with pytest.raises(MalformedPacketError):
        proto.decode_packet(good[:-1])
    with pytest.raises(MalformedPacketError):
        proto.decode_packet(b"\x00" + good[1:])


def test_encode_rejects_bad_ids() -> None:
    with pytest.raises(EncodingError, match="255"):
        proto.ping_packet(255)
    with pytest.raises(EncodingError, match="254"):
        proto.sync_read_packet(56, 2, [1, 254])
    with pytest.raises(EncodingError, match="expected 2"):
        proto.sync_write_packet(42, 2, [(1, b"\x00")])


@given(
    servo_id=st.integers(0, proto.BROADCAST_ID),
    code=st.integers(0, 255),
    params=st.binary(max_size=64),
)
def test_roundtrip(servo_id: int, code: int, params: bytes) -> None:
    frame = proto.encode_packet(servo_id, code, params)
    assert proto.decode_packet(frame) == (servo_id, code, params)
    decoder = proto.PacketDecoder()
    decoder.feed(b"\x00\x13" + frame[:3])
    assert decoder.pop() is None
    decoder.feed(frame[3:])
    assert decoder.pop() == (servo_id, code, params)
    assert decoder.pop() is None


def test_decoder_resyncs_after_garbage_and_bogus_header() -> None:
    a = proto.status_packet(1, 0, b"\x10\x00")
    b = proto.status_packet(2, 0x20, b"\x11\x00")
    # a bogus header claiming a long packet must not swallow the real ones after it
    stream = b"\x42\xff\xff\x05\x30\x99" + a + b"\xff" + b
    decoder = proto.PacketDecoder(max_length=4)
    decoder.feed(stream)
    packets, errors = [], 0
    for _ in range(20):
        try:
            packet = decoder.pop()
        except MalformedPacketError:
            errors += 1
            continue
        if packet is None:
            break
        packets.append(packet)
    assert packets == [(1, 0, b"\x10\x00"), (2, 0x20, b"\x11\x00")]
    assert errors == 1
    assert decoder.pending == 0


@pytest.mark.parametrize(
    ("register", "value", "raw"),
    [
        (STS3215.GOAL_POSITION, 2048, "00 08"),
        (STS3215.GOAL_POSITION, -5, "05 80"),
        (STS3215.HOMING_OFFSET, -100, "64 08"),
        (STS3215.HOMING_OFFSET, 2047, "ff 07"),
        (STS3215.PRESENT_LOAD, -1000, "e8 07"),
        (STS3215.PRESENT_VELOCITY, -1, "01 80"),
        (STS3215.TORQUE_ENABLE, 1, "01"),
    ],
)
def test_sign_magnitude_little_endian(register, value: int, raw: str) -> None:
    assert register.encode(value, ByteOrder.LITTLE).hex(" ") == raw
    assert register.decode(bytes.fromhex(raw), ByteOrder.LITTLE) == value


def test_scs0009_is_big_endian_unsigned_and_10_bit() -> None:
    assert SCS0009.encode(SCS0009.GOAL_POSITION, 512).hex(" ") == "02 00"
    assert SCS0009.decode(SCS0009.PRESENT_POSITION, b"\x03\xff") == 1023
    assert SCS0009.LOCK.address == 48
    assert SCS0009.GOAL_POSITION.sign_bit is None
    assert "Homing_Offset" not in SCS0009 and "Operating_Mode" not in SCS0009
    assert SCS0009.resolution == 1024 and not SCS0009.supports_sync_read


def test_encoding_out_of_range_names_register() -> None:
    with pytest.raises(EncodingError, match=r"Homing_Offset.*2047"):
        STS3215.HOMING_OFFSET.encode(3000, ByteOrder.LITTLE)
    with pytest.raises(EncodingError, match=r"Torque_Enable.*255"):
        STS3215.TORQUE_ENABLE.encode(-1, ByteOrder.LITTLE)
    assert issubclass(EncodingError, TwinarmError)


def test_sts3215_table_matches_reference() -> None:
    expected = {
        "MODEL_NUMBER": (3, 2),
        "ID": (5, 1),
        "BAUD_RATE": (6, 1),
        "RETURN_DELAY_TIME": (7, 1),
        "MIN_POSITION_LIMIT": (9, 2),
        "MAX_POSITION_LIMIT": (11, 2),
        "MAX_TORQUE_LIMIT": (16, 2),
        "PHASE": (18, 1),
        "P_COEFFICIENT": (21, 1),
        "D_COEFFICIENT": (22, 1),
        "I_COEFFICIENT": (23, 1),
        "PROTECTION_CURRENT": (28, 2),
        "HOMING_OFFSET": (31, 2),
        "OPERATING_MODE": (33, 1),
        "TORQUE_ENABLE": (40, 1),
        "GOAL_POSITION": (42, 2),
        "TORQUE_LIMIT": (48, 2),
        "LOCK": (55, 1),
        "PRESENT_POSITION": (56, 2),
        "PRESENT_VELOCITY": (58, 2),
        "PRESENT_LOAD": (60, 2),
        "PRESENT_CURRENT": (69, 2),
    }
    for attr, (address, size) in expected.items():
        reg = getattr(STS3215, attr)
        assert (reg.address, reg.size) == (address, size), attr
    assert STS3215.ID.eeprom and STS3215.HOMING_OFFSET.eeprom and not STS3215.GOAL_POSITION.eeprom
    assert not STS3215.PRESENT_POSITION.writable
    assert STS3215["Present_Position"] is STS3215.PRESENT_POSITION
    with pytest.raises(AttributeError, match="NOPE"):
        _ = STS3215.NOPE


def test_models_by_number() -> None:
    assert MODELS_BY_NUMBER[777] is STS3215
    assert MODELS_BY_NUMBER[1284] is SCS0009
    assert MODELS_BY_NUMBER[2825] is STS3250
    assert STS3250.registers == STS3215.registers and STS3250.PRESENT_POSITION == STS3215.PRESENT_POSITION
    assert table_for("sts3215") is STS3215 and table_for(1284) is SCS0009
    with pytest.raises(ConfigError, match="sts3215"):
        table_for("xl330")


@pytest.mark.parametrize(
    ("table", "replies"),
    [
        # position 2048 / 700, velocity -300 (sign bit 15 | 300 = 0x812C) / +5
        (STS3215, [b"\x00\x08\x2c\x81", b"\xbc\x02\x05\x00"]),
        (SCS0009, [b"\x08\x00\x81\x2c", b"\x02\xbc\x00\x05"]),
    ],
)
def test_position_velocity_span_decodes_sign_magnitude_in_the_tables_byte_order(table, replies) -> None:
    span = RegisterSpan.of((table.PRESENT_POSITION, table.PRESENT_VELOCITY))
    assert (span.address, span.size, span.name) == (56, 4, "Present_Position+Present_Velocity")
    pos, vel = span.decode(replies, table.byte_order)
    assert pos.dtype == vel.dtype == np.int64
    assert pos.tolist() == [2048, 700] and vel.tolist() == [-300, 5]


def test_span_with_a_gap_reads_through_it_and_refuses_bad_orders() -> None:
    span = RegisterSpan.of((STS3215.PRESENT_POSITION, STS3215.PRESENT_VOLTAGE))  # Present_Load (60..61) between
    assert span.size == 7
    pos, volt = span.decode([b"\x00\x08\xff\xff\xff\xff\x78"], ByteOrder.LITTLE)
    assert (pos[0], volt[0]) == (2048, 120)
    with pytest.raises(EncodingError, match=r"Present_Velocity@58\+2.*ascending address"):
        RegisterSpan.of((STS3215.PRESENT_VELOCITY, STS3215.PRESENT_POSITION))
    with pytest.raises(EncodingError, match="ascending address"):
        RegisterSpan.of(())


def test_sts_phase_bits_are_table_data() -> None:
    bits = STS3215.phase_bits
    assert isinstance(bits, StsPhase) and STS3250.phase_bits == bits and SCS0009.phase_bits is None
    assert bits.single_turn(0x14) == 0x04 and bits.single_turn(0x04) == 0x04
    units = bits.speed_unit_tps(np.array([0x04, 0x00, 0x14]))
    np.testing.assert_allclose(units, [1.0, 0.732 * 4096 / 60, 1.0])  # fine (factory) / coarse speed unit


def test_unknown_register_is_typed_and_keeps_the_lookup_protocols() -> None:
    with pytest.raises(UnknownRegisterError, match=r"STS3215 has no register 'Nope'; valid: \[.*'Goal_Position'"):
        STS3215["Nope"]
    with pytest.raises(KeyError):
        SCS0009["Homing_Offset"]
    with pytest.raises(AttributeError, match="SCS0009 has no register 'HOMING_OFFSET'; valid:"):
        SCS0009.HOMING_OFFSET  # noqa: B018
    assert getattr(SCS0009, "OPERATING_MODE", None) is None and not hasattr(SCS0009, "HOMING_OFFSET")
    assert isinstance(UnknownRegisterError("x"), TwinarmError)
