"""lerobot itself reads what twinarm writes (packed v3.0 datasets) and twinarm reads what lerobot writes (``dtype:
image`` cameras), value for value and pixel for pixel.

Runs only where lerobot is importable (lerobot 0.6.x needs Python >= 3.12 and torch; see
``benchmarks/lerobot_interop.py`` for a throwaway environment) and with ``-m slow``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lerobot")
pytestmark = pytest.mark.slow

from lerobot.datasets.lerobot_dataset import LeRobotDataset  # noqa: E402

from tests.dataset.fake_source import SPEC, frame  # noqa: E402
from tests.dataset.test_dataset_images import write_image_dataset  # noqa: E402
from tests.dataset.test_dataset_packing import LENGTHS, files, record  # noqa: E402
from twinarm.dataset import LeRobotDatasetReader, RecorderSettings  # noqa: E402

LOWDIM = ("observation.state", "action", "timestamp", "frame_index", "episode_index", "index", "task_index")


def lerobot_dataset(root: Path, **kwargs) -> LeRobotDataset:
    return LeRobotDataset("local/twinarm", root=root, video_backend="pyav", **kwargs)


def hwc_uint8(chw: object) -> np.ndarray:
    """lerobot's (C, H, W) float image in [0, 1] as (H, W, C) uint8."""
    return (np.asarray(chw).transpose(1, 2, 0) * 255).round().astype(np.uint8)


def assert_same_items(ours: LeRobotDatasetReader, theirs: LeRobotDataset, indices, deltas=None) -> None:
    for i in indices:
        a, b = theirs[int(i)], ours.get(int(i), deltas)
        for key in LOWDIM:
            np.testing.assert_allclose(np.asarray(a[key]), np.asarray(b[key]), atol=1e-6, err_msg=f"{key} @ {i}")
        for key in ours.camera_keys:
            x, y = np.asarray(a[key]), np.asarray(b[key])
            x = np.stack([hwc_uint8(f) for f in x]) if x.ndim == 4 else hwc_uint8(x)
            assert x.shape == y.shape, (key, i)
            assert np.abs(x.astype(int) - y.astype(int)).max() <= 1, (key, i)  # same decoded frame
        assert a["task"] == b["task"]


SETTINGS = {
    "one_file_per_kind": None,
    "rolled_over": RecorderSettings(data_file_mb=4e-3, video_file_mb=0.03),  # several files per kind
    "packed_while_recording": RecorderSettings(pack_every=2),
    "one_file_per_episode": RecorderSettings(data_file_mb=0, video_file_mb=0),  # packing off (the old layout)
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_lerobot_loads_packed_twinarm_datasets(tmp_path: Path, name: str) -> None:
    root = tmp_path / "ds"
    record(root, settings=SETTINGS[name])
    record(root, (5,), settings=SETTINGS[name], first=len(LENGTHS))  # resumed: appended to the packed files
    lengths = (*LENGTHS, 5)
    if name == "one_file_per_kind":
        assert len(files(root)) == 1 + len(SPEC.cameras)
    theirs, ours = lerobot_dataset(root), LeRobotDatasetReader(root)
    assert theirs.num_episodes == len(lengths) and theirs.num_frames == sum(lengths) == len(ours)
    starts = np.cumsum((0, *lengths))
    edges = np.unique(np.concatenate([starts[:-1], starts[1:] - 1]))  # first and last frame of every episode
    assert_same_items(ours, theirs, edges)
    deltas = {"action": [0.0, 1 / 30, 2 / 30, 3 / 30], "observation.images.front": [-2 / 30, 0.0]}
    windowed = lerobot_dataset(root, delta_timestamps=deltas)
    assert_same_items(ours, windowed, edges, deltas)  # windows clamped at episode edges the same way
    last = int(starts[1] - 1)
    np.testing.assert_array_equal(np.asarray(windowed[last]["action_is_pad"]), [False, True, True, True])


def test_lerobot_loads_the_image_dtype_layout_twinarm_is_tested_against(tmp_path: Path) -> None:
    write_image_dataset(tmp_path / "ds", lengths=(5, 7))
    theirs, ours = lerobot_dataset(tmp_path / "ds"), LeRobotDatasetReader(tmp_path / "ds")
    assert theirs.num_episodes == 2 and theirs.num_frames == 12 == len(ours)
    assert_same_items(ours, theirs, range(12))


def test_twinarm_reads_image_dtype_datasets_lerobot_writes(tmp_path: Path) -> None:
    names = [j.name for j in SPEC.joints]
    cams = {c.name: c for c in SPEC.cameras}
    features = {
        "observation.state": {"dtype": "float32", "shape": (len(names),), "names": names},
        "action": {"dtype": "float32", "shape": (len(names),), "names": names},
        **{
            f"observation.images.{n}": {"dtype": "image", "shape": (c.height, c.width, 3), "names": ["h", "w", "c"]}
            for n, c in cams.items()
        },
    }
    root = tmp_path / "ds"
    written = LeRobotDataset.create("local/written", fps=30, features=features, root=root, use_videos=False)
    lengths = (6, 4)
    for ep, n in enumerate(lengths):
        for i in range(n):
            obs, act = frame(ep, i)
            images = {f"observation.images.{c}": obs[f"image_{c}"] for c in cams}
            written.add_frame({"observation.state": obs["joint_pos"], "action": act, "task": f"t{ep}", **images})
        written.save_episode()
    written.finalize()
    ours = LeRobotDatasetReader(root)
    assert ours.num_episodes == 2 and len(ours) == sum(lengths)
    assert sorted(ours.camera_keys) == sorted(f"observation.images.{c}" for c in cams)
    for ep, n in enumerate(lengths):
        lo, _ = ours.episode_bounds(ep)
        for i in range(n):
            obs, act = frame(ep, i)
            item = ours.get(lo + i)
            np.testing.assert_array_equal(item["action"], act)
            for c in cams:  # PNG: lossless
                np.testing.assert_array_equal(item[f"observation.images.{c}"], obs[f"image_{c}"])
            assert item["task"] == f"t{ep}"
