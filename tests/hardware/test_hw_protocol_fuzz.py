"""Fuzz the streaming decoder: random and mutated streams give packets or typed errors, never a hang."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from twinarm.hardware.errors import ProtocolError
from twinarm.hardware.feetech import protocol as proto


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


def _valid_frames():
    return st.lists(
        st.builds(
            proto.encode_packet,
            st.integers(0, proto.BROADCAST_ID),
            st.integers(0, 255),
            st.binary(max_size=8),
        ),
        max_size=6,
    )


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), chunk=st.integers(1, 64), max_length=st.integers(2, 255))
def test_random_bytes(data: bytes, chunk: int, max_length: int) -> None:
    decoder = proto.PacketDecoder(max_length=max_length)
    for i in range(0, len(data), chunk):
        decoder.feed(data[i : i + chunk])
        packets, _ = _drain(decoder, 2 * len(data) + 10)
        for p in packets:  # whatever came out is a well-formed frame
            assert proto.decode_packet(proto.encode_packet(p.servo_id, p.code, p.params)) == p
    assert decoder.pending <= max(len(data), 1)


@settings(max_examples=300, deadline=None)
@given(
    frames=_valid_frames(),
    mutations=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=5),
    garbage=st.binary(max_size=20),
)
def test_mutated_streams(frames: list[bytes], mutations: list[tuple[int, int]], garbage: bytes) -> None:
    stream = bytearray(garbage + b"".join(frames))
    touched = set()
    for pos, value in mutations:
        if stream:
            stream[pos % len(stream)] = value
            touched.add(pos % len(stream))
    decoder = proto.PacketDecoder()
    decoder.feed(bytes(stream))
    packets, _ = _drain(decoder, 4 * len(stream) + 10)
    if not touched and not garbage:
        # clean streams decode exactly
        assert [proto.encode_packet(*p) for p in packets] == frames


@settings(max_examples=100, deadline=None)
@given(frames=_valid_frames(), garbage=st.lists(st.binary(max_size=7), max_size=7))
def test_garbage_between_frames_never_loses_later_frames(frames: list[bytes], garbage: list[bytes]) -> None:
    # garbage without FF bytes cannot form a header: every frame must come out intact
    stream = b""
    for i, frame in enumerate(frames):
        junk = garbage[i].replace(b"\xff", b"") if i < len(garbage) else b""
        stream += junk + frame
    decoder = proto.PacketDecoder()
    decoder.feed(stream)
    packets, _ = _drain(decoder, 4 * len(stream) + 10)
    assert [proto.encode_packet(*p) for p in packets] == frames
