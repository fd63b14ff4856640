"""Control-table types shared by every servo family: registers and their encoding, register spans, model tables.

The tables themselves are data (:mod:`hardware.feetech.tables`, :mod:`hardware.dynamixel.tables`). A
:class:`ModelTable` holds the registers of one servo model; registers are reachable as attributes
(``STS3215.PRESENT_POSITION``) or by their datasheet name (``STS3215["Present_Position"]``). Signed values are
sign-magnitude (Feetech: ``Register.sign_bit``) or two's complement (Dynamixel: ``Register.twos_complement``).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from twinarm.hardware.errors import EncodingError, UnknownRegisterError

if TYPE_CHECKING:  # pragma: no cover
    from twinarm.hardware.feetech.registers import StsPhase


class ByteOrder(str, Enum):
    """Byte order of multi-byte register values: STS/SMS little-endian, SCS big-endian."""

    LITTLE = "little"
    BIG = "big"


class Register(NamedTuple):
    """One control-table entry. ``sign_bit``: bit index of a sign-magnitude sign (Feetech), None if not;
    ``twos_complement``: the value is a two's complement integer of ``size`` bytes (Dynamixel), else unsigned."""

    name: str
    address: int
    size: int  # [bytes], 1, 2 or 4
    sign_bit: int | None = None
    eeprom: bool = False
    writable: bool = True
    twos_complement: bool = False

    @property
    def max_magnitude(self) -> int:
        """Largest encodable value (``2**sign_bit - 1`` for sign-magnitude, ``2**(8 size - 1) - 1`` for two's
        complement, else ``2**(8 size) - 1``)."""
        if self.sign_bit is not None:
            return (1 << self.sign_bit) - 1
        return (1 << (8 * self.size - self.twos_complement)) - 1

    @property
    def min_value(self) -> int:
        """Smallest encodable value: ``-max_magnitude`` (sign-magnitude), ``-2**(8 size - 1)`` (two's complement), 0."""
        if self.sign_bit is not None:
            return -self.max_magnitude
        return -(1 << (8 * self.size - 1)) if self.twos_complement else 0

    def encode(self, value: int, byte_order: ByteOrder) -> bytes:
        """Raw bytes of ``value`` (sign-magnitude where ``sign_bit`` is set, two's complement where
        ``twos_complement``); EncodingError if out of range."""
        value = int(value)
        if not self.min_value <= value <= self.max_magnitude:
            kind = (
                f"sign-magnitude, sign bit {self.sign_bit}"
                if self.sign_bit is not None
                else ("two's complement" if self.twos_complement else "unsigned")
            )
            raise EncodingError(
                f"{self.name}: {value} out of range [{self.min_value}, {self.max_magnitude}] "
                f"({kind}, {self.size} bytes)"
            )
        if self.sign_bit is not None:
            raw = -value | (1 << self.sign_bit) if value < 0 else value
        else:
            raw = value & ((1 << (8 * self.size)) - 1)
        return raw.to_bytes(self.size, byte_order.value)

    def decode(self, data: bytes, byte_order: ByteOrder) -> int:
        """Signed value of the raw register bytes."""
        raw = int.from_bytes(data, byte_order.value)
        if self.twos_complement:
            return decode_twos_complement(raw, self.size)
        return decode_sign_magnitude(raw, self.sign_bit)


def decode_twos_complement(raw: int, size: int) -> int:
    """``raw`` as a two's complement integer of ``size`` bytes."""
    return raw - (1 << (8 * size)) if raw >> (8 * size - 1) else raw


def decode_sign_magnitude(raw: int, sign_bit: int | None) -> int:
    """``-(raw & ~(1 << b))`` when bit ``b`` is set, else ``raw`` (no-op when ``sign_bit`` is None)."""
    if sign_bit is not None and raw & (1 << sign_bit):
        return -(raw & ~(1 << sign_bit))
    return raw


class RegisterSpan(NamedTuple):
    """Registers read together in one transaction: the bytes from the first one's address to the end of the last.

    ``registers`` are in ascending address order and do not overlap (gaps are read and ignored).
    """

    registers: tuple[Register, ...]

    @classmethod
    def of(cls, registers: tuple[Register, ...]) -> RegisterSpan:
        """The span of ``registers``; EncodingError names them if they are empty, unordered or overlapping."""
        if not registers or any(b.address < a.address + a.size for a, b in itertools.pairwise(registers)):
            names = [f"{r.name}@{r.address}+{r.size}" for r in registers]
            raise EncodingError(
                f"registers {names} cannot be read as one span: give them by ascending address, without overlap"
            )
        return cls(tuple(registers))

    @property
    def name(self) -> str:
        return "+".join(r.name for r in self.registers)

    @property
    def address(self) -> int:
        return self.registers[0].address

    @property
    def size(self) -> int:
        """[bytes] from the first register's address to the end of the last."""
        last = self.registers[-1]
        return last.address + last.size - self.address

    def decode(self, replies: list[bytes], byte_order: ByteOrder) -> tuple[np.ndarray, ...]:
        """One (n,) int64 array per register (signs applied) from one reply of ``size`` bytes per servo."""
        order, base, whole = byte_order.value, self.registers[0].address, len(self.registers) == 1
        out = []
        for reg in self.registers:
            lo = reg.address - base
            hi = lo + reg.size
            raw = [int.from_bytes(d if whole else d[lo:hi], order) for d in replies]  # the hot path: no slicing
            if reg.sign_bit is not None:
                sign = 1 << reg.sign_bit
                raw = [-(r ^ sign) if r & sign else r for r in raw]
            elif reg.twos_complement:
                top, wrap = 1 << (8 * reg.size - 1), 1 << (8 * reg.size)
                raw = [r - wrap if r >= top else r for r in raw]
            out.append(np.array(raw, np.int64))
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class ModelTable:
    """Control table and figures of one servo model."""

    name: str
    model_number: int
    byte_order: ByteOrder
    resolution: int  # number of position ticks (position values 0..resolution-1)
    ticks_per_turn: float  # ticks per full 360 deg turn (more than ``resolution`` when the travel is < 360 deg)
    registers: Mapping[str, Register]
    supports_sync_read: bool
    center_tick: int  # the tick at the middle of the travel (the zero of a nominal calibration)
    phase_bits: StsPhase | None = None  # Feetech STS: what the Phase register's bits mean (None: not the STS bits)
    speed_unit_tps: float = 1.0  # [ticks/s] per Present_Velocity unit without ``phase_bits`` (SCS: rustypot's)
    eeprom_end: int = 40  # addresses below this are EEPROM
    homing_sign: int = -1  # present = actual + homing_sign * Homing_Offset (Feetech -1, Dynamixel +1)
    by_attr: Mapping[str, Register] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, registers: Mapping[str, Register], **figures: object) -> ModelTable:
        """A table whose registers are also attributes: ``Present_Position`` -> ``table.PRESENT_POSITION``."""
        return cls(registers=registers, by_attr={n.upper(): r for n, r in registers.items()}, **figures)

    def __getattr__(self, attr: str) -> Register:
        # Only called when normal lookup fails: STS3215.PRESENT_POSITION -> registers["Present_Position"].
        by_attr = self.__dict__.get("by_attr", {})
        reg = by_attr.get(attr)
        if reg is None:
            raise UnknownRegisterError(
                f"{self.__dict__.get('name')} has no register {attr!r}; valid: {sorted(by_attr)}"
            )
        return reg

    def __getitem__(self, name: str) -> Register:
        try:
            return self.registers[name]
        except KeyError:
            raise UnknownRegisterError(
                f"{self.name} has no register {name!r}; valid: {sorted(self.registers)}"
            ) from None

    def __iter__(self) -> Iterator[Register]:
        return iter(self.registers.values())

    def __contains__(self, name: object) -> bool:
        return name in self.registers

    def __repr__(self) -> str:
        return f"ModelTable({self.name}, model {self.model_number})"

    def encode(self, register: Register, value: int) -> bytes:
        return register.encode(value, self.byte_order)

    def decode(self, register: Register, data: bytes) -> int:
        return register.decode(data, self.byte_order)

    def with_model(self, name: str, model_number: int) -> ModelTable:
        """Same table under another model name and number (e.g. STS3250 shares the STS3215 table)."""
        return dataclasses.replace(self, name=name, model_number=model_number)
