"""The Robot contract shared by sim and hardware robots.

Subclasses implement four hooks (``_connect``, ``_disconnect``, ``_get_observation``, ``_send_action``); the
base owns the lifecycle, input validation and the safety layer, so every backend clips the same way:

* every target is clipped to the joint limits of the spec, then
* to at most ``spec.max_step`` [rad] away from the previously sent target (after ``connect`` and
  ``reset_target``, from the measured position), then
* a device with limits of its own (a servo's travel) narrows the target in the optional hook ``_device_target``,
  inside that box, and
* ``send_action`` returns the target actually sent.

``disconnect`` must leave the robot safe (torque released, or parked first where configured); it runs from
``__exit__``, so ``with robot:`` blocks release torque on normal exit, on exceptions and on Ctrl-C. When the block
(or ``connect``) failed, a failure of that cleanup is attached to the original error as a note, never replacing it.
"""

from __future__ import annotations

import abc
from types import TracebackType

import gymnasium as gym
import numpy as np

from twinarm.robot.errors import ActionError, NotConnectedError, add_note
from twinarm.robot.spec import JOINT_POS, RobotSpec

Observation = dict[str, np.ndarray]


class Robot(abc.ABC):
    """A robot speaking joint positions in [rad]; see the module docstring for the contract."""

    #: A read-only robot (a leader arm) reports observations but refuses actions.
    read_only: bool = False

    def __init__(self, spec: RobotSpec) -> None:
        self.spec = spec
        self.observation_space: gym.spaces.Dict = spec.observation_space()
        self.action_space: gym.spaces.Box = spec.action_space()
        self._lower = spec.lower
        self._upper = spec.upper
        self._max_step = spec.max_step
        self._target: np.ndarray | None = None  # (n,) float32 [rad], last target sent
        self._low, self._high = self._lower, self._upper  # (n,) [rad] bounds of the next target (hot path)
        self._connected = False

    # -- hooks for subclasses -------------------------------------------------------------------------------
    @abc.abstractmethod
    def _connect(self) -> None:
        """Open the device or simulation. Called once per connect; the base handles idempotence."""

    @abc.abstractmethod
    def _disconnect(self) -> None:
        """Leave the robot safe (torque off, or park then torque off) and release resources."""

    @abc.abstractmethod
    def _get_observation(self) -> Observation:
        """Measured joint state and camera images, as described in ``robot.spec``."""

    @abc.abstractmethod
    def _send_action(self, target: np.ndarray) -> None:
        """Command ``target`` (n,) float32 [rad], already clipped by the base."""

    # -- lifecycle ------------------------------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        """Open the robot; calling it again while connected does nothing."""
        if self._connected:
            return
        self._connect()
        self._connected = True
        try:
            self.reset_target()
        except BaseException as exc:
            self._disconnect_after(exc)
            raise

    def disconnect(self) -> None:
        """Release torque and close; calling it again while disconnected does nothing."""
        if not self._connected:
            return
        try:
            self._disconnect()
        finally:
            self._connected = False
            self._set_target(None)

    def __enter__(self) -> Robot:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.disconnect()
        else:
            self._disconnect_after(exc)

    def _disconnect_after(self, exc: BaseException) -> None:
        """Disconnect after ``exc`` ended the work: a cleanup failure becomes a note on ``exc``, the caller re-raises
        ``exc`` itself."""
        try:
            self.disconnect()
        except Exception as cleanup:  # noqa: BLE001 - whatever the cleanup raised must not replace exc
            add_note(exc, f"while disconnecting {self.spec.name} after this error: {type(cleanup).__name__}: {cleanup}")

    def _require_connected(self, what: str) -> None:
        if not self._connected:
            raise NotConnectedError(
                f"{type(self).__name__} ({self.spec.name}): {what}() called while not connected; "
                "call connect() first or use the robot in a `with` block"
            )

    # -- I/O ------------------------------------------------------------------------------------------------
    def get_observation(self) -> Observation:
        """Measured state: ``joint_pos`` [rad], ``joint_vel`` [rad/s], ``image_<camera>`` uint8 HxWx3."""
        self._require_connected("get_observation")
        return self._get_observation()

    def send_action(self, action: np.ndarray) -> np.ndarray:
        """Command joint position targets [rad]; returns the (clipped) targets actually sent, (n,) float32."""
        self._require_connected("send_action")
        if self.read_only:
            raise ActionError(
                f"{type(self).__name__} ({self.spec.name}) is read-only (a leader arm): it accepts no actions"
            )
        target = self.clip(action)
        self._send_action(target)
        self._set_target(target)
        return target.copy()

    def hold(self) -> np.ndarray:
        """Re-send the last target so the robot holds still (used by watchdogs); returns it."""
        self._require_connected("hold")
        assert self._target is not None
        if not self.read_only:
            self._send_action(self._target)
        return self._target.copy()

    # -- safety ---------------------------------------------------------------------------------------------
    @property
    def last_target(self) -> np.ndarray | None:
        """The last target sent (or the measured position after connect/reset), (n,) float32 [rad]."""
        return None if self._target is None else self._target.copy()

    def reset_target(self, joint_pos: np.ndarray | None = None) -> None:
        """Re-anchor max-step clipping at ``joint_pos`` [rad] (default: the measured position).

        Call it after the robot moved without ``send_action`` (a sim reset, a manual move with torque off).
        """
        if joint_pos is None:
            joint_pos = self.get_observation()[JOINT_POS]
        pos = np.asarray(joint_pos, dtype=np.float32).reshape(self.spec.num_joints)
        self._set_target(np.clip(pos, self._lower, self._upper).astype(np.float32))

    def _set_target(self, target: np.ndarray | None) -> None:
        """Remember the last target and precompute the next one's bounds: the limits intersected with one max step
        around it (non-empty, since a target always lies within the limits)."""
        self._target = target
        if target is None:
            self._low, self._high = self._lower, self._upper
        else:
            self._low = np.maximum(self._lower, target - self._max_step)
            self._high = np.minimum(self._upper, target + self._max_step)

    def validate_action(self, action: np.ndarray) -> np.ndarray:
        """``action`` as (n,) float32, or an :class:`ActionError` naming what is wrong."""
        a = np.asarray(action, dtype=np.float32)
        n = self.spec.num_joints
        if a.shape != (n,):
            raise ActionError(
                f"{self.spec.name}: action shape {a.shape} is invalid; expected ({n},) joint targets "
                f"[rad] in the order {list(self.spec.joint_names)}"
            )
        if not np.isfinite(a).all():
            bad = [self.spec.joint_names[i] for i in np.flatnonzero(~np.isfinite(a))]
            raise ActionError(f"{self.spec.name}: action holds NaN/inf for joints {bad}")
        return a

    def clip(self, action: np.ndarray) -> np.ndarray:
        """The target ``send_action`` would send for ``action``, without sending it: (n,) float32 [rad]."""
        out = np.minimum(self.validate_action(action), self._high)
        np.maximum(out, self._low, out=out)
        return self._device_target(out, self._low, self._high, self._target)

    def _device_target(
        self, target: np.ndarray, low: np.ndarray, high: np.ndarray, previous: np.ndarray | None
    ) -> np.ndarray:
        """Hook: the target the device will actually be commanded for ``target`` (n,) float32 [rad] (default: itself).

        ``target`` already lies in the box ``[low, high]`` [rad]: the joint limits intersected with one max step
        around ``previous`` (the last target; None when there is none). A device with limits of its own returns
        the joint target its limited command means, which must stay inside the box; when it cannot, it holds
        (returns ``previous``). ``send_action`` passes the returned array object itself to ``_send_action``.
        """
        return target
