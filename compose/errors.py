"""Errors of the composition layer (all derive from :class:`twinarm.robot.errors.TwinarmError`)."""

from __future__ import annotations

from twinarm.robot.errors import TwinarmError


class MissingExtraError(TwinarmError, ImportError):
    """A feature needs an optional dependency that is not installed; the message names the extra to install."""


class ViewerError(TwinarmError, RuntimeError):
    """The rerun view or an ``.rrd`` export could not log something (e.g. a camera frame that does not encode)."""
