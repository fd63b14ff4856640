"""The one plan-following scripted expert of every simulated robot (arm and hand); per-task plans are data.

An expert is an action source: ``reset(privileged)`` makes a plan from the simulator state (``sim.tasks``),
``act(obs, privileged) -> (n,) float32`` joint targets [rad]. A plan is a list of steps, each with a ``goal`` in the
expert's command space (the arm: its grasp point [m]; the hand: its joint targets [rad]), a ``speed`` [command
units/s] and a ``hold_s`` [s]. The command moves straight towards the current goal, at most ``speed / control_hz``
per control period (distance measured by :meth:`PlanExpert.distance`); once there it holds for ``hold_s`` and
moves on to the next step. The last step is held for good. The Robot safety layer still clips every command.
"""

from __future__ import annotations

import abc
from typing import Generic, Protocol, TypeVar

import numpy as np

from twinarm.robot.spec import JOINT_POS

HOLD_TOLERANCE_S = 1e-9  # [s]: a hold of k control periods ends after k periods despite float sums


class PlanStep(Protocol):
    """One step of a plan: ``goal`` (command space), approach ``speed`` [units/s], ``hold_s`` [s] once reached."""

    @property
    def goal(self) -> np.ndarray: ...

    @property
    def speed(self) -> float: ...

    @property
    def hold_s(self) -> float: ...


StepT = TypeVar("StepT", bound=PlanStep)


class PlanExpert(abc.ABC, Generic[StepT]):
    """Follows the plan :meth:`plan` makes at reset (see the module docstring). Subclasses implement :meth:`plan`
    and, when the command space is not the joints, :meth:`initial_command` and :meth:`action`."""

    def __init__(self, control_hz: float = 30.0) -> None:
        self.dt = 1.0 / control_hz
        self.plan_: list[StepT] = []
        self._i = 0
        self._held = 0.0
        self._cmd: np.ndarray | None = None

    @abc.abstractmethod
    def plan(self, privileged: dict[str, np.ndarray]) -> list[StepT]:
        """The episode's plan from the simulator state at its start."""

    def initial_command(self, privileged: dict[str, np.ndarray]) -> np.ndarray | None:
        """The command at the episode start; None (default): the first observation's joint positions."""
        return None

    def action(self, command: np.ndarray, step: StepT, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Joint targets (n,) [rad] for ``command`` while on ``step`` (default: the command is joint targets)."""
        return command

    def distance(self, delta: np.ndarray) -> float:
        """How far the command is from its goal (default: Euclidean), in the units of ``speed``."""
        return float(np.linalg.norm(delta))

    def reset(self, privileged: dict[str, np.ndarray]) -> None:
        self.plan_ = self.plan(privileged)
        self._i = 0
        self._held = 0.0
        start = self.initial_command(privileged)
        self._cmd = None if start is None else np.asarray(start, dtype=np.float64).copy()

    @property
    def done(self) -> bool:
        """Every step reached and held (the last one is still held)."""
        return self._i >= len(self.plan_)

    def act(self, obs: dict[str, np.ndarray], privileged: dict[str, np.ndarray] | None = None) -> np.ndarray:
        if self._cmd is None:
            self._cmd = np.asarray(obs[JOINT_POS], dtype=np.float64).copy()
        step = self.plan_[min(self._i, len(self.plan_) - 1)]
        delta = step.goal - self._cmd
        dist = self.distance(delta)
        max_move = step.speed * self.dt
        if dist > max_move:
            self._cmd = self._cmd + delta * (max_move / dist)
        else:
            self._cmd = np.array(step.goal, dtype=np.float64)
            self._held += self.dt
            if self._held >= step.hold_s - HOLD_TOLERANCE_S and self._i < len(self.plan_):
                self._i += 1
                self._held = 0.0
        return self.action(self._cmd, step, obs).astype(np.float32)  # a copy: the caller may keep it
