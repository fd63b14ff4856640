"""Keys for the loop commands: one terminal (or a file/FIFO, for scripts and tests) read for several readers.

A :class:`KeyHub` polls a ``robot.keyboard.TerminalKeys`` once per cycle and gives each reader its own
:class:`KeyView`: an action source claims its keys (``q`` is yaw for the keyboard teleop), the episode controls see
the rest, so each key has one meaning.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys

from twinarm.robot.errors import ConfigError
from twinarm.robot.keyboard import EPISODE_KEYS, EpisodeEvent, EpisodeKeys, TerminalKeys


class KeyView:
    """One reader's share of a :class:`KeyHub`: ``poll()`` like ``TerminalKeys``, minus the ``exclude`` keys."""

    def __init__(self, hub: KeyHub, exclude: frozenset[str]) -> None:
        self.hub, self.exclude = hub, exclude
        self.pending: list[str] = []

    def poll(self) -> list[str]:
        self.hub.pump()
        keys, self.pending = self.pending, []
        return keys


class KeyHub:
    """Reads a :class:`TerminalKeys` once for several readers; every view sees every key it does not exclude."""

    def __init__(self, keys: TerminalKeys) -> None:
        self.keys = keys
        self.views: list[KeyView] = []

    def view(self, exclude: frozenset[str] = frozenset()) -> KeyView:
        v = KeyView(self, exclude)
        self.views.append(v)
        return v

    def pump(self) -> None:
        keys = self.keys.poll()
        for v in self.views:
            v.pending.extend(k for k in keys if k not in v.exclude)


def open_keys(where: str, stack: contextlib.ExitStack) -> KeyHub | None:
    """Keys from ``where``: ``stdin`` (a terminal or a pipe; None when the process has no usable stdin), ``none``,
    or the path of a file or FIFO. The terminal mode is restored when ``stack`` closes."""
    if where in ("", "none"):
        return None
    if where == "stdin":
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, ValueError, io.UnsupportedOperation):  # no real stdin (e.g. captured by pytest)
            return None
    else:
        try:
            fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise ConfigError(f"keys={where!r} cannot be opened ({exc}); give stdin, none or a file/FIFO path") from exc
        stack.callback(os.close, fd)
    return KeyHub(stack.enter_context(TerminalKeys(fd)))


def episode_controls(keys: KeyHub | None, claimed: frozenset[str] = frozenset()) -> EpisodeKeys | None:
    """Episode controls (next / re-record / stop) from the keys a source did not claim; None without keys."""
    return None if keys is None else EpisodeKeys(keys.view(claimed))


def stop_help(keys: KeyHub | None, claimed: frozenset[str], duration_s: float = 0.0) -> str:
    """How a loop command ends: its stop keys, Ctrl-C, and the time limit if any."""
    stop_keys = episode_help(claimed, (EpisodeEvent.STOP,)) if keys is not None else ""
    until = f"ends after {duration_s:g} s" if duration_s > 0 else ""
    return "; ".join(filter(None, [stop_keys, "Ctrl-C stop", until]))


def episode_help(
    claimed: frozenset[str] = frozenset(),
    events: tuple[EpisodeEvent, ...] = (EpisodeEvent.NEXT, EpisodeEvent.RERECORD, EpisodeEvent.STOP),
) -> str:
    """Which keys give ``events``, without those a source claimed: e.g. ``n/right next, r/left re-record, ...``."""
    names = {EpisodeEvent.NEXT: "next", EpisodeEvent.RERECORD: "re-record", EpisodeEvent.STOP: "stop"}
    parts = []
    for event in events:
        keys = [k for k, e in EPISODE_KEYS.items() if e is event and k not in claimed]
        if keys:
            parts.append(f"{'/'.join(keys)} {names[event]}")
    return ", ".join(parts)
