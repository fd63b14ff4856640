"""The per-step Python of N SimRobots at once: the Robot safety clip, servo delay and backlash, sensing, with numpy
over (N, n) arrays, so the batched vector env (:mod:`sim.vector_env`) holds the GIL for a few statements per env.

:class:`BatchServo` reproduces, bit for bit, what ``Robot.send_action`` -> ``SimRobot._send_action`` ->
``ServoEffects.step`` and ``ServoEffects.sense`` do per robot (:mod:`robot.robot`, :mod:`sim.actuation`; the vector
env's test checks it against single envs): the same elementwise float32/float64 operations, one row per env. Each
env may have its own servo parameters (domain randomization): delays, play, sensing, overload limits are per row.
The overload cut-back (``ServoEffects.overload``) runs over the rows where it can change anything (a servo
saturating, or one cut back), from the actuator forces and lengths the period left (:meth:`BatchServo.views`), so
no env's ``MjData`` is read for it.

Ownership: between resets the batch owns the servo state (delay line, backlash centre, overload timers); each
robot's clip anchor (``_target``, ``_low``, ``_high``) is a view of the batch's row, so ``robot.last_target`` stays
current. After a robot is reset (which resets its ServoEffects), :meth:`BatchServo.load` takes its state over.
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.errors import ActionError
from twinarm.sim.sim_robot import SimRobot

try:  # the ufunc behind np.clip, without its Python wrapper (numpy >= 2; numpy 1.x keeps it in numpy.core)
    from numpy._core.umath import clip as _clip
except ImportError:  # pragma: no cover
    from numpy.core.umath import clip as _clip


_EVERY = slice(None)


class BatchServo:
    """The safety clip, servo effects and sensing of the (connected) ``robots``, all of one model."""

    def __init__(self, robots: list[SimRobot]) -> None:
        self.robots = robots
        r0 = robots[0]
        self.n_envs, self.n_act = len(robots), r0._effects.n
        self.spec = r0.spec
        self.lower, self.upper, self.max_step = r0._lower, r0._upper, r0._max_step
        self.transmission = r0.sim_model.transmission
        n, na = self.spec.num_joints, self.n_act
        self.target = np.zeros((self.n_envs, n), np.float32)  # the clip anchors (robots' _target rows)
        self.bounds = np.zeros((2, self.n_envs, n), np.float32)  # the next targets' bounds: low, high
        self.low, self.high = self.bounds
        self._step = np.stack([-self.max_step, self.max_step])[:, None]  # (2, 1, n) [rad]
        self.nstep = np.array([r.n_substeps for r in robots])
        self.k = np.zeros(self.n_envs, np.int64)  # whole control periods of delay
        self.r = np.zeros(self.n_envs, np.int64)  # remaining physics steps of delay
        self.half_play = np.zeros((self.n_envs, na))
        self.centre = np.zeros((self.n_envs, na))
        self.line = np.zeros((self.n_envs, 2, na))  # delay line: line[i, (p - j) % L] = command j periods ago
        self.p = 0
        self.pos_res = np.zeros((self.n_envs, 1))
        self.vel_res = np.zeros((self.n_envs, 1))
        self.noisy: list[int] = []  # envs with sensing noise
        self.overloaded = np.zeros(self.n_envs, np.bool_)  # envs with an overload model
        self.saturated_s = np.zeros((self.n_envs, na))
        # the overload model's state and parameters (ServoEffects'): the force limits [N·m] (|upper|: symmetric
        # ranges, as its reset makes them) as loaded or cut back, the full and overload limits [N·m], the time at the
        # limit before the cut-back [s] (> 0: the servo has the model), position gains [N·m/rad] (as loaded at
        # reset), the control period [s]
        self.limit = np.zeros((self.n_envs, na))
        self.force_limit, self.overload_limit = np.zeros((self.n_envs, na)), np.zeros((self.n_envs, na))
        self.overload_after_s, self.kp = np.zeros((self.n_envs, na)), np.zeros((self.n_envs, na))
        self.has_overload = np.zeros((self.n_envs, na), np.bool_)
        self.period_s = np.zeros((self.n_envs, 1))
        self._all_idle = True  # no servo of any robot saturating or cut back (nothing for the overload check to do)
        self._tables: tuple[np.ndarray, np.ndarray] | None = None  # delay-line rows of newer/older, by p
        self._rows = np.arange(self.n_envs)
        # commands of the first r physics steps of the period; the caller may rebind it to an (N, n_act) float64
        # array of its own before the first period (the native batch: its controls)
        self.first = np.zeros((self.n_envs, na))
        self.second = np.zeros((self.n_envs, na))  # commands of the rest of the period
        for i in range(self.n_envs):
            self.load(i)

    # -- state ----------------------------------------------------------------------------------------------
    def load(self, i: int) -> None:
        """Take over robot ``i``'s parameters and state (after its reset or connect)."""
        robot, eff = self.robots[i], self.robots[i]._effects
        self.target[i], self.low[i], self.high[i] = robot._target, robot._low, robot._high
        robot._target, robot._low, robot._high = self.target[i], self.low[i], self.high[i]
        k, self.r[i] = divmod(eff.delay_steps, int(self.nstep[i]))
        self.k[i] = k
        if k + 2 > self.line.shape[1]:
            self._grow(k + 2)
        carried = eff.state()
        queue, length = carried.pending, self.line.shape[1]
        for j in range(length):  # entries older than the queue are its oldest (what the servo held at reset)
            self.line[i, (self.p - j) % length] = queue[max(len(queue) - 1 - j, 0)]
        self.half_play[i], self.centre[i] = eff.half_play, carried.centre
        s = eff.sensing
        self.pos_res[i] = s.position_resolution_rad if s is not None else 0.0
        self.vel_res[i] = s.velocity_resolution_rad_s if s is not None else 0.0
        noisy = s is not None and bool(s.position_noise_rad or s.velocity_noise_rad_s)
        self.noisy = sorted((set(self.noisy) - {i}) | ({i} if noisy else set()))
        m = robot.model
        self.limit[i] = np.abs(m.actuator_forcerange[: self.n_act, 1])
        if eff.has_overload:
            self.force_limit[i], self.overload_limit[i] = eff.force_limit, eff.overload_limit
            self.overload_after_s[i], self.kp[i] = eff.overload_after_s, m.actuator_gainprm[: self.n_act, 0]
            self.has_overload[i] = eff.overload_after_s > 0
        else:  # (rows of robots without the model are never updated; zeros keep them inert all the same)
            self.force_limit[i] = self.overload_limit[i] = self.overload_after_s[i] = self.kp[i] = 0.0
            self.has_overload[i] = False
        self.overloaded[i] = self.has_overload[i].any()  # (ServoEffects.has_overload: some servo has the model)
        self.period_s[i] = int(self.nstep[i]) * float(m.opt.timestep)
        self.saturated_s[i] = carried.saturated_s
        self._all_idle &= carried.idle
        self._limits_changed()
        self._tables = None
        self._no_play = not self.half_play.any()
        self._k_same = int(self.k[0]) if (self.k == self.k[0]).all() else None
        self._any_overload, self._all_overloaded = bool(self.overloaded.any()), bool(self.overloaded.all())
        self._every_servo = bool(self.has_overload[self.overloaded].all())  # of the robots with the model
        self._split = self.r > 0
        self._split_all, self._split_none = bool(self._split.all()), not self._split.any()
        self._pos_exact, self._vel_exact = not self.pos_res.any(), not self.vel_res.any()
        self._pos_all, self._vel_all = bool(self.pos_res.all()), bool(self.vel_res.all())
        n = self.spec.num_joints
        self._res2 = np.concatenate([np.repeat(self.pos_res, n, axis=1), np.repeat(self.vel_res, n, axis=1)], axis=1)

    def _grow(self, length: int) -> None:
        old, n_old = self.line, self.line.shape[1]
        self.line = np.zeros((self.n_envs, length, self.n_act))
        for j in range(length):
            self.line[:, (-j) % length] = old[:, (self.p - min(j, n_old - 1)) % n_old]
        self.p = 0

    # -- one control period ---------------------------------------------------------------------------------
    def clip(self, actions: np.ndarray, live: np.ndarray) -> np.ndarray:
        """Robot.clip of every row (validated like ``Robot.validate_action`` for the ``live`` rows); the new clip
        anchors. Returns the targets sent, (N, n) float32 [rad]."""
        a = np.asarray(actions, dtype=np.float32)
        n = self.spec.num_joints
        if a.shape != (self.n_envs, n):
            raise ActionError(
                f"{self.spec.name}: action shape {a.shape[1:]} is invalid; expected ({n},) joint targets "
                f"[rad] in the order {list(self.spec.joint_names)}"
            )
        if np.count_nonzero(np.isfinite(a)) < a.size and not np.isfinite(a[live]).all():
            bad = sorted({self.spec.joint_names[j] for j in np.flatnonzero(~np.isfinite(a[live]).all(axis=0))})
            raise ActionError(f"{self.spec.name}: action holds NaN/inf for joints {bad}")
        # Robot.clip's min(max(a, low), high) is clip(a, low, high) as low <= high; its new anchors max(lower,
        # sent - max_step) and min(upper, sent + max_step) are (sent -/+ max_step) clipped to [lower, upper], as
        # lower <= sent <= upper (x - s and x + -s are the same bits)
        sent = _clip(a, self.low, self.high)
        self.target[:] = sent
        np.add(sent, self._step, out=self.bounds)
        _clip(self.bounds, self.lower, self.upper, out=self.bounds)
        return sent

    def commands(self, sent: np.ndarray) -> None:
        """Push the targets ``sent`` (joint space) into the delay lines; write the actuator commands of the first
        ``r`` physics steps of the period and of the rest, after the backlash play, to :attr:`first` and
        :attr:`second` (N, n_act) [rad] (in place: rows may be held as views)."""
        if self.transmission is None:
            act = sent  # (cast to float64 as it is written into the line)
        else:  # row by row, as each robot maps its own target (a batched matmul may round differently)
            act = np.stack([self.transmission.to_motor(t) for t in sent]).astype(np.float64)
        length = self.line.shape[1]
        if self._tables is None:
            p = np.arange(length)[:, None]
            self._tables = ((p - self.k) % length, (p - self.k - 1) % length)
        self.p = (self.p + 1) % length
        self.line[:, self.p] = act
        rows, hp = self._rows, self.half_play
        if self._k_same is not None:  # every env delays the same whole periods: columns of the line, no gather
            newer = self.line[:, (self.p - self._k_same) % length]
            older = self.centre if self._split_none else self.line[:, (self.p - self._k_same - 1) % length]
        else:
            newer = self.line[rows, self._tables[0][self.p]]
            older = self.centre if self._split_none else self.line[rows, self._tables[1][self.p]]
        if self._no_play:  # clip(x, c, c) is c: the servos follow the commands as they are (first: unused if r = 0)
            self.first[:] = older  # (older may be the centre, that is, second: copied before second is rewritten)
            self.second[:] = newer  # (newer: a view of the line, rewritten k + 2 steps on)
            self.centre = self.second
            return
        first = older if self._split_none else np.clip(self.centre, older - hp, older + hp)
        if not (self._split_all or self._split_none):
            first = np.where(self._split[:, None], first, self.centre)
        self.centre = np.clip(first, newer - hp, newer + hp)
        self.first[:] = first
        self.second[:] = self.centre

    def views(self, i: int) -> list[np.ndarray]:
        """Views of robot ``i``'s actuator forces [N·m] and actuator lengths [rad], read after each period."""
        data = self.robots[i].data
        return [data.actuator_force[: self.n_act], data.actuator_length[: self.n_act]]

    def overload(self, live: np.ndarray, force: np.ndarray, length: np.ndarray) -> None:
        """``ServoEffects.overload`` after the period, for the ``live`` rows, from ``force`` and ``length``, (N,
        n_act) each: :meth:`views` read then. A force limit cut back or restored is written to the robot's model
        (the physics obeys it from the next period). The force limits and gains are those loaded at the robot's
        reset or cut back here (edit them in place between resets and the physics obeys at once, the overload
        model at the next reset)."""
        if not self._any_overload:
            return
        at_limit = np.abs(force) >= self._trip  # ServoEffects: |force| >= 0.99 |limit|
        if self._all_idle and not np.count_nonzero(at_limit):
            return  # the common case: nothing saturates, nothing is cut back
        # ServoEffects returns early for a robot with nothing saturating or cut back; for such a row the operations
        # below change nothing either (timers stay 0, limits stay full), so they run over every live row at once.
        # (Rows not live were reset: nothing saturating or cut back, as robots without the model.)
        every = self._all_overloaded and np.count_nonzero(live) == self.n_envs
        rows = _EVERY if every else np.flatnonzero(self.overloaded & live)
        saturated, full, cut = at_limit[rows], self.force_limit[rows], self.overload_limit[rows]
        # the same elementwise operations as ServoEffects._overload, one row per robot
        timer = np.where(saturated, self.saturated_s[rows] + self.period_s[rows], 0.0)
        after, limit = self.overload_after_s[rows], self.limit[rows]
        tripped = timer >= after
        demand = np.abs(self.kp[rows] * (self.second[rows] - length[rows]))  # ctrl held the later command
        recovered = (limit < full) & (demand < cut)
        if not self._every_servo:  # servos without the model (overload_after_s 0) never trip nor recover
            has = self.has_overload[rows]
            tripped &= has
            recovered &= has
        new = np.where(tripped, cut, np.where(recovered, full, limit))
        self.saturated_s[rows] = timer
        self._all_idle = not (np.count_nonzero(saturated) or np.count_nonzero(new < full))
        moved = new != limit
        if np.count_nonzero(moved):  # only where a limit moves (ServoEffects writes [-new, new] each time)
            ids = np.arange(self.n_envs)[rows]
            for j in np.flatnonzero(moved.any(axis=1)):
                i = ids[j]
                self.robots[i].model.actuator_forcerange[: self.n_act] = np.stack([-new[j], new[j]], axis=1)
                self.limit[i] = new[j]
            self._limits_changed()

    def _limits_changed(self) -> None:
        self._trip = 0.99 * self.limit  # ServoEffects' saturation threshold

    def sense_joined(self, joints: np.ndarray, live: np.ndarray) -> np.ndarray:
        """:meth:`sense` of positions and velocities side by side, (N, 2n): quantized in one pass when every env
        quantizes both and none adds noise (the same elementwise operations, so the same bits)."""
        if self.noisy or not (self._pos_all and self._vel_all):
            n = joints.shape[1] // 2
            return np.concatenate(self.sense(joints[:, :n], joints[:, n:], live), axis=1)
        q = joints / self._res2  # np.round(x) is np.rint(x) (round half to even), without np.round's wrapper
        np.rint(q, out=q)
        q *= self._res2
        return q

    def sense(self, pos: np.ndarray, vel: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joint positions [rad] and velocities [rad/s] (N, n) float64 as the servos report them: each noisy env's
        own noise stream (live rows only), then the quantization."""
        for i in self.noisy:
            if live[i]:
                s, rng = self.robots[i]._effects.sensing, self.robots[i]._effects.rng
                if s.position_noise_rad:
                    pos[i] = pos[i] + rng.normal(0.0, s.position_noise_rad, pos[i].shape)
                if s.velocity_noise_rad_s:
                    vel[i] = vel[i] + rng.normal(0.0, s.velocity_noise_rad_s, vel[i].shape)
        if not self._pos_exact:
            pos = _quantize(pos, self.pos_res, self._pos_all)
        if not self._vel_exact:
            vel = _quantize(vel, self.vel_res, self._vel_all)
        return pos, vel


def _quantize(x: np.ndarray, res: np.ndarray, every: bool) -> np.ndarray:
    """``round(x / res) * res`` per row (``every``: all rows have a resolution); rows with ``res`` 0 as they are."""
    if every:
        return np.round(x / res) * res
    safe = np.where(res > 0, res, 1.0)
    return np.where(res > 0, np.round(x / safe) * safe, x)
