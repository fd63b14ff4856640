"""The live sim mirror: a MuJoCo copy of a running robot, and a shadow simulation that predicts it.

:class:`MirrorScene` poses a model's scene from measured joint positions (``qpos`` set, ``mj_forward``).
:class:`LiveMirror` is a control-loop sink: the loop thread only copies the measured joints; a background thread
poses the scene at ``fps`` and shows it in the MuJoCo viewer (when a display exists) and/or encodes it to an mp4,
so rendering never delays the robot. :class:`ShadowSink` sends every target the live robot was sent to a
:class:`~sim.sim_robot.SimRobot` as well and records the simulator's predicted joints beside the measured ones:
their divergence per joint over time tells how well the simulation models the real arm.
Sinks follow ``robot.loop.Sink``: ``on_step(obs, sent, t)``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import mujoco
import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.robot.robot import Observation
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.render import CameraRenderer, RenderError
from twinarm.sim.sim_robot import SimModel, SimRobot


class MirrorScene:
    """The scene of ``sim_model`` with its robot joints ``joint_names`` set from measurements [rad]."""

    def __init__(self, sim_model: SimModel, joint_names: Sequence[str]) -> None:
        self.model = sim_model.load()
        self.data = mujoco.MjData(self.model)
        missing = [n for n in joint_names if mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, n) < 0]
        if missing:
            raise ConfigError(f"{sim_model.xml.name}: the mirrored robot's joints {missing} are not in the model")
        self.qadr = self.model.jnt_qposadr[[self.model.joint(n).id for n in joint_names]]
        self.set_joints(np.asarray(sim_model.home, dtype=np.float64))

    def set_joints(self, joint_pos: np.ndarray) -> None:
        """Pose the robot at ``joint_pos`` (n,) [rad] and recompute positions (``mj_forward``)."""
        self.data.qpos[self.qadr] = joint_pos
        mujoco.mj_forward(self.model, self.data)


class VideoFile:
    """An mp4 written frame by frame (PyAV, H.264 when available); frame ``pts`` in units of ``1 / fps``."""

    def __init__(self, path: Path, height: int, width: int, fps: float) -> None:
        import av

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._container = av.open(str(path), "w")
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        self._stream = self._container.add_stream(codec, rate=round(fps))
        self._stream.width, self._stream.height = width + width % 2, height + height % 2  # yuv420p: even sizes
        self._stream.pix_fmt = "yuv420p"
        self._last_pts = -1
        self.frames = 0

    def write(self, image: np.ndarray, pts: int) -> None:
        """Add an (H, W, 3) uint8 RGB frame shown from ``pts``; a pts not after the last one is skipped."""
        import av

        if pts <= self._last_pts:
            return
        h, w = self._stream.height, self._stream.width
        image = np.pad(image, ((0, h - image.shape[0]), (0, w - image.shape[1]), (0, 0)))
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = pts
        self._container.mux(self._stream.encode(frame))
        self._last_pts, self.frames = pts, self.frames + 1

    def close(self) -> None:
        self._container.mux(self._stream.encode())
        self._container.close()


class LiveMirror:
    """Sink keeping a :class:`MirrorScene` in step with the robot, shown at ``fps`` [Hz] in a viewer window
    (``viewer=True``; needs a display) and/or written to ``video`` (an mp4 path) from ``camera`` at ``size``
    (height, width). Use as a context manager: the render thread starts on enter and stops on exit."""

    def __init__(
        self,
        sim_model: SimModel,
        joint_names: Sequence[str],
        video: Path | None = None,
        viewer: bool = False,
        camera: str = "front",
        size: tuple[int, int] = (240, 320),
        fps: float = 30.0,
    ) -> None:
        self.scene = MirrorScene(sim_model, joint_names)
        if camera not in [self.scene.model.camera(i).name for i in range(self.scene.model.ncam)]:
            valid = [self.scene.model.camera(i).name for i in range(self.scene.model.ncam)]
            raise ConfigError(f"mirror camera {camera!r} is not in {sim_model.xml.name}; cameras: {valid}")
        self.video_path, self.camera, self.size, self.fps = video, camera, size, fps
        self.want_viewer = viewer
        self.updates = 0  # measurements received
        self.frames = 0  # frames shown or written
        self._latest: np.ndarray | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._viewer: Any = None
        self._error: BaseException | None = None

    # -- sink (loop thread) ---------------------------------------------------------------------------------
    def on_step(self, obs: Observation, sent: np.ndarray, t: float) -> None:
        with self._lock:
            self._latest = np.array(obs[JOINT_POS], dtype=np.float64)
            self.updates += 1
        if self._error is not None:
            raise RenderError(f"mirror render thread failed: {self._error}") from self._error

    # -- lifecycle ------------------------------------------------------------------------------------------
    def __enter__(self) -> LiveMirror:
        if self.want_viewer:
            import mujoco.viewer

            self._viewer = mujoco.viewer.launch_passive(self.scene.model, self.scene.data)
        self._thread = threading.Thread(target=self._run, name="sim-mirror", daemon=True)
        self._thread.start()
        self._ready.wait()  # GL context and encoder set up before the loop starts: no stall mid-run
        if self._error is not None:
            self.__exit__()
            raise RenderError(f"mirror could not start: {self._error}") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
            self._thread = None
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None

    def _run(self) -> None:
        renderer = video = None
        try:
            if self.video_path is not None:
                h, w = self.size
                renderer = CameraRenderer(self.scene.model, {self.camera: (h, w)})  # GL context of this thread
                video = VideoFile(self.video_path, h, w, self.fps)
            self._ready.set()
            period, t0 = 1.0 / self.fps, time.monotonic()
            k, first = 0, None  # frame slot k is shown at t0 + k * period
            while not self._stop.wait(max(0.0, t0 + k * period - time.monotonic())):
                with self._lock:
                    q = self._latest
                if q is not None:
                    first = k if first is None else first
                    self._show(q, renderer, video, k - first)
                k = max(k + 1, math.ceil((time.monotonic() - t0) / period))  # late: skip slots, never burst
        except BaseException as exc:  # noqa: BLE001 - surfaced on the loop thread by on_step
            self._error = exc
        finally:
            self._ready.set()
            if video is not None:
                video.close()
            if renderer is not None:
                renderer.close()

    def _show(self, q: np.ndarray, renderer: CameraRenderer | None, video: VideoFile | None, pts: int) -> None:
        if self._viewer is not None:
            with self._viewer.lock():
                self.scene.set_joints(q)
            if self._viewer.is_running():  # the user may close the window; the video goes on
                self._viewer.sync()
        else:
            self.scene.set_joints(q)
        if renderer is not None and video is not None:
            video.write(renderer.render(self.scene.data, self.camera), pts)
        self.frames += 1


class Divergence(NamedTuple):
    """Shadow prediction vs measurement: ``t`` (k,) [s] since the start, ``measured`` and ``predicted`` (k, n)
    joint positions [rad] in the order of ``joint_names``."""

    joint_names: tuple[str, ...]
    t: np.ndarray
    measured: np.ndarray
    predicted: np.ndarray

    @property
    def error(self) -> np.ndarray:
        """predicted - measured, (k, n) [rad]."""
        return self.predicted - self.measured

    def rms(self) -> np.ndarray:
        """Per joint RMS divergence, (n,) [rad] (zeros when nothing was compared)."""
        e = self.error
        return np.sqrt((e**2).mean(axis=0)) if len(e) else np.zeros(len(self.joint_names))

    def max_abs(self) -> np.ndarray:
        """Per joint largest divergence, (n,) [rad]."""
        e = self.error
        return np.abs(e).max(axis=0) if len(e) else np.zeros(len(self.joint_names))


class ShadowSink:
    """Sink: replays the live robot's targets on ``sim`` (a connected SimRobot at the same control rate), open loop.

    The shadow starts at the first measured pose; then each cycle it is sent the live robot's target and stepped
    one control period, and its joints are compared with the next measurement. The live robot already applied
    the safety clip, so the shadow is sent that target unchanged.
    """

    def __init__(self, sim: SimRobot) -> None:
        self.sim = sim
        self._t0: float | None = None
        self._pred: np.ndarray | None = None
        self._t: list[float] = []
        self._measured: list[np.ndarray] = []
        self._predicted: list[np.ndarray] = []

    def on_step(self, obs: Observation, sent: np.ndarray, t: float) -> None:
        measured = np.asarray(obs[JOINT_POS], dtype=np.float32)
        if self._pred is None:
            self._t0 = t
            self.sim.reset(measured)
        else:
            self._t.append(t - self._t0)
            self._measured.append(measured.copy())
            self._predicted.append(self._pred)
        self.sim.reset_target(sent)  # anchor the safety clip at the target itself: the shadow gets it as sent
        self.sim.send_action(sent)
        self._pred = self.sim.get_observation()[JOINT_POS].copy()

    @property
    def last_error(self) -> np.ndarray | None:
        """Prediction minus measurement [rad] per joint at the latest compared cycle (None before the second)."""
        return self._predicted[-1] - self._measured[-1] if self._measured else None

    def divergence(self) -> Divergence:
        n = self.sim.spec.num_joints
        return Divergence(
            self.sim.spec.joint_names,
            np.asarray(self._t, dtype=np.float64),
            np.stack(self._measured) if self._measured else np.zeros((0, n), np.float32),
            np.stack(self._predicted) if self._predicted else np.zeros((0, n), np.float32),
        )
