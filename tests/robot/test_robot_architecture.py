"""The dependency rules of the layout, checked on the source: imports point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package (or sub-path) -> top-level modules it must never import
FORBIDDEN = {
    "robot": {"hardware", "sim", "policies", "torch", "tests"},  # the core; robot/cli is exempt below
    "hardware": {"sim", "policies", "torch", "tests", "mujoco"},
    "sim": {"hardware", "policies", "torch", "serial", "tests"},
    "policies": {"hardware", "serial", "tests"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    if package == "robot":
        files = [f for f in files if "cli" not in f.relative_to(ROOT / "robot").parts]
    return files


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    offenders = {}
    for path in _sources(package):
        bad = _imports(path) & FORBIDDEN[package]
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, f"forbidden imports: {offenders}"


def test_the_rule_checker_sees_imports(tmp_path: Path) -> None:
    probe = tmp_path / "m.py"
    probe.write_text("import torch.nn as nn\nfrom sim.envs import x\nfrom . import y\n")
    assert _imports(probe) == {"torch", "sim"}
