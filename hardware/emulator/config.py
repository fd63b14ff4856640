"""Emulator configuration as plain dataclasses (hydra-friendly: only str/int/float/bool/list fields)."""

from __future__ import annotations

from dataclasses import dataclass, field

from twinarm.robot.errors import ConfigError


@dataclass
class ServoConfig:
    """One emulated servo: bus id, model name (see ``tables.MODELS_BY_NAME``), initial actual position [ticks]."""

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

    def validate(self) -> None:
        for name in ("corrupt_prob", "drop_prob", "delay_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"faults.{name}={value}: must be a probability in [0, 1]")
        if self.delay_s < 0:
            raise ConfigError(f"faults.delay_s={self.delay_s}: must be >= 0")


def so101_servos() -> list[ServoConfig]:
    """SO-101 follower/leader: ids 1..6 STS3215, positions near mid range (tick 2048) but not all equal."""
    return [ServoConfig(i, "sts3215", 2048 + d) for i, d in zip(range(1, 7), (0, -40, 35, 20, -25, 60))]


def amazing_hand_servos(ids: range | list[int] = range(1, 9)) -> list[ServoConfig]:
    """Amazing Hand: 8 SCS0009 (right hand ids 1..8) at their middle tick 511 (the hand open flat)."""
    return [ServoConfig(i, "scs0009", 511) for i in ids]


def two_hands_servos() -> list[ServoConfig]:
    """A right (ids 1..8) and a left (ids 11..18) Amazing Hand sharing one bus."""
    return amazing_hand_servos() + amazing_hand_servos(range(11, 19))


ROBOT_SERVOS = {
    "so101": so101_servos,
    "amazing_hand": amazing_hand_servos,
    "amazing_hand_left": lambda: amazing_hand_servos(range(11, 19)),
    "amazing_hands": two_hands_servos,
}


def servos_for(robot: str) -> list[ServoConfig]:
    """Servo set of a named robot; ConfigError lists the known names."""
    try:
        return ROBOT_SERVOS[robot]()
    except KeyError:
        raise ConfigError(f"robot={robot!r} unknown to the emulator; known: {sorted(ROBOT_SERVOS)}") from None


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
