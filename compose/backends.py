"""Robot backends, composed for the CLI: the one place that knows how to build a sim or a hardware robot.

``RobotConfig.port`` selects the backend:

* ``None`` (default): the MuJoCo simulation of ``model``;
* ``"emulator"``: a dry run on an emulated servo bus served in-process on a pseudo-terminal (the same driver,
  calibration and safety code as a real arm, with an ideal calibration);
* anything else: a serial port or pyserial URL of a real robot (``/dev/ttyACM0``, ``spy:///dev/ttyACM0``).

A robot of parts (the SO-101 with the Amazing Hand: an arm bus and a hand bus) is one
:class:`twinarm.hardware.composite.CompositeRobot`; ``port`` is the port of every part not in ``ports``
(part -> port, e.g. ``+robot.ports.hand=/dev/ttyACM1``), and ``port=emulator`` serves every part's bus on its own
pty. Each part uses its default calibration file (``twinarm calibrate robot=... part=...``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from twinarm.robot.errors import ConfigError
from twinarm.robot.robot import Robot
from twinarm.robot.spec import CameraSpec

if TYPE_CHECKING:
    from twinarm.compose.registry import RobotModel

EMULATOR = "emulator"


@dataclasses.dataclass
class RobotConfig:
    """Which robot to drive. ``cameras``: names of the cameras in the observation (sim: rendered from the model;
    hardware: opened from ``camera_sources``, name -> OpenCV index, device path or video file). ``camera_files``:
    name -> camera file (``twinarm calibrate camera``): that hardware camera's frames are undistorted to the
    pinhole the simulator renders with ``sim.camera`` (same file) before the crop-and-resize."""

    model: str = "so101"
    port: str | None = None
    role: str = "follower"  # a role of the model: follower | leader (see twinarm.compose.registry)
    side: str = "right"  # a side of the model (hands): right | left; ignored by a model without sides
    calibration: str | None = None  # calibration file; default: the file `twinarm calibrate` writes
    control_hz: float = 30.0
    cameras: list[str] = dataclasses.field(default_factory=lambda: ["front", "wrist"])
    camera_height: int = 96
    camera_width: int = 96
    camera_sources: dict[str, str] = dataclasses.field(default_factory=dict)
    camera_files: dict[str, str] = dataclasses.field(default_factory=dict)
    seed: int = 0
    ports: dict[str, str] = dataclasses.field(default_factory=dict)  # a robot of parts: part -> port (default: port)

    def validate(self) -> None:
        """ConfigError names an unknown model, a role or side the model does not have, or a missing sim backend."""
        entry = self.entry()
        if self.port is None and entry.sim is None:
            from twinarm.compose.registry import MODELS

            simulated = ", ".join(name for name, m in MODELS.items() if m.sim is not None)
            raise ConfigError(
                f"robot.model={self.model!r} has no simulation backend here; simulated models: "
                f"{simulated} (give robot.port=... for hardware, or robot.port=emulator)"
            )
        if self.port is not None:
            self.part_ports()  # raises on a role, side or part the model does not have, or two parts on one port
        if self.control_hz <= 0:
            raise ConfigError(f"robot.control_hz={self.control_hz}: must be > 0")

    def entry(self) -> RobotModel:
        """The registry entry of ``model``; ConfigError lists the valid models."""
        from twinarm.compose.registry import get_model

        try:
            return get_model(self.model)
        except ConfigError as exc:
            raise ConfigError(f"robot.model: {exc}") from None

    def part_ports(self) -> dict[str, str]:
        """The port of each part of the robot (``{"": port}`` for a robot on one bus); ConfigError names an unknown
        part or two parts on one bus."""
        buses = self.entry().parts(self.role, self.side)
        names = [bus.part for bus in buses]
        unknown = sorted(set(self.ports) - set(names))
        if unknown:
            valid = ", ".join(n for n in names if n) or "none (one bus)"
            raise ConfigError(f"robot.ports: {unknown} are not parts of robot {self.model}; valid parts: {valid}")
        ports = {name: self.ports.get(name, self.port or "") for name in names}
        shared = [name for name in names if self.port != EMULATOR and list(ports.values()).count(ports[name]) > 1]
        if shared:
            raise ConfigError(
                f"robot.port={self.port}: parts {shared} of robot {self.model} are on separate buses; give each "
                f"its own port (+robot.ports.{shared[-1]}=PORT) or robot.port=emulator"
            )
        if len(names) > 1 and self.calibration is not None:
            raise ConfigError(
                f"robot.calibration={self.calibration}: robot {self.model} has one calibration per part "
                f"({', '.join(names)}); drop it to use their default files"
            )
        return ports

    def camera_specs(self) -> tuple[CameraSpec, ...]:
        return tuple(CameraSpec(name, self.camera_height, self.camera_width) for name in self.cameras)


@contextlib.contextmanager
def built_robot(cfg: RobotConfig, sim_params: object = "") -> Iterator[Robot]:
    """Build (not connect) the robot ``cfg`` names; an emulator it needs lives as long as the block.
    ``sim_params``: the physics of a simulated robot (compose.sim_config.sim_params_for; "" = its default)."""
    cfg.validate()
    with contextlib.ExitStack() as stack:
        yield make_sim_robot(cfg, sim_params) if cfg.port is None else make_hardware_robot(cfg, stack)


@contextlib.contextmanager
def open_robot(cfg: RobotConfig, sim_params: object = "") -> Iterator[Robot]:
    """Build, connect and yield the robot ``cfg`` names; on exit it is disconnected (torque released)."""
    with built_robot(cfg, sim_params) as robot, robot:
        yield robot


def make_sim_robot(cfg: RobotConfig, sim_params: object = "") -> Robot:
    from twinarm.sim.sim_robot import SimRobot

    model = cfg.entry().sim
    if model is None:
        raise ConfigError(f"robot.model={cfg.model!r} has no simulation backend (give robot.port=...)")
    spec = model.spec.with_rate(cfg.control_hz).with_cameras(cfg.camera_specs())
    return SimRobot(model, spec=spec, seed=cfg.seed, params=sim_params)


def make_hardware_robot(cfg: RobotConfig, stack: contextlib.ExitStack) -> Robot:
    """A servo robot (Feetech or Dynamixel, as the model's bus says) on ``cfg.port`` (a robot of parts: a
    CompositeRobot of one per part, cameras on the first); for ``port=emulator`` an emulator per bus is started and
    closed with ``stack``."""
    from twinarm.compose.registry import DEFAULT_CALIBRATION_NAME
    from twinarm.hardware.composite import CompositeRobot
    from twinarm.hardware.robots import FeetechRobot, resolve_calibration

    assert cfg.port is not None
    entry = cfg.entry()
    cameras = _camera_configs(cfg)
    parts = []
    for part, port in cfg.part_ports().items():
        calibration: object = cfg.calibration
        if port == EMULATOR:
            port, calibration = _start_emulator(cfg, stack, part)
        desc = entry.bus(cfg.role, cfg.side, part=part)
        name = entry.calibration_name(DEFAULT_CALIBRATION_NAME, cfg.side)
        cal = resolve_calibration(desc, calibration, name)
        cams, cameras = cameras, {}
        parts.append((part, FeetechRobot(desc, port, cal, cameras=cams, control_hz=cfg.control_hz)))
    if len(parts) == 1:
        return parts[0][1]
    return CompositeRobot(entry.spec.with_rate(cfg.control_hz), parts)


def _camera_configs(cfg: RobotConfig) -> dict:
    from twinarm.hardware.cameras import CameraConfig

    cameras = {}
    for name in cfg.cameras:
        if name in cfg.camera_sources:
            src = cfg.camera_sources[name]
            source: int | str = int(src) if str(src).isdigit() else str(src)
            cal = _camera_file(name, cfg.camera_files[name]) if name in cfg.camera_files else None
            cameras[name] = CameraConfig(source, width=cfg.camera_width, height=cfg.camera_height, calibration=cal)
    return cameras


def _camera_file(name: str, path: str) -> object:
    from twinarm.robot.camera_file import load_camera_file

    cal = load_camera_file(path)
    if cal.camera != name:
        raise ConfigError(f"robot.camera_files.{name}={path} calibrates camera {cal.camera!r}, not {name!r}")
    return cal


def _start_emulator(cfg: RobotConfig, stack: contextlib.ExitStack, part: str = "") -> tuple[str, object]:
    from twinarm.hardware.buses import bus_for
    from twinarm.hardware.calibration_io import write_calibration
    from twinarm.hardware.emulator.config import EmulatorConfig
    from twinarm.hardware.emulator.server import Emulator

    entry = cfg.entry()
    desc = entry.bus(cfg.role, cfg.side, part=part)
    servos = entry.emulator_servos(cfg.role, cfg.side, part)
    calibration = entry.nominal_calibration(cfg.role, cfg.side, part)
    emulator = stack.enter_context(Emulator(EmulatorConfig(servos=servos, baudrate=desc.baudrate)))
    # a factory-fresh emulated bus: store the ideal calibration in the servos' EEPROM as `twinarm calibrate` would
    with bus_for(desc, emulator.port) as bus:
        write_calibration(bus, calibration)
    return emulator.port, calibration
