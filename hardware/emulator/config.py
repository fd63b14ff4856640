"""Emulator configuration as plain dataclasses (hydra-friendly: only str/int/float/bool/list fields)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from twinarm.hardware.motors import SO101_FOLLOWER, ArmDescription
from twinarm.robot.errors import ConfigError


@dataclass
class ServoConfig:
    """One emulated servo: bus id, model name (Feetech or Dynamixel ``tables.MODELS_BY_NAME``; one bus speaks one
    protocol), initial actual position [ticks]."""

    id: int
    model: str = "sts3215"
    position: int = 2048


@dataclass
class FaultConfig:
    """Fault injection; probabilities are per reply packet, drawn from an RNG seeded with ``seed``."""

    seed: int = 0
    corrupt_prob: float = 0.0  # flip one bit of the reply
    drop_prob: float = 0.0  # do not send the reply
    delay_prob: float = 0.0  # delay the reply by delay_s
    delay_s: float = 0.0  # [s]
    silent_ids: list[int] = field(default_factory=list)  # never answer, ignore every instruction
    overheat_ids: list[int] = field(default_factory=list)  # temperature above its limit -> status bit 0x04
    overload_ids: list[int] = field(default_factory=list)  # status bit 0x20
    low_voltage_ids: list[int] = field(default_factory=list)  # voltage below its limit -> status bit 0x01
    babble_prob: float = 0.0  # per request: a foreign device sends babble_bytes of junk before any reply
    babble_bytes: int = 16  # junk bytes per babble (values 0x00..0xFE, so never a packet header)

    def validate(self) -> None:
        for name in ("corrupt_prob", "drop_prob", "delay_prob", "babble_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"faults.{name}={value}: must be a probability in [0, 1]")
        if self.delay_s < 0:
            raise ConfigError(f"faults.delay_s={self.delay_s}: must be >= 0")
        if not 1 <= self.babble_bytes <= 4096:
            raise ConfigError(f"faults.babble_bytes={self.babble_bytes}: valid 1..4096")


# Start positions of the emulated SO-101 servos [ticks from the middle tick]: near mid range but not all equal, so a
# driver that mixes up servo ids reads wrong joints.
SO101_START_OFFSETS = (0, -40, 35, 20, -25, 60)


def servos_for(description: ArmDescription, offsets: Sequence[int] = ()) -> list[ServoConfig]:
    """One emulated servo per motor of ``description`` (its ids and servo model), each at the model's middle tick
    plus ``offsets`` [ticks] (one per motor; empty: all at the middle, e.g. an Amazing Hand open flat)."""
    offsets = tuple(offsets) or (0,) * len(description.motors)
    if len(offsets) != len(description.motors):
        raise ConfigError(f"{description.name}: {len(offsets)} start offsets for {len(description.motors)} servos")
    tables = [description.motor_table(m) for m in description.motors]
    return [
        ServoConfig(m.id, t.name.lower(), t.center_tick + d) for m, t, d in zip(description.motors, tables, offsets)
    ]


def so101_servos() -> list[ServoConfig]:
    """SO-101 follower/leader: ids 1..6 STS3215 near mid range (tick 2048 + :data:`SO101_START_OFFSETS`)."""
    return servos_for(SO101_FOLLOWER, SO101_START_OFFSETS)


@dataclass
class EmulatorConfig:
    """A pty-served bus of emulated servos.

    ``link``: path of a symlink to the pty (None: use the pty path itself). ``wire_timing``: wait for the
    bytes' wire time at ``baudrate`` (10 bits per byte) before replying. ``return_delay``: initial
    Return_Delay_Time register [2 us units] of every servo (factory 250; 0 keeps tests fast).
    """

    servos: list[ServoConfig] = field(default_factory=so101_servos)
    link: str | None = None
    baudrate: int = 1_000_000
    wire_timing: bool = False
    return_delay: int = 0
    time_constant_s: float = 0.05  # first-order motion model [s]
    max_speed_tps: float = 3000.0  # [ticks/s]
    faults: FaultConfig = field(default_factory=FaultConfig)

    def validate(self) -> None:
        ids = [s.id for s in self.servos]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"emulator servos: duplicate ids in {ids}")
        for servo_id in ids:
            if not 0 <= servo_id <= 0xFD:
                raise ConfigError(f"emulator servo id {servo_id}: valid ids are 0..253")
        if not 0 <= self.return_delay <= 254:
            raise ConfigError(f"return_delay={self.return_delay}: valid 0..254 (units of 2 us)")
        if self.baudrate <= 0:
            raise ConfigError(f"baudrate={self.baudrate}: must be > 0")
        self.faults.validate()
