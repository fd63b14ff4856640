"""The live view with rerun installed: runs write ``.rrd`` files (``display.rrd=PATH``) that rerun's own reader
(``rerun.chunk.RrdReader``) reads back with the values the run reported or recorded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rerun")

from rerun.chunk import RrdReader

from twinarm.cli.main import main
from twinarm.dataset import LeRobotDatasetReader
from twinarm.robot.models import SO101

JOINTS = SO101.joint_names


def read_series(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """entity -> {"step"|"index": sequence values, "values": (rows, instances)} of every Scalars entity, by time."""
    parts: dict[str, list] = {}
    for chunk in RrdReader(path).store().stream():
        batch = chunk.to_record_batch()
        if "Scalars:scalars" not in batch.schema.names:
            continue
        parts.setdefault(chunk.entity_path.lstrip("/"), []).append(batch)
    out = {}
    for entity, batches in parts.items():
        timeline = "step" if "step" in batches[0].schema.names else "index"
        seq = np.concatenate([b.column(timeline).to_numpy() for b in batches])
        values = np.concatenate([np.array(b.column("Scalars:scalars").to_pylist(), float) for b in batches])
        order = np.argsort(seq, kind="stable")
        out[entity] = {"seq": seq[order], "values": values[order]}
    return out


def rows(path: Path, entity: str) -> int:
    return sum(c.num_rows for c in RrdReader(path).store().stream() if c.entity_path == "/" + entity)


def texts(path: Path) -> list[str]:
    found = []
    for chunk in RrdReader(path).store().stream():
        batch = chunk.to_record_batch()
        if chunk.entity_path == "/events" and "TextLog:text" in batch.schema.names:
            found += [t for cell in batch.column("TextLog:text").to_pylist() for t in (cell or [])]
    return found


def test_teleop_stream_ends_on_the_reported_targets_and_measurements(tmp_path: Path) -> None:
    rrd, out = tmp_path / "teleop.rrd", tmp_path / "out"
    args = ["teleop", "source=wave", "keys=none", "duration_s=1", "display=rerun", f"display.rrd={rrd}"]
    assert main([*args, f"output_dir={out}"]) == 0
    report = json.loads((out / "report.json").read_text())
    series = read_series(rrd)
    steps = report["loop"]["steps"]
    for name in JOINTS:
        s = series[f"joints/{name}"]
        assert s["values"].shape == (steps, 2)  # one row per cycle: measured, commanded
        np.testing.assert_array_equal(s["seq"], np.arange(steps))
        np.testing.assert_allclose(s["values"][-1, 0], report["tracking"]["final_measured_rad"][name], atol=1e-6)
        np.testing.assert_allclose(s["values"][-1, 1], report["tracking"]["final_target_rad"][name], atol=1e-6)
    period = series["loop/period_ms"]["values"][:, 0]
    assert len(period) == steps - 1 and abs(np.median(period) - 1e3 / 30) < 5  # the 30 Hz loop, in ms


def test_record_stream_matches_the_dataset_and_carries_cameras_and_events(tmp_path: Path) -> None:
    args = ["record", "source=synthetic", "episodes=2", "episode_time_s=0.5", "keys=none"]
    quiet = tmp_path / "no_cameras.rrd"
    assert main([*args, f"dataset.root={tmp_path / 'ds1'}", f"display.rrd={quiet}", "display.image_hz=0"]) == 0
    assert rows(quiet, "cameras/front") == 0 and rows(quiet, "joints/gripper") > 0
    rrd = tmp_path / "rec.rrd"
    assert main([*args, f"dataset.root={tmp_path / 'ds2'}", f"display.rrd={rrd}", "display.jpeg_quality=0"]) == 0
    reader = LeRobotDatasetReader(tmp_path / "ds2")
    state = reader.lowdim()["observation.state"]
    series = read_series(rrd)
    measured = np.stack([series[f"joints/{n}"]["values"][:, 0] for n in JOINTS], axis=1)
    np.testing.assert_allclose(measured, state, atol=1e-6)  # the view saw every recorded frame, in order
    assert 0 < rows(rrd, "cameras/front") <= len(reader)  # throttled to image_hz
    assert sum("episode 0:" in t for t in texts(rrd)) == 1 and sum("episode 1:" in t for t in texts(rrd)) == 1


def test_mirror_shadow_residual_matches_its_report(tmp_path: Path) -> None:
    rrd, out = tmp_path / "mirror.rrd", tmp_path / "out"
    args = ["mirror", "robot.port=emulator", "source=wave", "shadow=true", "duration_s=1", "viewer=off"]
    assert main([*args, "video=false", "keys=none", f"output_dir={out}", f"display.rrd={rrd}"]) == 0
    shadow = json.loads((out / "shadow.json").read_text())
    series = read_series(rrd)
    for name in JOINTS:
        residual = series[f"residual/{name}"]["values"][:, 0]
        assert len(residual) == shadow["compared_steps"]
        np.testing.assert_allclose(residual[-1], shadow["final_rad"][name], atol=1e-6)
        np.testing.assert_allclose(np.sqrt(np.mean(residual**2)), shadow["rms_rad"][name], rtol=1e-5, atol=1e-9)


def test_dataset_visualize_writes_the_episodes_to_an_rrd(tmp_path: Path, capsys) -> None:
    root = tmp_path / "ds"
    args = ["record", "source=synthetic", "episodes=3", "episode_time_s=0.3", "keys=none", f"dataset.root={root}"]
    assert main(args) == 0
    rrd = tmp_path / "vis" / "d.rrd"
    assert (
        main(["dataset", "visualize", str(root), "--out", str(tmp_path / "vis"), "--episodes", "2", "--rrd", str(rrd)])
        == 0
    )
    reader = LeRobotDatasetReader(root)
    hi = reader.episode_bounds(1)[1]  # the first two episodes
    data = reader.lowdim()
    series = read_series(rrd)
    for j, name in enumerate(JOINTS):
        s = series[f"joints/{name}"]
        np.testing.assert_array_equal(s["seq"], np.arange(hi))
        np.testing.assert_allclose(s["values"][:, 0], data["observation.state"][:hi, j], atol=1e-6)
        np.testing.assert_allclose(s["values"][:, 1], data["action"][:hi, j], atol=1e-6)
    assert rows(rrd, "cameras/front") == hi and rows(rrd, "cameras/wrist") == hi
