"""``twinarm find-port``: find an arm's serial port by unplugging its USB adapter.

Lists the serial ports, asks you to unplug the adapter, lists them again and reports the one that disappeared.
The port lister, the prompt and the output are parameters of :func:`run`, so tests need no USB device.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from twinarm.hardware.ports import available_ports
from twinarm.robot.errors import TwinarmError

HELP = "find the serial port of an arm's USB adapter (unplug it when asked)"


@dataclass
class Config:
    settle_s: float = 0.5  # wait after Enter before listing again [s] (the OS needs a moment)


class PortNotFoundError(TwinarmError):
    """No port, or more than one, disappeared while the adapter was unplugged."""


def run(
    cfg: Config,
    lister: Callable[[], list[str]] | None = None,
    ask: Callable[[str], str] | None = None,
    out: Callable[[str], None] | None = None,
) -> str:
    """Report and return the port that disappeared between two listings (``lister`` default: the OS's ports)."""
    lister, ask, out = lister or available_ports, ask or input, out or print
    before = sorted(lister())
    out(f"serial ports now: {', '.join(before) or 'none'}")
    if not before:
        raise PortNotFoundError("no serial ports found: plug in the arm's USB adapter (and power) and retry")
    ask("Unplug the USB cable of the arm's adapter, then press Enter... ")
    time.sleep(cfg.settle_s)
    after = set(lister())
    gone = [p for p in before if p not in after]
    if len(gone) != 1:
        what = "no port disappeared" if not gone else f"several ports disappeared ({', '.join(gone)})"
        raise PortNotFoundError(f"{what}; unplug only the arm's adapter and run `twinarm find-port` again")
    port = gone[0]
    out(f"the arm's port is {port}; plug the cable back in and use port={port}")
    return port
