"""Feetech bus emulator: emulated servos on a pty, with a pluggable motion model and fault injection."""

from twinarm.hardware.emulator.config import EmulatorConfig, FaultConfig, ServoConfig, servos_for, so101_servos
from twinarm.hardware.emulator.motion import Backdrivable, FirstOrderMotion, GainAware, MotionModel
from twinarm.hardware.emulator.process import EmulatorProcess
from twinarm.hardware.emulator.server import Emulator, EmulatorStats, emulated_bus
from twinarm.hardware.emulator.servo import EmulatedServo

__all__ = [
    "Backdrivable",
    "EmulatedServo",
    "Emulator",
    "EmulatorConfig",
    "EmulatorProcess",
    "EmulatorStats",
    "FaultConfig",
    "FirstOrderMotion",
    "GainAware",
    "MotionModel",
    "ServoConfig",
    "emulated_bus",
    "servos_for",
    "so101_servos",
]
