"""Episode bookkeeping of a vector env with gymnasium's ``NEXT_STEP`` autoreset: step counters, truncation after
``max_steps``, which envs step and which reset; the arguments of ``VectorEnv.reset`` (seeds, ``reset_mask``).

:class:`EpisodeClock` is the batched env's (:mod:`sim.vector_env`): an env whose episode ended (terminated or
truncated) in one step resets in the next instead of stepping. While no env can reach its last step the clock
counts steps without any mask operation (:meth:`EpisodeClock.tick`), which is most steps of a batch run in lockstep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from twinarm.robot.errors import ConfigError


class EpisodeClock:
    """The episodes of ``n`` envs, truncated after ``max_steps`` steps each."""

    def __init__(self, n: int, max_steps: int) -> None:
        self.n, self.max_steps = n, int(max_steps)
        self.elapsed = np.zeros(n, np.int64)  # steps of each env's episode
        self.terminations = np.zeros(n, np.bool_)  # of the last step
        self.truncations = np.zeros(n, np.bool_)  # of the last step
        self.autoreset = np.zeros(n, np.bool_)  # envs that reset instead of stepping next
        self._everyone = np.ones(n, np.bool_)  # the live mask when no env resets
        self._everyone.flags.writeable = False
        self._left = 0  # steps before the first env can truncate; 0 while an env waits for its autoreset

    def live(self) -> tuple[np.ndarray, bool]:
        """(The envs that step next (N,) bool, read-only; the others reset, whether every env steps)."""
        if self._left > 0:
            return self._everyone, True
        return ~self.autoreset, False

    def reset(self, mask: np.ndarray) -> None:
        """The envs in ``mask`` start new episodes (``VectorEnv.reset``)."""
        self.terminations[mask] = self.truncations[mask] = self.autoreset[mask] = False
        self.elapsed[mask] = 0
        self.settle()

    def tick(self, live: np.ndarray, any_reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """After a step of the ``live`` envs (the others reset; ``any_reset``: some did) of tasks that never
        terminate: their counters, truncations and next autoresets. Returns new (terminations, truncations) (N,)."""
        self.elapsed += live
        if any_reset:
            self.elapsed[~live] = 0
        if self._left > 1:  # no env reached its last step: terminations, truncations, autoresets all stay False
            self._left -= 1
            terminations, truncations = np.zeros((2, self.n), np.bool_)
            return terminations, truncations
        np.logical_and(live, self.elapsed >= self.max_steps, out=self.truncations)
        return self.finish()

    def count(self, i: int, terminated: bool, truncated: bool) -> None:
        """Env ``i`` stepped, and ``terminated`` or ``truncated`` by itself (call :meth:`finish` after every env's
        :meth:`count` or :meth:`restart`)."""
        self.elapsed[i] += 1
        self.terminations[i] = terminated
        self.truncations[i] = truncated or self.elapsed[i] >= self.max_steps

    def restart(self, i: int) -> None:
        """Env ``i`` reset instead of stepping (its autoreset)."""
        self.elapsed[i] = 0
        self.terminations[i] = self.truncations[i] = False

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """The next autoresets after a step; returns copies of (terminations, truncations) (N,)."""
        np.logical_or(self.terminations, self.truncations, out=self.autoreset)
        self.settle()
        return self.terminations.copy(), self.truncations.copy()

    def settle(self) -> None:
        """The steps before the first env truncates, from the counters; 0 while an env waits for its autoreset."""
        waiting = bool(self.autoreset.any())
        self._left = 0 if waiting else int(self.max_steps - self.elapsed.max())


def reset_seeds(seed: int | Sequence[int | None] | None, n: int) -> list[int | None]:
    """Each of ``n`` envs' seed: None for all, ``seed + i`` for one int, or one per env."""
    if seed is None:
        return [None] * n
    if isinstance(seed, (int, np.integer)):
        return [int(seed) + i for i in range(n)]
    seeds = list(seed)
    if len(seeds) != n:
        raise ConfigError(f"reset got {len(seeds)} seeds for {n} envs; pass one int, one seed per env or None")
    return seeds


def reset_mask(options: dict[str, Any] | None, n: int) -> tuple[np.ndarray, dict[str, Any] | None]:
    """(The envs to reset, (n,) bool: ``options["reset_mask"]`` or all; the other options, for each env, or None)."""
    rest = dict(options or {})
    mask = rest.pop("reset_mask", None)
    if mask is None:
        return np.ones(n, np.bool_), rest or None
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (n,):
        raise ConfigError(f"options['reset_mask'] must be a bool numpy array of shape ({n},), got {mask!r}")
    if not mask.any():
        raise ConfigError("options['reset_mask'] must select at least one env")
    return mask, rest or None
