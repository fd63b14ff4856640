"""Domain randomization per episode: seeded, reproducible, applied to the compiled MjModel in place.

A :class:`RandomizeConfig` is a frozen set of ranges (identity = no change); presets ``none``, ``physics`` and
``full`` (:data:`PRESETS`), any range overridable (:func:`randomize_config`, e.g. ``"full,kp_scale=0.7:1.3"``).
A :class:`Randomizer` bound to a connected :class:`SimRobot` draws one episode from a numpy Generator and writes it
into the model before the task resets (``TaskEnv(randomize=...)``):

- physics around the identified servo models, through the sim-parameters path (``SimRobot.set_sim_params``): kp,
  force limit, damping, frictionloss, armature (factors per joint), backlash [rad] added per joint, action delay
  0-2 control periods added; joint offsets (calibration error, [rad]) as a rotation of each link about its joint
  axis (the servo reading stays what the servo believes); object (``cube``) size, mass and friction factors;
- vision (:mod:`sim.randomize_vision`): geom and material colours, light direction and intensity, camera pose and
  field of view, and image noise and blur on the rendered observation frames.

Every episode starts from a pristine copy of the fields it writes (taken at bind time) and the nominal sim
parameters, so nothing drifts across episodes; the ``none`` config touches nothing (the model stays bit-identical).
No recompilation: only ``mj_setConst`` refreshes the derived constants.

Ranges: the issue's figures from public practice for low-cost arms (ManiSkill's SO-100 digital twin, MuJoCo
Playground's LEAP and Franka recipes: gains and friction +-20-50 %, action delay, camera +-2.5 cm / +-5 deg, FOV
+-2 deg, colours, light, object size/mass/friction), servo figures from reference/servos.md.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import mujoco
import numpy as np
from twinarm.robot.errors import ConfigError
from twinarm.sim import randomize_vision as vision
from twinarm.sim.sim_params import SimParams

if TYPE_CHECKING:
    from twinarm.sim.sim_robot import SimRobot

Span = tuple[float, float]
_ONE: Span = (1.0, 1.0)
_ZERO: Span = (0.0, 0.0)


@dataclasses.dataclass(frozen=True)
class RandomizeConfig:
    """Uniform ranges drawn once per episode. ``*_scale``: factors on the nominal value; ``backlash_rad``: added to
    each joint's play [rad]; ``delay_steps``: whole control periods added to the action delay (inclusive);
    ``joint_offset_rad``: +- calibration error per joint [rad]; ``object_*``: factors on the bodies named in
    ``objects`` (size scales every geom of the body uniformly); vision ranges: see :mod:`sim.randomize_vision`."""

    kp_scale: Span = _ONE
    force_limit_scale: Span = _ONE
    damping_scale: Span = _ONE
    frictionloss_scale: Span = _ONE
    armature_scale: Span = _ONE
    backlash_rad: Span = _ZERO
    delay_steps: tuple[int, int] = (0, 0)
    joint_offset_rad: float = 0.0
    objects: tuple[str, ...] = ("cube",)
    object_size_scale: Span = _ONE
    object_mass_scale: Span = _ONE
    object_friction_scale: Span = _ONE
    rgb_jitter: float = 0.0
    light_dir_deg: float = 0.0
    light_scale: Span = _ONE
    camera_pos_m: float = 0.0
    camera_rot_deg: float = 0.0
    camera_fovy_deg: float = 0.0
    image_noise_std: Span = _ZERO
    image_blur_px: Span = _ZERO

    def replace(self, **changes: Any) -> RandomizeConfig:
        return dataclasses.replace(self, **changes)

    @property
    def servo_active(self) -> bool:
        servo = (self.kp_scale, self.force_limit_scale, self.damping_scale, self.frictionloss_scale)
        return (
            any(s != _ONE for s in (*servo, self.armature_scale))
            or self.backlash_rad != _ZERO
            or self.delay_steps != (0, 0)
        )

    @property
    def active(self) -> bool:
        return self != dataclasses.replace(RandomizeConfig(), objects=self.objects)


NONE = RandomizeConfig()
PHYSICS = RandomizeConfig(
    kp_scale=(0.8, 1.2),  # issue 13: gains +-20-50 % in public practice; +-20 % ~ the 6 V / 5 V supply spread
    force_limit_scale=(0.8, 1.2),  # servos.md: stall torque 1.4-1.6 N·m (7.4 V servo on 5 V) and supply sag
    damping_scale=(0.7, 1.3),  # issue 13: friction/damping +-20-50 %
    frictionloss_scale=(0.5, 1.5),  # issue 13: friction up to +-50 % (Coulomb friction is the least certain figure)
    armature_scale=(0.8, 1.2),
    backlash_rad=(0.0, float(np.deg2rad(0.5))),  # hidden-reality family: 0-0.5 deg gear play (servos.md)
    delay_steps=(0, 2),  # issue 13: action delay 0-2 control steps on top of the identified latency
    joint_offset_rad=float(np.deg2rad(2.0)),  # issue 13: calibration error +-2 deg
    object_size_scale=(0.9, 1.1),  # issue 13: object size; +-10 % keeps the 25 mm cube within the open jaws
    object_mass_scale=(0.7, 1.3),  # issue 13: object mass
    object_friction_scale=(0.7, 1.3),  # issue 13: object friction
)
FULL = PHYSICS.replace(
    rgb_jitter=0.1,  # issue 13: table, cube and robot colours (+-0.1 per channel, 0-1 scale)
    light_dir_deg=30.0,  # issue 13: lighting direction (tilt of the top light)
    light_scale=(0.6, 1.4),  # issue 13: lighting intensity
    camera_pos_m=0.025,  # issue 13 / ManiSkill SO-100 twin: camera pose +-2.5 cm
    camera_rot_deg=5.0,  # issue 13: +-5 deg
    camera_fovy_deg=2.0,  # issue 13: FOV +-2 deg
    image_noise_std=(0.0, 4.0),  # [uint8 levels] sensor noise, per pixel and frame
    image_blur_px=(0.0, 1.0),  # [px] Gaussian blur sigma (focus / motion)
)
PRESETS: dict[str, RandomizeConfig] = {"none": NONE, "physics": PHYSICS, "full": FULL}


def _value(field: dataclasses.Field, text: str, spec: str) -> Any:
    try:
        if field.name == "objects":
            return tuple(t for t in text.split(":") if t)
        parts = [float(t) for t in text.split(":")]
        if field.name == "delay_steps":
            parts = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"randomize={spec!r}: {field.name}={text!r} is not a number (ranges: LOW:HIGH)") from None
    if isinstance(field.default, tuple):
        if len(parts) != 2 or parts[0] > parts[1]:
            raise ConfigError(f"randomize={spec!r}: {field.name} needs a range LOW:HIGH with LOW <= HIGH")
        return tuple(parts)
    if len(parts) != 1 or parts[0] < 0:
        raise ConfigError(f"randomize={spec!r}: {field.name} needs one half-width >= 0")
    return parts[0]


def randomize_config(spec: str | RandomizeConfig | None) -> RandomizeConfig:
    """A config from a preset name with optional overrides (``"full,camera_pos_m=0.01,kp_scale=0.7:1.3"``),
    a config as is, or None / "" (none). ConfigError names the preset or range at fault and what is valid."""
    if isinstance(spec, RandomizeConfig):
        return spec
    name, *overrides = [t.strip() for t in (spec or "none").split(",")]
    if name not in PRESETS:
        raise ConfigError(f"randomize={spec!r}: unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    fields = {f.name: f for f in dataclasses.fields(RandomizeConfig)}
    changes = {}
    for item in overrides:
        key, _, text = item.partition("=")
        if key not in fields:
            raise ConfigError(f"randomize={spec!r}: unknown range {key!r}; valid: {', '.join(fields)}")
        changes[key] = _value(fields[key], text, spec)
    return PRESETS[name].replace(**changes)


def _uniform(rng: np.random.Generator, span: Span, n: int | None = None) -> Any:
    return rng.uniform(span[0], span[1], n) if span[0] != span[1] else (np.full(n, span[0]) if n else span[0])


def _axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_axisAngle2Quat(quat, axis, angle)
    return quat


class Randomizer:
    """Draws and applies episodes of ``config`` to one robot's model; :meth:`apply` before the task's reset."""

    _FIELDS = ("body_pos", "body_quat", "body_mass", "body_inertia", "geom_size", "geom_rbound", "geom_aabb",
               "geom_pos", "geom_friction")  # fmt: skip

    def __init__(self, config: RandomizeConfig) -> None:
        self.config = config
        self._model: mujoco.MjModel | None = None
        self._pristine: dict[str, np.ndarray] = {}
        self._nominal: SimParams | None = None
        self.params: SimParams | None = None  # the sim parameters of the current episode (servo ranges only)
        self.image = vision.ImageEffects()
        self._rng = np.random.default_rng(0)

    @property
    def active(self) -> bool:
        return self.config.active

    def _bind(self, robot: SimRobot) -> None:
        m = robot.model
        if self.config.servo_active and robot.sim_params is None:
            raise ConfigError("randomizing servo models needs sim parameters (sim.params is 'xml'); use a preset")
        self._model, self._nominal = m, robot.sim_params
        self._pristine = {f: getattr(m, f).copy() for f in self._FIELDS}
        self._pristine.update(vision.capture(m))
        self._objects = [
            m.body(n).id for n in self.config.objects if mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, n) >= 0
        ]
        self._joints = [m.joint(n).id for n in robot.spec.joint_names]

    def apply(self, robot: SimRobot, rng: np.random.Generator) -> None:
        """Draw an episode from ``rng`` and write it into ``robot``'s model (connected), from the pristine values."""
        if not self.active:
            return
        if robot.model is not self._model:
            self._bind(robot)
        m, c = robot.model, self.config
        for name, value in self._pristine.items():
            vision.restore(m, name, value)
        self._rng = np.random.default_rng(rng.integers(2**63))
        if c.servo_active:
            self.params = self._servo_params(robot, rng)
            robot.set_sim_params(self.params, seed=int(rng.integers(2**31)))
        if c.joint_offset_rad:
            for j in self._joints:
                self._offset_joint(m, j, float(rng.uniform(-c.joint_offset_rad, c.joint_offset_rad)))
        for b in self._objects:
            factors = (c.object_size_scale, c.object_mass_scale, c.object_friction_scale)
            self._scale_object(m, b, *(float(_uniform(rng, f)) for f in factors))
        vision.draw(m, c, rng, self._pristine)
        noise, blur = float(_uniform(rng, c.image_noise_std)), float(_uniform(rng, c.image_blur_px))
        self.image = vision.ImageEffects.drawn(noise, blur, self._rng)
        mujoco.mj_setConst(m, mujoco.MjData(m))  # masses and link frames changed: refresh the derived constants

    def _servo_params(self, robot: SimRobot, rng: np.random.Generator) -> SimParams:
        c, nominal = self.config, self._nominal
        joints = {}
        for name, jp in nominal.joints.items():
            f = {
                k: float(_uniform(rng, getattr(c, f"{k}_scale")))
                for k in ("kp", "force_limit", "damping", "frictionloss", "armature")
            }
            out = jp.scaled(**f)._replace(backlash=jp.backlash + float(_uniform(rng, c.backlash_rad)))
            if jp.overload_force_limit is not None:  # the cut-back is a fraction of the same stall torque
                out = out._replace(overload_force_limit=jp.overload_force_limit * f["force_limit"])
            joints[name] = out
        steps = int(rng.integers(c.delay_steps[0], c.delay_steps[1] + 1))
        delay = nominal.action_delay_s + steps * robot.spec.control_period_s
        return nominal.replace(joints=joints, action_delay_s=delay, name=f"{nominal.name}+randomized")

    @staticmethod
    def _offset_joint(m: mujoco.MjModel, joint: int, angle: float) -> None:
        """Rotate the joint's body by ``angle`` [rad] about the joint axis (through the joint's anchor)."""
        body = m.jnt_bodyid[joint]
        rot = _axis_rotation(m.jnt_axis[joint], angle)
        quat = np.zeros(4)
        mujoco.mju_mulQuat(quat, m.body_quat[body], rot)
        anchor, shifted = m.jnt_pos[joint], np.zeros(3)
        mujoco.mju_rotVecQuat(shifted, anchor, rot)
        delta = np.zeros(3)
        mujoco.mju_rotVecQuat(delta, anchor - shifted, m.body_quat[body])
        m.body_quat[body], m.body_pos[body] = quat, m.body_pos[body] + delta

    @staticmethod
    def _scale_object(m: mujoco.MjModel, body: int, size: float, mass: float, friction: float) -> None:
        geoms = np.flatnonzero(m.geom_bodyid == body)  # bounding radius and box: recomputed by mj_setConst
        m.geom_size[geoms] *= size
        m.geom_pos[geoms] *= size
        m.geom_friction[geoms] *= friction
        m.body_mass[body] *= mass
        m.body_inertia[body] *= mass * size**2

    def augment(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The observation with this episode's image noise and blur on every camera frame (others unchanged)."""
        return self.image.apply(obs, self._rng) if self.active else obs
