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

from twinarm.robot.errors import ConfigError
from twinarm.robot.models import MODELS
from twinarm.robot.robot import Robot
from twinarm.robot.spec import CameraSpec

EMULATOR = "emulator"


@dataclasses.dataclass
class RobotConfig:
    """Which robot to drive. ``cameras``: names of the cameras in the observation (sim: rendered from the model;
    hardware: opened from ``camera_sources``, name -> OpenCV index, device path or video file)."""

    model: str = "so101"
    port: str | None = None
    role: str = "follower"  # hardware arms: follower | leader
    side: str = "right"  # hands: right | left
    calibration: str | None = None  # calibration file; default: the file `twinarm calibrate` writes
    control_hz: float = 30.0
    cameras: list[str] = dataclasses.field(default_factory=lambda: ["front", "wrist"])
    camera_height: int = 96
    camera_width: int = 96
    camera_sources: dict[str, str] = dataclasses.field(default_factory=dict)
    seed: int = 0

    def validate(self) -> None:
        if self.model not in MODELS:
            raise ConfigError(f"robot.model={self.model!r} is unknown; valid models: {', '.join(sorted(MODELS))}")
        if self.port is None:
            from twinarm.sim.sim_robot import SIM_MODELS

            if self.model not in SIM_MODELS:
                raise ConfigError(
                    f"robot.model={self.model!r} has no simulation backend here; simulated models: "
                    f"{', '.join(SIM_MODELS)} (give robot.port=... for hardware, or robot.port=emulator)"
                )
        if self.control_hz <= 0:
            raise ConfigError(f"robot.control_hz={self.control_hz}: must be > 0")

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
    from twinarm.sim.sim_robot import SIM_MODELS, SimRobot

    model = SIM_MODELS[cfg.model]
    spec = model.spec.with_rate(cfg.control_hz).with_cameras(cfg.camera_specs())
    return SimRobot(model, spec=spec, seed=cfg.seed, params=sim_params)


def make_hardware_robot(cfg: RobotConfig, stack: contextlib.ExitStack) -> Robot:
    """A Feetech robot on ``cfg.port``; for ``port=emulator`` an emulator is started and closed with ``stack``."""
    from twinarm.hardware.cameras import CameraConfig

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
    if cfg.model == "amazing_hand":
        from twinarm.hardware.hand import amazing_hand

        return amazing_hand(port, side=cfg.side, calibration=calibration, cameras=cameras, control_hz=cfg.control_hz)
    from twinarm.hardware.robots import so101_follower, so101_leader

    factories = {"follower": so101_follower, "leader": so101_leader}
    if cfg.role not in factories:
        raise ConfigError(f"robot.role={cfg.role!r} is not valid; valid roles: {', '.join(factories)}")
    return factories[cfg.role](port, calibration, cameras=cameras, control_hz=cfg.control_hz)


def _start_emulator(cfg: RobotConfig, stack: contextlib.ExitStack) -> tuple[str, object]:
    from twinarm.hardware.emulator.config import EmulatorConfig, servos_for
    from twinarm.hardware.emulator.server import Emulator

    if cfg.model == "amazing_hand":
        from twinarm.hardware.hand import nominal_hand_calibration

        servos = servos_for("amazing_hand" if cfg.side == "right" else "amazing_hand_left")
        calibration = nominal_hand_calibration(cfg.side)
    else:
        from twinarm.hardware.calibration_io import nominal_calibration
        from twinarm.hardware.motors import SO101_FOLLOWER, SO101_LEADER

        servos = servos_for("so101")
        calibration = nominal_calibration(SO101_LEADER if cfg.role == "leader" else SO101_FOLLOWER)
    emulator = stack.enter_context(Emulator(EmulatorConfig(servos=servos)))
    # a factory-fresh emulated bus: store the ideal calibration in the servos' EEPROM as `twinarm calibrate` would
    from twinarm.hardware.calibration_io import write_calibration
    from twinarm.hardware.feetech.bus import FeetechBus
    from twinarm.hardware.feetech.tables import table_for

    with FeetechBus(emulator.port, table=table_for(servos[0].model)) as bus:
        write_calibration(bus, calibration)
    return emulator.port, calibration
