"""CompositeRobot: one Robot made of several hardware robots, each on its own bus (an arm and the hand on its wrist).

The composite's spec is the concatenation of its parts' joints (``robot.spec.concatenated``), in part order; its
cameras are the parts' cameras. It has one safety layer: the base's joint-space clip (limits, max step) runs once
on the whole action, then each part's own device clip (per-servo travel) on its slice, through the parts'
``_device_target`` hooks; a part's ``send_action`` (and its second clip) is never used. Observations are the parts'
concatenated.

Lifecycle: parts connect in order; if one fails, the ones already connected are released (torque off) before the
error propagates. Disconnect releases every part even when one fails; the first failure is raised, the others
become notes on it. Every error raised through the composite keeps its type (``BusError`` and its subclasses name
the port) and carries a note naming the part, its bus description and its port.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.errors import ConfigError, add_note
from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, RobotSpec

T = TypeVar("T")


class CompositeRobot(Robot):
    """``parts``: (part name, hardware robot) in the order of ``spec``'s joints; ``spec`` must hold exactly the
    parts' joints, in that order (its cameras and rate are the composite's)."""

    def __init__(self, spec: RobotSpec, parts: Sequence[tuple[str, FeetechRobot]]) -> None:
        joints = tuple(j for _, robot in parts for j in robot.spec.joint_names)
        if joints != spec.joint_names:
            raise ConfigError(f"{spec.name}: the parts' joints {joints} are not the spec's {spec.joint_names}")
        cameras = tuple(c for _, robot in parts for c in robot.spec.cameras)
        super().__init__(spec.with_cameras(cameras))
        self.parts = tuple(parts)
        self.read_only = any(robot.read_only for _, robot in parts)
        bounds = np.cumsum([0] + [robot.spec.num_joints for _, robot in parts])
        self._slices = tuple(slice(int(a), int(b)) for a, b in itertools.pairwise(bounds))
        self._pending: tuple[np.ndarray, list[np.ndarray]] | None = None  # from _device_target, for _send_action

    def where(self, name: str, robot: FeetechRobot) -> str:
        """``part 'hand' (amazing_hand_right on /dev/ttyACM1) of so101_amazing_hand``: for error notes."""
        return f"part {name!r} ({robot.arm.name} on {robot.port}) of {self.spec.name}"

    def _each(self, call: Callable[[str, FeetechRobot], T]) -> list[T]:
        """``call`` on every part in order; an error gets a note naming the part."""
        out = []
        for name, robot in self.parts:
            try:
                out.append(call(name, robot))
            except BaseException as exc:
                add_note(exc, f"in {self.where(name, robot)}")
                raise
        return out

    # -- lifecycle ------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        connected: list[tuple[str, FeetechRobot]] = []
        try:
            for name, robot in self.parts:
                try:
                    robot.connect()
                except BaseException as exc:
                    add_note(exc, f"in {self.where(name, robot)}")
                    raise
                connected.append((name, robot))
        except BaseException as exc:
            for _, robot in reversed(connected):  # release what is already holding torque
                robot._disconnect_after(exc)
            raise

    def _disconnect(self) -> None:
        first: BaseException | None = None
        for name, robot in self.parts:
            try:
                robot.disconnect()
            except Exception as exc:  # noqa: BLE001 - every part must be released; the first error is raised below
                note = f"in {self.where(name, robot)}"
                if first is None:
                    add_note(exc, note)
                    first = exc
                else:
                    add_note(first, f"also, {note}: {type(exc).__name__}: {exc}")
        if first is not None:
            raise first

    # -- I/O ------------------------------------------------------------------------------------------------
    def _get_observation(self) -> Observation:
        observations = self._each(lambda _, robot: robot.get_observation())
        obs: Observation = {
            JOINT_POS: np.concatenate([o[JOINT_POS] for o in observations]).astype(np.float32),
            JOINT_VEL: np.concatenate([o[JOINT_VEL] for o in observations]).astype(np.float32),
        }
        for o in observations:
            obs.update({k: v for k, v in o.items() if k not in (JOINT_POS, JOINT_VEL)})
        return obs

    def _device_target(
        self, target: np.ndarray, low: np.ndarray, high: np.ndarray, previous: np.ndarray | None
    ) -> np.ndarray:
        """Each part's device clip on its slice of the (already joint-clipped) target."""
        parts = [
            robot._device_target(target[s], low[s], high[s], None if previous is None else previous[s])
            for (_, robot), s in zip(self.parts, self._slices)
        ]
        out = np.concatenate(parts).astype(np.float32, copy=False)
        self._pending = (out, parts)
        return out

    def _send_action(self, target: np.ndarray) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] is target:  # the parts' own arrays: their computed commands are used
            parts = pending[1]
        else:  # a hold after reset_target: not from _device_target
            parts = [target[s] for s in self._slices]
        commands = {name: part for (name, _), part in zip(self.parts, parts)}
        self._each(lambda name, robot: robot._send_action(commands[name]))
