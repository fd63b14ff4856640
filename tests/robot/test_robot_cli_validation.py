"""The CLI refuses nonsense at the boundary: ranges, types and unknown keys, each message naming the key and the
valid values (exit code != 0, nothing run)."""

from __future__ import annotations

import pytest

from twinarm.cli.main import main


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["sim", "episodes=-1"], ["episodes=-1", "an integer >= 1"]),
        (["sim", "episodes=0", "video=false"], ["episodes=0", ">= 1"]),
        (["eval", "num_envs=0", "policy.path=x"], ["num_envs=0", ">= 1"]),
        (["record", "episode_time_s=0"], ["episode_time_s=0", "> 0"]),
        (["record", "dataset.codec=mpeg2"], ["dataset.codec='mpeg2'", "h264, av1"]),
        (["train", "dataset.root=x", "threads=-2"], ["threads=-2", ">= 0"]),
        (["demo", "demos=0"], ["demos=0", ">= 1"]),
        (["mirror", "fps=0"], ["fps=0", "> 0"]),
    ],
)
def test_out_of_range_values_name_key_and_valid_values(argv, words, capsys) -> None:
    assert main(argv) != 0
    captured = capsys.readouterr()
    assert "success" not in captured.out
    for word in words:
        assert word in captured.err


def test_wrong_type_says_what_is_expected(capsys) -> None:
    assert main(["sim", "episodes=abc"]) != 0
    err = capsys.readouterr().err
    assert "episodes='abc' is invalid; valid: an integer (default 5)" in err
    assert main(["record", "episode_time_s=long"]) != 0
    assert "episode_time_s='long' is invalid; valid: a number" in capsys.readouterr().err


def test_added_unknown_key_is_refused(capsys) -> None:
    assert main(["sim", "+nosuchkey=1", "episodes=1", "video=false"]) != 0
    captured = capsys.readouterr()
    assert "unknown key(s) ['nosuchkey']" in captured.err and "episodes=5" in captured.err
    assert "success" not in captured.out
    assert main(["sim", "++robot.nosuch=1"]) != 0
    assert "robot.nosuch" in capsys.readouterr().err
