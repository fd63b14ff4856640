"""``twinarm dataset info|check|visualize`` and ``twinarm record`` (synthetic source), plus lerobot-facing schema."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from tests.dataset.fake_source import SPEC, frame
from twinarm.cli import cmd_dataset, cmd_record
from twinarm.dataset import Recorder


def make(root, episodes=2, n=6):
    with Recorder(root, SPEC) as rec:
        for ep in range(episodes):
            rec.start_episode(f"task {ep % 2}")
            for i in range(n):
                rec.add_frame(*frame(ep, i))
            rec.save_episode()


def test_info_check_visualize(tmp_path, capsys):
    make(tmp_path / "ds")
    assert cmd_dataset.main(["info", str(tmp_path / "ds")]) == 0
    out = capsys.readouterr().out
    assert "episodes     2 (12 frames" in out and "observation.images.front" in out
    assert cmd_dataset.main(["check", str(tmp_path / "ds")]) == 0
    assert "OK" in capsys.readouterr().out
    assert cmd_dataset.main(["visualize", str(tmp_path / "ds"), "--out", str(tmp_path / "viz")]) == 0
    out = capsys.readouterr().out
    for name in ("trajectories.png", "contact_sheet.png"):
        png = tmp_path / "viz" / name
        assert str(png) in out and png.read_bytes()[:4] == b"\x89PNG"


def test_check_finds_problems_and_repairs_partial_tail(tmp_path, capsys):
    root = tmp_path / "ds"
    make(root)
    (root / ".recording").mkdir()
    (root / ".recording/observation.images.front.mp4").write_bytes(b"partial")
    assert cmd_dataset.main(["check", str(root)]) == 1
    assert "partial episode" in capsys.readouterr().out and (root / ".recording").exists()
    assert cmd_dataset.main(["check", str(root), "--repair"]) == 0
    assert "repaired" in capsys.readouterr().out and not (root / ".recording").exists()
    (root / "videos/observation.images.wrist/chunk-000/file-000.mp4").unlink()
    assert cmd_dataset.main(["check", str(root)]) == 1
    assert "file-000.mp4 is missing" in capsys.readouterr().out


def test_check_reports_video_parquet_mismatch(tmp_path, capsys):
    root = tmp_path / "ds"
    make(root, episodes=1, n=6)
    ep_file = root / "meta/episodes/chunk-000/file-000.parquet"
    t = pq.read_table(ep_file)
    t = t.set_column(
        t.schema.get_field_index("videos/observation.images.front/to_timestamp"),
        "videos/observation.images.front/to_timestamp",
        pa.array([4 / 30.0]),
    )
    pq.write_table(t, ep_file)
    assert cmd_dataset.main(["check", str(root)]) == 1
    assert "holds 4 frames" in capsys.readouterr().out


def test_missing_dataset_is_a_clear_error(tmp_path, capsys):
    assert cmd_dataset.main(["info", str(tmp_path / "nope")]) == 1
    assert "meta/info.json" in capsys.readouterr().err


def test_lerobot_facing_schema(tmp_path):
    make(tmp_path / "ds")
    tasks = pq.read_table(tmp_path / "ds/meta/tasks.parquet")
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]
    assert tasks.column("task").to_pylist() == ["task 0", "task 1"]
    data = pq.read_table(tmp_path / "ds/data/chunk-000/file-000.parquet")
    assert data.schema.field("observation.state").type == pa.list_(pa.float32(), 3)
    assert data.schema.field("timestamp").type == pa.float32()
    assert set(data.column_names) == {
        "observation.state",
        "observation.velocity",
        "action",
        "timestamp",
        "frame_index",
        "episode_index",
        "index",
        "task_index",
    }
    eps = pq.read_table(tmp_path / "ds/meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["dataset_to_index"] for e in eps] == [6, 12] and eps[1]["tasks"] == ["task 1"]


def test_record_command_synthetic(tmp_path, capsys):
    cfg = cmd_record.Config(
        source="synthetic", episodes=2, episode_time_s=0.2, dataset=cmd_record.DatasetTarget(root=str(tmp_path / "rec"))
    )
    cmd_record.run(cfg)
    out = capsys.readouterr().out
    assert "done: 2 episodes, 12 frames" in out
    info = json.loads((tmp_path / "rec/meta/info.json").read_text())
    assert info["robot_type"] == "so101" and info["total_frames"] == 12
    assert set(info["features"]) >= {"observation.images.front", "observation.images.wrist"}
    cmd_record.run(cfg)  # resume appends
    assert json.loads((tmp_path / "rec/meta/info.json").read_text())["total_episodes"] == 4
