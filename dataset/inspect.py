"""Dataset summary and consistency check (``twinarm dataset info|check``)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from twinarm.dataset import layout, metadata
from twinarm.dataset.errors import DatasetError
from twinarm.dataset.packing import packet_times
from twinarm.dataset.reader import LeRobotDatasetReader
from twinarm.dataset.recovery import recover


def summary(root: str | Path) -> str:
    """A few lines describing the dataset at ``root``."""
    r = LeRobotDatasetReader(root)
    info = r.info
    lengths = [int(e["length"]) for e in r.episodes]
    lines = [
        f"dataset      {r.root}",
        f"format       LeRobot {info['codebase_version']}, robot_type={info.get('robot_type')}, fps={info['fps']}",
        f"episodes     {r.num_episodes} ({len(r)} frames, {len(r) / r.fps:.1f} s)"
        + (f", length min/mean/max {min(lengths)}/{np.mean(lengths):.1f}/{max(lengths)}" if lengths else ""),
        f"tasks        {len(r.tasks)}: "
        + "; ".join(repr(t) for t in r.tasks[:5])
        + (" ..." if len(r.tasks) > 5 else ""),
        "features:",
    ]
    for key, ft in r.features.items():
        extra = ""
        if ft["dtype"] == "video":
            extra = f" codec={ft.get('info', {}).get('video.codec')}"
        elif ft.get("names"):
            extra = f" names={ft['names']}"
        units = f" [{ft['units']}]" if "units" in ft else ""
        lines.append(f"  {key:<32} {ft['dtype']:<8} {list(ft['shape'])}{units}{extra}")
    dropped = sum(int(e.get("dropped_frames") or 0) for e in r.episodes)
    late = sum(int(e.get("late_frames") or 0) for e in r.episodes)
    lines.append(f"recording    dropped frames {dropped}, late frames {late}")
    lines.append(f"stats        {'present' if r.stats else 'MISSING'} ({len(r.stats)} features)")
    return "\n".join(lines)


class CheckReport(NamedTuple):
    problems: list[str]
    repairs: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check(root: str | Path, repair: bool = False) -> CheckReport:
    """Compare parquet and video frame counts per episode, timestamps, stats; optionally repair a crash tail.

    ``repair`` runs :func:`~twinarm.dataset.recovery.recover` (partial episode, orphan and temp files, stale
    info.json) before checking; without it the same findings are reported as problems.
    """
    root = Path(root)
    repairs = recover(root, dry_run=not repair)
    problems = [] if repair else [f"needs repair: {m}" for m in repairs]
    try:
        r = LeRobotDatasetReader(root)
    except DatasetError as e:
        return CheckReport([*problems, str(e)], repairs if repair else [])
    data = r.lowdim()
    times: dict[Path, np.ndarray] = {}
    for key in r.unsupported_keys:
        problems.append(
            f"feature {key!r} has dtype {r.features[key]['dtype']!r}, which twinarm's reader cannot serve "
            f"(served dtypes: {', '.join(sorted(layout.LOWDIM_DTYPES))}, video, image)"
        )
    for ep in r.episodes:
        e = int(ep["episode_index"])
        lo, hi = r.episode_bounds(e)
        ts = data["timestamp"][lo:hi]
        if len(ts) != hi - lo or np.any(np.diff(ts) <= 0):
            problems.append(f"episode {e}: timestamps are not strictly increasing")
        if not np.array_equal(data["episode_index"][lo:hi], np.full(hi - lo, e)):
            problems.append(f"episode {e}: rows {lo}..{hi} carry other episode_index values")
        for key in r.image_keys:
            problems.extend(_check_images(r, key, e, lo, hi))
        for key in r.video_keys:
            path = root / r.info["video_path"].format(
                video_key=key, chunk_index=ep[f"videos/{key}/chunk_index"], file_index=ep[f"videos/{key}/file_index"]
            )
            try:
                if path not in times:  # packed files: demux each once, not once per episode
                    times[path] = packet_times(path)
                n = _count(times[path], ep[f"videos/{key}/from_timestamp"], ep[f"videos/{key}/to_timestamp"], r.fps)
            except DatasetError as exc:
                problems.append(f"episode {e}: {exc}")
                continue
            if n != hi - lo:
                problems.append(
                    f"episode {e}: {path.relative_to(root)} holds {n} frames in "
                    f"[{ep[f'videos/{key}/from_timestamp']:.3f}, {ep[f'videos/{key}/to_timestamp']:.3f}) s, "
                    f"the parquet {hi - lo}"
                )
    missing = [k for k in r.features if k not in r.stats and k not in layout.INDEX_FEATURES]
    if not (root / layout.STATS_PATH).exists():
        problems.append(f"{root / layout.STATS_PATH} is missing")
    elif missing:
        problems.append(f"{root / layout.STATS_PATH} lacks features {missing}")
    if (root / layout.TASKS_PATH).exists() and r.episodes:
        known = set(metadata.read_tasks(root))
        unknown = {t for ep in r.episodes for t in ep.get("tasks") or [] if t not in known}
        if unknown:
            problems.append(f"{root / layout.TASKS_PATH} lacks tasks {sorted(unknown)}")
    return CheckReport(problems, repairs if repair else [])


def _check_images(r: LeRobotDatasetReader, key: str, episode: int, lo: int, hi: int) -> list[str]:
    """Decode the first and last image of an episode; report an undecodable cell or a shape unlike info.json."""
    want = tuple(int(x) for x in r.features[key]["shape"])
    if (r.features[key].get("names") or [None])[0] == "channels":  # channel-first declaration (C, H, W)
        want = (*want[1:], want[0])
    out = []
    for i in sorted({lo, hi - 1}) if hi > lo else []:
        try:
            img = r.frame(key, i)
        except DatasetError as exc:
            out.append(f"episode {episode}: {exc}")
            continue
        if img.shape != want:
            out.append(f"episode {episode}: {key} frame {i} decodes to shape {img.shape}, info.json says {want}")
    return out


def _count(times: np.ndarray, from_s: float, to_s: float, fps: float) -> int:
    """Packets with time in [from_s, to_s) (half a frame of tolerance, as ``video.count_frames``)."""
    half = 0.5 / fps
    return int(np.searchsorted(times, to_s - half, "left") - np.searchsorted(times, from_s - half, "left"))
