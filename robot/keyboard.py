"""Keys from the terminal, not from a window system: works over SSH, on Wayland and on a headless robot laptop.

:class:`TerminalKeys` puts a terminal file descriptor in cbreak mode (no echo, no line buffering), restores it on
exit, and decodes arrow-key escape sequences. :class:`EpisodeKeys` maps keys to episode controls used by recording
and teleoperation: next episode, re-record the current one, stop.
"""

from __future__ import annotations

import enum
import os
import select
import sys
from types import TracebackType
from typing import Protocol

ARROWS = {b"\x1b[A": "up", b"\x1b[B": "down", b"\x1b[C": "right", b"\x1b[D": "left"}


class TerminalKeys:
    """Non-blocking key reader on ``fd`` (default: stdin). ``poll()`` returns the keys typed since the last call.

    Printable keys come back as themselves (``"a"``, ``" "``), arrows as ``"up"``/``"down"``/``"left"``/
    ``"right"``, a lone Escape as ``"esc"``, Enter as ``"enter"``. When ``fd`` is not a terminal (a pipe in tests,
    CI with no stdin) it is read as it is, without changing any mode.
    """

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved: list | None = None
        self._pending = b""

    def __enter__(self) -> TerminalKeys:
        if os.isatty(self.fd):
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def poll(self) -> list[str]:
        """Keys available now, without blocking."""
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0)
            if not ready:
                break
            chunk = os.read(self.fd, 64)
            if not chunk:  # EOF: nothing more will come
                break
            self._pending += chunk
        keys, self._pending = decode_keys(self._pending)
        return keys


def decode_keys(data: bytes) -> tuple[list[str], bytes]:
    """Split raw terminal bytes into key names; returns (keys, undecoded tail kept for the next call)."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        if data[i : i + 1] == b"\x1b":
            seq = data[i : i + 3]
            if seq in ARROWS:
                keys.append(ARROWS[seq])
                i += 3
                continue
            if seq == b"\x1b[":  # the rest of an arrow sequence has not arrived yet
                return keys, data[i:]
            keys.append("esc")
            i += 1
            continue
        byte = data[i]
        i += 1
        if byte in (10, 13):
            keys.append("enter")
        elif 32 <= byte < 127:
            keys.append(chr(byte))
    return keys, b""


class EpisodeEvent(enum.Enum):
    NEXT = "next"  # end the current episode now and keep it
    RERECORD = "rerecord"  # discard the current episode and record it again
    STOP = "stop"  # keep the current episode and stop recording


EPISODE_KEYS = {
    "right": EpisodeEvent.NEXT,
    "n": EpisodeEvent.NEXT,
    "left": EpisodeEvent.RERECORD,
    "r": EpisodeEvent.RERECORD,
    "esc": EpisodeEvent.STOP,
    "q": EpisodeEvent.STOP,
}

EPISODE_HELP = "keys: [->]/n next episode, [<-]/r re-record, [Esc]/q stop"


class KeyReader(Protocol):
    """Anything that returns the keys typed since the last call (a :class:`TerminalKeys`, a filtered view)."""

    def poll(self) -> list[str]: ...


class EpisodeKeys:
    """Episode controls from a :class:`KeyReader`; ``events()`` returns the controls pressed since last call."""

    def __init__(self, keys: KeyReader) -> None:
        self.keys = keys

    def events(self) -> list[EpisodeEvent]:
        return [EPISODE_KEYS[k] for k in self.keys.poll() if k in EPISODE_KEYS]
