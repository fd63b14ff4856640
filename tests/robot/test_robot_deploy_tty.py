"""``deploy`` on a real port with ``prompt=true`` and no terminal fails with one clear line, not an EOFError."""

from __future__ import annotations

import io

import pytest

from twinarm.cli import cmd_deploy
from twinarm.cli.main import main
from twinarm.robot.errors import ConfigError


def test_prompt_without_a_tty_fails_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # e.g. started by a script or a service: stdin not a tty
    assert main(["deploy", "policy.path=/nonexistent/ckpt", "robot.port=/dev/ttyNONE"]) == 1
    err = capsys.readouterr().err.strip()
    assert "stdin is not a terminal" in err and "prompt=false" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    # the explicit flag goes past the prompt check (and fails later on the missing checkpoint)
    assert main(["deploy", "policy.path=/nonexistent/ckpt", "robot.port=/dev/ttyNONE", "prompt=false"]) == 1
    assert "stdin is not a terminal" not in capsys.readouterr().err


def test_stdin_closed_while_waiting_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(ConfigError, match="prompt=false"):
        cmd_deploy._wait_for_enter(0)
