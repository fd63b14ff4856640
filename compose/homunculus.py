"""``source=homunculus``: the HopeJR exoskeleton and glove drive the robot's arm and hand joints.

Each device that is given a port (``homunculus.glove=/dev/ttyACM0``, ``homunculus.exo=...``; ``emulator`` serves
an emulated device in-process on a pty, with its own nominal calibration) and whose map names joints of the robot
drives those joints (``hardware.homunculus.joint_map``); other joints hold. A device's calibration comes from
``homunculus.<device>_calibration`` or its default file (``twinarm calibrate-device``).

Each cycle the source takes the newest filtered frame of each device; when a device has sent nothing new since the
last cycle it returns None (the loop holds and its watchdog counts the stall), and after the device's timeout
without a line it raises :class:`~twinarm.hardware.homunculus.errors.StreamTimeoutError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

import numpy as np

from twinarm.hardware.homunculus.calibration import SIDES, DeviceCalibration
from twinarm.hardware.homunculus.calibration_file import default_device_path, load_device_calibration
from twinarm.hardware.homunculus.device import HallDevice
from twinarm.hardware.homunculus.emulator import DeviceEmulator, DeviceEmulatorConfig
from twinarm.hardware.homunculus.errors import StreamTimeoutError
from twinarm.hardware.homunculus.joint_map import MAPS, DeviceMap, JointScaler
from twinarm.robot.errors import ConfigError
from twinarm.robot.loop import ActionSource
from twinarm.robot.robot import Observation
from twinarm.robot.spec import RobotSpec

EMULATOR = "emulator"


@dataclasses.dataclass
class HomunculusSettings:
    """Ports, calibrations and filters of the Homunculus devices (``source=homunculus``)."""

    glove: str = ""  # glove port, "emulator" for an emulated glove, "" for none
    exo: str = ""  # exoskeleton port, "emulator", or ""
    side: str = "right"  # right | left
    glove_calibration: str = ""  # calibration file ("": the default path of the side)
    exo_calibration: str = ""
    glove_cutoff_hz: float = 10.0  # one-pole low-pass cut-off [Hz] (0: off); lag 1/(2 pi f) = 16 ms
    exo_cutoff_hz: float = 5.0  # arm motion is slower; lag 32 ms
    timeout_s: float = 1.0  # no line for this long: StreamTimeoutError [s]

    def ports(self) -> dict[str, str]:
        """Device name -> port, for the devices given one."""
        given = {"homunculus_glove": self.glove, "homunculus_exo": self.exo}
        return {name: port for name, port in given.items() if port}


class DeviceSource:
    """One device's joint targets [rad] for the joints of ``scaler`` (an ``ActionSource`` on those joints)."""

    def __init__(self, device: HallDevice, scaler: JointScaler) -> None:
        self.device, self.scaler = device, scaler
        self._seq = 0

    def reset(self) -> None:
        self._seq = 0

    def act(self, obs: Observation) -> np.ndarray | None:
        signed, frame = self.device.positions()
        if frame.seq == self._seq:
            age = time.monotonic() - frame.t
            if age > self.device.timeout_s:
                raise StreamTimeoutError(
                    f"{self.device.spec.name} sent nothing for {age:.1f} s (last valid line #{frame.seq})",
                    port=self.device.port_name,
                )
            return None
        self._seq = frame.seq
        return self.scaler(signed).astype(np.float32)


def _calibration(cfg: HomunculusSettings, dmap: DeviceMap) -> DeviceCalibration:
    name = dmap.device.name
    path = getattr(cfg, f"{name.removeprefix('homunculus_')}_calibration") or default_device_path(name, cfg.side)
    return load_device_calibration(path, device=name)


def open_devices(
    cfg: HomunculusSettings, spec: RobotSpec, stack: contextlib.ExitStack
) -> list[tuple[ActionSource, tuple[str, ...]]]:
    """(source, its joint names) per device of ``cfg`` that drives joints of ``spec``; devices and emulators close
    with ``stack``. ConfigError when no device is given, or a given one drives none of the robot's joints."""
    if cfg.side not in SIDES:
        raise ConfigError(f"homunculus.side={cfg.side!r} is invalid; valid: {', '.join(SIDES)}")
    ports = cfg.ports()
    if not ports:
        raise ConfigError(
            "source=homunculus needs a device: homunculus.glove=PORT (hand joints) and/or homunculus.exo=PORT "
            "(arm joints); PORT=emulator for an emulated device"
        )
    parts: list[tuple[ActionSource, tuple[str, ...]]] = []
    for name, port in ports.items():
        dmap = MAPS[name]
        key = name.removeprefix("homunculus_")
        try:
            scaler = JointScaler(dmap, spec.joints)
        except ConfigError as exc:
            raise ConfigError(f"homunculus.{key}: {exc}") from None
        if port == EMULATOR:
            emu = stack.enter_context(DeviceEmulator(DeviceEmulatorConfig(name, side=cfg.side)))
            port, calibration = emu.port, emu.calibration
        else:
            calibration = _calibration(cfg, dmap)
        cutoff = getattr(cfg, f"{key}_cutoff_hz")
        device = stack.enter_context(HallDevice(dmap.device, port, calibration, cutoff, cfg.timeout_s))
        device.wait_frame(0)  # fail here, before the loop, if the device does not stream
        parts.append((DeviceSource(device, scaler), scaler.joint_names))
    return parts
