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
  field of view, and image noise and blur on the rendered observation frames, each drawn from the training half of
  its range (:mod:`sim.held_out`); ``Randomizer(config, held_out=True)`` draws the other half (a reality's look).

Every episode starts from a pristine copy of the fields it writes (taken at bind time) and the nominal sim
parameters, so nothing drifts across episodes; the ``none`` config touches nothing (the model stays bit-identical).
No recompilation: only ``mj_setConst`` refreshes the derived constants.

Ranges and their sources: :mod:`sim.randomize_config`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco
import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.sim import randomize_vision as vision
from twinarm.sim.held_out import draw_in
from twinarm.sim.randomize_config import FULL, NONE, PHYSICS, PRESETS, RandomizeConfig, Span, randomize_config
from twinarm.sim.servo_physics import XML_PRESET
from twinarm.sim.sim_params import SimParams

if TYPE_CHECKING:
    from twinarm.sim.sim_robot import SimRobot


__all__ = ["FULL", "NONE", "PHYSICS", "PRESETS", "RandomizeConfig", "Randomizer", "randomize_config"]


def _uniform(rng: np.random.Generator, span: Span) -> float:
    """A draw from ``span``; a degenerate span consumes nothing from ``rng``."""
    return float(rng.uniform(*span)) if span[0] != span[1] else float(span[0])


def _axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_axisAngle2Quat(quat, axis, angle)
    return quat


class Randomizer:
    """Draws and applies episodes of ``config`` to one robot's model; :meth:`apply` before the task's reset."""

    _FIELDS = ("body_pos", "body_quat", "body_mass", "body_inertia", "geom_size", "geom_rbound", "geom_aabb",
               "geom_pos", "geom_friction")  # fmt: skip

    def __init__(self, config: RandomizeConfig, held_out: bool = False) -> None:
        self.config = config
        self._active = config.active  # the config is frozen: decided once, not per step (it compares dataclasses)
        self.held_out = held_out  # draw appearance from the held-out half of its ranges (a reality's look)
        self._model: mujoco.MjModel | None = None
        self._pristine: dict[str, np.ndarray] = {}
        self._nominal: SimParams | None = None
        self.params: SimParams | None = None  # the sim parameters of the current episode (servo ranges only)
        self.image = vision.ImageEffects()
        self._rng = np.random.default_rng(0)

    @property
    def active(self) -> bool:
        return self._active

    def _bind(self, robot: SimRobot) -> None:
        m = robot.model
        if self.config.servo_active and robot.sim_params is None:
            presets = ", ".join(p for p in robot.sim_model.physics.presets if p != XML_PRESET)
            raise ConfigError(
                f"randomizing the servo models of {robot.spec.name!r} needs sim parameters, and it runs the MJCF's own "
                f"figures (sim.params=xml); give sim.params a preset ({presets}) or a file, or randomize without "
                "servo ranges"
            )
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
            self._scale_object(m, b, *(_uniform(rng, f) for f in factors))
        vision.draw(m, c, rng, self._pristine, self.held_out)
        noise, blur = (self._split(rng, span) for span in (c.image_noise_std, c.image_blur_px))
        self.image = vision.ImageEffects.drawn(noise, blur, self._rng)
        mujoco.mj_setConst(m, mujoco.MjData(m))  # masses and link frames changed: refresh the derived constants

    def _servo_params(self, robot: SimRobot, rng: np.random.Generator) -> SimParams:
        c, nominal = self.config, self._nominal
        joints = {}
        for name, jp in nominal.joints.items():
            f = {
                k: _uniform(rng, getattr(c, f"{k}_scale"))
                for k in ("kp", "force_limit", "damping", "frictionloss", "armature")
            }
            out = jp.scaled(**f)._replace(backlash=jp.backlash + _uniform(rng, c.backlash_rad))
            if jp.overload_force_limit is not None:  # the cut-back is a fraction of the same stall torque
                out = out._replace(overload_force_limit=jp.overload_force_limit * f["force_limit"])
            joints[name] = out
        steps = int(rng.integers(c.delay_steps[0], c.delay_steps[1] + 1))
        delay = nominal.action_delay_s + steps * robot.spec.control_period_s
        return nominal.replace(joints=joints, action_delay_s=delay, name=f"{nominal.name}+randomized")

    def _split(self, rng: np.random.Generator, span: Span) -> float:
        """A draw from this randomizer's half of ``span`` (:mod:`sim.held_out`); nothing drawn when degenerate."""
        return draw_in(rng, *span, self.held_out) if span[0] != span[1] else float(span[0])

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
