"""CPU thread budget for training and inference that degrades gracefully on a busy machine.

torch's default (one intra-op thread per core) collapses when other processes already keep cores busy: on 2 cores
with one busy neighbour, 150 BC steps took 64 s with the default vs 33 s with one thread (issue 11). So the default
(``threads=0``) uses the cores this process may run on (``os.sched_getaffinity``) minus the 1-minute load already
on them, at least one; a positive ``threads`` is taken as given. :func:`busy_note` says, for the progress line,
when the load exceeds the cores (the machine is oversubscribed and every step runs slower).
"""

from __future__ import annotations

import os
from typing import NamedTuple

#: Load above ``cores + OVERSUBSCRIBED_MARGIN`` counts as oversubscribed (the 1-minute load average lags and
#: includes this process's own threads).
OVERSUBSCRIBED_MARGIN = 0.5


class CpuBudget(NamedTuple):
    """Threads chosen for ``requested`` (0 = automatic) given ``cores`` and the 1-minute ``load`` at start."""

    requested: int
    cores: int
    load: float | None  # None where the OS gives no load average
    threads: int

    def describe(self) -> str:
        how = "as requested" if self.requested > 0 else "automatic"
        load = "unknown load" if self.load is None else f"load {self.load:.1f}"
        return f"{self.threads} torch thread(s) ({how}; {self.cores} core(s) available, {load})"


def cpu_cores() -> int:
    """Cores this process may run on (its CPU affinity; ``os.cpu_count()`` where affinity is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def load_average() -> float | None:
    """The 1-minute load average (runnable processes), None where unavailable."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def choose_threads(requested: int = 0, cores: int | None = None, load: float | None = -1.0) -> CpuBudget:
    """``requested`` threads if > 0, else the cores not already busy (rounded, within [1, cores]).

    ``cores`` / ``load`` default to :func:`cpu_cores` / :func:`load_average` (given explicitly in tests).
    """
    cores = cpu_cores() if cores is None else cores
    load = load_average() if load == -1.0 else load
    if requested > 0:
        return CpuBudget(requested, cores, load, requested)
    free = cores if load is None else round(cores - load)
    return CpuBudget(requested, cores, load, max(1, min(cores, free)))


def busy_note(cores: int | None = None, load: float | None = -1.0) -> str:
    """``"oversubscribed: load 3.4 on 2 cores"`` when the machine runs more than it has cores, else ``""``."""
    cores = cpu_cores() if cores is None else cores
    load = load_average() if load == -1.0 else load
    if load is None or load <= cores + OVERSUBSCRIBED_MARGIN:
        return ""
    return f"oversubscribed: load {load:.1f} on {cores} cores"


def apply_threads(requested: int = 0) -> CpuBudget:
    """Choose the budget and set torch's intra-op threads to it."""
    import torch

    budget = choose_threads(requested)
    torch.set_num_threads(budget.threads)
    return budget
