"""Headless-safe offscreen rendering of MuJoCo cameras.

MuJoCo picks its OpenGL backend from ``MUJOCO_GL`` when ``mujoco`` is first imported, so :func:`select_gl_backend`
runs from ``sim/__init__.py`` before that: it keeps a user's choice, uses the window system when a display exists
and otherwise EGL (Mesa's software renderer works without a GPU), then OSMesa. When no backend is usable the
first render raises :class:`RenderError` naming the system package to install.
"""

from __future__ import annotations

import ctypes.util
import os

import numpy as np

from twinarm.robot.errors import TwinarmError

GL_PACKAGES = "libegl1 (EGL, preferred) or libosmesa6 (OSMesa) on Debian/Ubuntu; mesa-libEGL on Fedora"


class RenderError(TwinarmError, RuntimeError):
    """Offscreen rendering is unavailable; the message names the backend tried and what to install."""


def select_gl_backend() -> str | None:
    """Set ``MUJOCO_GL`` for a headless machine if the user has not; returns the backend chosen (or None)."""
    if os.environ.get("MUJOCO_GL"):
        return os.environ["MUJOCO_GL"]
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None  # a window system: mujoco's default (GLFW) works
    for backend, lib in (("egl", "EGL"), ("osmesa", "OSMesa")):
        if ctypes.util.find_library(lib):
            os.environ["MUJOCO_GL"] = backend
            os.environ.setdefault("PYOPENGL_PLATFORM", backend)
            return backend
    return None


def _bind_gl_backend() -> None:
    """Make MuJoCo's renderer use the backend in ``MUJOCO_GL`` even if ``mujoco`` was imported before ``sim``.

    MuJoCo resolves ``MUJOCO_GL`` once, at its own import; a program that imports ``mujoco`` first would otherwise
    get GLFW, which fails without a display.
    """
    backend = os.environ.get("MUJOCO_GL", "").lower()
    if backend not in ("egl", "osmesa"):
        return
    import importlib

    from mujoco.rendering.classic import gl_context

    wanted = importlib.import_module(f"mujoco.{backend}").GLContext
    if getattr(gl_context, "GLContext", None) is not wanted:
        gl_context.GLContext = wanted


class CameraRenderer:
    """Renders named cameras of one model at fixed sizes; one MuJoCo renderer per distinct (height, width).

    Scene options follow the measured cheap settings (no shadows, reflections or multisampling; set in the MJCF).
    Call :meth:`close` when done (not left to ``__del__``: EGL contexts must be released explicitly).
    """

    def __init__(self, model: object, cameras: dict[str, tuple[int, int]]) -> None:
        import mujoco

        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        self.cameras = dict(cameras)
        for name in self.cameras:
            if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, name) < 0:
                valid = [model.camera(i).name for i in range(model.ncam)]
                raise RenderError(f"model has no camera {name!r}; cameras: {valid}")
        model.vis.global_.offwidth = max([model.vis.global_.offwidth] + [w for _, w in cameras.values()])
        model.vis.global_.offheight = max([model.vis.global_.offheight] + [h for h, _ in cameras.values()])
        try:
            _bind_gl_backend()
            for size in set(self.cameras.values()):
                self._renderers[size] = mujoco.Renderer(model, height=size[0], width=size[1])
        except Exception as exc:  # mujoco raises several types when no GL context can be made
            self.close()
            backend = os.environ.get("MUJOCO_GL", "glfw (default)")
            raise RenderError(
                f"cannot create an offscreen OpenGL context with MUJOCO_GL={backend}: {exc}. Camera images need "
                f"an EGL or OSMesa library: install {GL_PACKAGES}, or set MUJOCO_GL; state-only use needs none."
            ) from exc

    def render(self, data: object, camera: str, model: object = None) -> np.ndarray:
        """(H, W, 3) uint8 RGB image of ``camera`` for the current state of ``data``; ``model``: the model of
        ``data`` when it is not the renderer's own but one compiled from the same file (its colours, lights and
        cameras are used; meshes and textures come from the renderer's model)."""
        renderer = self._renderers[self.cameras[camera]]
        if model is None:
            renderer.update_scene(data, camera=camera)
        else:  # the scene is built from ``model``; mujoco.Renderer reads its model only there and for depth images
            own, renderer._model = renderer._model, model
            try:
                renderer.update_scene(data, camera=camera)
            finally:
                renderer._model = own
        return renderer.render()

    def view(self, model: object) -> SharedView:
        """This renderer drawing scenes of ``model`` (see :meth:`render`), for a robot to hold as its own."""
        return SharedView(self, model)

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()


class SharedView:
    """A :class:`CameraRenderer` lent to the robot of ``model``: renders with that model; closing it does nothing
    (the renderer's owner closes the renderer)."""

    def __init__(self, renderer: CameraRenderer, model: object) -> None:
        self.renderer, self.model = renderer, model
        self.cameras = renderer.cameras

    def render(self, data: object, camera: str) -> np.ndarray:
        return self.renderer.render(data, camera, self.model)

    def close(self) -> None:
        """Nothing: the renderer is shared."""
