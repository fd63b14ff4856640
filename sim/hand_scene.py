"""The Amazing Hand scene (``scene_hand.xml``): the episode's object as data, and handles to a connected SimRobot.

Frames: world z up, table top at z = 0, units [m]. The wrist (a mocap body welded to the hand's free joint, see
``sim/models/amazing_hand.xml``) holds the hand palm down, fingers along +x, at ``WRIST_HOME`` (80 mm above the
table). One object rests on the table under the palm; per episode it is drawn uniformly from:

* shape: sphere, upright cylinder or box, equally likely;
* size: sphere radius [20, 28] mm; cylinder radius [18, 25] mm, half-height [20, 27] mm; box half-extents
  [16, 23] x [16, 23] x [18, 25] mm;
* pose: centre x [40, 56] mm, y [-8, 8] mm (under the grasp centre), yaw [-30, 30] deg;
* density [300, 700] kg/m^3 (masses of about 10-75 g).

Those figures are the Amazing Hand's layout (:data:`AMAZING_LAYOUT`); a hand of another size brings its own
:class:`HandLayout` (the LEAP Hand's, :data:`LEAP_LAYOUT`, in ``sim.leap_hand``), handed to :class:`HandScene`.

Changing the object edits the model (the enabled geom, its size, the body's mass and inertia) and recomputes the
model's constants with ``mj_setConst``, which also refits the bounding volumes used by collision detection.
"""

from __future__ import annotations

from typing import NamedTuple

import mujoco
import numpy as np

from twinarm.robot.models import HAND_FINGERS
from twinarm.sim.sim_robot import SimRobot
from twinarm.sim.tasks import Box

WRIST_HOME = (0.0, 0.0, 0.08)  # [m], the mount pose of amazing_hand.xml
OPEN_FLEXION = -0.6  # [rad]: fingers bent back, thumb towards the wrist
OPEN_POSE = np.array([OPEN_FLEXION, 0.0] * len(HAND_FINGERS))  # (flexion, abduction) per finger, spec order
OBJECT_SHAPES = ("sphere", "cylinder", "box")
# geom sizes in MuJoCo's convention (sphere: r; cylinder: r, half-height; box: half-extents) [m]; unused = 0
OBJECT_SIZES = {
    "sphere": Box((0.020, 0.0, 0.0), (0.028, 0.0, 0.0)),
    "cylinder": Box((0.018, 0.020, 0.0), (0.025, 0.027, 0.0)),
    "box": Box((0.016, 0.016, 0.018), (0.023, 0.023, 0.025)),
}
OBJECT_XY_YAW = Box((0.040, -0.008, -np.pi / 6), (0.056, 0.008, np.pi / 6))
OBJECT_DENSITY = (300.0, 700.0)  # [kg/m^3]
OBJECT_PARKED = (0.25, 0.0)  # [m] x, y: on the table, out of the hand's reach


class HandLayout(NamedTuple):
    """One hand's scene figures: the wrist's mount position ``wrist_home`` [m], the ``open_pose`` (n,) [rad] grasps
    start from (spec order), and the object distribution: ``sizes`` per shape [m] (geom convention),
    ``xy_yaw`` (centre x, y [m], yaw [rad]), ``density`` [kg/m^3] (uniform draws)."""

    wrist_home: tuple[float, float, float]
    open_pose: np.ndarray
    sizes: dict[str, Box]
    xy_yaw: Box
    density: tuple[float, float]


AMAZING_LAYOUT = HandLayout(WRIST_HOME, OPEN_POSE, OBJECT_SIZES, OBJECT_XY_YAW, OBJECT_DENSITY)


class HandObject(NamedTuple):
    """The episode's object: ``shape`` in ``OBJECT_SHAPES``, ``size`` (3,) [m] (geom convention), ``mass`` [kg],
    centre ``x``, ``y`` [m] and ``yaw`` [rad] on the table."""

    shape: str
    size: tuple[float, float, float]
    mass: float
    x: float
    y: float
    yaw: float

    @property
    def half_height(self) -> float:
        """Height of the centre above the table when resting [m]."""
        return self.size[0] if self.shape == "sphere" else self.size[1] if self.shape == "cylinder" else self.size[2]


def sample_object(rng: np.random.Generator, layout: HandLayout = AMAZING_LAYOUT) -> HandObject:
    """An object drawn from ``layout``'s distribution (the Amazing Hand's: the module docstring)."""
    shape = OBJECT_SHAPES[int(rng.integers(len(OBJECT_SHAPES)))]
    size = layout.sizes[shape].sample(rng)
    x, y, yaw = layout.xy_yaw.sample(rng)
    mass = float(rng.uniform(*layout.density)) * _volume(shape, size)
    return HandObject(shape, (float(size[0]), float(size[1]), float(size[2])), mass, float(x), float(y), float(yaw))


PARKED_OBJECT = HandObject("sphere", (0.025, 0.0, 0.0), 0.04, *OBJECT_PARKED, 0.0)


def _volume(shape: str, s: np.ndarray) -> float:
    if shape == "sphere":
        return 4.0 / 3.0 * np.pi * s[0] ** 3
    if shape == "cylinder":
        return np.pi * s[0] ** 2 * 2.0 * s[1]
    return 8.0 * s[0] * s[1] * s[2]


def _inertia(obj: HandObject) -> np.ndarray:
    """Principal moments [kg m^2] about the centre, in the geom frame."""
    m, (a, b, c) = obj.mass, obj.size
    if obj.shape == "sphere":
        return np.full(3, 0.4 * m * a * a)
    if obj.shape == "cylinder":
        side = m * (3.0 * a * a + 4.0 * b * b) / 12.0
        return np.array([side, side, 0.5 * m * a * a])
    return m / 3.0 * np.array([b * b + c * c, a * a + c * c, a * a + b * b])


def _index(ids: list[int]) -> slice | np.ndarray:
    """A slice when ``ids`` are consecutive (a view: cheaper on the hot path), else an index array."""
    if ids == list(range(ids[0], ids[0] + len(ids))):
        return slice(ids[0], ids[0] + len(ids))
    return np.array(ids)


def _object_info(obj: HandObject) -> dict[str, np.ndarray]:
    """The object's constant privileged entries (every step's info gets copies)."""
    return {"object_shape": np.array(OBJECT_SHAPES.index(obj.shape)), "object_size": np.array(obj.size)}


def set_object(robot: SimRobot, geoms: dict[str, int], body: int, rgba: np.ndarray, obj: HandObject) -> None:
    """Enable ``obj``'s shape (of the object ``body``'s shape ``geoms``, drawn with ``rgba``) at its size and mass in
    ``robot``'s model; the other shapes neither collide nor show. Recomputes the model's derived constants (which
    resets the state) with ``mj_setConst``."""
    m = robot.model
    for shape, g in geoms.items():
        on = shape == obj.shape
        m.geom_contype[g] = 1 if on else 0
        m.geom_conaffinity[g] = 3 if on else 0
        m.geom_rgba[g, 3] = rgba[3] if on else 0.0
    m.geom_size[geoms[obj.shape]] = obj.size
    m.body_mass[body] = obj.mass
    m.body_inertia[body] = _inertia(obj)
    m.body_ipos[body] = 0.0
    m.body_iquat[body] = (1.0, 0.0, 0.0, 0.0)
    mujoco.mj_setConst(m, robot.data)


class HandScene:
    """Handles to the wrist, object and sites of a hand scene (``scene_hand.xml``, ``scene_leap_hand.xml``) in a
    connected SimRobot, with the hand's ``layout``. A finger with a ``{finger}_distal`` joint (the Amazing Hand's
    linkage) has it coupled to its flexion at reset; a hand without one has every joint actuated."""

    def __init__(self, robot: SimRobot, layout: HandLayout = AMAZING_LAYOUT) -> None:
        m = robot.model
        self.robot = robot
        self.layout = layout
        wrist = m.body("wrist").id
        self.wrist_mocap = m.body_mocapid[wrist]
        self.wrist_quat = m.body_quat[wrist].copy()
        self.mount_qpos = m.jnt_qposadr[m.joint("wrist_mount").id]
        self.mount_dof = m.jnt_dofadr[m.joint("wrist_mount").id]
        self.object_qpos = m.jnt_qposadr[m.joint("object").id]
        self.object_body = m.body("object").id
        self.object_geoms = {shape: m.geom(f"object_{shape}").id for shape in OBJECT_SHAPES}
        self.object_rgba = m.geom_rgba[self.object_geoms["sphere"]].copy()
        self.grasp_site = m.site("grasp_center").id
        self.tip_sites = _index([m.site(f"{f}_tip").id for f in HAND_FINGERS])  # finger tips, HAND_FINGERS order
        names = {m.joint(j).name for j in range(m.njnt)}
        coupled = [f for f in HAND_FINGERS if f"{f}_distal" in names]
        self.flexion_qpos = np.array([m.jnt_qposadr[m.joint(f"{f}_flexion").id] for f in coupled], dtype=int)
        self.distal_qpos = np.array([m.jnt_qposadr[m.joint(f"{f}_distal").id] for f in coupled], dtype=int)
        self.joint_qpos = np.array([m.jnt_qposadr[m.joint(n).id] for n in robot.spec.joint_names])
        self.object = PARKED_OBJECT
        self.object_info = _object_info(self.object)

    # -- model (per episode) ----------------------------------------------------------------------------------
    def configure_object(self, obj: HandObject) -> None:
        """Enable ``obj``'s shape at its size and mass; the other shapes neither collide nor show. Recomputes the
        model's derived constants, which resets the state: call :meth:`reset_robot` afterwards."""
        set_object(self.robot, self.object_geoms, self.object_body, self.object_rgba, obj)
        self.object = obj
        self.object_info = _object_info(obj)

    # -- state ------------------------------------------------------------------------------------------------
    def reset_robot(self, joint_pos: np.ndarray | None = None) -> None:
        """Reset the physics with the hand at ``joint_pos`` [rad] (default: the model's home), distal phalanges
        coupled to the flexions."""
        self.robot.reset(joint_pos)
        q = self.robot.data.qpos
        q[self.distal_qpos] = 0.5 * q[self.flexion_qpos]

    def set_wrist(self, pos: np.ndarray) -> None:
        """Put the wrist mocap and the hand, at rest, at ``pos`` [m] (at reset; during an episode tasks move only
        the mocap, and the weld drags the hand after it)."""
        d = self.robot.data
        d.mocap_pos[self.wrist_mocap] = pos
        a, v = self.mount_qpos, self.mount_dof
        d.qpos[a : a + 3] = pos
        d.qpos[a + 3 : a + 7] = self.wrist_quat
        d.qvel[v : v + 6] = 0.0

    def place_object(self, x: float, y: float, yaw: float) -> None:
        """Put the configured object at rest on the table, centre at ``x``, ``y`` [m], turned by ``yaw`` [rad]."""
        q = self.robot.data.qpos
        a = self.object_qpos
        q[a : a + 3] = (x, y, self.object.half_height)
        q[a + 3 : a + 7] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))

    def joint_pos(self) -> np.ndarray:
        """The hand's joint positions (n,) [rad] in spec order (float64, no copy of the observation)."""
        return self.robot.data.qpos[self.joint_qpos]

    def wrist_pos(self) -> np.ndarray:
        """Where the wrist mocap is [m] (the hand follows it through the weld)."""
        return self.robot.data.mocap_pos[self.wrist_mocap].copy()

    def privileged(self) -> dict[str, np.ndarray]:
        """Object pose [m, quaternion w x y z], shape index and size [m], wrist and grasp centre [m]."""
        d, a = self.robot.data, self.object_qpos
        pose = d.qpos[a : a + 7].copy()  # the free joint: position [m], quaternion w x y z
        return {
            "object_pos": pose[:3],
            "object_quat": pose[3:],
            "object_shape": self.object_info["object_shape"].copy(),
            "object_size": self.object_info["object_size"].copy(),
            "wrist_pos": d.mocap_pos[self.wrist_mocap].copy(),
            "grasp_pos": d.site_xpos[self.grasp_site].copy(),
        }
