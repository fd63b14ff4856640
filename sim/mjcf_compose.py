"""Models composed from other models' files with MuJoCo's ``MjSpec`` attach API: composition as data, no copied XML.

A :class:`Composition` starts from a base model file (a :class:`sim.sim_robot.SimModel`'s ``xml``), removes named
elements of it (``remove``: a body goes with its subtree and with the joints, actuators and contact exclusions on
it), strips the geoms and sites off bodies that stay (``clear``: their joints and inertia stay), then attaches a body
of each :class:`Attachment`'s model (with its subtree and the tendons, actuators and equalities on it) at a frame
of a base body. Attached elements keep their own names (they are the part's joint and actuator names, which the
robot spec and the bus use), so the parts' names must not clash; ``exclude`` turns off contacts between a base
body and an attached body that touch at the mount.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, NamedTuple

import mujoco

from twinarm.robot.errors import ConfigError

_OPTIONS = ("timestep", "integrator", "cone", "impratio", "iterations", "ls_iterations", "gravity")
_KINDS = ("body", "joint", "geom", "site", "camera", "equality", "tendon", "actuator", "sensor", "light")


class Attachment(NamedTuple):
    """Body ``body`` of model file ``xml`` attached to base body ``parent`` ("" = the world), its frame at ``pos``
    [m] and ``quat`` (w, x, y, z) in the parent's frame (its pose in its own file is not used). ``drop``: the
    part's elements left behind (a free joint, a mocap body, the weld holding it: the parent carries it now; name
    them ``kind:name`` where names repeat across kinds). ``gravcomp``: the attached body's gravity compensation
    (0: the parent carries its weight). ``prefix``: prepended to the part's names (also its assets' and
    defaults'); "" keeps them (a robot part: its joint and actuator names are the spec's and the bus's)."""

    xml: Path
    body: str
    parent: str = ""
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    drop: tuple[str, ...] = ()
    gravcomp: float = 0.0
    prefix: str = ""


class Composition(NamedTuple):
    """How a model is made from its base file: base elements removed, bodies cleared, parts attached, contacts
    excluded (pairs of body names)."""

    attachments: tuple[Attachment, ...]
    remove: tuple[str, ...] = ()
    clear: tuple[str, ...] = ()
    exclude: tuple[tuple[str, str], ...] = ()

    def spec(self, base: Path) -> mujoco.MjSpec:
        """The composed (uncompiled) model on base file ``base``; ConfigError names a missing file or element."""
        spec = _load(base)
        for name in self.remove:
            spec.delete(_element(spec, name, base))
        for name in self.clear:
            body = _element(spec, name, base, ("body",))
            for element in [*body.geoms, *body.sites]:
                spec.delete(element)
        for part in self.attachments:
            _attach(spec, part, base)
        for body1, body2 in self.exclude:
            for name in (body1, body2):
                _element(spec, name, base, ("body",))
            spec.add_exclude(bodyname1=body1, bodyname2=body2)
        return spec

    def compile(self, base: Path) -> mujoco.MjModel:
        """The composed model, compiled (MuJoCo's warning that a part kept its names is expected: not shown)."""
        previous = mujoco.get_mju_user_warning()
        mujoco.set_mju_user_warning(_warn_unless_expected)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_EMPTY_PREFIX)
                return self.spec(base).compile()
        finally:
            mujoco.set_mju_user_warning(previous)


#: MuJoCo warns that a part attached without a prefix could not be written back to one XML file (we never do).
_EMPTY_PREFIX = "Attaching a spec with an empty prefix"


def _warn_unless_expected(message: str) -> None:
    if not message.startswith(_EMPTY_PREFIX):
        warnings.warn(f"MuJoCo: {message}", RuntimeWarning, stacklevel=2)


def _load(path: Path) -> mujoco.MjSpec:
    if not path.is_file():
        raise ConfigError(f"model file {path} does not exist")
    return mujoco.MjSpec.from_file(str(path))


def _element(spec: mujoco.MjSpec, name: str, source: Path, kinds: tuple[str, ...] = _KINDS) -> Any:
    """The element ``name`` of the first of ``kinds`` that has one; ``kind:name`` (``equality:wrist``) picks the
    kind."""
    kind, sep, rest = name.partition(":")
    if sep and kind in _KINDS:
        kinds, name = (kind,), rest
    for kind in kinds:
        element = getattr(spec, kind)(name)
        if element is not None:
            return element
    raise ConfigError(f"{source.name}: no {' / '.join(kinds)} named {name!r} to compose with")


def _attach(spec: mujoco.MjSpec, part: Attachment, base: Path) -> None:
    child = _load(part.xml)
    for name in part.drop:
        child.delete(_element(child, name, part.xml))
    body = _element(child, part.body, part.xml, ("body",))
    body.gravcomp = part.gravcomp
    body.pos, body.quat = [0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]  # the mount pose replaces its pose in its own file
    parent = spec.worldbody if not part.parent else _element(spec, part.parent, base, ("body",))
    frame = parent.add_frame(pos=list(part.pos), quat=list(part.quat))
    for name in _OPTIONS:  # the base model's simulation options hold (the part's would conflict)
        setattr(child.option, name, getattr(spec.option, name))
    frame.attach_body(body, part.prefix, "")
