"""Feetech control-table types: the shared register types (:mod:`hardware.registers`) and the STS Phase bits."""

from __future__ import annotations

import dataclasses

import numpy as np

from twinarm.hardware.registers import ByteOrder, ModelTable, Register, RegisterSpan, decode_sign_magnitude

__all__ = ["ByteOrder", "ModelTable", "Register", "RegisterSpan", "StsPhase", "decode_sign_magnitude"]


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
