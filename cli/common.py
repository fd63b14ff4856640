"""Small helpers shared by the command modules."""

from __future__ import annotations

import time
from pathlib import Path


def output_dir(command: str, given: str | None = None) -> Path:
    """``given`` if set, else ``outputs/<command>/<YYYY-mm-dd_HH-MM-SS>/``; created."""
    path = Path(given) if given else Path("outputs") / command / time.strftime("%Y-%m-%d_%H-%M-%S")
    path.mkdir(parents=True, exist_ok=True)
    return path
