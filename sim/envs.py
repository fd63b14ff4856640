"""Gymnasium environments of every simulated task, registered as ``twinarm/...`` ids (see :data:`ENV_IDS`).

One env class serves every robot: the per-robot parts are data (:class:`TaskFamily`: the sim model, its tasks, the
scene handles, the default cameras). By default (``obs_mode="rgb"``) observations and actions are exactly the
robot's (``robot.spec``): joint state [rad, rad/s] plus one RGB image per configured camera; ``obs_mode="state"``
and ``"privileged"`` (joints plus the simulator-only state) and ``reward_mode="sparse"|"dense"`` are described in
:mod:`sim.modes`. Actions are joint position targets [rad], clipped by the Robot safety layer (the target actually
sent is in ``info["action_sent"]``). Simulator-only state for experts is in ``info["privileged"]`` and
``env.unwrapped.privileged_state()`` in every mode. ``info["is_success"]`` reports the task's test.
Episodes are truncated by gymnasium's ``TimeLimit`` (``max_episode_steps`` at the default 30 Hz);
``gym.make_vec(id, num_envs=N)`` returns the batched env of :mod:`sim.vector_env`. A task may move the scene
before each step (the hand's wrist lift).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.robot.spec import CameraSpec
from twinarm.sim.arm_hand_scene import SO101_AMAZING_HAND_SIM, ArmHandScene
from twinarm.sim.arm_hand_tasks import ARM_HAND_TASKS
from twinarm.sim.arm_tasks import ARM_TASKS, KOCH_LAYOUT, KOCH_TASKS, ArmScene
from twinarm.sim.hand_scene import HandScene
from twinarm.sim.hand_tasks import HAND_TASKS
from twinarm.sim.hopejr import HOPEJR_ARM_HAND_LAYOUT, HOPEJR_SIM, HOPEJR_TASKS
from twinarm.sim.hopejr_arm import HOPEJR_ARM_LAYOUT, HOPEJR_ARM_SIM, HOPEJR_ARM_TASKS
from twinarm.sim.hopejr_hand import HOPEJR_HAND_SIM, HOPEJR_HAND_TASKS, HOPEJR_LAYOUT
from twinarm.sim.leap_hand import LEAP_LAYOUT, LEAP_TASKS
from twinarm.sim.modes import ObsMode, RewardMode, parse_mode, privileged_observation, privileged_spaces, task_reward
from twinarm.sim.randomize import RandomizeConfig, Randomizer, randomize_config
from twinarm.sim.reality import RealityLook
from twinarm.sim.sim_params import SimParams
from twinarm.sim.sim_robot import (
    AMAZING_HAND_SIM,
    DEFAULT_PARAMS,
    KOCH_SIM,
    LEAP_HAND_SIM,
    SO101_SIM,
    SimModel,
    SimRobot,
)
from twinarm.sim.tasks import Task


class TaskFamily(NamedTuple):
    """The tasks of one simulated robot: ``tasks`` by task id (:class:`sim.tasks.Task` classes; the id is what
    envs, experts and datasets name a task by; a class's ``name`` is its rule, which robots may share), ``scene`` builds
    handles to the scene objects from a connected SimRobot, ``cameras`` are the default observation cameras,
    ``env_name`` turns a task name into the middle of its gymnasium id."""

    model: SimModel
    tasks: dict[str, type[Task]]
    scene: Callable[[SimRobot], Any]
    cameras: tuple[str, ...]
    env_name: Callable[[str], str]


SO101_FAMILY = TaskFamily(SO101_SIM, ARM_TASKS, ArmScene, ("front", "wrist"), lambda t: f"SO101{t.capitalize()}")
KOCH_FAMILY = TaskFamily(
    KOCH_SIM,
    KOCH_TASKS,
    functools.partial(ArmScene, layout=KOCH_LAYOUT),
    ("front", "wrist"),
    lambda t: "Koch" + KOCH_TASKS[t].name.capitalize(),
)
AMAZING_HAND_FAMILY = TaskFamily(
    AMAZING_HAND_SIM, HAND_TASKS, HandScene, (), lambda t: "AmazingHand" + t.title().replace("_", "")
)
SO101_AMAZING_HAND_FAMILY = TaskFamily(
    SO101_AMAZING_HAND_SIM,
    ARM_HAND_TASKS,
    ArmHandScene,
    ("front", "wrist"),
    lambda t: "SO101AmazingHand" + t.title().replace("_", ""),
)
LEAP_HAND_FAMILY = TaskFamily(
    LEAP_HAND_SIM,
    LEAP_TASKS,
    functools.partial(HandScene, layout=LEAP_LAYOUT),
    (),
    lambda t: "LeapHand" + LEAP_TASKS[t].name.title().replace("_", ""),
)
# The HopeJR arm (sim.hopejr_arm): the arm family's reach rule, its own layout, one front camera.
HOPEJR_ARM_FAMILY = TaskFamily(
    HOPEJR_ARM_SIM,
    HOPEJR_ARM_TASKS,
    functools.partial(ArmScene, layout=HOPEJR_ARM_LAYOUT),
    ("front",),
    lambda t: "HopeJRArm" + HOPEJR_ARM_TASKS[t].name.capitalize(),
)
# the HopeJR hand (sim.hopejr_hand): task hopejr_grasp = env twinarm/HopeJRHandGrasp-v0
HOPEJR_HAND_FAMILY = TaskFamily(
    HOPEJR_HAND_SIM,
    HOPEJR_HAND_TASKS,
    functools.partial(HandScene, layout=HOPEJR_LAYOUT),
    (),
    lambda t: "HopeJRHand" + HOPEJR_HAND_TASKS[t].name.title().replace("_", ""),
)
# HopeJR, arm + hand (sim.hopejr): task hopejr_dexterous_lift = env twinarm/HopeJRDexterousLift-v0
HOPEJR_FAMILY = TaskFamily(
    HOPEJR_SIM,
    HOPEJR_TASKS,
    functools.partial(ArmHandScene, layout=HOPEJR_ARM_HAND_LAYOUT),
    ("front", "wrist"),
    lambda t: "HopeJR" + HOPEJR_TASKS[t].name.title().replace("_", ""),
)
#: Every task family; importing this module registers their tasks as gymnasium ids. The model registry
#: (``twinarm.compose.registry``) binds each family to its robot model.
FAMILIES: tuple[TaskFamily, ...] = (
    SO101_FAMILY,
    KOCH_FAMILY,
    AMAZING_HAND_FAMILY,
    SO101_AMAZING_HAND_FAMILY,
    LEAP_HAND_FAMILY,
    HOPEJR_ARM_FAMILY,
    HOPEJR_HAND_FAMILY,
    HOPEJR_FAMILY,
)

#: Every twinarm/ environment by task name (task names are unique across robots).
ENV_IDS: dict[str, str] = {task: f"twinarm/{family.env_name(task)}-v0" for family in FAMILIES for task in family.tasks}
SO101_ENV_IDS = {task: ENV_IDS[task] for task in ARM_TASKS}
KOCH_ENV_IDS = {task: ENV_IDS[task] for task in KOCH_TASKS}
HAND_ENV_IDS = {task: ENV_IDS[task] for task in HAND_TASKS}
LEAP_ENV_IDS = {task: ENV_IDS[task] for task in LEAP_TASKS}


def env_id(task: str) -> str:
    """The gymnasium id of a task name (``lift``) or an id given as is."""
    if task in ENV_IDS.values():
        return task
    find_task(task)
    return ENV_IDS[task]


def family_of(robot: str) -> TaskFamily:
    """The task family of robot model ``robot``; a ConfigError lists the robots with simulated tasks."""
    for family in FAMILIES:
        if family.model.spec.name == robot:
            return family
    valid = ", ".join(f.model.spec.name for f in FAMILIES)
    raise ConfigError(f"no simulated tasks for robot {robot!r}; valid robots: {valid}")


def task_for_robot(task: str, robot: str) -> str:
    """The task of robot model ``robot`` that ``task`` names: one of its own task names as is, or the rule's name
    the robots share (``lift`` is ``koch_lift`` on the Koch: its :class:`sim.tasks.Task` ``name``); a ConfigError
    lists the robot's tasks."""
    family = family_of(robot)
    if task in family.tasks:
        return task
    found = [name for name, cls in family.tasks.items() if cls.name == task]
    if not found:
        raise ConfigError(f"robot {robot!r} has no task {task!r}; valid tasks: {', '.join(family.tasks)}")
    return found[0]


def find_task(task: str) -> tuple[str, TaskFamily]:
    """The robot model (name) that task ``task`` runs on, and that robot's family; ConfigError lists the tasks."""
    for family in FAMILIES:
        if task in family.tasks:
            return family.model.spec.name, family
    raise ConfigError(f"unknown task {task!r}; valid tasks: {', '.join(ENV_IDS)}")


class TaskEnv(gym.Env):
    """Task ``task`` of robot ``robot``. ``cameras``: observation cameras (None: the robot's defaults; ``()`` for
    state only), rendered at ``image_size`` (height, width). ``control_hz`` [Hz] sets the step period.
    ``sim_params``: the robot's servo models, latency and sensing (see :class:`SimRobot`; "" = its default).
    ``obs_mode`` and ``reward_mode``: see :mod:`sim.modes` (only ``rgb`` renders cameras). ``randomize``: domain
    randomization drawn at every reset (:mod:`sim.randomize`: ``none``, ``physics``, ``full``, with overrides),
    seeded by ``reset(seed=...)``. ``appearance``: show hidden reality ``appearance``'s look (:class:`sim.reality.
    RealityLook`: held-out colours, light, camera, image effects; None: the scene as modelled)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        task: str = "lift",
        robot: str = "so101",
        cameras: Sequence[str] | None = None,
        image_size: tuple[int, int] = (96, 96),
        control_hz: float = 30.0,
        render_mode: str | None = None,
        sim_params: SimParams | str | None = DEFAULT_PARAMS,
        obs_mode: str | ObsMode = ObsMode.RGB,
        reward_mode: str | RewardMode = RewardMode.DENSE,
        randomize: RandomizeConfig | str | None = "none",
        appearance: int | None = None,
    ) -> None:
        family = family_of(robot)
        if task not in family.tasks:
            raise ConfigError(f"unknown {robot} task {task!r}; valid tasks: {', '.join(family.tasks)}")
        self.obs_mode = parse_mode(ObsMode, obs_mode)
        self.reward_mode = parse_mode(RewardMode, reward_mode)
        cams = family.cameras if cameras is None else tuple(cameras)
        if self.obs_mode is not ObsMode.RGB:
            if cameras:
                raise ConfigError(f"obs_mode={self.obs_mode.value!r} has no images; cameras {cams} need obs_mode='rgb'")
            cams = ()
        spec = family.model.spec.with_rate(control_hz).with_cameras(tuple(CameraSpec(c, *image_size) for c in cams))
        self.family = family
        self.robot = SimRobot(family.model, spec, params=sim_params)
        self.task = family.tasks[task]()
        self.observation_space = spec.observation_space()
        self.action_space = spec.action_space()
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": control_hz}
        self._scene: Any = None
        self.randomizer = Randomizer(randomize_config(randomize))
        self._randomize_rng: np.random.Generator | None = None
        self.look = None if appearance is None else RealityLook(int(appearance))
        if self.obs_mode is ObsMode.PRIVILEGED:  # the entries' shapes come from a started task (no cameras here)
            self.connect()
            self.task.start(self._scene, np.random.default_rng(0))
            self.observation_space = gym.spaces.Dict(
                {**self.observation_space.spaces, **privileged_spaces(self.privileged_state())}
            )

    def connect(self) -> None:
        """Load the model, the scene handles and the camera renderers now (``reset`` does it the first time
        otherwise); calling it again does nothing. Renderers belong to the calling thread."""
        if not self.robot.is_connected:
            self.robot.connect()
            self._scene = self.family.scene(self.robot)
            if self.look is not None:  # before any randomization binds: the look is its pristine scene
                self.look.apply(self.robot)

    def _observe(self, privileged: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        obs = self.randomizer.augment(self.robot.get_observation())
        if self.look is not None:
            obs = self.look.augment(obs)
        if self.obs_mode is ObsMode.PRIVILEGED:
            obs.update(privileged_observation(privileged))
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        self.connect()
        if self.randomizer.active:  # its own stream: the task's draws stay those of randomize=none
            if seed is not None or self._randomize_rng is None:
                self._randomize_rng = np.random.default_rng(None if seed is None else [seed, 13])
            self.randomizer.apply(self.robot, self._randomize_rng)
        self.task.start(self._scene, self.np_random)  # the task moves the scene before each step from now on
        privileged = self.privileged_state()
        return self._observe(privileged), {"is_success": False, "privileged": privileged}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        sent = self.robot.send_action(action)
        privileged = self.privileged_state()
        obs = self._observe(privileged)
        reward, success = self.task.evaluate(self._scene)
        info = {"is_success": success, "action_sent": sent, "privileged": privileged}
        return obs, task_reward(self.reward_mode, reward, success), False, False, info

    def privileged_state(self) -> dict[str, np.ndarray]:
        """Simulator-only state of the task (object poses [m, quaternion w x y z], targets, grasp point)."""
        return self.task.privileged(self._scene)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return self.robot.render("front", 240, 320)

    def close(self) -> None:
        self.robot.disconnect()
        self._scene = None


for _family in FAMILIES:
    for _task, _cls in _family.tasks.items():
        if ENV_IDS[_task] not in gym.registry:
            gym.register(
                id=ENV_IDS[_task],
                entry_point="twinarm.sim.envs:TaskEnv",
                vector_entry_point="twinarm.sim.vector_env:BatchedTaskEnv",
                kwargs={"task": _task, "robot": _family.model.spec.name},
                max_episode_steps=_cls.max_steps,
            )
