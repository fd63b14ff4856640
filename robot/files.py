"""Crash-safe file writes shared by every package that saves state (datasets, calibrations, sim parameters,
policy contracts): a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def fsync_path(path: Path) -> None:
    """Flush a file, or a directory entry (a rename inside it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(tmp: Path, final: Path) -> None:
    """fsync ``tmp``, rename it over ``final`` atomically, fsync the directory."""
    fsync_path(tmp)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    fsync_path(final.parent)


def write_json_atomic(obj: Any, path: str | Path, indent: int = 2) -> Path:
    """Write ``obj`` as JSON to ``path`` through a temp file + fsync + os.replace (parents created); returns it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")
    replace_durably(tmp, path)
    return path


def read_json_file(path: Path, error: type[Exception], missing_hint: str, what: str = "file") -> Any:
    """The JSON document in ``path``; ``error`` (a typed error class) names the ``what`` at ``path`` when it is
    missing (``missing_hint`` says how to make one) or is not valid JSON."""
    if not path.is_file():
        raise error(f"{what} {path} does not exist; {missing_hint}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{what} {path} is not valid JSON: {exc}") from None
