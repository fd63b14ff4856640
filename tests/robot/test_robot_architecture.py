"""The dependency rules of the layout, checked on the source: imports point one way, with no exemptions.

contract (robot) <- dataset <- {hardware, sim} <- policies <- compose <- cli; hardware and sim never see each
other, policies never see hardware, and only the composition layer and the CLI import everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("robot", "dataset", "hardware", "sim", "policies", "compose", "cli")

# package folder -> what its modules must never import (our packages by folder name, others by top-level name)
# (rerun, the optional live view, is only imported by the composition layer: drivers and sims are observed;
# ray, the optional cluster executor, only by compose.ray_executor: see test_ray_lives_in_one_module)
FORBIDDEN = {
    "robot": {
        "dataset",
        "hardware",
        "sim",
        "policies",
        "compose",
        "cli",
        "torch",
        "mujoco",
        "serial",
        "rerun",
        "ray",
        "tests",
    },
    "dataset": {"hardware", "sim", "policies", "compose", "cli", "torch", "mujoco", "serial", "rerun", "ray", "tests"},
    "hardware": {"sim", "policies", "compose", "cli", "torch", "mujoco", "rerun", "ray", "tests"},
    "sim": {"hardware", "policies", "compose", "cli", "torch", "serial", "rerun", "ray", "tests"},
    "policies": {"hardware", "compose", "cli", "serial", "rerun", "ray", "tests"},
    "compose": {"cli", "tests"},
    "cli": {"ray", "tests"},
}


def _imports(path: Path) -> set[str]:
    """Top-level names ``path`` imports; ``twinarm.<pkg>`` counts as ``<pkg>``. Bare names of our packages
    (``import robot``) are reported as ``bare:<name>``: they would find another distribution's package."""
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
    names: set[str] = set()
    for module in modules:
        parts = module.split(".")
        if parts[0] == "twinarm" and len(parts) > 1:
            names.add(parts[1])
        elif parts[0] in OURS:
            names.add(f"bare:{parts[0]}")
        else:
            names.add(parts[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    offenders = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = _imports(path)
        bad = (names & FORBIDDEN[package]) | {n for n in names if n.startswith("bare:")}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, f"forbidden imports: {offenders}"


def test_ray_lives_in_one_module() -> None:
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "compose").rglob("*.py") if "ray" in _imports(p))
    assert users == ["compose/ray_executor.py"], f"only compose/ray_executor.py may import ray, found: {users}"


def test_every_package_folder_is_checked() -> None:
    folders = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "configs"}
    assert folders == set(FORBIDDEN), f"package folders without rules: {folders ^ set(FORBIDDEN)}"


def test_the_rule_checker_sees_imports(tmp_path: Path) -> None:
    probe = tmp_path / "m.py"
    probe.write_text("import torch.nn as nn\nfrom twinarm.sim.envs import x\nfrom . import y\nimport robot\n")
    assert _imports(probe) == {"torch", "sim", "bare:robot"}
