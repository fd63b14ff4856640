"""The bus of an arm description: its protocol (``ArmDescription.bus``) picks the driver class."""

from __future__ import annotations

from twinarm.hardware.dynamixel.bus import DynamixelBus
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.motors import ArmDescription, BusKind
from twinarm.hardware.serial_bus import ServoBus

BUS_CLASSES: dict[BusKind, type[ServoBus]] = {BusKind.FEETECH: FeetechBus, BusKind.DYNAMIXEL: DynamixelBus}


def bus_for(arm: ArmDescription, port: str, timeout_s: float = 0.02, retries: int = 2) -> ServoBus:
    """A closed bus on ``port`` speaking ``arm``'s protocol at its baud rate, registers read as ``arm.table``."""
    return BUS_CLASSES[BusKind(arm.bus)](port, arm.baudrate, arm.table, timeout_s=timeout_s, retries=retries)
