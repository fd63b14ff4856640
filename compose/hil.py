"""Hardware in the loop, composed for the CLI: the real SO-101 driver on an emulated bus whose physics is MuJoCo.

:func:`sim_bus` serves the SO-101 servos on a pty with :class:`sim.motion.SimMotion` as their motion model (the
cube and table included) and the nominal follower calibration stored in their EEPROM, as ``twinarm calibrate``
would leave it. :func:`hil_robot` adds the hardware robot on that bus, with :class:`sim.motion.SimCamera` cameras
rendering the same simulated world: driver, calibration and safety layers are the real ones, only the servos and
cameras are simulated.

Episode harnesses reset a task between episodes and report success where the world is simulated:
:class:`TaskEpisodes` (a SimRobot, or a HIL rig: the arm is driven home through the bus, then the scene is reset
with the cube pose drawn exactly as the gymnasium env draws it for the same seed) and :class:`ManualEpisodes` (a
real robot: home, then whatever the CLI does to let a person reset the scene; success unknown).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
from gymnasium.utils import seeding
from twinarm.compose.sim_motion import ShaftScale, SimCamera, SimMotion
from twinarm.hardware.calibration import Calibration
from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator import Emulator, EmulatorConfig, FaultConfig, ServoConfig
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.motors import SO101_FOLLOWER
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.errors import ConfigError
from twinarm.robot.robot import Robot
from twinarm.robot.spec import CameraSpec
from twinarm.sim.sim_robot import SO101_SIM, SimRobot
from twinarm.sim.tasks import TASKS, Scene, Task, forward

#: Reply deadline on the emulated bus [s]: its servos share the host's CPU with the physics, the renderer and the
#: policy, so a busy machine must not look like a broken bus (a real bus answers within the driver's 20 ms default).
BUS_TIMEOUT_S = 0.1


def shaft_scale(cal: Calibration) -> ShaftScale:
    """The linear shaft-tick map a calibration describes (homing offsets included: shaft = present + offset)."""
    ticks = cal.ticks
    offsets = np.array([m.homing_offset for m in cal.motors], dtype=np.float64)
    return ShaftScale(ticks.zero_u.astype(np.float64) + offsets, ticks.gain.copy())


class SimBus(NamedTuple):
    """An emulated SO-101 bus driven by MuJoCo: serve ``emulator.port``; ``motion`` owns the simulated world."""

    emulator: Emulator
    motion: SimMotion
    calibration: Calibration


@contextlib.contextmanager
def sim_bus(
    control_hz: float = 30.0,
    link: str | None = None,
    faults: FaultConfig | None = None,
    sim_params: object = "",
    **emulator_kwargs,
) -> Iterator[SimBus]:
    """Serve SO-101 follower servos whose shafts are the joints of the MuJoCo scene (physics step chosen for
    ``control_hz`` [Hz], as the SimRobot at that rate has it), pre-calibrated with the nominal calibration.
    ``sim_params``: the simulated servos, latency and sensing (a hidden reality, a file; "" = the default).
    Other keyword arguments go to :class:`EmulatorConfig` (``wire_timing``, ``return_delay``, ...)."""
    cal = nominal_calibration(SO101_FOLLOWER)
    spec = SO101_SIM.spec.with_rate(control_hz).with_cameras(())
    world = SimRobot(SO101_SIM, spec=spec, params=sim_params)
    with world:
        motion = SimMotion(world, shaft_scale(cal))
        servos = [
            ServoConfig(m.id, SO101_FOLLOWER.table.name.lower(), round(p))
            for m, p in zip(cal.motors, motion.positions())
        ]
        config = EmulatorConfig(servos=servos, link=link, faults=faults or FaultConfig(), **emulator_kwargs)
        with Emulator(config, motion) as emulator:
            with FeetechBus(emulator.port, table=SO101_FOLLOWER.table, timeout_s=BUS_TIMEOUT_S) as bus:
                write_calibration(bus, cal)
            yield SimBus(emulator, motion, cal)


class HilRig(NamedTuple):
    """A hardware robot (not connected) on a :func:`sim_bus`, seeing the simulated world through its cameras."""

    robot: FeetechRobot
    motion: SimMotion
    emulator: Emulator


@contextlib.contextmanager
def hil_robot(
    control_hz: float = 30.0, cameras: Sequence[CameraSpec] = (), sim_params: object = "", **emulator_kwargs
) -> Iterator[HilRig]:
    """The SO-101 follower driver on a MuJoCo-backed emulated bus; ``cameras`` render the same scene."""
    with sim_bus(control_hz, sim_params=sim_params, **emulator_kwargs) as bus:
        cams = {c.name: SimCamera(bus.motion, c.name, c.height, c.width) for c in cameras}
        robot = FeetechRobot(
            SO101_FOLLOWER, bus.emulator.port, bus.calibration, cameras=cams, bus_timeout_s=BUS_TIMEOUT_S
        )
        yield HilRig(robot, bus.motion, bus.emulator)


# -- episode harnesses -------------------------------------------------------------------------------------------
def move_to(robot: Robot, pose: np.ndarray, timeout_s: float = 10.0, atol: float = 2e-3) -> np.ndarray:
    """Command ``pose`` [rad] once per control period until the (max-step clipped) target reaches it; returns the
    last target sent. The robot's own safety layer sets the speed."""
    goal = np.clip(np.asarray(pose, dtype=np.float32), robot.spec.lower, robot.spec.upper)
    deadline = time.monotonic() + timeout_s
    while True:
        sent = robot.send_action(goal)
        if np.allclose(sent, goal, atol=atol) or time.monotonic() > deadline:
            return sent
        time.sleep(robot.spec.control_period_s)


class TaskEpisodes:
    """Episodes of sim task ``task`` where the world is simulated: on the SimRobot ``robot`` itself, or on a HIL
    rig (``robot`` the hardware robot, ``motion`` its simulated world). Episode ``seed`` draws the task's reset
    exactly as ``gym.make(task).reset(seed=seed)`` does, so results compare with ``twinarm eval``."""

    scored = True  # success() is the task's test

    def __init__(self, task: str, robot: Robot, motion: SimMotion | None = None) -> None:
        if task not in TASKS:
            raise ConfigError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
        world = robot if motion is None else motion.robot
        if not isinstance(world, SimRobot):
            raise ConfigError(f"task {task!r} needs a simulated world: a SimRobot or a HIL rig (robot.port=emulator)")
        self.task: Task = TASKS[task]()
        self.robot, self.motion, self.world = robot, motion, world
        self.scene = Scene(world)
        self.home = np.asarray(world.sim_model.home, dtype=np.float32)
        self._lock = contextlib.nullcontext() if motion is None else motion.lock

    def reset(self, index: int, seed: int) -> None:
        rng = seeding.np_random(seed)[0]
        if self.motion is None:  # the deployed robot is the SimRobot: reset it as the gymnasium env does
            self.world.reset()
            self.task.reset(self.scene, rng)
            forward(self.world)
            return
        move_to(self.robot, self.home)  # the goals the servos hold from now on
        self.robot.get_observation()  # a round trip: the bus has applied the last (unanswered) goal write
        self.motion.reset(self.home, lambda: self.task.reset(self.scene, rng))
        self.robot.reset_target()

    def success(self) -> bool:
        with self._lock:
            return self.task.evaluate(self.scene)[1]

    def privileged(self) -> dict[str, np.ndarray]:
        """Simulator-only state (cube pose, ...) for the scripted experts."""
        with self._lock:
            return self.task.privileged(self.scene)


class ManualEpisodes:
    """Episodes on a real robot: drive to ``home`` [rad] (if given), then ``wait(index)`` lets a person reset the
    scene (the CLI prompts). Success is unknown (None)."""

    scored = False  # success() is always None

    def __init__(self, robot: Robot, home: np.ndarray | None, wait: Callable[[int], None] | None = None) -> None:
        self.robot, self.home, self.wait = robot, home, wait

    def reset(self, index: int, seed: int) -> None:
        if self.home is not None:
            move_to(self.robot, self.home)
        if self.wait is not None:
            self.wait(index)

    def success(self) -> bool | None:
        return None
