"""Feetech control-table types: registers and their encoding, register spans, the STS Phase bits, model tables.

The tables themselves are data in :mod:`hardware.feetech.tables`. A :class:`ModelTable` holds the registers of one
servo family; registers are reachable as attributes (``STS3215.PRESENT_POSITION``) or by their datasheet name
(``STS3215["Present_Position"]``).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import NamedTuple

import numpy as np

from twinarm.hardware.errors import EncodingError, UnknownRegisterError


class ByteOrder(str, Enum):
    """Byte order of multi-byte register values: STS/SMS little-endian, SCS big-endian."""

    LITTLE = "little"
    BIG = "big"


class Register(NamedTuple):
    """One control-table entry. ``sign_bit``: bit index of a sign-magnitude sign, None if unsigned."""

    name: str
    address: int
    size: int  # [bytes], 1 or 2
    sign_bit: int | None = None
    eeprom: bool = False
    writable: bool = True

    @property
    def max_magnitude(self) -> int:
        """Largest encodable magnitude (``2**sign_bit - 1`` for sign-magnitude, else ``2**(8 size) - 1``)."""
        return (1 << self.sign_bit) - 1 if self.sign_bit is not None else (1 << (8 * self.size)) - 1

    def encode(self, value: int, byte_order: ByteOrder) -> bytes:
        """Raw bytes of ``value`` (sign-magnitude where ``sign_bit`` is set); EncodingError if out of range."""
        value = int(value)
        if self.sign_bit is not None:
            raw = -value | (1 << self.sign_bit) if value < 0 else value
            if abs(value) > self.max_magnitude:
                raise EncodingError(
                    f"{self.name}: {value} out of range [-{self.max_magnitude}, {self.max_magnitude}] "
                    f"(sign-magnitude, sign bit {self.sign_bit})"
                )
        else:
            raw = value
            if not 0 <= value <= self.max_magnitude:
                raise EncodingError(f"{self.name}: {value} out of range [0, {self.max_magnitude}]")
        return raw.to_bytes(self.size, byte_order.value)

    def decode(self, data: bytes, byte_order: ByteOrder) -> int:
        """Signed value of the raw register bytes."""
        raw = int.from_bytes(data, byte_order.value)
        return decode_sign_magnitude(raw, self.sign_bit)


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
        """One (n,) int64 array per register (sign-magnitude applied) from one reply of ``size`` bytes per servo."""
        order, base, whole = byte_order.value, self.registers[0].address, len(self.registers) == 1
        out = []
        for reg in self.registers:
            lo = reg.address - base
            hi = lo + reg.size
            raw = [int.from_bytes(d if whole else d[lo:hi], order) for d in replies]  # the hot path: no slicing
            if reg.sign_bit is not None:
                sign = 1 << reg.sign_bit
                raw = [-(r ^ sign) if r & sign else r for r in raw]
            out.append(np.array(raw, np.int64))
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class StsPhase:
    """The bits of the STS Phase register (addr 18) twinarm uses, from the STS memory table (servos.md).

    ``multi_turn_bit`` set: multi-turn position feedback (twinarm clears it: single-turn avoids wrap surprises).
    ``fine_speed_bit`` set (the factory value): the speed unit is 0.0146 rpm, 1 tick/s at 4096 ticks per turn;
    clear: 0.732 rpm = 0.732 * 4096 / 60 ticks/s. Verify on hardware if velocities look 50x off.
    """

    multi_turn_bit: int = 0x10
    fine_speed_bit: int = 0x04
    fine_speed_unit_tps: float = 1.0  # [ticks/s] per Present_Velocity unit
    coarse_speed_unit_tps: float = 0.732 * 4096 / 60

    def single_turn(self, phase: int) -> int:
        """``phase`` with multi-turn feedback cleared."""
        return int(phase) & ~self.multi_turn_bit

    def speed_unit_tps(self, phase: np.ndarray) -> np.ndarray:
        """[ticks/s] per Present_Velocity unit for each servo's Phase value, (n,) float64."""
        fine = (np.asarray(phase, dtype=np.int64) & self.fine_speed_bit) != 0
        return np.where(fine, self.fine_speed_unit_tps, self.coarse_speed_unit_tps)


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
    phase_bits: StsPhase | None = None  # what the Phase register's bits mean (None: not the STS bits)
    speed_unit_tps: float = 1.0  # [ticks/s] per Present_Velocity unit without ``phase_bits`` (SCS: rustypot's)
    eeprom_end: int = 40  # addresses below this are EEPROM
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
