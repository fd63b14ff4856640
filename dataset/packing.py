"""Packed files (LeRobot v3's point): many episodes per data parquet and per camera mp4.

The recorder saves each episode into files of its own (fast, crash-safe: a rename and one small parquet);
:func:`pack_tail` then merges the trailing one-episode files into the newest packed file of each kind while it stays
under the size limit (``data_file_mb`` ~100 MB, ``video_file_mb`` ~500 MB, as lerobot does), else they start the
next one. Merging rewrites the destination with its committed content unchanged plus the new episodes (data:
parquet rows; video: packets remuxed without re-encoding, shifted in time) into a temp file replaced atomically;
the caller then commits the episodes metadata pointing at it and only then deletes the merged files. A crash at any
point leaves a readable dataset: before the commit the episodes still live in their own files (the destination's
extra rows are trimmed on open by ``recovery``, its extra frames are never referenced and dropped at the next
merge); after it, the merged files are unreferenced and deleted on open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import av
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from twinarm.dataset import layout, metadata
from twinarm.dataset.errors import DatasetCorruptError, MissingFileError
from twinarm.robot.files import replace_durably


class VideoPart(NamedTuple):
    """Packets of ``path`` with time < ``end_s`` (None: all), shifted by ``offset_s`` [s] in the output."""

    path: Path
    offset_s: float
    end_s: float | None = None


def remux(parts: list[VideoPart], out: Path, fps: float) -> int:
    """Concatenate the video packets of ``parts`` into the mp4 ``out`` without re-encoding; returns the number of
    packets written. Every part must hold the same codec and size (one recorder's streams do)."""
    half = Fraction(1, 2) / Fraction(fps).limit_denominator(1001)
    written = 0
    try:
        with av.open(str(out), "w", format="mp4") as container:
            stream = None
            for part in parts:
                offset = Fraction(part.offset_s).limit_denominator(1_000_000)
                end = None if part.end_s is None else Fraction(part.end_s).limit_denominator(1_000_000) - half
                with av.open(str(part.path)) as src:
                    in_stream = src.streams.video[0]
                    if stream is None:
                        stream = container.add_stream_from_template(in_stream)
                    for packet in src.demux(in_stream):
                        if packet.pts is None:
                            continue
                        t = packet.pts * in_stream.time_base
                        if end is not None and t >= end:
                            continue
                        dts = packet.dts if packet.dts is not None else packet.pts
                        # stamped in the input's time base, which muxing rescales to the output's: the output
                        # stream has no time base before its header is written on PyAV < 16 (None there)
                        tb = in_stream.time_base
                        packet.pts = round((t + offset) / tb)
                        packet.dts = round((dts * tb + offset) / tb)
                        packet.time_base = tb
                        packet.stream = stream
                        container.mux(packet)
                        written += 1
    except (av.error.FFmpegError, IndexError) as e:
        raise DatasetCorruptError(f"packing video into {out} failed: {e}") from e
    return written


def video_frames(path: Path) -> int:
    """Frames of an mp4 as its header states them (no demuxing)."""
    try:
        with av.open(str(path)) as c:
            return int(c.streams.video[0].frames)
    except (av.error.FFmpegError, IndexError) as e:
        raise DatasetCorruptError(f"video file {path} cannot be opened: {e}") from e


class Packed(NamedTuple):
    """Result of :func:`pack_tail`: the new episodes ``rows``, indices of the ``moved`` episodes (rows changed),
    and the ``obsolete`` files to delete once the rows are committed."""

    rows: list[dict[str, Any]]
    moved: list[int]
    obsolete: list[Path]


def pack_tail(root: Path, info: dict, rows: list[dict[str, Any]], data_mb: float, video_mb: float) -> Packed:
    """Merge the trailing one-episode files of every kind into packed files (see the module doc)."""
    rows = [dict(r) for r in rows]
    moved: set[int] = set()
    obsolete: list[Path] = []
    fps = float(info["fps"])
    kinds = [("data", data_mb)] + [(f"videos/{k}", video_mb) for k in layout.video_keys(info["features"])]
    for prefix, limit_mb in kinds:
        path_of = _path_fn(root, info, prefix)
        for dest, members in _groups(rows, prefix, path_of, limit_mb):
            while members:
                if prefix == "data":
                    done = _merge_data(rows, dest, members, path_of)
                else:
                    done = _merge_video(rows, prefix, dest, members, path_of, fps)
                for j in done:
                    obsolete.append(path_of(_file(rows[j], prefix)))
                    rows[j][f"{prefix}/chunk_index"], rows[j][f"{prefix}/file_index"] = dest
                    moved.add(j)
                rest = members[len(done) :]  # stopped at a file that cannot join dest: it starts the next pack
                dest, members = (_file(rows[rest[0]], prefix), rest[1:]) if rest else (dest, [])
    return Packed(rows, sorted(moved), obsolete)


def _file(row: dict[str, Any], prefix: str) -> tuple[int, int] | None:
    c = row.get(f"{prefix}/chunk_index")
    return None if c is None else (int(c), int(row[f"{prefix}/file_index"]))


def _path_fn(root: Path, info: dict, prefix: str) -> Callable[[tuple[int, int]], Path]:
    if prefix == "data":
        return lambda f: root / info["data_path"].format(chunk_index=f[0], file_index=f[1])
    key = prefix[len("videos/") :]
    return lambda f: root / info["video_path"].format(video_key=key, chunk_index=f[0], file_index=f[1])


def _groups(
    rows: list[dict[str, Any]], prefix: str, path_of: Callable[[tuple[int, int]], Path], limit_mb: float
) -> list[tuple[tuple[int, int], list[int]]]:
    """(destination file, episodes to merge into it) for the trailing run of one-episode files."""
    if limit_mb <= 0:
        return []
    counts = Counter(_file(r, prefix) for r in rows)
    start = len(rows)
    while start > 0 and _file(rows[start - 1], prefix) is not None and counts[_file(rows[start - 1], prefix)] == 1:
        start -= 1
    limit = limit_mb * 2**20
    groups: list[tuple[tuple[int, int], list[int]]] = []
    dest = _file(rows[start - 1], prefix) if start > 0 else None
    size = path_of(dest).stat().st_size if dest is not None and path_of(dest).is_file() else limit
    members: list[int] = []
    for j in range(start, len(rows)):
        f = _file(rows[j], prefix)
        extra = path_of(f).stat().st_size
        if dest is not None and size + extra <= limit:
            members.append(j)
            size += extra
            continue
        if members:
            groups.append((dest, members))
        dest, size, members = f, extra, []
    if members:
        groups.append((dest, members))
    return groups


def _merge_data(rows: list[dict], dest: tuple[int, int], members: list[int], path_of) -> list[int]:
    """Rewrite data file ``dest`` with its committed rows plus those of ``members``; the members merged."""
    in_dest = {int(r["episode_index"]) for r in rows if _file(r, "data") == dest}
    table = metadata.read_parquet(path_of(dest))
    keep = pc.is_in(table.column("episode_index"), value_set=pa.array(sorted(in_dest), pa.int64()))
    tables, done = [table.filter(keep)], []
    for j in members:
        part = metadata.read_parquet(path_of(_file(rows[j], "data")))
        try:
            tables.append(part.cast(tables[0].schema))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):  # typed otherwise (another writer)
            break
        done.append(j)
    if done:
        metadata.write_parquet_atomic(pa.concat_tables(tables), path_of(dest))
    return done


def _merge_video(rows: list[dict], prefix: str, dest: tuple[int, int], members: list[int], path_of, fps: float):
    """Remux video file ``dest`` (committed frames) plus the videos of ``members`` of the same codec, size and
    pixel format; their rows get the new from/to timestamps. Returns the members merged."""
    end = max(float(r[f"{prefix}/to_timestamp"]) for r in rows if _file(r, prefix) == dest)
    frames = round(end * fps)
    parts = [VideoPart(path_of(dest), 0.0, end)]
    kind = _stream_kind(path_of(dest))
    try:  # remuxing copies the codec parameters through a codec of that name (PyAV needs it as an encoder)
        av.codec.Codec(kind[0], "w")
    except av.codec.codec.UnknownCodecError:  # e.g. AV1 decoded by libdav1d: left one file per episode
        return []
    done = []
    for j in members:
        if _stream_kind(path_of(_file(rows[j], prefix))) != kind:  # e.g. appended to another writer's AV1 file
            break
        done.append(j)
        n = int(rows[j]["length"])
        parts.append(VideoPart(path_of(_file(rows[j], prefix)), frames / fps))
        rows[j][f"{prefix}/from_timestamp"] = frames / fps
        rows[j][f"{prefix}/to_timestamp"] = (frames + n) / fps
        frames += n
    if not done:
        return done
    tmp = path_of(dest).with_name(path_of(dest).name + ".pack.tmp")
    remux(parts, tmp, fps)
    replace_durably(tmp, path_of(dest))
    return done


def _stream_kind(path: Path) -> tuple:
    """What must agree for packets to share one stream: codec, size, pixel format, extradata (SPS/PPS)."""
    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            cc = s.codec_context
            return (cc.name, cc.width, cc.height, cc.format.name if cc.format else None, bytes(cc.extradata or b""))
    except (av.error.FFmpegError, IndexError) as e:
        raise DatasetCorruptError(f"video file {path} cannot be opened: {e}") from e


# -- recovery ------------------------------------------------------------------------------------------------
def trim_data(path: Path, episodes: set[int], expected_rows: int, dry_run: bool) -> str | None:
    """Drop rows of episodes not in ``episodes`` from a data file holding more than ``expected_rows`` rows."""
    if not path.is_file() or pq.ParquetFile(path).metadata.num_rows <= expected_rows:
        return None
    if not dry_run:
        table = metadata.read_parquet(path)
        keep = pc.is_in(table.column("episode_index"), value_set=pa.array(sorted(episodes), pa.int64()))
        metadata.write_parquet_atomic(table.filter(keep), path)
    return f"removed the rows of an uncommitted episode from {path.parent.name}/{path.name} (partial episode)"


def trim_video(path: Path, end_s: float, fps: float, dry_run: bool) -> str | None:
    """Cut the frames at and after ``end_s`` [s] (an uncommitted episode) off a packed video file."""
    if not path.is_file() or video_frames(path) <= round(end_s * fps):
        return None
    if not dry_run:
        tmp = path.with_name(path.name + ".trim.tmp")
        remux([VideoPart(path, 0.0, end_s)], tmp, fps)
        replace_durably(tmp, path)
    return f"cut the frames of an uncommitted episode off {path.relative_to(path.parents[3])} (partial episode)"


def packet_times(path: Path) -> np.ndarray:
    """Sorted presentation times [s] of every video packet of ``path`` (demux only)."""
    if not path.is_file():
        raise MissingFileError(f"video file {path} is missing")
    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            return np.sort([float(p.pts * s.time_base) for p in c.demux(s) if p.pts is not None])
    except (av.error.FFmpegError, IndexError) as e:
        raise DatasetCorruptError(f"video file {path} cannot be read: {e}") from e
