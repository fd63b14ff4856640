"""A recorded dataset as a rerun ``.rrd`` file (``twinarm dataset visualize PATH --rrd OUT``; extra ``viz``).

The entities match the live view (:mod:`twinarm.compose.viewer`) so one layout serves both: ``joints/<joint>``
holds two series, ``state`` (``observation.state``) and ``action``, in that order [rad]; ``cameras/<camera>`` the
decoded frames (JPEG at ``jpeg_quality``, 0: raw pixels); ``events`` one line per episode (index and task).
Timelines: ``index`` (the dataset row), ``frame_index`` (the row within its episode) and ``time`` (the episode's
``timestamp`` [s]).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from twinarm.compose.viewer import image_archetype, require_rerun
from twinarm.dataset.reader import LeRobotDatasetReader
from twinarm.robot.features import ACTION, STATE, camera_of_feature

SERIES = ("state", "action")  # the series of each ``joints/<joint>`` entity, in this order


def write_dataset_rrd(reader: LeRobotDatasetReader, out: Path, episodes: Sequence[int], jpeg_quality: int = 85) -> Path:
    """Write ``episodes`` of ``reader`` to the ``.rrd`` file ``out`` (created with its folder); returns ``out``."""
    rr = require_rerun()
    data = reader.lowdim()
    state = data.get(STATE)
    action = data.get(ACTION)
    n_joints = state.shape[1] if state is not None else (action.shape[1] if action is not None else 0)
    names = list(reader.features.get(STATE, {}).get("names") or []) or [f"joint_{j}" for j in range(n_joints)]
    out.parent.mkdir(parents=True, exist_ok=True)
    rec = rr.RecordingStream("twinarm_dataset")
    rec.set_sinks(rr.FileSink(str(out)))
    try:
        for name in names:
            rec.log(f"joints/{name}", rr.SeriesLines(names=list(SERIES)), static=True)
        for ep in episodes:
            lo, hi = reader.episode_bounds(ep)
            for i in range(lo, hi):
                rec.set_time("index", sequence=i)
                rec.set_time("frame_index", sequence=i - lo)
                rec.set_time("time", duration=float(data["timestamp"][i]))
                if i == lo:
                    rec.log("events", rr.TextLog(f"episode {ep}: {reader.episode_task(ep)}"))
                for j, name in enumerate(names):
                    values = [_at(state, i, j), _at(action, i, j)]
                    rec.log(f"joints/{name}", rr.Scalars(values))
                for key in reader.camera_keys:
                    rec.log(
                        f"cameras/{camera_of_feature(key)}", image_archetype(rr, reader.frame(key, i), jpeg_quality)
                    )
        rec.flush(timeout_sec=60.0)
    finally:
        rec.disconnect()
    return out


def _at(values: np.ndarray | None, row: int, column: int) -> float:
    return float(values[row, column]) if values is not None else float("nan")
