from __future__ import annotations

from pathlib import Path

import av
import pytest

from twinarm.cli.main import main


def test_sim_command_runs_the_expert_and_writes_a_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sim", "task=lift", "episodes=1", f"output_dir={tmp_path}", "video_height=48", "video_width=64"])
    out = capsys.readouterr().out
    assert code == 0
    assert "success 1/1" in out
    with av.open(str(tmp_path / "lift.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 240


def test_sim_command_rejects_an_unknown_task(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "task=stack", "episodes=1", "video=false"]) == 1
    assert "valid tasks: reach, lift, place" in capsys.readouterr().err


def test_sim_command_randomizes_per_episode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "task=reach", "episodes=1", "video=false", "randomize=none"]) == 0
    assert "success 1/1" in capsys.readouterr().out
    # a servo 100x too weak (override of one range on top of a preset) cannot reach: the key reaches the env
    assert main(["sim", "task=reach", "episodes=1", "video=false", 'randomize="none,kp_scale=0.01:0.01"']) == 0
    assert "success 0/1" in capsys.readouterr().out
    assert main(["sim", "task=reach", "episodes=1", "video=false", "randomize=wild"]) == 1
    assert "valid: none, physics, full" in capsys.readouterr().err
