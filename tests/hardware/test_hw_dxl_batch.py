"""The vectorised codecs of the Dynamixel bus's hot path (hardware.dynamixel.batch) against the per-packet encoder and
streaming decoder: same values for clean replies, None (never a wrong value) for anything else, and fuzzed
FAST_SYNC_READ replies (stuffed, cut, bit-flipped, with junk) always decoded right or classified."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinarm.hardware import bus_diagnostics as diagnostics
from twinarm.hardware.dynamixel import batch
from twinarm.hardware.dynamixel import protocol as proto
from twinarm.hardware.dynamixel.tables import XL330_M288 as T
from twinarm.hardware.registers import RegisterSpan

POS = RegisterSpan((T.PRESENT_POSITION,))
STATE = RegisterSpan.of((T.PRESENT_VELOCITY, T.PRESENT_POSITION))  # 128..135: two int32
SPANS = [POS, STATE, RegisterSpan((T.TORQUE_ENABLE,)), RegisterSpan((T.PRESENT_CURRENT,))]

ids_st = st.lists(st.integers(0, proto.MAX_ID), min_size=1, max_size=20, unique=True)
# values near the stuffing pattern FF FF FD show up often
byte_st = st.sampled_from([0x00, 0x01, 0xFD, 0xFF, 0x55, 0xFE]) | st.integers(0, 255)


def _data(draw: st.DrawFn, span: RegisterSpan, n: int) -> list[bytes]:
    return [bytes(draw(st.lists(byte_st, min_size=span.size, max_size=span.size))) for _ in range(n)]


def _expected(span: RegisterSpan, data: list[bytes]) -> list[list[int]]:
    return [a.tolist() for a in span.decode(data, T.byte_order)]


@given(st.binary(min_size=1, max_size=300))
def test_crc_rows_give_the_crc_of_any_message(message: bytes) -> None:
    rows = batch.crc_rows(len(message))
    want = 0
    for k, byte in enumerate(message):
        want ^= int(rows[len(message) - 1 - k, byte])  # linearity: XOR of each byte's contribution
    assert want == proto.crc16(message)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from(SPANS), ids_st, st.lists(st.sampled_from([0, 0, 0x80, 7, 0x84]), max_size=20))
def test_sync_read_codec_matches_the_streaming_decoder(data, span: RegisterSpan, ids: list[int], errs) -> None:
    values = _data(data.draw, span, len(ids))
    errors = [errs[k] if k < len(errs) else 0 for k in range(len(ids))]
    wire = b"".join(proto.status_packet(i, e, d) for i, e, d in zip(ids, errors, values))
    codec = batch.SyncReadCodec(span, ids)
    got = codec.decode(wire)
    stuffed = len(wire) != codec.expected
    assert (got is None) == stuffed  # only a reply that needed byte stuffing leaves the clean path
    if got is not None:
        assert got.errors.tolist() == errors and [a.tolist() for a in got.values] == _expected(span, values)
    replies, diag = codec.diagnose(wire)
    assert diag.kind is diagnostics.ReplyKind.OK and replies == list(zip(errors, values))


@settings(max_examples=150, deadline=None)
@given(st.data(), ids_st, st.integers(0, 10_000), st.integers(0, 7))
def test_sync_read_codec_rejects_any_flipped_bit(data, ids: list[int], where: int, bit: int) -> None:
    values = _data(data.draw, POS, len(ids))
    wire = bytearray(b"".join(proto.status_packet(i, 0, d) for i, d in zip(ids, values)))
    codec = batch.SyncReadCodec(POS, ids)
    wire[where % len(wire)] ^= 1 << bit
    assert codec.decode(bytes(wire)) is None  # header, id, LEN and CRC checks catch every single-bit error
    assert codec.decode(bytes(wire[:-1])) is None


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(SPANS), ids_st)
def test_fast_sync_read_codec_matches_the_streaming_decoder(data, span: RegisterSpan, ids: list[int]) -> None:
    values = _data(data.draw, span, len(ids))
    errors = data.draw(st.lists(st.sampled_from([0, 0x80, 1]), min_size=len(ids), max_size=len(ids)))
    wire = proto.fast_status_packet(list(zip(ids, errors, values)))
    codec = batch.FastSyncReadCodec(span, ids)
    got = codec.decode(wire)
    assert (got is None) == (len(wire) != codec.expected)  # stuffed replies go to the streaming decoder
    if got is not None:
        assert got.errors.tolist() == errors and [a.tolist() for a in got.values] == _expected(span, values)
    replies, diag = codec.diagnose(wire)
    assert diag.kind is diagnostics.ReplyKind.OK and replies == list(zip(errors, values))


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    ids_st,
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 7)), min_size=1, max_size=3),
    st.integers(0, 10_000),
    st.binary(max_size=12),
)
def test_fuzzed_fast_sync_read_replies_are_never_decoded_wrong(data, ids, flips, cut: int, junk: bytes) -> None:
    """Bit flips, a cut anywhere and junk after the reply: the codec and the fallback either give the servos' true
    values or classify the attempt (never an exception other than a verdict, never a wrong value)."""
    values = _data(data.draw, POS, len(ids))
    clean = proto.fast_status_packet([(i, 0, d) for i, d in zip(ids, values)])
    wire = bytearray(clean)
    for where, bit in flips:
        wire[where % len(wire)] ^= 1 << bit
    mutated = bytes(wire[: len(wire) - cut % (len(wire) + 1)] if cut % 3 else wire) + (junk if cut % 2 else b"")
    codec = batch.FastSyncReadCodec(POS, ids)
    got = codec.decode(mutated)
    if got is not None:
        assert got.values[0].tolist() == _expected(POS, values)[0]
    replies, diag = codec.diagnose(mutated)
    if replies is not None:
        assert [d for _, d in replies] == values and diag.kind is diagnostics.ReplyKind.OK
    else:
        assert diag.kind in (
            diagnostics.ReplyKind.SILENT,
            diagnostics.ReplyKind.SHORT,
            diagnostics.ReplyKind.BAD_CHECKSUM,
        )
        assert diag.kind is not diagnostics.ReplyKind.SILENT or not mutated


@settings(max_examples=150, deadline=None)
@given(ids_st, st.data())
def test_sync_write_codec_matches_the_encoder(ids: list[int], data) -> None:
    reg = T.GOAL_POSITION
    values = data.draw(st.lists(st.integers(reg.min_value, reg.max_magnitude), min_size=len(ids), max_size=len(ids)))
    want = proto.sync_write_packet(
        reg.address, reg.size, [(i, reg.encode(v, T.byte_order)) for i, v in zip(ids, values)]
    )
    raw = b"".join(bytes((i,)) + reg.encode(v, T.byte_order) for i, v in zip(ids, values))
    got = batch.SyncWriteCodec(reg, ids).encode(values)
    assert got == (None if b"\xff\xff\xfd" in raw else want)  # a packet needing byte stuffing is left to the encoder
    assert batch.SyncWriteCodec(reg, ids).encode(np.array(values, np.int64)) == got


def test_sync_write_codec_leaves_bad_values_and_stuffing_to_the_encoder() -> None:
    codec = batch.SyncWriteCodec(T.GOAL_POSITION, [1, 2])
    assert codec.encode([0, 2**31]) is None  # out of range: the generic encoder raises, naming it
    assert codec.encode([0]) is None  # wrong count
    assert codec.encode([-131073, 0]) is None  # FF FF FD FF: needs stuffing
    assert codec.encode([1.9, -2.9]) == codec.encode([1, -2])  # as int()
    assert batch.SyncWriteCodec(T.GOAL_POSITION, []).encode([]) is None


@pytest.mark.parametrize("size", [1, 2, 4, 8])
def test_cut_fast_reply_names_the_blocks_so_far(size: int) -> None:
    ids = [3, 4, 5]
    span = {1: SPANS[2], 2: SPANS[3], 4: POS, 8: STATE}[size]
    wire = proto.fast_status_packet([(i, 0, bytes([i]) * size) for i in ids])
    replies, diag = batch.FastSyncReadCodec(span, ids).diagnose(wire[: 8 + 2 * (size + 4)])
    assert replies is None and diag.kind is diagnostics.ReplyKind.SHORT and sorted(diag.found) == [3, 4]


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(SPANS), ids_st)
def test_fast_status_block_crcs_are_the_running_crc_of_the_frame(data, span: RegisterSpan, ids: list[int]) -> None:
    """Each block's CRC is the CRC of the frame (header, id, LEN, stuffed body) up to the end of its data, computed
    here the slow, obvious way; the last one is the packet's own CRC."""
    values = _data(data.draw, span, len(ids))
    wire = proto.fast_status_packet([(i, 0, d) for i, d in zip(ids, values)])
    decoder = proto.PacketDecoder()
    decoder.feed(wire)
    packet = decoder.pop()  # (the packet CRC, over everything, checked)
    assert [(i, d) for i, _, d in proto.split_fast_status(packet.params, span.size)] == list(zip(ids, values))
    body = bytes((proto.STATUS,)) + packet.params
    if _running_crcs(body, span.size, len(ids), wire[5] | wire[6] << 8) != body:
        # LEN counts the stuffing, which the CRC bytes can make or break: only when no LEN agrees with its own CRCs
        # (each FF FF FD stuffs one byte, so LEN is within len(body) + 2 + len(body) // 3)
        candidates = range(len(body) + 2, len(body) + 3 + len(body) // 3)
        assert not any(len(proto.stuff(_running_crcs(body, span.size, len(ids), n))) + 2 == n for n in candidates)


def _running_crcs(body: bytes, size: int, count: int, length: int) -> bytes:
    """``body`` (STATUS, then the blocks) with each block's CRC but the last the running CRC of the frame with LEN
    ``length`` up to the end of its data, computed the slow, obvious way."""
    body = bytearray(body)
    head = bytes((0xFF, 0xFF, 0xFD, 0x00, proto.BROADCAST_ID, length & 0xFF, length >> 8))
    for k in range(count - 1):
        end = 1 + k * (size + 4) + 2 + size
        crc = proto.crc16(head + proto.stuff(bytes(body[:end])))
        body[end : end + 2] = bytes((crc & 0xFF, crc >> 8))
    return bytes(body)
