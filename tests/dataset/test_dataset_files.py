"""Foreign (lerobot-style) datasets load; crashes and corrupt files are handled with clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.dataset.fake_source import SPEC, frame, image
from twinarm.dataset import (
    DatasetCorruptError,
    DatasetFormatError,
    LeRobotDatasetReader,
    MissingFileError,
    Recorder,
    recover,
)

REPO = Path(__file__).resolve().parents[2]


def write_lerobot_style(root: Path, lengths=(6, 9), fps=10) -> None:
    """A minimal v3.0 dataset laid out as lerobot writes it: both episodes packed in one data file and one mp4
    (episode 1 located by from/to timestamps), list-typed vector columns, tasks with an unnamed pandas index."""
    n = sum(lengths)
    ep = np.repeat(np.arange(len(lengths)), lengths)
    fi = np.concatenate([np.arange(k) for k in lengths])
    state = np.stack([np.arange(2, dtype=np.float32) + i for i in range(n)])
    (root / "data/chunk-000").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "observation.state": pa.array(state.tolist(), pa.list_(pa.float32())),
                "action": pa.array((state * 2).tolist(), pa.list_(pa.float32())),
                "timestamp": pa.array(fi / fps, pa.float32()),
                "frame_index": pa.array(fi, pa.int64()),
                "episode_index": pa.array(ep, pa.int64()),
                "index": pa.array(np.arange(n), pa.int64()),
                "task_index": pa.array(ep, pa.int64()),
            }
        ),
        root / "data/chunk-000/file-000.parquet",
    )
    vid = root / "videos/observation.images.top/chunk-000/file-000.mp4"
    vid.parent.mkdir(parents=True)
    with av.open(str(vid), "w") as c:
        s = c.add_stream("libx264", rate=Fraction(fps), options={"g": "3", "crf": "18"})
        s.height, s.width, s.pix_fmt = 32, 48, "yuv420p"
        for i in range(n):
            f = av.VideoFrame.from_ndarray(image(i, 32, 48), format="rgb24")
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    starts = np.cumsum((0, *lengths))
    (root / "meta/episodes/chunk-000").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "episode_index": list(range(len(lengths))),
                "tasks": [["pick"], ["place"]],
                "length": list(lengths),
                "data/chunk_index": [0, 0],
                "data/file_index": [0, 0],
                "dataset_from_index": starts[:-1].tolist(),
                "dataset_to_index": starts[1:].tolist(),
                "videos/observation.images.top/chunk_index": [0, 0],
                "videos/observation.images.top/file_index": [0, 0],
                "videos/observation.images.top/from_timestamp": (starts[:-1] / fps).tolist(),
                "videos/observation.images.top/to_timestamp": (starts[1:] / fps).tolist(),
                "meta/episodes/chunk_index": [0, 0],
                "meta/episodes/file_index": [0, 0],
            }
        ),
        root / "meta/episodes/chunk-000/file-000.parquet",
    )
    pq.write_table(
        pa.table({"task_index": [0, 1], "__index_level_0__": ["pick", "place"]}), root / "meta/tasks.parquet"
    )
    scalar = {"shape": [1], "names": None}
    info = {
        "codebase_version": "v3.0",
        "robot_type": "so101",
        "total_episodes": 2,
        "total_frames": n,
        "total_tasks": 2,
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 500,
        "fps": fps,
        "splits": {"train": "0:2"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        "features": {
            "observation.state": {"dtype": "float32", "shape": [2], "names": ["a", "b"]},
            "action": {"dtype": "float32", "shape": [2], "names": ["a", "b"]},
            "observation.images.top": {
                "dtype": "video",
                "shape": [32, 48, 3],
                "names": ["height", "width", "channels"],
                "info": {"video.fps": fps, "video.codec": "h264"},
            },
            "timestamp": {"dtype": "float32", **scalar},
            "frame_index": {"dtype": "int64", **scalar},
            "episode_index": {"dtype": "int64", **scalar},
            "index": {"dtype": "int64", **scalar},
            "task_index": {"dtype": "int64", **scalar},
        },
    }
    (root / "meta/info.json").write_text(json.dumps(info, indent=4))


def test_lerobot_written_dataset_loads(tmp_path):
    write_lerobot_style(tmp_path)
    r = LeRobotDatasetReader(tmp_path)
    assert len(r) == 15 and r.num_episodes == 2 and r.tasks == ["pick", "place"]
    assert r.episode_bounds(1) == (6, 15)
    item = r.get(8)
    np.testing.assert_array_equal(item["observation.state"], [8, 9])
    assert item["task"] == "place" and item["frame_index"] == 2
    # frame 2 of episode 1 is frame 8 of the shared mp4
    assert np.abs(item["observation.images.top"].astype(int) - image(8, 32, 48)).mean() < 4
    for i in (14, 0, 7):  # backwards seek, then forward again
        assert np.abs(r.frame("observation.images.top", i).astype(int) - image(i, 32, 48)).mean() < 4


def test_delta_timestamps_pad_at_episode_edges(tmp_path):
    write_lerobot_style(tmp_path)
    r = LeRobotDatasetReader(tmp_path)
    dt = {"observation.state": [-0.2, -0.1, 0.0], "action": [0.0, 0.1, 0.2, 0.3], "observation.images.top": [-0.1, 0]}
    item = r.get(6, dt)  # first frame of episode 1
    assert item["observation.state"].shape == (3, 2) and item["action"].shape == (4, 2)
    np.testing.assert_array_equal(item["observation.state_is_pad"], [True, True, False])
    np.testing.assert_array_equal(item["observation.state"], [[6, 7], [6, 7], [6, 7]])  # clamped to the episode
    np.testing.assert_array_equal(item["action_is_pad"], [False] * 4)
    np.testing.assert_array_equal(item["observation.images.top_is_pad"], [True, False])
    assert item["observation.images.top"].shape == (2, 32, 48, 3)
    end = r.get(4, dt)  # episode 0 has frames 0..5
    np.testing.assert_array_equal(end["action_is_pad"], [False, False, True, True])
    np.testing.assert_array_equal(end["action"][:, 0], [8, 10, 10, 10])
    with pytest.raises(DatasetFormatError, match="multiples"):
        r.get(0, {"action": [0.05]})
    with pytest.raises(DatasetFormatError, match="nope"):
        r.get(0, {"nope": [0.0]})


def test_wrong_version_and_missing_feature(tmp_path):
    write_lerobot_style(tmp_path)
    info_path = tmp_path / "meta/info.json"
    info = json.loads(info_path.read_text())
    info_path.write_text(json.dumps({**info, "codebase_version": "v2.1"}))
    with pytest.raises(DatasetFormatError, match=r"info.json.*v2.1"):
        LeRobotDatasetReader(tmp_path)
    info["features"]["observation.velocity"] = {"dtype": "float32", "shape": [2], "names": None}
    info_path.write_text(json.dumps(info))
    with pytest.raises(DatasetFormatError, match=r"file-000.parquet.*observation.velocity"):
        LeRobotDatasetReader(tmp_path)


def test_corrupt_parquet_and_missing_video(tmp_path):
    write_lerobot_style(tmp_path)
    (tmp_path / "videos/observation.images.top/chunk-000/file-000.mp4").unlink()
    r = LeRobotDatasetReader(tmp_path)
    with pytest.raises(MissingFileError, match=r"file-000\.mp4"):
        r.get(0)
    (tmp_path / "data/chunk-000/file-000.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DatasetCorruptError, match=r"data/chunk-000/file-000.parquet"):
        LeRobotDatasetReader(tmp_path)


def test_frame_count_mismatch(tmp_path):
    write_lerobot_style(tmp_path, lengths=(6, 9))
    t = pq.read_table(tmp_path / "data/chunk-000/file-000.parquet").slice(0, 12)
    pq.write_table(t, tmp_path / "data/chunk-000/file-000.parquet")
    with pytest.raises(DatasetCorruptError, match="frame count mismatch"):
        LeRobotDatasetReader(tmp_path)


CHILD = textwrap.dedent(
    """
    import sys, time
    from twinarm.dataset import Recorder
    from tests.dataset.fake_source import SPEC, frame
    rec = Recorder(sys.argv[1], SPEC)
    for ep in range(2):
        rec.start_episode("t")
        for i in range(10):
            rec.add_frame(*frame(ep, i))
        rec.save_episode()
    rec.start_episode("t")
    for i in range(25):
        rec.add_frame(*frame(2, i))
    time.sleep(0.3)
    print("READY", flush=True)
    time.sleep(60)
    """
)


def test_sigkill_mid_episode_keeps_earlier_episodes(tmp_path):
    root = tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "READY"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (root / ".recording").exists()  # the partial episode's staged video
    # a leftover file of the partial episode that lerobot would glob
    (root / "data/chunk-000/file-002.parquet").write_bytes(b"partial")
    msgs = recover(root, dry_run=True)
    assert any("partial episode" in m for m in msgs) and (root / ".recording").exists()
    rec = Recorder(root, SPEC)
    assert rec.num_episodes == 2 and any("file-002.parquet" in m for m in rec.messages)
    assert not (root / ".recording").exists() and not (root / "data/chunk-000/file-002.parquet").exists()
    rec.start_episode("after crash")
    for i in range(3):
        rec.add_frame(*frame(3, i))
    rec.save_episode()
    r = LeRobotDatasetReader(root)
    assert r.num_episodes == 3 and len(r) == 23
    np.testing.assert_array_equal(r.get(19)["observation.state"], frame(1, 9)[0]["joint_pos"])
    np.testing.assert_array_equal(r.get(20)["observation.state"], frame(3, 0)[0]["joint_pos"])


def test_stale_info_is_rewritten_from_episodes(tmp_path):
    root = tmp_path / "ds"
    with Recorder(root, SPEC) as rec:
        for ep in range(2):
            rec.start_episode("t")
            for i in range(4):
                rec.add_frame(*frame(ep, i))
            rec.save_episode()
    info = json.loads((root / "meta/info.json").read_text())
    (root / "meta/info.json").write_text(json.dumps({**info, "total_episodes": 1, "total_frames": 4}))
    msgs = recover(root)
    assert any("rewrote info.json" in m for m in msgs)
    assert json.loads((root / "meta/info.json").read_text())["total_frames"] == 8
    assert recover(root) == []
