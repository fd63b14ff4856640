"""One error hierarchy for the whole stack.

Every error raised on purpose by twinarm derives from :class:`TwinarmError`, so a caller can catch them all in
one place. Messages name the thing at fault (port, servo id, register, file, key, joint) and what would be
valid. Subsystems (hardware bus, calibration, dataset, policies) subclass these in their own modules.
"""

from __future__ import annotations


class TwinarmError(Exception):
    """Root of every error twinarm raises on purpose."""


def add_note(exc: BaseException, note: str) -> None:
    """Attach ``note`` to ``exc`` (``BaseException.add_note`` on Python >= 3.11, the same ``__notes__`` list
    before): how a failure during cleanup is reported without replacing the error that caused the cleanup."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]


class ConfigError(TwinarmError, ValueError):
    """A configuration value is invalid: the message names the key and the valid choices or range."""


class NotConnectedError(TwinarmError, RuntimeError):
    """A robot (or device) was used before ``connect()`` or after ``disconnect()``."""


class ActionError(TwinarmError, ValueError):
    """An action has the wrong shape or dtype, or holds NaN/inf values."""


class SpecError(TwinarmError, ValueError):
    """A robot spec is inconsistent (duplicate names, empty range, bad camera size)."""


class RobotCheckError(TwinarmError, AssertionError):
    """``check_robot`` found a robot that does not honour the Robot contract."""


class SafetyError(TwinarmError, RuntimeError):
    """A safety layer refused to act (for example a watchdog trip that must not be ignored)."""
