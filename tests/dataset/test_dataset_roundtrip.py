"""Record with a fake two-camera source, reopen, compare; discard, resume, stats, frame policy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.dataset.fake_source import SPEC, frame
from twinarm.dataset import (
    LeRobotDatasetReader,
    Recorder,
    RecorderError,
    RecorderSettings,
    VideoSettings,
    available_codecs,
)
from twinarm.dataset.stats import QUANTILES

LENGTHS = (12, 20, 7)


def record(root, lengths=LENGTHS, task="stack the cubes", first_episode=0):
    with Recorder(root, SPEC) as rec:
        for k, n in enumerate(lengths):
            rec.start_episode(task)
            for i in range(n):
                obs, act = frame(first_episode + k, i)
                assert rec.add_frame(obs, act, timestamp=i / 30.0)
            summary = rec.save_episode()
            assert summary.frames == n and summary.dropped_frames == 0 and summary.late_frames == 0
        return rec.messages


def test_roundtrip_values_and_frames(tmp_path):
    record(tmp_path / "ds")
    r = LeRobotDatasetReader(tmp_path / "ds")
    assert len(r) == sum(LENGTHS) and r.num_episodes == len(LENGTHS)
    for ep, n in enumerate(LENGTHS):
        lo, hi = r.episode_bounds(ep)
        assert hi - lo == n
        for i in range(n):
            obs, act = frame(ep, i)
            item = r.get(lo + i)
            np.testing.assert_array_equal(item["observation.state"], obs["joint_pos"])
            np.testing.assert_array_equal(item["observation.velocity"], obs["joint_vel"])
            np.testing.assert_array_equal(item["action"], act)
            assert item["frame_index"] == i and item["episode_index"] == ep and item["task"] == "stack the cubes"
            for cam in ("front", "wrist"):
                img = item[f"observation.images.{cam}"]
                assert img.dtype == np.uint8 and img.shape == obs[f"image_{cam}"].shape
                err = np.abs(img.astype(int) - obs[f"image_{cam}"]).mean()
                assert err < 6, (ep, i, cam, err)


def test_video_frame_counts_match_parquet(tmp_path):
    from twinarm.dataset.video import count_frames

    record(tmp_path / "ds")
    r = LeRobotDatasetReader(tmp_path / "ds")
    for ep_row in r.episodes:
        for key in r.video_keys:
            path = (
                tmp_path
                / "ds"
                / r.info["video_path"].format(
                    video_key=key,
                    chunk_index=ep_row[f"videos/{key}/chunk_index"],
                    file_index=ep_row[f"videos/{key}/file_index"],
                )
            )
            n = count_frames(path, ep_row[f"videos/{key}/from_timestamp"], ep_row[f"videos/{key}/to_timestamp"], r.fps)
            assert n == ep_row["length"]


def test_info_and_stats_follow_lerobot(tmp_path):
    record(tmp_path / "ds")
    info = json.loads((tmp_path / "ds/meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert info["total_episodes"] == 3 and info["total_frames"] == sum(LENGTHS) and info["total_tasks"] == 1
    assert info["features"]["observation.state"]["names"] == ["j0", "j1", "j2"]
    assert info["features"]["observation.state"]["units"] == "rad"
    assert info["features"]["observation.images.front"]["info"]["video.codec"] == "h264"
    stats = json.loads((tmp_path / "ds/meta/stats.json").read_text())
    state = LeRobotDatasetReader(tmp_path / "ds").lowdim()["observation.state"]
    np.testing.assert_allclose(stats["observation.state"]["mean"], state.mean(0), atol=1e-6)
    np.testing.assert_allclose(stats["observation.state"]["std"], state.std(0), atol=1e-6)
    np.testing.assert_allclose(stats["observation.state"]["min"], state.min(0))
    assert stats["observation.state"]["count"] == [sum(LENGTHS)]
    assert set(QUANTILES) <= set(stats["observation.state"])
    img = stats["observation.images.front"]
    assert np.asarray(img["mean"]).shape == (3, 1, 1) and 0 <= np.min(img["min"]) <= np.max(img["max"]) <= 1


def test_discard_never_leaks(tmp_path):
    with Recorder(tmp_path / "ds", SPEC) as rec:
        rec.start_episode("junk")
        for i in range(9):
            rec.add_frame(*frame(5, i))
        rec.discard_episode()
        assert not (tmp_path / "ds/.recording").exists()
        rec.start_episode("keep")
        for i in range(4):
            rec.add_frame(*frame(0, i))
        rec.save_episode()
        rec.start_episode("unsaved at close")
        rec.add_frame(*frame(0, 0))
    r = LeRobotDatasetReader(tmp_path / "ds")
    assert len(r) == 4 and r.tasks == ["keep"]
    np.testing.assert_array_equal(r.get(0)["observation.state"], frame(0, 0)[0]["joint_pos"])
    assert not (tmp_path / "ds/.recording").exists()


def test_resume_appends(tmp_path):
    record(tmp_path / "ds", lengths=(5, 6))
    record(tmp_path / "ds", lengths=(7,), task="other task", first_episode=2)
    r = LeRobotDatasetReader(tmp_path / "ds")
    assert r.num_episodes == 3 and len(r) == 18
    assert r.episode_bounds(2) == (11, 18) and r.episode_task(2) == "other task"
    item = r.get(11)
    np.testing.assert_array_equal(item["observation.state"], frame(2, 0)[0]["joint_pos"])
    assert np.abs(item["observation.images.front"].astype(int) - frame(2, 0)[0]["image_front"]).mean() < 6
    np.testing.assert_array_equal(r.lowdim()["index"], np.arange(18))


def test_resume_with_other_robot_is_refused(tmp_path):
    from twinarm.dataset import DatasetFormatError
    from twinarm.robot.models import SO101

    record(tmp_path / "ds", lengths=(3,))
    with pytest.raises(DatasetFormatError, match=r"observation\.state"):
        Recorder(tmp_path / "ds", SO101)


def test_dropped_and_late_frames_are_counted(tmp_path):
    with Recorder(tmp_path / "ds", SPEC, RecorderSettings(fps=30.0)) as rec:
        rec.start_episode("t")
        assert rec.add_frame(*frame(0, 0), timestamp=0.0)
        assert rec.add_frame(*frame(0, 1), timestamp=0.1)  # 3 periods later: late
        writer = next(iter(rec._writers.values()))
        writer.queue_full = lambda: True  # an encoder that fell behind
        assert not rec.add_frame(*frame(0, 2), timestamp=0.133)
        del writer.queue_full
        assert rec.add_frame(*frame(0, 3), timestamp=0.166)
        s = rec.save_episode()
    assert (s.frames, s.dropped_frames, s.late_frames) == (3, 1, 1)


def test_offline_recording_waits_for_the_encoders_and_keeps_every_frame(tmp_path):
    """Frames faster than real time into a one-frame encoder queue: the default (live) policy drops frames, the
    offline one (``wait_for_encoders``, what simulated demonstrations use) keeps all, images included."""
    n = 40
    for wait, name in ((False, "live"), (True, "offline")):
        settings = RecorderSettings(fps=30.0, queue_s=1 / 30.0, wait_for_encoders=wait)
        with Recorder(tmp_path / name, SPEC, settings) as rec:
            rec.start_episode("t")
            kept = [rec.add_frame(*frame(0, i)) for i in range(n)]
            s = rec.save_episode()
        assert s.frames == sum(kept) and s.frames + s.dropped_frames == n
        if wait:
            assert all(kept) and s.dropped_frames == 0
            r = LeRobotDatasetReader(tmp_path / name)
            assert len(r) == n
            for i in (0, n // 2, n - 1):  # the images are the frames' own, in order
                obs, act = frame(0, i)
                item = r.get(i)
                np.testing.assert_array_equal(item["action"], act)
                for cam in ("front", "wrist"):
                    err = np.abs(item[f"observation.images.{cam}"].astype(int) - obs[f"image_{cam}"]).mean()
                    assert err < 6, (i, cam, err)  # (lossy video)
        else:
            assert s.dropped_frames > 0  # a one-frame queue cannot keep up with frames as fast as Python makes them


def test_misuse_gives_recorder_errors(tmp_path):
    with Recorder(tmp_path / "ds", SPEC) as rec:
        with pytest.raises(RecorderError, match="start_episode"):
            rec.add_frame(*frame(0, 0))
        rec.start_episode("t")
        with pytest.raises(RecorderError, match="without frames"):
            rec.save_episode()
        obs, act = frame(0, 0)
        with pytest.raises(RecorderError, match="action"):
            rec.add_frame(obs, act[:2])
        del obs["image_wrist"]
        with pytest.raises(RecorderError, match=r"image_wrist"):
            rec.add_frame(obs, act)


@pytest.mark.skipif("av1" not in available_codecs(), reason="PyAV build without libsvtav1")
def test_av1_roundtrip(tmp_path):
    settings = RecorderSettings(video=VideoSettings(codec="av1"))
    with Recorder(tmp_path / "ds", SPEC, settings) as rec:
        rec.start_episode("t")
        for i in range(8):
            rec.add_frame(*frame(0, i))
        rec.save_episode()
    r = LeRobotDatasetReader(tmp_path / "ds")
    assert r.features["observation.images.front"]["info"]["video.codec"] == "av1"
    for i in (0, 7, 3):
        err = np.abs(r.get(i)["observation.images.front"].astype(int) - frame(0, i)[0]["image_front"]).mean()
        assert err < 8
