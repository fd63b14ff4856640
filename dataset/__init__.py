"""LeRobot v3.0 datasets: recording from any control loop, reading for training (numpy only, no torch).

``Recorder`` writes episodes (video encoded in background threads, crash-safe commits, packed into ~100 MB data
and ~500 MB video files as lerobot does), ``recover`` repairs what a crash left behind, ``LeRobotDatasetReader``
serves samples (video or image cameras) with lerobot's keys and delta-timestamp windows. This package is part of
the core: it imports none of ``hardware``, ``sim`` or ``policies``.
"""

from twinarm.dataset.errors import (
    DatasetCorruptError,
    DatasetError,
    DatasetFormatError,
    MissingFileError,
    RecorderError,
)
from twinarm.dataset.reader import LeRobotDatasetReader
from twinarm.dataset.recorder import EpisodeSummary, Recorder, RecorderSettings
from twinarm.dataset.recovery import recover
from twinarm.dataset.video import VideoSettings, available_codecs

__all__ = [
    "DatasetCorruptError",
    "DatasetError",
    "DatasetFormatError",
    "EpisodeSummary",
    "LeRobotDatasetReader",
    "MissingFileError",
    "Recorder",
    "RecorderError",
    "RecorderSettings",
    "VideoSettings",
    "available_codecs",
    "recover",
]
