"""lerobot datasets whose cameras have ``dtype: image`` (PNG bytes in the data parquet) are read and checked."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tests.dataset.fake_source import image
from twinarm.cli import cmd_dataset
from twinarm.dataset import LeRobotDatasetReader, metadata

KEY = "observation.images.front"
H, W = 24, 32
IMAGE_STRUCT = pa.struct([("bytes", pa.binary()), ("path", pa.string())])  # a Hugging Face ``Image`` column


def png(i: int) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image(i, H, W), cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def write_image_dataset(root: Path, lengths=(5, 7), fps=10, extra_features: dict | None = None) -> None:
    """A v3.0 dataset as lerobot writes it with ``use_videos=False``: both episodes in one data file whose
    camera column holds ``{bytes: PNG, path: name}`` structs; no videos directory, ``video_path`` null."""
    n = sum(lengths)
    ep = np.repeat(np.arange(len(lengths)), lengths)
    fi = np.concatenate([np.arange(k) for k in lengths])
    state = np.stack([np.arange(2, dtype=np.float32) + i for i in range(n)])
    cells = [{"bytes": png(i), "path": f"frame_{i:06d}.png"} for i in range(n)]
    (root / "data/chunk-000").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                KEY: pa.array(cells, IMAGE_STRUCT),
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
                "meta/episodes/chunk_index": [0, 0],
                "meta/episodes/file_index": [0, 0],
            }
        ),
        root / "meta/episodes/chunk-000/file-000.parquet",
    )
    metadata.write_tasks(root, ["pick", "place"])  # as pandas writes lerobot's frame (lerobot reads its index)
    scalar = {"shape": [1], "names": None}
    features = {
        KEY: {"dtype": "image", "shape": [H, W, 3], "names": ["height", "width", "channels"]},
        "observation.state": {"dtype": "float32", "shape": [2], "names": ["a", "b"]},
        "action": {"dtype": "float32", "shape": [2], "names": ["a", "b"]},
        "timestamp": {"dtype": "float32", **scalar},
        "frame_index": {"dtype": "int64", **scalar},
        "episode_index": {"dtype": "int64", **scalar},
        "index": {"dtype": "int64", **scalar},
        "task_index": {"dtype": "int64", **scalar},
        **(extra_features or {}),
    }
    info = {
        "codebase_version": "v3.0",
        "robot_type": "so101_follower",
        "total_episodes": len(lengths),
        "total_frames": n,
        "total_tasks": 2,
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 500,
        "fps": fps,
        "splits": {"train": f"0:{len(lengths)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": None,
        "features": features,
    }
    (root / "meta/info.json").write_text(json.dumps(info, indent=4))
    stat = {"min": [0.0], "max": [1.0], "mean": [0.5], "std": [0.1], "count": [n]}
    stats = {k: stat for k in features if k not in ("timestamp", "frame_index", "episode_index", "index")}
    (root / "meta/stats.json").write_text(json.dumps(stats))


def test_image_dtype_camera_is_served(tmp_path):
    write_image_dataset(tmp_path)
    r = LeRobotDatasetReader(tmp_path)
    assert r.image_keys == [KEY] and r.camera_keys == [KEY] and len(r) == 12
    item = r.get(7)
    np.testing.assert_array_equal(item[KEY], image(7, H, W))  # PNG is lossless: exact frames
    np.testing.assert_array_equal(r.frame(KEY, 11), image(11, H, W))
    win = r.get(5, {KEY: [-0.2, -0.1, 0.0]})  # first frame of episode 1: the past is padded with it
    assert win[KEY].shape == (3, H, W, 3) and win[f"{KEY}_is_pad"].tolist() == [True, True, False]
    np.testing.assert_array_equal(win[KEY][0], image(5, H, W))


def test_training_source_reads_image_dtype_cameras(tmp_path):
    from twinarm.policies.config import PolicyConfig
    from twinarm.policies.dataset import LeRobotSource, dataset_features

    write_image_dataset(tmp_path)
    feats = dataset_features(tmp_path)
    assert feats.cameras == ("front",)
    cfg = PolicyConfig(state_dim=feats.state_dim, action_dim=feats.action_dim, cameras=feats.cameras)
    for preload in (0, 1 << 30):  # decoded on demand, and preloaded
        src = LeRobotSource(tmp_path, cfg, preload_bytes=preload)
        np.testing.assert_array_equal(src[9][KEY][-1], image(9, H, W))


def test_check_ok_only_when_every_feature_is_served(tmp_path, capsys):
    write_image_dataset(tmp_path / "good")
    assert cmd_dataset.main(["check", str(tmp_path / "good")]) == 0
    assert "OK" in capsys.readouterr().out

    root = tmp_path / "corrupt"
    write_image_dataset(root)
    data = root / "data/chunk-000/file-000.parquet"
    t = pq.read_table(data)
    cells = t.column(KEY).to_pylist()
    cells[11] = {"bytes": b"not a png", "path": None}
    pq.write_table(t.set_column(0, KEY, pa.array(cells, IMAGE_STRUCT)), data)
    assert cmd_dataset.main(["check", str(root)]) == 1
    assert "not a decodable PNG/JPEG image" in capsys.readouterr().out

    root = tmp_path / "audio"
    write_image_dataset(root, extra_features={"observation.audio": {"dtype": "audio", "shape": [1], "names": None}})
    assert LeRobotDatasetReader(root).unsupported_keys == ["observation.audio"]
    assert cmd_dataset.main(["check", str(root)]) == 1
    assert "'observation.audio' has dtype 'audio'" in capsys.readouterr().out
