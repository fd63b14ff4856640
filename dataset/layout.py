"""The LeRobot v3.0 directory layout: paths, feature schema from a RobotSpec, durable file writes.

A dataset root holds::

    meta/info.json                      schema, fps, totals, path templates
    meta/stats.json                     per-feature stats merged over all episodes
    meta/tasks.parquet                  task text (pandas index ``task``) -> ``task_index``
    meta/episodes/chunk-XXX/file-XXX.parquet   one row per episode: lengths, file indices, per-episode stats
    data/chunk-XXX/file-XXX.parquet     frame rows of many episodes (packed up to DATA_FILES_SIZE_IN_MB)
    videos/<key>/chunk-XXX/file-XXX.mp4 one H.264/AV1 stream per camera, episodes packed up to VIDEO_FILES_SIZE_IN_MB

Feature mapping from the Robot contract (``robot.spec``): ``observation.state`` <- ``joint_pos`` [rad],
``observation.velocity`` <- ``joint_vel`` [rad/s], ``observation.images.<cam>`` <- ``image_<cam>`` (video),
``action`` <- the joint targets sent [rad]. Units are stored per feature under an extra ``units`` key, which
lerobot ignores (it reads only ``dtype``, ``shape``, ``names`` and ``info``).
"""

from __future__ import annotations

import json
from typing import Any

from twinarm.robot.features import (
    ACTION,
    STATE,
    VELOCITY,
    image_feature,
)
from twinarm.robot.spec import RobotSpec

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000  # files per chunk directory
DATA_FILES_SIZE_IN_MB = 100
VIDEO_FILES_SIZE_IN_MB = 500

INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
CHUNK_FILE = "chunk-{chunk_index:03d}/file-{file_index:03d}"
EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE + ".parquet"
DATA_PATH = "data/" + CHUNK_FILE + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE + ".mp4"
#: In-progress files of the episode being recorded; anything found here on open is a partial episode.
STAGING_DIR = ".recording"

#: Index columns every frame row carries, in lerobot's order and dtypes.
INDEX_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}


def chunk_file(counter: int) -> tuple[int, int]:
    """(chunk_index, file_index) of the ``counter``-th file of a kind (``CHUNKS_SIZE`` files per chunk)."""
    return counter // CHUNKS_SIZE, counter % CHUNKS_SIZE


def video_info(height: int, width: int, fps: float, codec: str, pix_fmt: str) -> dict[str, Any]:
    """The ``info`` block lerobot keeps for a video feature."""
    return {
        "video.height": height,
        "video.width": width,
        "video.codec": codec,
        "video.pix_fmt": pix_fmt,
        "video.is_depth_map": False,
        "video.fps": fps,
        "video.channels": 3,
        "has_audio": False,
    }


def features_from_spec(spec: RobotSpec, fps: float, codec: str = "h264", pix_fmt: str = "yuv420p") -> dict:
    """lerobot ``features`` for a robot: state, velocity, one video per camera, action, index columns."""
    names = list(spec.joint_names)
    n = spec.num_joints
    features: dict[str, dict[str, Any]] = {
        STATE: {"dtype": "float32", "shape": [n], "names": names, "units": "rad"},
        VELOCITY: {"dtype": "float32", "shape": [n], "names": names, "units": "rad/s"},
    }
    for cam in spec.cameras:
        features[image_feature(cam.name)] = {
            "dtype": "video",
            "shape": [cam.height, cam.width, 3],
            "names": ["height", "width", "channels"],
            "info": video_info(cam.height, cam.width, fps, codec, pix_fmt),
        }
    features[ACTION] = {"dtype": "float32", "shape": [n], "names": names, "units": "rad"}
    features.update(json.loads(json.dumps(INDEX_FEATURES)))
    return features


def new_info(features: dict, fps: float, robot_type: str | None) -> dict[str, Any]:
    """``meta/info.json`` of an empty dataset."""
    has_video = any(ft["dtype"] == "video" for ft in features.values())
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": 0,
        "total_frames": 0,
        "total_tasks": 0,
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": DATA_FILES_SIZE_IN_MB,
        "video_files_size_in_mb": VIDEO_FILES_SIZE_IN_MB,
        "fps": int(fps) if float(fps).is_integer() else fps,
        "splits": {},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if has_video else None,
        "features": features,
    }


#: dtypes of features stored as numeric parquet columns (scalars or fixed-size vectors).
LOWDIM_DTYPES = frozenset({"float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"})
VIDEO_DTYPE = "video"
#: Camera frames stored in the data parquet as encoded images (struct ``{bytes, path}``), as lerobot does
#: for ``use_videos=False``.
IMAGE_DTYPE = "image"


def video_keys(features: dict) -> list[str]:
    return [k for k, ft in features.items() if ft["dtype"] == VIDEO_DTYPE]


def image_keys(features: dict) -> list[str]:
    """Camera features stored as encoded images (PNG/JPEG bytes) inside the data parquet files."""
    return [k for k, ft in features.items() if ft["dtype"] == IMAGE_DTYPE]


def lowdim_keys(features: dict) -> list[str]:
    """Features stored as numeric parquet columns (numeric dtypes; not videos, images or strings)."""
    return [k for k, ft in features.items() if ft["dtype"] in LOWDIM_DTYPES]


def unsupported_keys(features: dict) -> list[str]:
    """Features whose dtype twinarm cannot serve (e.g. ``string``, ``audio``): the reader skips them."""
    return [k for k, ft in features.items() if ft["dtype"] not in LOWDIM_DTYPES | {VIDEO_DTYPE, IMAGE_DTYPE}]


# -- durable writes ----------------------------------------------------------------------------------------
