"""A live view of the control loop in rerun: ``display=rerun`` (optional extra: ``pip install "twinarm[viz]"``).

:class:`RerunView` is a loop sink (``robot.loop.Sink``): it only observes the cycles ``run_loop`` hands every sink
and drives nothing. It never stops a run either: an exception inside it becomes one :class:`ViewerWarning` and the
view goes quiet, so a recording keeps every frame. Drivers, the simulator and the contract never import rerun.

Entities, on the timelines ``step`` [control cycles] and ``time`` [s since the first cycle]:

* ``joints/<joint>`` [rad]: two series, ``measured`` (the observation) and ``commanded`` (the target sent), in
  that order (one plot per joint; one log call per joint and cycle, ~30 µs each);
* ``residual/<joint>`` [rad]: the shadow simulation's prediction minus the measurement (``twinarm mirror
  shadow=true``; the divergence of its ``shadow.json``);
* ``loop/period_ms`` [ms]: time from the previous cycle to this one (the loop's timing);
* ``cameras/<camera>``: frames at up to ``image_hz`` [Hz] (JPEG at ``jpeg_quality``; 0 sends raw pixels);
* ``events``: text lines (episode saved, ...).

Where it goes: a viewer spawned on this machine (when a display exists), a viewer already running
(``display.connect=URL``) and/or an ``.rrd`` file (``display.rrd=PATH``; headless; open it later with
``rerun PATH``). Memory stays bounded: a spawned viewer drops its oldest data beyond ``memory_limit`` (rerun's
``--memory-limit``), a file sink streams to disk, and camera frames are throttled and compressed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from twinarm.compose.errors import MissingExtraError, ViewerError
from twinarm.robot.errors import ConfigError
from twinarm.robot.features import IMAGE_PREFIX, JOINT_POS
from twinarm.robot.robot import Observation
from twinarm.robot.spec import RobotSpec

NONE, RERUN = "none", "rerun"
KINDS = (NONE, RERUN)
INSTALL_HINT = 'pip install "twinarm[viz]"'
SERIES = ("measured", "commanded")  # the series of each ``joints/<joint>`` entity, in this order


@dataclasses.dataclass
class DisplayConfig:
    """``display=rerun`` selects ``configs/display/rerun.yaml``; ``display.rrd=PATH`` alone also turns the view on."""

    kind: str = NONE  # none | rerun
    rrd: str = ""  # write the stream to this .rrd file (headless use; open later with `rerun PATH`)
    connect: str = ""  # stream to a viewer already running, e.g. rerun+http://127.0.0.1:9876/proxy
    spawn: bool | None = None  # start a local viewer; default: when a display exists and neither rrd nor connect
    memory_limit: str = "25%"  # the spawned viewer drops its oldest data beyond this (e.g. 2GB, 25%)
    image_hz: float = 10.0  # camera frames sent per second [Hz] (0: no cameras); joints go every cycle
    jpeg_quality: int = 85  # camera frames compressed at this JPEG quality (1-100); 0: raw pixels

    @property
    def enabled(self) -> bool:
        return self.kind == RERUN or bool(self.rrd or self.connect)

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"display={self.kind!r} is invalid; valid: {', '.join(KINDS)}")
        if self.image_hz < 0:
            raise ConfigError(f"display.image_hz={self.image_hz!r} is invalid; valid: a number >= 0 [Hz]")
        if not 0 <= self.jpeg_quality <= 100:
            raise ConfigError(f"display.jpeg_quality={self.jpeg_quality!r} is invalid; valid: 0 (raw) or 1-100")
        if self.rrd and Path(self.rrd).is_dir():
            raise ConfigError(f"display.rrd={self.rrd!r} is a directory; valid: a file path, e.g. {self.rrd}/run.rrd")
        if self.enabled:  # fail before a robot moves: the extra is installed and the stream has somewhere to go
            require_rerun()
            if not (self.spawns or self.rrd or self.connect):
                raise ConfigError(
                    "display=rerun has nowhere to show the run: there is no display (DISPLAY/WAYLAND_DISPLAY unset); "
                    "give display.rrd=PATH (a file, open it later with `rerun PATH`) or display.connect=URL (a "
                    "running viewer)"
                )

    @property
    def spawns(self) -> bool:
        """Whether a local viewer is started (``spawn``; default: a display exists and neither rrd nor connect)."""
        return self.spawn if self.spawn is not None else (has_display() and not self.rrd and not self.connect)


class ViewerWarning(UserWarning):
    """The live view failed; the run goes on without it (nothing recorded is affected)."""


def require_rerun() -> ModuleType:
    """The ``rerun`` module, or :class:`MissingExtraError` telling how to install it."""
    try:
        import rerun
    except ImportError as exc:
        raise MissingExtraError(
            f"the live view (display=rerun, display.rrd=..., dataset visualize --rrd) needs rerun-sdk, which is not "
            f"installed ({exc}); install it with: {INSTALL_HINT} (rerun-sdk 0.41 needs Python >= 3.11)"
        ) from exc
    return rerun


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class RerunView:
    """Loop sink streaming each cycle to the rerun recording ``rec`` (see the module docstring for the entities).

    ``residual()`` (optional) returns the latest predicted-minus-measured joint error [rad] or None; it is read
    after the other sinks of the cycle ran, so put this view last. ``rr``: the rerun module (default: imported).
    """

    def __init__(
        self,
        rec: Any,
        spec: RobotSpec,
        *,
        image_hz: float = 10.0,
        jpeg_quality: int = 85,
        residual: Callable[[], np.ndarray | None] | None = None,
        rr: ModuleType | None = None,
    ) -> None:
        self.rr = rr if rr is not None else require_rerun()
        self.rec, self.spec, self.residual = rec, spec, residual
        self.image_period_s = 1.0 / image_hz if image_hz > 0 else None
        self.jpeg_quality = jpeg_quality
        self.steps = 0
        self.failed: str | None = None
        self._t0: float | None = None
        self._last_t: float | None = None
        self._last_image_t = -np.inf
        self._guard("describing the series", self._describe)

    def on_step(self, obs: Observation, sent: np.ndarray, t: float) -> None:
        self._guard("logging a cycle", lambda: self._log_step(obs, sent, t))

    def event(self, text: str) -> None:
        """A text line on the ``events`` entity at the current step."""
        self._guard("logging an event", lambda: self.rec.log("events", self.rr.TextLog(text)))

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush what is buffered (at most ``timeout_s`` [s]) and disconnect the sinks."""
        self._guard("flushing", lambda: self.rec.flush(timeout_sec=timeout_s))
        with contextlib.suppress(Exception):
            self.rec.disconnect()

    # -- internals ------------------------------------------------------------------------------------------
    def _guard(self, what: str, fn: Callable[[], object]) -> None:
        if self.failed is not None:
            return
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - a viewer failure must never stop the run or lose a frame
            self.failed = f"{what}: {type(exc).__name__}: {exc}"
            warnings.warn(
                f"rerun view stopped ({self.failed}); the run continues without it", ViewerWarning, stacklevel=3
            )

    def _describe(self) -> None:
        rr = self.rr
        for name in self.spec.joint_names:
            self.rec.log(f"joints/{name}", rr.SeriesLines(names=list(SERIES)), static=True)

    def _log_step(self, obs: Observation, sent: np.ndarray, t: float) -> None:
        rr, rec = self.rr, self.rec
        if self._t0 is None:
            self._t0 = t
        rec.set_time("step", sequence=self.steps)
        rec.set_time("time", duration=t - self._t0)
        measured = np.asarray(obs[JOINT_POS], dtype=np.float64)
        commanded = np.asarray(sent, dtype=np.float64)
        for j, name in enumerate(self.spec.joint_names):
            rec.log(f"joints/{name}", rr.Scalars([measured[j], commanded[j]]))
        error = self.residual() if self.residual is not None else None
        if error is not None:
            for j, name in enumerate(self.spec.joint_names):
                rec.log(f"residual/{name}", rr.Scalars(float(error[j])))
        if self._last_t is not None:
            rec.log("loop/period_ms", rr.Scalars((t - self._last_t) * 1e3))
        self._last_t = t
        if self.image_period_s is not None and t - self._last_image_t >= self.image_period_s:
            self._last_image_t = t
            for key, value in obs.items():
                if key.startswith(IMAGE_PREFIX):
                    rec.log(f"cameras/{key[len(IMAGE_PREFIX) :]}", image_archetype(rr, value, self.jpeg_quality))
        self.steps += 1


def image_archetype(rr: ModuleType, rgb: np.ndarray, jpeg_quality: int) -> Any:
    """An (H, W, 3) uint8 RGB frame as a rerun archetype: JPEG-encoded (``jpeg_quality`` 1-100) or raw (0)."""
    if jpeg_quality <= 0:
        return rr.Image(np.ascontiguousarray(rgb))
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    if not ok:
        raise ViewerError(f"JPEG encoding failed for a camera frame of shape {rgb.shape}; valid: (H, W, 3) uint8")
    return rr.EncodedImage(contents=buf.tobytes(), media_type="image/jpeg")


def open_recording(cfg: DisplayConfig, app: str) -> Any:
    """A rerun recording stream with the sinks ``cfg`` asks for (file, running viewer, spawned viewer).

    ConfigError when there is nowhere to show the stream (no display, no ``rrd``, no ``connect``) or the ``rrd``
    folder cannot be created; MissingExtraError without rerun-sdk. A viewer that fails to spawn is a warning (the
    other sinks still work).
    """
    cfg.validate()
    rr = require_rerun()
    spawn = cfg.spawns
    rec = rr.RecordingStream(f"twinarm_{app}")
    sinks = []
    if cfg.rrd:
        path = Path(cfg.rrd)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"display.rrd={cfg.rrd!r}: cannot create its folder ({exc}); give a writable path"
            ) from exc
        sinks.append(rr.FileSink(str(path)))
    if cfg.connect:
        sinks.append(rr.GrpcSink(cfg.connect))
    if spawn:
        try:
            rec.spawn(connect=False, memory_limit=cfg.memory_limit)
            sinks.append(rr.GrpcSink())
        except Exception as exc:  # noqa: BLE001 - no viewer window is no reason to stop the run
            warnings.warn(f"could not spawn the rerun viewer ({exc}); continuing without it", ViewerWarning, 2)
    if sinks:
        try:
            rec.set_sinks(*sinks)
            return rec
        except Exception as exc:  # noqa: BLE001 - a sink that cannot start is no reason to stop the run
            warnings.warn(f"the rerun view could not start ({exc}); continuing without it", ViewerWarning, 2)
    return rr.RecordingStream(f"twinarm_{app}", default_enabled=False)  # nothing to send to: log nothing


@contextlib.contextmanager
def open_display(
    cfg: DisplayConfig,
    spec: RobotSpec,
    app: str,
    residual: Callable[[], np.ndarray | None] | None = None,
) -> Iterator[RerunView | None]:
    """The live view ``cfg`` asks for as a loop sink (None when the display is off); flushed and closed on exit."""
    if not cfg.enabled:
        yield None
        return
    view = RerunView(
        open_recording(cfg, app), spec, image_hz=cfg.image_hz, jpeg_quality=cfg.jpeg_quality, residual=residual
    )
    where = ", ".join(filter(None, [cfg.rrd and f"file {cfg.rrd}", cfg.connect and f"viewer at {cfg.connect}"]))
    print(f"[display] rerun view of {spec.name}" + (f" -> {where}" if where else " -> spawned viewer"))
    try:
        yield view
    finally:
        view.close()
