"""Hardware in the loop, composed for the CLI: the real SO-101 driver on an emulated bus whose physics is MuJoCo.

:func:`sim_bus` serves the SO-101 servos on a pty with :class:`sim.motion.SimMotion` as their motion model (the
cube and table included) and the nominal follower calibration stored in their EEPROM, as ``twinarm calibrate``
would leave it. :func:`hil_robot` adds the hardware robot on that bus, with :class:`sim.motion.SimCamera` cameras
rendering the same simulated world: driver, calibration and safety layers are the real ones, only the servos and
cameras are simulated.

Episodes on a rig (the arm driven home through the bus, then the scene reset as the gymnasium env resets it for
the same seed) are :class:`twinarm.compose.episodes.TaskEpisodes` with ``motion`` the rig's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

from twinarm.compose.sim_motion import ShaftScale, SimCamera, SimMotion
from twinarm.hardware.buses import bus_for
from twinarm.hardware.calibration import Calibration
from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator import Emulator, EmulatorConfig, FaultConfig, ServoConfig
from twinarm.hardware.motors import SO101_FOLLOWER, ArmDescription
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.spec import CameraSpec
from twinarm.sim.sim_robot import SO101_SIM, SimModel, SimRobot

#: Reply deadline on the emulated bus [s]: its servos share the host's CPU with the physics, the renderer and the
#: policy, so a busy machine must not look like a broken bus (a real bus answers within the driver's 20 ms default).
BUS_TIMEOUT_S = 0.1


def shaft_scale(cal: Calibration, homing_sign: int = -1) -> ShaftScale:
    """The linear shaft-tick map a calibration describes, homing offsets included: ``present = shaft + homing_sign *
    offset`` (``ModelTable.homing_sign``: Feetech -1, so shaft = present + offset; Dynamixel +1)."""
    ticks = cal.ticks
    offsets = np.array([m.homing_offset for m in cal.motors], dtype=np.float64)
    return ShaftScale(ticks.zero_u.astype(np.float64) - homing_sign * offsets, ticks.gain.copy())


class SimBus(NamedTuple):
    """An emulated follower bus driven by MuJoCo: serve ``emulator.port``; ``motion`` owns the simulated world."""

    emulator: Emulator
    motion: SimMotion
    calibration: Calibration


@contextlib.contextmanager
def sim_bus(
    control_hz: float = 30.0,
    link: str | None = None,
    faults: FaultConfig | None = None,
    sim_params: object = "",
    arm: ArmDescription = SO101_FOLLOWER,
    sim_model: SimModel = SO101_SIM,
    **emulator_kwargs,
) -> Iterator[SimBus]:
    """Serve the follower servos of ``arm`` (SO-101 by default; Feetech or Dynamixel) whose shafts are the joints of
    the MuJoCo scene of ``sim_model`` (physics step chosen for ``control_hz`` [Hz], as the SimRobot at that rate has
    it), pre-calibrated with the nominal calibration. ``sim_params``: the simulated servos, latency and sensing (a
    hidden reality, a file; "" = the default). Other keyword arguments go to :class:`EmulatorConfig`
    (``wire_timing``, ``return_delay``, ...)."""
    cal = nominal_calibration(arm)
    spec = sim_model.spec.with_rate(control_hz).with_cameras(())
    world = SimRobot(sim_model, spec=spec, params=sim_params)
    with world:
        motion = SimMotion(world, shaft_scale(cal, arm.table.homing_sign))
        servos = [
            ServoConfig(m.id, arm.motor_table(m).name.lower(), round(p)) for m, p in zip(arm.motors, motion.positions())
        ]
        config = EmulatorConfig(servos=servos, link=link, faults=faults or FaultConfig(), **emulator_kwargs)
        with Emulator(config, motion) as emulator:
            with bus_for(arm, emulator.port, timeout_s=BUS_TIMEOUT_S) as bus:
                write_calibration(bus, cal)
            yield SimBus(emulator, motion, cal)


class HilRig(NamedTuple):
    """A hardware robot (not connected) on a :func:`sim_bus`, seeing the simulated world through its cameras."""

    robot: FeetechRobot
    motion: SimMotion
    emulator: Emulator


@contextlib.contextmanager
def hil_robot(
    control_hz: float = 30.0,
    cameras: Sequence[CameraSpec] = (),
    sim_params: object = "",
    arm: ArmDescription = SO101_FOLLOWER,
    sim_model: SimModel = SO101_SIM,
    **emulator_kwargs,
) -> Iterator[HilRig]:
    """The follower driver of ``arm`` (SO-101 by default) on a MuJoCo-backed emulated bus of ``sim_model``;
    ``cameras`` render the same scene."""
    with sim_bus(control_hz, sim_params=sim_params, arm=arm, sim_model=sim_model, **emulator_kwargs) as bus:
        cams = {c.name: SimCamera(bus.motion, c.name, c.height, c.width) for c in cameras}
        robot = FeetechRobot(arm, bus.emulator.port, bus.calibration, cameras=cams, bus_timeout_s=BUS_TIMEOUT_S)
        yield HilRig(robot, bus.motion, bus.emulator)
