"""Packed files (LeRobot v3's point): many episodes per data parquet and per camera mp4, appended in place.

An episode is appended to the newest file of its kind while that stays under the size limit
(``data_file_mb`` ~100 MB, ``video_file_mb`` ~500 MB, as lerobot does), else it opens the next file:

* data: the file's committed rows plus the new ones are written to a temp file and renamed over it;
* video: the committed part of the file (frames before its last episode's ``to_timestamp``) and the new
  episode's packets, shifted by that time, are remuxed (no re-encoding) into a temp file renamed over it.

Either way the committed prefix of a file is rewritten unchanged and replaced atomically, and the episodes
metadata commits afterwards, so a crash leaves at worst an uncommitted tail in the newest file, which
:func:`trim_data` / :func:`trim_video` (called by ``recovery.recover``) remove on the next open.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from twinarm.dataset import layout, metadata
from twinarm.dataset.errors import DatasetCorruptError, MissingFileError


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
                        packet.pts = round((t + offset) / stream.time_base)
                        packet.dts = round((dts * in_stream.time_base + offset) / stream.time_base)
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


def append_video(pack: Path, committed_end_s: float, episode: Path, tmp: Path, fps: float) -> None:
    """``pack`` := its frames before ``committed_end_s`` [s] + the frames of ``episode`` from that time on."""
    parts = [VideoPart(pack, 0.0, committed_end_s), VideoPart(episode, committed_end_s)]
    remux(parts, tmp, fps)
    layout.replace_durably(tmp, pack)


def append_data(path: Path, committed: pa.Table | None, new: pa.Table) -> pa.Table:
    """``path`` := ``committed`` rows (None: a new file) + ``new`` rows; returns the file's table."""
    table = new
    if committed is not None and committed.num_rows:
        table = pa.concat_tables([committed, new.cast(committed.schema)])
    metadata.write_parquet_atomic(table, path)
    return table


def fits(path: Path, extra_bytes: int, limit_mb: float) -> bool:
    """Whether ``path`` can take ``extra_bytes`` more and stay within ``limit_mb`` (0: never: one file each)."""
    return limit_mb > 0 and path.is_file() and path.stat().st_size + extra_bytes <= limit_mb * 2**20


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
        layout.replace_durably(tmp, path)
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
