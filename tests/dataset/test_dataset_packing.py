"""Packed datasets: many episodes per data file and per camera mp4, rolled over at the size limits, with the
crash guarantee kept (a kill between appending and committing loses only that episode; trimmed on open)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from tests.dataset.fake_source import SPEC, frame
from twinarm.dataset import LeRobotDatasetReader, Recorder, RecorderSettings, recover
from twinarm.dataset.inspect import check
from twinarm.dataset.packing import video_frames

REPO = Path(__file__).resolve().parents[2]
LENGTHS = (9, 14, 6, 11)


def record(
    root: Path, lengths=LENGTHS, settings: RecorderSettings | None = None, first: int = 0, pack: bool = True
) -> None:
    rec = Recorder(root, SPEC, settings)
    for k, n in enumerate(lengths):
        rec.start_episode(f"task {k % 2}")
        for i in range(n):
            rec.add_frame(*frame(first + k, i))
        rec.save_episode()
    rec.close(pack=pack)


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("file-*.*") if "meta" not in p.parts)


def assert_episodes_read_back(root: Path, lengths, first: int = 0) -> None:
    r = LeRobotDatasetReader(root)
    assert r.num_episodes == len(lengths) and len(r) == sum(lengths)
    for ep, n in enumerate(lengths):
        lo, _ = r.episode_bounds(ep)
        for i in (0, n - 1):
            obs, act = frame(first + ep, i)
            item = r.get(lo + i)
            np.testing.assert_array_equal(item["action"], act)
            for cam in ("front", "wrist"):  # the right frame: closer to it than to its neighbour (lossy codec)
                img = item[f"observation.images.{cam}"].astype(int)
                err = np.abs(img - obs[f"image_{cam}"]).mean()
                other = frame(first + ep, i + 1 if i == 0 else i - 1)[0][f"image_{cam}"]
                assert err < 10 and err < np.abs(img - other).mean(), (ep, i, cam, err)
    r.close()


def test_episodes_are_packed_into_one_file_per_kind(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    record(root)
    assert files(root) == [
        "data/chunk-000/file-000.parquet",
        "videos/observation.images.front/chunk-000/file-000.mp4",
        "videos/observation.images.wrist/chunk-000/file-000.mp4",
    ]
    r = LeRobotDatasetReader(root)
    starts = np.cumsum((0, *LENGTHS)) / 30.0
    for ep, row in enumerate(r.episodes):  # lerobot locates each episode by its from/to timestamps in the file
        assert row["videos/observation.images.front/from_timestamp"] == starts[ep]
        assert row["videos/observation.images.front/to_timestamp"] == starts[ep + 1]
    assert_episodes_read_back(root, LENGTHS)
    assert check(root).ok
    record(root, (5,), first=len(LENGTHS))  # resuming appends to the same files
    assert len(files(root)) == 3 and check(root).ok
    assert_episodes_read_back(root, (*LENGTHS, 5))


def test_files_roll_over_at_the_size_limit(tmp_path: Path) -> None:
    tiny = RecorderSettings(data_file_mb=4e-3, video_file_mb=0.03)  # ~4 kB data, ~30 kB video per file
    record(tmp_path / "packed", settings=tiny)
    names = files(tmp_path / "packed")
    assert 3 < len(names) < 3 * len(LENGTHS)
    assert_episodes_read_back(tmp_path / "packed", LENGTHS)
    assert check(tmp_path / "packed").ok
    record(tmp_path / "every2", settings=RecorderSettings(pack_every=2), pack=False)  # packed while recording
    assert len(files(tmp_path / "every2")) == 3 and check(tmp_path / "every2").ok
    assert_episodes_read_back(tmp_path / "every2", LENGTHS)
    record(tmp_path / "single", settings=RecorderSettings(data_file_mb=0, video_file_mb=0))  # one file each
    assert len(files(tmp_path / "single")) == 3 * len(LENGTHS)
    assert_episodes_read_back(tmp_path / "single", LENGTHS)


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from twinarm.dataset import Recorder, RecorderSettings, layout, metadata
    from tests.dataset.fake_source import SPEC, frame

    root = Path(sys.argv[1])
    rec = Recorder(root, SPEC, RecorderSettings(pack_every=0))
    for ep, n in enumerate((9, 14, 6)):
        rec.start_episode("t")
        for i in range(n):
            rec.add_frame(*frame(ep, i))
        rec.save_episode()
    real_write = metadata.write_parquet_atomic
    def write(table, path):
        if layout.EPISODES_DIR in str(path):  # the merged files are written; about to commit the new layout
            print("MERGED", flush=True)
            time.sleep(60)
        real_write(table, path)
    metadata.write_parquet_atomic = write
    rec.pack()
    """
)


def test_kill_during_packing_loses_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "MERGED"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    data = root / "data/chunk-000/file-000.parquet"
    assert pq.ParquetFile(data).metadata.num_rows == 29  # episodes 1, 2 copied in, still committed elsewhere
    assert len(files(root)) == 9  # and their own files are still there
    assert any("uncommitted" in m or "does not hold" in m for m in recover(root, dry_run=True))
    rec = Recorder(root, SPEC)  # recovery on open
    assert rec.num_episodes == 3 and pq.ParquetFile(data).metadata.num_rows == 9
    assert check(root).ok
    assert_episodes_read_back(root, (9, 14, 6))
    rec.close()  # packs again, dropping the frames the interrupted merge left in the packed video
    assert len(files(root)) == 3 and check(root).ok
    assert video_frames(root / "videos/observation.images.front/chunk-000/file-000.mp4") == 29
    assert_episodes_read_back(root, (9, 14, 6))
    record(root, (5,), first=3)
    assert_episodes_read_back(root, (9, 14, 6, 5))


def test_videos_of_another_codec_are_not_merged(tmp_path: Path) -> None:
    from twinarm.dataset import VideoSettings, available_codecs

    if "av1" not in available_codecs():
        import pytest

        pytest.skip("no AV1 encoder in this PyAV build")
    root = tmp_path / "ds"
    record(root, LENGTHS[:2])
    record(root, LENGTHS[2:], settings=RecorderSettings(video=VideoSettings(codec="av1")), first=2)
    assert sum(n.startswith("data/") for n in files(root)) == 1  # the data of all four packed
    eps = LeRobotDatasetReader(root).episodes
    front = [eps[i]["videos/observation.images.front/file_index"] for i in range(4)]
    assert front[0] == front[1] and front[2] not in front[:2]  # the AV1 episodes kept out of the H.264 file
    assert check(root).ok
    assert_episodes_read_back(root, LENGTHS)


def test_kill_after_packing_committed_leaves_only_unreferenced_files(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    record(root, pack=False)  # one file per episode and kind so far
    singles = {p: p.read_bytes() for p in root.rglob("file-00[1-9].*") if "meta" not in p.parts}
    assert len(singles) == 3 * (len(LENGTHS) - 1)
    Recorder(root, SPEC).close()  # merges them into the file-000s and deletes them...
    for path, data in singles.items():  # ...as if the process died right after the commit, before deleting
        path.write_bytes(data)
    msgs = recover(root)
    assert sum("belongs to no committed episode" in m for m in msgs) == len(singles)
    assert len(files(root)) == 3 and check(root).ok
    assert_episodes_read_back(root, LENGTHS)
