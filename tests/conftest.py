"""Shared pytest options and fixtures. ``--port``/``TWINARM_PORT`` runs the hardware-marked tests against a real bus."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--port",
        default=os.environ.get("TWINARM_PORT"),
        help="serial port of a real robot for tests marked 'hardware' (or set TWINARM_PORT)",
    )


@pytest.fixture
def real_port(request: pytest.FixtureRequest) -> str:
    port = request.config.getoption("--port")
    if not port:
        pytest.skip("no real robot port given (--port or TWINARM_PORT)")
    return port


@pytest.fixture
def key_pipe():
    """(path the command opens, write end): a scripted input stream, as ``printf ... | twinarm teleop`` gives."""
    r, w = os.pipe()
    yield f"/dev/fd/{r}", w
    os.close(r)
    os.close(w)
