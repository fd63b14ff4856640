"""Dataset errors: every message names the file (or key) at fault and what would be valid."""

from __future__ import annotations

from twinarm.robot.errors import TwinarmError


class DatasetError(TwinarmError):
    """Root of the errors raised by ``twinarm.dataset``."""


class DatasetFormatError(DatasetError, ValueError):
    """A file parses but does not follow the LeRobot v3.0 layout (version, missing key or feature, bad dtype)."""


class DatasetCorruptError(DatasetError):
    """A file is unreadable or disagrees with the metadata (corrupt parquet, frame count mismatch)."""


class MissingFileError(DatasetError, FileNotFoundError):
    """A file the metadata refers to (data parquet, video) does not exist."""


class FrameIndexError(DatasetError, IndexError):
    """A frame or episode index outside the dataset (an IndexError, so sequence iteration ends on it); the
    message gives the valid range."""


class RecorderError(DatasetError, RuntimeError):
    """The recorder was used out of order (a frame without an open episode, a frame of the wrong shape)."""


class UnitsMismatchError(DatasetError, ValueError):
    """A dataset's joint units or names differ from the robot a policy is trained for (or are not stated and cannot
    be assumed); the message names both sides and the key that converts or declares them."""
