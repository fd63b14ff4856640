"""SimRobot: a MuJoCo model behind the shared Robot contract.

Per-robot code is data (:class:`SimModel`: the shared spec, the scene file, a home pose, the motor transmission).
Each ``send_action`` writes the clipped joint targets to the position actuators (through the transmission when the
model's actuators are motors, as on the Amazing Hand) and advances ``n_substeps`` physics steps, so one call is one
control period of ``1 / spec.control_hz`` [s]. The physics timestep is chosen to divide that period exactly.
Everything is deterministic for a given seed and action sequence.

Servo models, latency and sensing come from sim parameters (:mod:`sim.sim_params`): a preset name, a
``sim_params.json`` path or a :class:`SimParams`, applied to the compiled model in place at ``connect``; the
default is the model's identified preset (its ``SimModel.physics``, :func:`sim.servo_models.default_params`).
Commands reach the actuators ``action_delay_s`` late (physics-step resolution) through the backlash play;
observations are quantized and, if configured, noisy (:class:`sim.actuation.ServoEffects`).
Calibrated cameras in the sim parameters (``SimParams.cameras``, :mod:`sim.camera_alignment`) are placed at
``connect``, rendered at their calibrated aspect and brought to the observation size by ``fit_image``, like
hardware frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import mujoco
import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.robot.models import AMAZING_HAND, KOCH, LEAP_HAND, SO101
from twinarm.robot.observation import fit_image
from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, RobotSpec, image_key
from twinarm.robot.transmission import LinearTransmission, finger_pairs
from twinarm.sim.actuation import ServoEffects, apply_params
from twinarm.sim.camera_alignment import apply_camera, render_size
from twinarm.sim.mjcf_compose import Composition
from twinarm.sim.render import CameraRenderer
from twinarm.sim.servo_models import (
    AMAZING_HAND_PHYSICS,
    KOCH_PHYSICS,
    LEAP_HAND_PHYSICS,
    SO101_PHYSICS,
    resolve_params,
)
from twinarm.sim.servo_physics import MJCF_ONLY, ServoPhysics
from twinarm.sim.sim_params import SimParams

MODELS_DIR = Path(__file__).resolve().parent / "models"

#: ``SimRobot(params=DEFAULT_PARAMS)``: the model's default sim parameters (``SimModel.physics.default``).
DEFAULT_PARAMS = ""


class SimModel(NamedTuple):
    """A robot model in simulation.

    ``home``: joint positions [rad] at reset (spec order). ``transmission``: joint space -> actuator (motor) space,
    None when there is one position actuator per joint. ``max_timestep_s``: the largest physics step [s].
    ``physics``: its servo physics (sim-parameter presets, default preset, hidden-reality family; sim.servo_models).
    ``composition``: how the model is made from ``xml`` and other models' files (``sim.mjcf_compose``; None: ``xml``
    is the whole model).
    """

    spec: RobotSpec
    xml: Path
    home: tuple[float, ...]
    transmission: LinearTransmission | None = None
    max_timestep_s: float = 0.002
    physics: ServoPhysics = MJCF_ONLY
    composition: Composition | None = None

    def load(self) -> mujoco.MjModel:
        """The compiled MuJoCo model (a fresh one per call); ConfigError names a missing file or element."""
        if self.composition is not None:
            return self.composition.compile(self.xml)
        if not self.xml.is_file():
            raise ConfigError(f"sim model file {self.xml} does not exist")
        return mujoco.MjModel.from_xml_path(str(self.xml))


# A ready pose: grasp point 8 cm above the table at x = 0.2 m, pointing down, jaws open (solved with sim.ik).
SO101_HOME = (0.0, -0.35, 0.41, 1.51, 0.0, 0.6)
SO101_SIM = SimModel(spec=SO101, xml=MODELS_DIR / "scene_so101.xml", home=SO101_HOME, physics=SO101_PHYSICS)

# The Koch v1.1 follower (models/koch.xml): home = grasp point 6 cm above the table at x = 0.13 m, pointing down, jaws
# open (solved with sim.ik; the pan and roll offsets centre the off-axis grasp point on y = 0).
KOCH_HOME = (-0.15, 0.26, -0.27, 1.58, -0.15, 1.0)
KOCH_SIM = SimModel(spec=KOCH, xml=MODELS_DIR / "scene_koch.xml", home=KOCH_HOME, physics=KOCH_PHYSICS)

# The Amazing Hand (right): 8 joints driven by 8 servos through tendons mixing each finger's pair like
# robot.transmission.finger_pairs; home = the open hand (flexion -0.6 rad, abduction 0: sim.hand_scene.OPEN_POSE).
AMAZING_HAND_SIM = SimModel(
    spec=AMAZING_HAND,
    xml=MODELS_DIR / "scene_hand.xml",
    home=(-0.6, 0.0) * (AMAZING_HAND.num_joints // 2),
    transmission=finger_pairs(len(AMAZING_HAND.joints) // 2),
    physics=AMAZING_HAND_PHYSICS,
)


# The LEAP Hand (right; models/leap_hand.xml): one position actuator per joint; home = the flat hand (the LEAPsim
# zero) with the thumb's side joint at 0 as well.
LEAP_HAND_SIM = SimModel(
    spec=LEAP_HAND,
    xml=MODELS_DIR / "scene_leap_hand.xml",
    home=(0.0,) * LEAP_HAND.num_joints,
    physics=LEAP_HAND_PHYSICS,
)


def _index(ids: np.ndarray) -> slice | np.ndarray:
    """A slice when ``ids`` are consecutive (cheaper to index with on the hot path), else the array."""
    if len(ids) and np.array_equal(ids, np.arange(ids[0], ids[0] + len(ids))):
        return slice(int(ids[0]), int(ids[0]) + len(ids))
    return ids


class SimRobot(Robot):
    """The simulated twin of a robot model. ``spec`` may override the model spec's cameras and rate (not joints)."""

    def __init__(
        self,
        model: SimModel = SO101_SIM,
        spec: RobotSpec | None = None,
        seed: int = 0,
        params: SimParams | str | None = DEFAULT_PARAMS,
    ) -> None:
        spec = model.spec if spec is None else spec
        if spec.joint_names != model.spec.joint_names:
            raise ConfigError(
                f"sim model {model.spec.name!r} has joints {model.spec.joint_names}; spec has {spec.joint_names}"
            )
        super().__init__(spec)
        self.sim_model = model
        self.seed = seed
        # ``params``: "" = the model's default preset, a preset name or a sim_params.json path, None = the MJCF as is
        self.sim_params: SimParams | None = resolve_params(model, params)
        self._effects: ServoEffects | None = None
        self.model: mujoco.MjModel | None = None
        self.data: mujoco.MjData | None = None
        self._renderer: CameraRenderer | None = None
        self._views: dict[tuple[str, int, int], CameraRenderer] = {}
        self._fit: dict[str, tuple[int, int]] = {}  # calibrated cameras: observation (height, width) [px]
        self.n_substeps = max(1, math.ceil(spec.control_period_s / model.max_timestep_s - 1e-9))
        self.timestep_s = spec.control_period_s / self.n_substeps
        #: Runs before each control period is simulated: a scene that moves by itself (``sim.tasks.Task.start``).
        self.before_step: Callable[[], None] | None = None

    # -- Robot hooks ----------------------------------------------------------------------------------------
    def _connect(self) -> None:
        m = self.sim_model.load()
        m.opt.timestep = self.timestep_s
        self.model, self.data = m, mujoco.MjData(m)
        names = self.spec.joint_names
        missing = [n for n in names if mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) < 0]
        if missing:
            raise ConfigError(f"{self.sim_model.xml.name}: joints {missing} of spec {self.spec.name!r} are missing")
        jids = np.array([m.joint(n).id for n in names])
        self._qpos = _index(m.jnt_qposadr[jids])
        self._qvel = _index(m.jnt_dofadr[jids])
        n_act = len(names) if self.sim_model.transmission is None else self.sim_model.transmission.size
        if m.nu < n_act:
            raise ConfigError(f"{self.sim_model.xml.name}: {m.nu} actuators, the robot needs {n_act}")
        self._ctrl = slice(0, n_act)
        self._act_names = act_names = tuple(m.actuator(i).name for i in range(n_act))
        if self.sim_params is not None:
            apply_params(m, self.sim_params, act_names)
        self._effects = ServoEffects(m, self.sim_params, act_names, seed=self.seed)
        sizes = {c.name: (c.height, c.width) for c in self.spec.cameras}
        for cal in self.sim_params.cameras if self.sim_params is not None else ():
            apply_camera(m, cal)
            if cal.camera in sizes:
                self._fit[cal.camera] = sizes[cal.camera]
                sizes[cal.camera] = render_size(cal, sizes[cal.camera])
        if sizes:
            self._renderer = CameraRenderer(m, sizes)
        self._reset_physics(np.asarray(self.sim_model.home, dtype=np.float64))

    def _disconnect(self) -> None:
        for renderer in [self._renderer, *self._views.values()]:
            if renderer is not None:
                renderer.close()
        self._renderer, self._views, self._fit = None, {}, {}
        self.model = self.data = None

    def _get_observation(self) -> Observation:
        d = self.data
        pos, vel = self._effects.sense(d.qpos[self._qpos], d.qvel[self._qvel])
        obs = {JOINT_POS: pos.astype(np.float32), JOINT_VEL: vel.astype(np.float32)}
        if self._renderer is not None:
            for cam in self.spec.cameras:
                image = self._renderer.render(d, cam.name)
                obs[image_key(cam.name)] = fit_image(image, self._fit[cam.name]) if cam.name in self._fit else image
        return obs

    def _send_action(self, target: np.ndarray) -> None:
        if self.before_step is not None:
            self.before_step()
        self._effects.step(self.model, self.data, self._to_actuators(target), self.n_substeps)

    def set_sim_params(self, params: SimParams, seed: int | None = None) -> None:
        """Run ``params`` (same actuators) from the next reset on, written into the model in place (domain
        randomization, :mod:`sim.randomize`); ``seed`` reseeds the sensing noise (None: the robot's seed).
        ``sim_params`` keeps the values given at construction."""
        self._require_connected("set_sim_params")
        apply_params(self.model, params, self._act_names)
        self._effects = ServoEffects(self.model, params, self._act_names, seed=self.seed if seed is None else seed)

    # -- simulation -----------------------------------------------------------------------------------------
    def _to_actuators(self, target: np.ndarray) -> np.ndarray:
        tr = self.sim_model.transmission
        return target if tr is None else tr.to_motor(target)

    def reset(self, joint_pos: np.ndarray | None = None) -> None:
        """Reset the physics to the model's initial state with the robot at ``joint_pos`` [rad] (default: home).

        Objects are where the scene file puts them; tasks move them afterwards (then call ``mj_forward``).
        """
        self._require_connected("reset")
        q = np.asarray(self.sim_model.home if joint_pos is None else joint_pos, dtype=np.float64)
        self._reset_physics(q)
        self.reset_target(q)

    def _reset_physics(self, q: np.ndarray) -> None:
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[self._qpos] = q
        ctrl = self._to_actuators(q)
        self.data.ctrl[self._ctrl] = ctrl
        self._effects.reset(self.model, ctrl)
        mujoco.mj_forward(self.model, self.data)

    def render(self, camera: str, height: int = 240, width: int = 320) -> np.ndarray:
        """An extra view (e.g. for videos), independent of the observation cameras; (H, W, 3) uint8."""
        self._require_connected("render")
        key = (camera, height, width)
        if key not in self._views:
            self._views[key] = CameraRenderer(self.model, {camera: (height, width)})
        return self._views[key].render(self.data, camera)
