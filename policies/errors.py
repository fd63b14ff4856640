"""Errors raised by the policies package."""

from __future__ import annotations

from twinarm.robot.errors import ConfigError, TwinarmError


class PolicyError(TwinarmError, ValueError):
    """A policy, checkpoint or batch is unusable; the message names the file, key or value at fault."""


class PolicyConfigError(ConfigError):
    """A policy or training config value is invalid; the message names the key and what would be valid."""
