"""A regular (non-editable) install of the built wheel lives beside Robot Framework, which owns the top-level
import name ``robot``: both import, and the ``twinarm`` console script runs.

Slow (builds a wheel, makes a venv, installs Robot Framework from the package index). The venv borrows the
running interpreter's site-packages through a ``.pth`` line for the heavy dependencies (numpy, mujoco, torch),
which does not activate the editable install's finder, so ``twinarm`` can only come from the wheel.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("robot", "dataset", "hardware", "sim", "policies", "compose", "cli")

pytestmark = pytest.mark.slow


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    had_build = (ROOT / "build").exists()
    try:
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(out), str(ROOT)])
    finally:
        if not had_build:  # setuptools builds in the source tree; leave the checkout as it was
            shutil.rmtree(ROOT / "build", ignore_errors=True)
    (found,) = out.glob("twinarm-*.whl")
    return found


def test_wheel_holds_only_the_twinarm_namespace(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"twinarm"}, f"the wheel installs top-level names {sorted(top)}"
    assert "twinarm/__init__.py" not in names  # an implicit namespace package: nothing to overwrite or shadow
    for package in PACKAGES:
        assert f"twinarm/{package}/__init__.py" in names
    assert "twinarm/sim/models/so101.xml" in names
    assert "twinarm/configs/robot_preset/so101.yaml" in names


def test_regular_install_beside_robot_framework(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet"]
    _run([*pip, "robotframework"])  # first Robot Framework, then twinarm over it: the order that broke it before
    _run([*pip, str(wheel)])
    probe = (
        "import robot, robot.run, twinarm.robot, twinarm.cli.main, twinarm.sim, twinarm.compose.backends\n"
        "import twinarm.cli.main as m\n"
        "print(robot.__file__); print(twinarm.robot.__file__); print(m.config_dir())\n"
    )
    out = _run([str(python), "-c", probe], cwd=tmp_path).stdout.split()
    rf_init, ours, configs = out
    assert Path(rf_init).parent.name == "robot" and "twinarm" not in rf_init
    assert Path(ours).is_relative_to(site / "twinarm")
    assert (Path(configs) / "robot_preset" / "so101.yaml").is_file()
    help_text = _run([str(env_dir / "bin" / "twinarm"), "--help"], cwd=tmp_path).stdout
    assert "demo" in help_text and "check" in help_text
    _run([str(env_dir / "bin" / "twinarm"), "check", "robot.cameras=[]"], cwd=tmp_path)
