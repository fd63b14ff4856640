"""Feetech bus diagnostics: the Feetech :class:`Framing` of :mod:`hardware.bus_diagnostics` (re-exported here with
its classification and errors) and the broadcast scan.

:func:`scan` finds servos with one broadcast PING where the line is clean (each servo answers after its return
delay) and never returns a partial result silently when noise hid some ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from twinarm.hardware import bus_diagnostics
from twinarm.hardware.bus_diagnostics import (
    Diagnosis,
    Framing,
    ReplyKind,
    check_error,
    describe,
    failure_error,
    ids_text,
    noise_summary,
)
from twinarm.hardware.errors import BusTimeoutError, CorruptPacketError, ProtocolError
from twinarm.hardware.feetech import protocol as proto

if TYPE_CHECKING:  # pragma: no cover
    from twinarm.hardware.feetech.bus import FeetechBus

__all__ = [
    "FEETECH",
    "Diagnosis",
    "Framing",
    "ReplyKind",
    "broadcast_ids",
    "check_error",
    "describe",
    "diagnose",
    "failure_error",
    "scan",
]

#: Feetech status packets: ``FF FF ID LEN ERR P.. CHK``.
FEETECH = Framing(lambda n: proto.PacketDecoder(max_length=n + 2), lambda n: n + proto.STATUS_OVERHEAD)


def diagnose(data: bytes, ids: Sequence[int], nparams: int | list[int], framing: Framing = FEETECH) -> Diagnosis:
    """:func:`hardware.bus_diagnostics.diagnose` with the Feetech framing by default."""
    return bus_diagnostics.diagnose(data, ids, nparams, framing)


# -- scanning ------------------------------------------------------------------------------------------------
def broadcast_ids(data: bytes) -> tuple[list[int], Diagnosis]:
    """Ids that answered a broadcast PING in ``data`` (sorted) and whether the line was clean (kind OK/SILENT)."""
    decoder = proto.PacketDecoder(max_length=proto.MIN_LENGTH)
    decoder.feed(data)
    ids: list[int] = []
    noise = 0
    while True:
        try:
            packet = decoder.pop()
        except ProtocolError:
            noise += 1
            continue
        if packet is None:
            break
        if packet.params or packet.servo_id in ids:
            noise += 1
        else:
            ids.append(packet.servo_id)
    junk = decoder.discarded + decoder.pending
    kind = ReplyKind.BABBLE if noise or junk else (ReplyKind.OK if ids else ReplyKind.SILENT)
    return sorted(ids), Diagnosis(kind, {i: (0, b"") for i in ids}, (), junk, noise, len(data))


def scan(bus: FeetechBus, ids: Iterable[int]) -> dict[int, int]:
    """id -> model number for the ``ids`` that answer.

    More than one id: one broadcast PING first; on a clean line its answers are the result (each then asked for
    its model number). On a noisy line, or for one id, each id is pinged; an id whose replies were noise is
    retried, and if noise still hides it, :class:`CorruptPacketError` names those ids, what was seen and what was
    found: a scan never returns a partial result silently.
    """
    ids = list(ids)
    if len(ids) > 1:
        heard, diag = broadcast_ids(bus.broadcast_ping())
        # a clean answer: ask only the ids heard; silence or noise: ping every id (a model may ignore broadcasts)
        if diag.kind is ReplyKind.OK:
            wanted = set(ids)
            ids = [i for i in heard if i in wanted]
    found: dict[int, int] = {}
    noisy: dict[int, CorruptPacketError] = {}
    for servo_id in ids:
        try:
            found[servo_id] = bus.ping(servo_id, retries=0)
        except BusTimeoutError:
            continue
        except CorruptPacketError:  # noise is retried: it may hide a servo
            try:
                found[servo_id] = bus.ping(servo_id)
            except BusTimeoutError:
                continue
            except CorruptPacketError as exc:
                noisy[servo_id] = exc
    if noisy:
        raise CorruptPacketError(
            f"scan incomplete: noise hid servo id(s) {ids_text(noisy)} ({noise_summary(noisy)}); found so far: "
            f"{found or 'none'}",
            port=bus.port,
            servo_id=next(iter(noisy)),
        )
    return found
