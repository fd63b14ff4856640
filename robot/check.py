"""``check_robot``: an active conformance checker for Robot backends, in the spirit of gymnasium's ``check_env``.

It drives the robot through its lifecycle and reports the first broken promise as a :class:`RobotCheckError`.
With ``allow_motion=False`` (the default, safe on a real arm) it only re-sends the current target, which does
not move the robot; with ``allow_motion=True`` (sim, emulators) it commands a far target and checks that the
safety layer clipped it to the limits and to one max step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from twinarm.robot.errors import ActionError, NotConnectedError, RobotCheckError
from twinarm.robot.robot import Robot
from twinarm.robot.spec import JOINT_POS


class CheckReport(NamedTuple):
    """What ``check_robot`` saw. ``clipped_joints``: joints whose far target was clipped (motion checks)."""

    robot: str
    observation_keys: tuple[str, ...]
    clipped_joints: tuple[str, ...]
    motion_checked: bool


def _fail(robot: Robot, msg: str) -> RobotCheckError:
    return RobotCheckError(f"check_robot({type(robot).__name__}, model {robot.spec.name!r}): {msg}")


def check_observation(robot: Robot, obs: object) -> None:
    """Keys, shapes, dtypes and bounds of ``obs`` against the robot's observation space."""
    if not isinstance(obs, dict):
        raise _fail(robot, f"get_observation() returned {type(obs).__name__}, expected dict[str, np.ndarray]")
    space = robot.observation_space
    expected, got = set(space.spaces), set(obs)
    if expected != got:
        raise _fail(
            robot,
            f"observation keys {sorted(got)} differ from the spec's {sorted(expected)} "
            f"(missing {sorted(expected - got)}, extra {sorted(got - expected)})",
        )
    for key, sub in space.spaces.items():
        value = obs[key]
        if not isinstance(value, np.ndarray):
            raise _fail(robot, f"observation[{key!r}] is {type(value).__name__}, expected np.ndarray")
        if value.shape != sub.shape or value.dtype != sub.dtype:
            raise _fail(
                robot,
                f"observation[{key!r}] has shape {value.shape} dtype {value.dtype}; "
                f"the spec says shape {sub.shape} dtype {sub.dtype}",
            )
        if not sub.contains(value):
            if value.dtype.kind == "f" and not np.isfinite(value).all():
                raise _fail(robot, f"observation[{key!r}] holds NaN/inf: {value}")
            raise _fail(robot, f"observation[{key!r}] = {value} lies outside [{sub.low}, {sub.high}]")


def check_robot(robot: Robot, allow_motion: bool = False) -> CheckReport:
    """Check ``robot`` (disconnected on entry) against the Robot contract; it is disconnected on return."""
    if robot.is_connected:
        raise _fail(robot, "pass a disconnected robot: the check covers connect() itself")
    spec = robot.spec
    if robot.action_space.shape != (spec.num_joints,) or robot.action_space.dtype != np.float32:
        raise _fail(robot, f"action_space {robot.action_space} does not match {spec.num_joints} joints float32")
    if robot.observation_space != spec.observation_space():
        raise _fail(robot, "observation_space differs from the one derived from its spec")

    for call in (robot.get_observation, lambda: robot.send_action(np.zeros(spec.num_joints))):
        try:
            call()
        except NotConnectedError:
            pass
        except Exception as exc:
            raise _fail(robot, f"use before connect raised {type(exc).__name__}, expected NotConnectedError") from exc
        else:
            raise _fail(robot, "use before connect did not raise NotConnectedError")

    clipped: tuple[str, ...] = ()
    with robot:  # connect(); after a failed check a failing disconnect is a note on it, never replaces it
        robot.connect()  # idempotent
        if not robot.is_connected:
            raise _fail(robot, "is_connected is False after connect()")
        obs = robot.get_observation()
        check_observation(robot, obs)
        if not robot.read_only:
            clipped = _check_actions(robot, obs[JOINT_POS], allow_motion)
        else:
            try:
                robot.send_action(obs[JOINT_POS])
            except ActionError:
                pass
            else:
                raise _fail(robot, "a read-only robot accepted send_action")
        check_observation(robot, robot.get_observation())
    robot.disconnect()  # idempotent
    if robot.is_connected:
        raise _fail(robot, "is_connected is True after disconnect()")
    try:
        robot.get_observation()
    except NotConnectedError:
        pass
    else:
        raise _fail(robot, "get_observation after disconnect did not raise NotConnectedError")
    return CheckReport(
        robot=f"{type(robot).__name__}({spec.name})",
        observation_keys=tuple(sorted(obs)),
        clipped_joints=clipped,
        motion_checked=allow_motion and not robot.read_only,
    )


def _check_actions(robot: Robot, joint_pos: np.ndarray, allow_motion: bool) -> tuple[str, ...]:
    spec = robot.spec
    n = spec.num_joints
    for bad, what in ((np.zeros(n + 1), "wrong shape"), (np.full(n, np.nan), "NaN")):
        try:
            robot.send_action(bad)
        except ActionError:
            pass
        else:
            raise _fail(robot, f"send_action accepted an action with {what}; expected ActionError")

    target = robot.last_target
    if target is None:
        raise _fail(robot, "last_target is None after connect(); the base must anchor clipping at connect")
    sent = robot.send_action(target)  # holding still never moves the robot
    if sent.dtype != np.float32 or sent.shape != (n,):
        raise _fail(robot, f"send_action returned shape {sent.shape} dtype {sent.dtype}, expected ({n},) float32")
    if not np.allclose(sent, np.clip(target, spec.lower, spec.upper), atol=1e-6):
        raise _fail(robot, f"re-sending the current target {target} returned {sent}")

    far = np.where(target > (spec.lower + spec.upper) / 2, spec.lower - 1.0, spec.upper + 1.0).astype(np.float32)
    preview = robot.clip(far)
    _check_clipped(robot, preview, target, far)
    if not allow_motion:
        return tuple(name for name, a, p in zip(spec.joint_names, far, preview) if a != p)
    sent = robot.send_action(far)
    if not np.allclose(sent, preview, atol=1e-6):
        raise _fail(robot, f"send_action returned {sent} but clip() previewed {preview}")
    _check_clipped(robot, sent, target, far)
    robot.send_action(target)  # step back towards where we started
    return tuple(name for name, a, s in zip(spec.joint_names, far, sent) if a != s)


def _check_clipped(robot: Robot, sent: np.ndarray, previous: np.ndarray, requested: np.ndarray) -> None:
    spec = robot.spec
    tol = 1e-5
    if np.any(sent < spec.lower - tol) or np.any(sent > spec.upper + tol):
        raise _fail(robot, f"target {sent} for request {requested} escapes the joint limits")
    step = np.abs(sent - previous)
    if np.any(step > spec.max_step + tol):
        j = int(np.argmax(step - spec.max_step))
        raise _fail(
            robot,
            f"joint {spec.joint_names[j]!r} moved {step[j]:.4f} rad in one step; "
            f"max step is {spec.max_step[j]:.4f} rad",
        )
    if np.allclose(sent, requested):
        raise _fail(robot, f"a request {requested} beyond the limits was sent unclipped")
