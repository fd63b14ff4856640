"""Crash recovery: bring a dataset directory back to its last committed episode.

The recorder commits an episode by atomically replacing its ``meta/episodes`` file (after the episode's video
and data files are durable in their final places). So after a crash or SIGKILL:

* ``.recording/`` holds the staged video of an unfinished episode: it is deleted;
* ``*.tmp`` files are half-written metadata: deleted;
* data/video files the episodes metadata does not refer to belong to an episode that never committed: deleted
  (otherwise lerobot, which globs ``data/*/*.parquet``, would load them);
* a packed data file may hold rows of episodes a merge (``packing``) copied in but never committed: trimmed back
  to the episodes the metadata places there; likewise extra frames at the end of the newest video files;
* ``info.json``/``stats.json`` are rewritten from the episodes metadata when their totals disagree with it.

Files are only ever replaced atomically by a version whose committed content is unchanged, so a committed
episode can never be damaged by a later crash.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from twinarm.dataset import layout, metadata, packing
from twinarm.dataset.stats import merge_dataset_stats, to_json
from twinarm.robot.files import write_json_atomic

_CHUNK_FILE_RE = re.compile(r"chunk-(\d+)/file-(\d+)\.(parquet|mp4)$")


def _counter(path: Path, base: Path) -> int | None:
    m = _CHUNK_FILE_RE.search(path.relative_to(base).as_posix())
    return None if m is None else int(m.group(1)) * layout.CHUNKS_SIZE + int(m.group(2))


def recover(root: Path, dry_run: bool = False) -> list[str]:
    """Discard what a crash left behind; returns one message per action (empty when the dataset was clean)."""
    root = Path(root)
    msgs: list[str] = []
    staging = root / layout.STAGING_DIR
    if staging.exists():
        staged = [p.name for p in staging.iterdir()]
        msgs.append(f"discarded a partial episode that was being recorded ({', '.join(staged) or 'no files'})")
        if not dry_run:
            shutil.rmtree(staging)
    for sub in ("meta", "data", "videos"):
        for tmp in sorted((root / sub).rglob("*.tmp")):
            msgs.append(f"removed unfinished temp file {tmp.relative_to(root)}")
            if not dry_run:
                tmp.unlink()

    info = metadata.read_info(root)
    rows = metadata.read_episodes(root, with_stats=True)
    referenced: dict[str, set[int]] = {"data": set()}
    for key in layout.video_keys(info["features"]):
        referenced[f"videos/{key}"] = set()
    for r in rows:
        referenced["data"].add(r["data/chunk_index"] * layout.CHUNKS_SIZE + r["data/file_index"])
        for key in layout.video_keys(info["features"]):
            c, f = r.get(f"videos/{key}/chunk_index"), r.get(f"videos/{key}/file_index")
            if c is not None:
                referenced[f"videos/{key}"].add(c * layout.CHUNKS_SIZE + f)
    for sub, refs in referenced.items():
        base = root / sub
        for p in sorted(base.rglob("file-*.*")) if base.exists() else []:
            n = _counter(p, base)
            if n is not None and n not in refs:
                msgs.append(f"removed {p.relative_to(root)}: it belongs to no committed episode (partial episode)")
                if not dry_run:
                    p.unlink()
    msgs += _trim_newest(root, info, rows, dry_run)

    total_frames = sum(int(r["length"]) for r in rows)
    if info.get("total_episodes") != len(rows) or info.get("total_frames") != total_frames:
        msgs.append(
            f"info.json said {info.get('total_episodes')} episodes / {info.get('total_frames')} frames; the "
            f"episodes metadata holds {len(rows)} / {total_frames}: rewrote info.json and stats.json"
        )
        if not dry_run:
            info["total_episodes"] = len(rows)
            info["total_frames"] = total_frames
            info["total_tasks"] = len(metadata.read_tasks(root)) if (root / layout.TASKS_PATH).exists() else 0
            info["splits"] = {"train": f"0:{len(rows)}"} if rows else {}
            ep_stats = [metadata.episode_stats(r) for r in rows]
            if any(ep_stats):
                write_json_atomic(to_json(merge_dataset_stats(ep_stats)), root / layout.STATS_PATH)
            write_json_atomic(info, root / layout.INFO_PATH)
    return msgs


def _trim_newest(root: Path, info: dict, rows: list[dict], dry_run: bool) -> list[str]:
    """Trim rows of episodes a data file does not hold by the metadata (a merge that did not commit), and an
    uncommitted episode's frames off the newest video files."""
    if not rows:
        return []
    msgs = []
    by_file: dict[tuple[int, int], list[dict]] = {}
    for r in rows:
        by_file.setdefault((r["data/chunk_index"], r["data/file_index"]), []).append(r)
    for (chunk, file), in_file in by_file.items():
        path = root / info["data_path"].format(chunk_index=chunk, file_index=file)
        expected = sum(int(r["length"]) for r in in_file)
        msg = packing.trim_data(path, {int(r["episode_index"]) for r in in_file}, expected, dry_run)
        msgs += [msg] if msg else []
    last = rows[-1]
    for key in layout.video_keys(info["features"]):
        if last.get(f"videos/{key}/chunk_index") is None:
            continue
        c, f = last[f"videos/{key}/chunk_index"], last[f"videos/{key}/file_index"]
        path = root / info["video_path"].format(video_key=key, chunk_index=c, file_index=f)
        msg = packing.trim_video(path, float(last[f"videos/{key}/to_timestamp"]), float(info["fps"]), dry_run)
        msgs += [msg] if msg else []
    return msgs
