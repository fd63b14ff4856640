"""What a bus saw when a transaction failed, and errors that say it (silence, a cut reply, bad checksums, noise).

Any protocol: a :class:`Framing` says how its status packets are decoded (Feetech: ``feetech.diagnostics``,
Dynamixel: ``dynamixel.bus``).

A failed attempt is classified from the bytes that arrived (:func:`diagnose`):

* ``SILENT``: nothing arrived -> power, wiring, id or baud rate;
* ``SHORT``: the beginning of the expected replies, cut off -> a late or dropped reply;
* ``BAD_CHECKSUM``: frames from the expected ids that fail their checksum -> the servos are there, the line is
  noisy (cabling, ground, baud rate at the edge) or two devices share an id;
* ``BABBLE``: bytes that are no packet at all (or packets nobody asked for) -> another device transmitting,
  a wrong baud rate, electrical noise.

:func:`failure_error` turns the attempts of one transaction into one typed error naming what was seen;
:func:`check_error` the result of a servo check.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from twinarm.hardware.errors import (
    BusTimeoutError,
    ChecksumError,
    CorruptPacketError,
    MissingServoError,
    ProtocolError,
)

if TYPE_CHECKING:  # pragma: no cover
    from twinarm.hardware.registers import Register


class ReplyKind(enum.Enum):
    OK = "ok"
    SILENT = "silent"
    SHORT = "short"
    BAD_CHECKSUM = "bad checksum"
    BABBLE = "babble"


class Diagnosis(NamedTuple):
    """One attempt: ``found`` id -> (error byte, params) of valid replies; ``bad_checksum_ids`` expected ids whose
    frame failed its checksum; ``junk_bytes`` bytes that belonged to no packet; ``received`` bytes in total."""

    kind: ReplyKind
    found: dict[int, tuple[int, bytes]]
    bad_checksum_ids: tuple[int, ...]
    junk_bytes: int
    foreign_packets: int
    received: int

    @property
    def is_noise(self) -> bool:
        return self.kind in (ReplyKind.BAD_CHECKSUM, ReplyKind.BABBLE)


class Framing(NamedTuple):
    """How one protocol frames status packets: ``decoder(nparams)`` a fresh streaming decoder whose packets carry
    the error byte as ``code`` (its ``discarded`` counts junk bytes), ``status_size(nparams)`` [bytes] of a clean
    status packet with ``nparams`` parameter bytes."""

    decoder: Callable[[int], Any]
    status_size: Callable[[int], int]


def diagnose(data: bytes, ids: Sequence[int], nparams: int | list[int], framing: Framing) -> Diagnosis:
    """Resynchronising parse of ``data`` that was to hold one status packet with ``nparams`` parameter bytes per id
    of ``ids`` (or ``nparams[k]`` for ``ids[k]``), in the protocol of ``framing``."""
    sizes = dict(zip(ids, nparams)) if isinstance(nparams, list) else dict.fromkeys(ids, nparams)
    decoder = framing.decoder(max(sizes.values(), default=0))
    decoder.feed(data)
    found: dict[int, tuple[int, bytes]] = {}
    bad: list[int] = []
    foreign = malformed = 0
    while True:
        try:
            packet = decoder.pop()
        except ChecksumError as exc:
            servo_id = getattr(exc, "servo_id", None)
            if servo_id is None:  # the decoder names the id in its message: "servo <id>: checksum ..."
                servo_id = _id_from_message(str(exc))
            if servo_id in ids and servo_id not in bad:
                bad.append(servo_id)
            else:
                malformed += 1
            continue
        except ProtocolError:
            malformed += 1
            continue
        if packet is None:
            break
        if packet.servo_id in sizes and packet.servo_id not in found and len(packet.params) == sizes[packet.servo_id]:
            found[packet.servo_id] = (packet.code, packet.params)
        else:
            foreign += 1
    junk = decoder.discarded  # bytes of no valid packet (rejected frames included)
    if len(found) == len(ids):
        kind = ReplyKind.OK
    elif bad:
        kind = ReplyKind.BAD_CHECKSUM
    elif junk or foreign or malformed or len(data) > sum(map(framing.status_size, sizes.values())):
        kind = ReplyKind.BABBLE
    elif data:
        kind = ReplyKind.SHORT
    else:
        kind = ReplyKind.SILENT
    return Diagnosis(kind, found, tuple(bad), junk, foreign, len(data))


def _id_from_message(message: str) -> int | None:
    head = message.split(":", 1)[0].split()
    return int(head[1]) if len(head) == 2 and head[0] == "servo" and head[1].isdigit() else None


def describe(attempts: Sequence[Diagnosis]) -> str:
    """What the attempts saw, e.g. ``"3 attempt(s): 2 babble (40 junk bytes), 1 silent"``."""
    counts: dict[ReplyKind, int] = {}
    for d in attempts:
        counts[d.kind] = counts.get(d.kind, 0) + 1
    parts = []
    for kind, n in counts.items():
        extra = ""
        if kind is ReplyKind.BABBLE:
            junk = sum(d.junk_bytes for d in attempts if d.kind is kind)
            foreign = sum(d.foreign_packets for d in attempts if d.kind is kind)
            extra = f" ({junk} junk byte(s)" + (f", {foreign} unrequested packet(s)" if foreign else "") + ")"
        elif kind is ReplyKind.BAD_CHECKSUM:
            ids = sorted({i for d in attempts for i in d.bad_checksum_ids})
            extra = f" (from servo id(s) {ids})"
        elif kind is ReplyKind.SHORT:
            extra = f" ({max(d.received for d in attempts if d.kind is kind)} byte(s) at most)"
        parts.append(f"{n} {kind.value}{extra}")
    return f"{len(attempts)} attempt(s): " + ", ".join(parts)


def failure_error(
    port: str, ids: Sequence[int], attempts: Sequence[Diagnosis], what: str, register: Register | None = None
) -> BusTimeoutError | CorruptPacketError:
    """The error for a transaction whose every attempt failed: noise (bad checksums, babble) is a
    :class:`CorruptPacketError` saying what arrived; silence or cut replies a :class:`BusTimeoutError`."""
    err = _failure_error(port, ids, attempts, what, register)
    err.seen_kinds = tuple(k for k in ReplyKind if any(d.kind is k for d in attempts))  # type: ignore[union-attr]
    return err


def _failure_error(
    port: str, ids: Sequence[int], attempts: Sequence[Diagnosis], what: str, register: Register | None
) -> BusTimeoutError | CorruptPacketError:
    last = attempts[-1]
    missing = [i for i in ids if i not in last.found]
    answered = [i for i in ids if i in last.found]
    seen = describe(attempts)
    bad = sorted({i for d in attempts for i in d.bad_checksum_ids})
    if bad:
        return CorruptPacketError(
            f"servo id(s) {bad} answered but the replies failed their checksum ({what}; {seen}); check cabling, "
            "ground, baud rate and for a second device with the same id",
            port=port,
            servo_id=bad[0],
            register=register,
        )
    if any(d.kind is ReplyKind.BABBLE for d in attempts):
        return CorruptPacketError(
            f"no valid reply from servo id(s) {missing}: noise on the bus instead ({what}; {seen}); another device "
            "transmitting, a wrong baud rate or electrical noise",
            port=port,
            servo_id=missing[0],
            register=register,
        )
    return BusTimeoutError(
        f"no reply from servo id(s) {missing} ({what}; {seen}); answered: {answered or 'none'}; "
        "check power, wiring, id and baud rate",
        port=port,
        servo_id=missing[0],
        register=register,
    )


def noise_summary(noisy: Mapping[int, CorruptPacketError]) -> str:
    """What the attempts of each id saw, ids with the same story grouped: ``"[1, 2]: bad checksum, babble"``."""
    groups: dict[str, list[int]] = {}
    for servo_id, exc in noisy.items():
        kinds = getattr(exc, "seen_kinds", ()) or (ReplyKind.BABBLE,)
        groups.setdefault(", ".join(k.value for k in kinds), []).append(servo_id)
    return "; ".join(f"{ids_text(ids)}: {story}" for story, ids in groups.items())


def check_error(
    port: str, expected: Iterable[int], found: Mapping[int, int], noisy: Mapping[int, CorruptPacketError], detail: str
) -> MissingServoError | CorruptPacketError:
    """The error of a servo check: ids hidden by noise (answered with bad checksums, or babble instead of a
    reply) are a :class:`CorruptPacketError` saying so; only ids that stayed silent are "did not answer"."""
    missing = [i for i in expected if i not in found and i not in noisy]
    if not noisy:
        return MissingServoError(port=port, missing=missing, answered=found, detail=detail)
    silent = f"; did not answer at all: {missing}" if missing else ""
    return CorruptPacketError(
        f"servo id(s) {ids_text(noisy)} could not be read through noise ({detail}; {noise_summary(noisy)}){silent}; "
        f"answered cleanly: {sorted(found) or 'none'}; check cabling, ground, baud rate and for another device "
        "transmitting or sharing an id",
        port=port,
        servo_id=next(iter(noisy)),
    )


def ids_text(ids: Iterable[int]) -> str:
    ids = sorted(ids)
    return str(ids) if len(ids) <= 12 else f"[{', '.join(map(str, ids[:12]))}, ... ({len(ids)} ids)]"
