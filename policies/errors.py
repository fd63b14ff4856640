"""Errors raised by the policies package."""

from __future__ import annotations

from twinarm.robot.errors import ConfigError, TwinarmError


class PolicyError(TwinarmError, ValueError):
    """A policy, checkpoint or batch is unusable; the message names the file, key or value at fault."""


class MissingObservationError(PolicyError, KeyError):
    """An observation lacks a key the policy needs; the message lists the keys it has."""

    __str__ = Exception.__str__  # the message itself, not KeyError's quoted repr


class SampleIndexError(PolicyError, IndexError):
    """A sample index outside a dataset (an IndexError, so sequence iteration ends on it)."""


class PolicyConfigError(ConfigError):
    """A policy or training config value is invalid; the message names the key and what would be valid."""


class CheckpointError(PolicyError):
    """A checkpoint file is missing, malformed, truncated or does not fit its model; the message names the file."""
