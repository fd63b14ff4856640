"""Dynamixel protocol 2.0 codec: e-Manual examples, byte equality with the vendor SDK's packets, and a fuzzed
streaming decoder (random and mutated streams give packets or typed errors, never a hang or a wrong packet)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinarm.hardware.dynamixel import protocol as proto
from twinarm.hardware.errors import ChecksumError, EncodingError, MalformedPacketError, ProtocolError


def test_emanual_examples() -> None:
    # e-Manual protocol 2.0, "Ping" example: instruction to id 1, and the XM430-W210 reply (model 1030, fw 38)
    assert proto.ping_packet(1) == bytes.fromhex("FF FF FD 00 01 03 00 01 19 4E")
    reply = bytes.fromhex("FF FF FD 00 01 07 00 55 00 06 04 26 65 5D")
    assert proto.status_packet(1, 0, bytes((0x06, 0x04, 0x26))) == reply
    assert proto.decode_packet(reply) == proto.Packet(1, proto.STATUS, b"\x00\x06\x04\x26")


@given(st.binary(max_size=64))
def test_stuffing_roundtrip_and_no_header_in_body(body: bytes) -> None:
    stuffed = proto.stuff(body)
    assert proto.unstuff(stuffed) == body
    assert proto.HEADER[:3] + b"\x00" not in stuffed.replace(b"\xff\xff\xfd\xfd", b"")


class _CapturePort:
    """The slice of dynamixel_sdk's PortHandler that txPacket uses, recording what would go on the wire."""

    def __init__(self) -> None:
        self.is_using = False
        self.sent = b""

    def clearPort(self) -> None:
        pass

    def writePort(self, packet: list[int]) -> int:
        self.sent = bytes(packet)
        return len(packet)

    def setPacketTimeout(self, *_: object) -> None:
        pass


@pytest.mark.parametrize(
    ("ours", "sdk_call"),
    [
        (
            lambda: proto.write_packet(3, 116, b"\xff\x0f\xfd\x07"),
            lambda h, p: h.writeTxOnly(p, 3, 116, 4, [255, 15, 253, 7]),
        ),
        (lambda: proto.reg_write_packet(2, 64, b"\x01"), lambda h, p: h.regWriteTxOnly(p, 2, 64, 1, [1])),
        (lambda: proto.read_packet(1, 132, 4), lambda h, p: h.readTx(p, 1, 132, 4)),
        (
            lambda: proto.sync_read_packet(128, 8, [1, 2, 3]),
            lambda h, p: h.syncReadTx(p, 128, 8, [1, 2, 3], 3, False),
        ),
        (
            lambda: proto.fast_sync_read_packet(132, 4, [5, 6]),
            lambda h, p: h.syncReadTx(p, 132, 4, [5, 6], 2, True),
        ),
        (
            lambda: proto.bulk_read_packet([(1, 132, 4), (4, 0, 2)]),
            lambda h, p: h.bulkReadTx(p, [1, 132, 0, 4, 0, 4, 0, 0, 2, 0], 10, False),
        ),
    ],
)
def test_encoders_match_the_vendor_sdk_bytes(ours, sdk_call) -> None:
    sdk = pytest.importorskip("dynamixel_sdk")
    port = _CapturePort()
    assert sdk_call(sdk.Protocol2PacketHandler(), port) == sdk.COMM_SUCCESS
    assert ours() == port.sent


def test_unstuffed_frame_from_the_vendor_sdk_still_decodes() -> None:
    # dynamixel-sdk 4.1.0's addStuffing rebinds its local list when the length changes, so txPacket sends such a
    # packet unstuffed (LEN without the extra FD); the emulator's decoder must accept what the SDK really sends
    sdk = pytest.importorskip("dynamixel_sdk")
    port = _CapturePort()
    sdk.Protocol2PacketHandler().writeTxOnly(port, 3, 116, 4, [255, 255, 253, 7])
    assert proto.decode_packet(port.sent) == proto.Packet(3, proto.Instruction.WRITE, b"\x74\x00\xff\xff\xfd\x07")
    assert proto.write_packet(3, 116, b"\xff\xff\xfd\x07") != port.sent  # ours is stuffed, as the e-Manual says


def test_encoder_rejects_bad_ids_and_sizes() -> None:
    with pytest.raises(EncodingError, match=r"valid: 0\.\.252"):
        proto.read_packet(proto.BROADCAST_ID, 0, 1)
    with pytest.raises(EncodingError, match="expected 4"):
        proto.sync_write_packet(116, 4, [(1, b"\x00\x00")])
    with pytest.raises(EncodingError):
        proto.encode_packet(0xFD, proto.Instruction.PING)


def test_fast_status_blocks_roundtrip() -> None:
    blocks = [(1, 0, b"\x01\x02\x03\x04"), (2, 0x80, b"\xff\xff\xfd\x00"), (7, 0, b"\x00\x00\x00\x00")]
    packet = proto.decode_packet(proto.fast_status_packet(blocks))
    assert packet.servo_id == proto.BROADCAST_ID and packet.code == proto.STATUS
    assert proto.split_fast_status(packet.params, 4) == [(i, e, d) for i, e, d in blocks]
    with pytest.raises(MalformedPacketError):
        proto.split_fast_status(packet.params[:-1], 4)


def test_status_decoder_rejects_instruction_packets_and_bad_crc() -> None:
    decoder = proto.PacketDecoder(status=True)
    bad = bytearray(proto.status_packet(4, 0, b"\x10"))
    bad[-1] ^= 0x01
    decoder.feed(proto.read_packet(1, 132, 4) + bytes(bad) + proto.status_packet(5, 0x87, b"\xff\xff\xfd"))
    with pytest.raises(MalformedPacketError, match="status packet"):
        decoder.pop()
    with pytest.raises(ChecksumError, match="servo 4"):
        decoder.pop()
    assert decoder.pop() == proto.Packet(5, 0x87, b"\xff\xff\xfd")
    assert decoder.pop() is None


# -- fuzzing --------------------------------------------------------------------------------------------------
def _drain(decoder: proto.PacketDecoder, max_steps: int) -> tuple[list[proto.Packet], int]:
    packets, errors = [], 0
    for _ in range(max_steps):
        try:
            packet = decoder.pop()
        except ProtocolError:
            errors += 1
            continue
        if packet is None:
            return packets, errors
        packets.append(packet)
    raise AssertionError("decoder did not settle: possible livelock")


_FRAMES = st.lists(
    st.builds(
        lambda i, inst, params: proto.encode_packet(i, inst, params),
        st.integers(0, proto.MAX_ID),
        st.integers(0, 255),
        st.binary(max_size=12) | st.just(b"\xff\xff\xfd\xfd\xff\xff\xfd"),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), chunk=st.integers(1, 64), max_length=st.integers(3, 300))
def test_random_bytes(data: bytes, chunk: int, max_length: int) -> None:
    decoder = proto.PacketDecoder(max_length=max_length)
    for i in range(0, len(data), chunk):
        decoder.feed(data[i : i + chunk])
        packets, _ = _drain(decoder, 2 * len(data) + 10)
        for p in packets:  # whatever came out is a well-formed frame
            assert proto.decode_packet(proto.encode_packet(p.servo_id, p.code, p.params)) == p
    assert decoder.pending <= max(len(data), 3)


@settings(max_examples=300, deadline=None)
@given(
    frames=_FRAMES,
    mutations=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=5),
    garbage=st.binary(max_size=20),
    chunk=st.integers(1, 32),
)
def test_mutated_streams(frames: list[bytes], mutations: list[tuple[int, int]], garbage: bytes, chunk: int) -> None:
    stream = bytearray(garbage + b"".join(frames))
    touched: set[int] = set()
    for pos, value in mutations:
        if stream:
            k = pos % len(stream)
            stream[k] = value
            touched.add(k)
    decoder = proto.PacketDecoder()
    out: list[proto.Packet] = []
    for i in range(0, len(stream), chunk):
        decoder.feed(bytes(stream[i : i + chunk]))
        out += _drain(decoder, 4 * len(stream) + 10)[0]
    if not touched and not garbage:  # clean streams decode exactly
        assert out == [proto.decode_packet(f) for f in frames]


@settings(max_examples=150, deadline=None)
@given(frames=_FRAMES, garbage=st.lists(st.binary(max_size=7), max_size=7), corrupt=st.integers(0, 5))
def test_garbage_and_bad_crcs_never_lose_later_frames(frames: list[bytes], garbage: list[bytes], corrupt: int) -> None:
    # garbage without FF bytes cannot form a header, and a frame failing its CRC drops one byte only: every
    # other frame comes out intact, in order
    stream, want = b"", []
    for i, frame in enumerate(frames):
        junk = garbage[i].replace(b"\xff", b"") if i < len(garbage) else b""
        if i == corrupt:
            frame = frame[:-1] + bytes((frame[-1] ^ 0x5A,))
        else:
            want.append(proto.decode_packet(frame))
        stream += junk + frame
    decoder = proto.PacketDecoder()
    decoder.feed(stream)
    packets, errors = _drain(decoder, 4 * len(stream) + 10)
    assert packets == want
    assert errors >= (1 if corrupt < len(frames) else 0)
