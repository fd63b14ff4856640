"""Robot backends, composed for the CLI: the one place that knows how to build a sim or a hardware robot.

``RobotConfig.port`` selects the backend:

* ``None`` (default): the MuJoCo simulation of ``model``;
* ``"emulator"``: a dry run on an emulated servo bus served in-process on a pseudo-terminal (the same driver,
  calibration and safety code as a real arm, with an ideal calibration);
* anything else: a serial port or pyserial URL of a real robot (``/dev/ttyACM0``, ``spy:///dev/ttyACM0``).
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
    hardware: opened from ``camera_sources``, name -> OpenCV index, device path or video file)."""

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
    seed: int = 0

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
            entry.bus(self.role, self.side)  # raises on a role or side the model does not have
        if self.control_hz <= 0:
            raise ConfigError(f"robot.control_hz={self.control_hz}: must be > 0")

    def entry(self) -> RobotModel:
        """The registry entry of ``model``; ConfigError lists the valid models."""
        from twinarm.compose.registry import get_model

        try:
            return get_model(self.model)
        except ConfigError as exc:
            raise ConfigError(f"robot.model: {exc}") from None

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
    """A servo robot (Feetech or Dynamixel, as the model's bus says) on ``cfg.port``; for ``port=emulator`` an
    emulator is started and closed with ``stack``."""
    from twinarm.compose.registry import DEFAULT_CALIBRATION_NAME
    from twinarm.hardware.cameras import CameraConfig
    from twinarm.hardware.robots import FeetechRobot, resolve_calibration

    port = cfg.port
    assert port is not None
    calibration = cfg.calibration
    if port == EMULATOR:
        port, calibration = _start_emulator(cfg, stack)
    cameras = {}
    for name in cfg.cameras:
        if name in cfg.camera_sources:
            src = cfg.camera_sources[name]
            source: int | str = int(src) if str(src).isdigit() else str(src)
            cameras[name] = CameraConfig(source=source, width=cfg.camera_width, height=cfg.camera_height)
    entry = cfg.entry()
    desc = entry.bus(cfg.role, cfg.side)
    name = entry.calibration_name(DEFAULT_CALIBRATION_NAME, cfg.side)
    return FeetechRobot(
        desc, port, resolve_calibration(desc, calibration, name), cameras=cameras, control_hz=cfg.control_hz
    )


def _start_emulator(cfg: RobotConfig, stack: contextlib.ExitStack) -> tuple[str, object]:
    from twinarm.hardware.buses import bus_for
    from twinarm.hardware.calibration_io import write_calibration
    from twinarm.hardware.emulator.config import EmulatorConfig
    from twinarm.hardware.emulator.server import Emulator

    entry = cfg.entry()
    desc = entry.bus(cfg.role, cfg.side)
    servos = entry.emulator_servos(cfg.role, cfg.side)
    calibration = entry.nominal_calibration(cfg.role, cfg.side)
    emulator = stack.enter_context(Emulator(EmulatorConfig(servos=servos, baudrate=desc.baudrate)))
    # a factory-fresh emulated bus: store the ideal calibration in the servos' EEPROM as `twinarm calibrate` would
    with bus_for(desc, emulator.port) as bus:
        write_calibration(bus, calibration)
    return emulator.port, calibration
