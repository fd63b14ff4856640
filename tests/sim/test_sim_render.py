"""Headless GL backend choice and the error a machine without any GL library gets."""

from __future__ import annotations

import ctypes.util
import os

import mujoco
import pytest

from twinarm.sim.render import CameraRenderer, RenderError, select_gl_backend
from twinarm.sim.sim_robot import SO101_SIM


@pytest.fixture
def headless(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in ("MUJOCO_GL", "PYOPENGL_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.setenv(var, "")  # recorded, so the test's own changes are undone afterwards
        monkeypatch.delenv(var)
    return monkeypatch


def test_egl_is_preferred_then_osmesa(headless: pytest.MonkeyPatch) -> None:
    libs = {"EGL": "libEGL.so.1", "OSMesa": "libOSMesa.so.8"}
    headless.setattr(ctypes.util, "find_library", lambda name: libs.get(name))
    assert select_gl_backend() == "egl"
    headless.delenv("MUJOCO_GL")
    del libs["EGL"]
    assert select_gl_backend() == "osmesa"
    assert os.environ["MUJOCO_GL"] == "osmesa"


def test_no_library_and_no_display_selects_nothing(headless: pytest.MonkeyPatch) -> None:
    headless.setattr(ctypes.util, "find_library", lambda name: None)
    assert select_gl_backend() is None
    assert "MUJOCO_GL" not in os.environ


def test_a_user_choice_and_a_display_are_respected(headless: pytest.MonkeyPatch) -> None:
    headless.setenv("MUJOCO_GL", "osmesa")
    assert select_gl_backend() == "osmesa"
    headless.delenv("MUJOCO_GL")
    headless.setenv("DISPLAY", ":0")
    assert select_gl_backend() is None  # mujoco's GLFW default works with a display


def test_a_failing_gl_context_names_the_packages_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_context(*args: object, **kwargs: object) -> None:
        raise RuntimeError("eglInitialize failed")

    monkeypatch.setattr(mujoco, "Renderer", no_context)
    model = mujoco.MjModel.from_xml_path(str(SO101_SIM.xml))
    with pytest.raises(RenderError, match=r"eglInitialize failed.*libegl1.*libosmesa6"):
        CameraRenderer(model, {"front": (32, 32)})
