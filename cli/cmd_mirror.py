"""``twinarm mirror robot.port=...``: a live MuJoCo copy of a robot, and optionally a shadow simulation of it.

The mirror's joints are set from the robot's measured joint state every control cycle (``sim.mirror``). It is
shown in the MuJoCo viewer when a display exists (``viewer=auto``), otherwise written to an mp4 under
``outputs/mirror/<time>/``. The robot is driven by ``source`` (default ``none``: it holds still, or a leader arm
is only watched while you move it; ``leader``/``keyboard``/``gamepad``/``wave``/``policy`` drive it).
``shadow=true`` also sends every command to a SimRobot and reports how far the simulator's predicted joints drift
from the measured ones, per joint over time (``shadow.png`` + ``shadow.json``). The shadow runs ``sim.params``; with
``reality.seed=N`` the robot is that hidden reality and the shadow still runs ``sim.params`` (default: the model's
default preset), so ``sim.params=<sysid output>/sim_params.json`` shows the divergence left after a fit.
``display=rerun`` also streams the run to rerun, the shadow's per-joint residual included (``display.rrd=PATH``
headless; ``compose.viewer``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from twinarm.cli.common import output_dir
from twinarm.compose.backends import RobotConfig, open_robot
from twinarm.compose.homunculus import HomunculusSettings
from twinarm.compose.keys import episode_controls, open_keys, stop_help
from twinarm.compose.runs import loop_summary, stop_check, stop_on_interrupt, write_json
from twinarm.compose.sim_config import RealityConfig, SimConfig
from twinarm.compose.sources import (
    PolicyRef,
    SourceOptions,
    TeleopSettings,
    build_source,
    leader_default,
)
from twinarm.compose.viewer import DisplayConfig, has_display, open_display
from twinarm.robot.errors import ConfigError
from twinarm.robot.loop import run_loop, terminate_on_sigterm

HELP = "show a live MuJoCo copy of a robot (viewer or mp4); shadow=true reports sim-vs-real joint divergence"


@dataclasses.dataclass
class Config:
    robot: RobotConfig = dataclasses.field(default_factory=lambda: RobotConfig(cameras=[]))
    source: str = "none"  # none | leader | keyboard | gamepad | homunculus | wave | policy
    leader: RobotConfig = dataclasses.field(default_factory=leader_default)
    teleop: TeleopSettings = dataclasses.field(default_factory=TeleopSettings)
    policy: PolicyRef = dataclasses.field(default_factory=PolicyRef)
    homunculus: HomunculusSettings = dataclasses.field(default_factory=HomunculusSettings)  # source=homunculus
    keys: str = "stdin"  # stdin | none | path of a file or FIFO
    duration_s: float = 0.0  # 0: until Esc or Ctrl-C
    viewer: str = "auto"  # auto (a window when a display exists) | on | off
    video: bool | None = None  # write an mp4; default: when there is no viewer
    camera: str = "front"
    height: int = 240
    width: int = 320
    fps: float = 30.0  # mirror frames per second [Hz]
    shadow: bool = False
    sim: SimConfig = dataclasses.field(default_factory=SimConfig)  # the simulated robot / shadow: sim.params=...
    reality: RealityConfig = dataclasses.field(default_factory=RealityConfig)  # reality.seed=N: a hidden reality
    output_dir: str = ""
    display: DisplayConfig = dataclasses.field(default_factory=DisplayConfig)  # display=rerun: live view

    def validate(self) -> None:
        from twinarm.cli.checks import at_least, check

        at_least(self, ("duration_s",), 0)
        at_least(self, ("height", "width"), 16)
        check(self.fps > 0, "fps", self.fps, "a number > 0 [Hz]")
        self.display.validate()


def run(cfg: Config) -> None:
    from twinarm.compose.registry import MODELS
    from twinarm.compose.sim_config import sim_params_for
    from twinarm.sim.mirror import LiveMirror, ShadowSink

    if cfg.viewer not in ("auto", "on", "off"):
        raise ConfigError(f"viewer={cfg.viewer!r} is not valid; valid: auto, on, off")
    sim_model = cfg.robot.entry().sim
    if sim_model is None:
        valid = [name for name, m in MODELS.items() if m.sim is not None]
        raise ConfigError(f"robot.model={cfg.robot.model!r} has no MuJoCo model to mirror; models: {valid}")
    if cfg.viewer == "on" and not has_display():
        raise ConfigError("viewer=on needs a display (DISPLAY or WAYLAND_DISPLAY is not set); viewer=off writes an mp4")
    viewer = cfg.viewer == "on" or (cfg.viewer == "auto" and has_display())
    video = (not viewer) if cfg.video is None else cfg.video
    out = output_dir("mirror", cfg.output_dir)
    stop = threading.Event()
    params = sim_params_for(sim_model, cfg.sim, cfg.reality)
    # the shadow is the model under test: sim.params even when the robot is a hidden reality
    shadow_params = params if cfg.reality.seed is None else sim_params_for(sim_model, cfg.sim, RealityConfig())
    with terminate_on_sigterm(), contextlib.ExitStack() as stack:
        robot = stack.enter_context(open_robot(cfg.robot, params))
        keys = open_keys(cfg.keys, stack)
        options = SourceOptions(cfg.leader, cfg.teleop, cfg.policy, homunculus=cfg.homunculus)
        built = build_source(cfg.source, robot, options, keys, stack)
        controls = episode_controls(keys, built.claimed_keys)
        mirror = stack.enter_context(
            LiveMirror(
                sim_model,
                robot.spec.joint_names,
                video=out / "mirror.mp4" if video else None,
                viewer=viewer,
                camera=cfg.camera,
                size=(cfg.height, cfg.width),
                fps=cfg.fps,
            )
        )
        sinks: list[Any] = [mirror]
        shadow = None
        if cfg.shadow:
            from twinarm.compose.backends import make_sim_robot

            sim_cfg = dataclasses.replace(cfg.robot, port=None, cameras=[])
            shadow = ShadowSink(stack.enter_context(make_sim_robot(sim_cfg, shadow_params)))
            sinks.append(shadow)
        residual = (lambda: shadow.last_error) if shadow is not None else None
        view = stack.enter_context(open_display(cfg.display, robot.spec, "mirror", residual))
        if view is not None:
            sinks.append(view)  # last: it reads the shadow's residual of the same cycle
        where = cfg.robot.port or "simulation"
        shown = ", ".join(filter(None, ["viewer" if viewer else "", f"video {out / 'mirror.mp4'}" if video else ""]))
        shown = shown or "nothing shown (viewer=off video=false)"
        print(f"[mirror] {robot.spec.name} on {where} at {robot.spec.control_hz:g} Hz, source {cfg.source} -> {shown}")
        if built.help:
            print(f"[mirror] {built.help}")
        print(f"[mirror] {stop_help(keys, built.claimed_keys, cfg.duration_s)}")
        with stop_on_interrupt(stop):
            report = run_loop(
                robot,
                built.source,
                sinks,
                duration_s=cfg.duration_s if cfg.duration_s > 0 else None,
                stall_timeout_s=math.inf if cfg.source == "none" else 0.5,
                stop=stop,
                is_done=stop_check(controls, built.quit),
            )
    print(f"[mirror] {loop_summary(report)}; {mirror.updates} measurements, {mirror.frames} mirror frames")
    summary: dict[str, Any] = {
        "command": "mirror",
        "robot": {"model": cfg.robot.model, "port": cfg.robot.port, "control_hz": cfg.robot.control_hz},
        "source": cfg.source,
        "loop": report._asdict(),
        "mirror": {
            "measurements": mirror.updates,
            "frames": mirror.frames,
            "video": str(out / "mirror.mp4") if video else None,
        },
    }
    if shadow is not None:
        summary["shadow"] = _shadow_outputs(shadow.divergence(), out)
        summary["shadow"]["params"] = shadow_params.name if shadow_params is not None else "xml"
        worst = max(summary["shadow"]["rms_rad"].items(), key=lambda kv: kv[1], default=("-", 0.0))
        print(f"[mirror] shadow: largest RMS divergence {worst[1]:.4f} rad on {worst[0]}; plot {out / 'shadow.png'}")
    print(f"[mirror] report: {write_json(summary, out / 'report.json')}")


def _shadow_outputs(div: Any, out: Path) -> dict[str, Any]:
    """Write ``shadow.json`` (per joint RMS / max / final divergence and the series) and ``shadow.png``."""
    names = div.joint_names
    rms, peak = div.rms(), div.max_abs()
    final = div.error[-1] if len(div.t) else np.zeros(len(names))
    step = max(1, len(div.t) // 2000)  # keep the JSON small: at most ~2000 samples of the series
    data = {
        "compared_steps": len(div.t),
        "rms_rad": dict(zip(names, map(float, rms))),
        "max_abs_rad": dict(zip(names, map(float, peak))),
        "final_rad": dict(zip(names, map(float, final))),
        "series": {
            "t_s": div.t[::step].tolist(),
            "measured_rad": div.measured[::step].tolist(),
            "predicted_rad": div.predicted[::step].tolist(),
        },
    }
    write_json(data, out / "shadow.json")
    _plot(div, out / "shadow.png")
    return {k: v for k, v in data.items() if k != "series"} | {"json": str(out / "shadow.json")}


def _plot(div: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(div.joint_names)
    fig, axes = plt.subplots(n, 2, figsize=(11, 1.8 * n), sharex=True, squeeze=False)
    for i, name in enumerate(div.joint_names):
        axes[i, 0].plot(div.t, div.measured[:, i], label="measured")
        axes[i, 0].plot(div.t, div.predicted[:, i], "--", label="sim prediction")
        axes[i, 0].set_ylabel(f"{name}\n[rad]")
        axes[i, 1].plot(div.t, div.error[:, i], color="tab:red")
        axes[i, 1].set_ylabel("divergence [rad]")
    axes[0, 0].legend(loc="upper right", fontsize="small")
    axes[0, 0].set_title("joint position")
    axes[0, 1].set_title("prediction - measurement")
    axes[-1, 0].set_xlabel("time [s]")
    axes[-1, 1].set_xlabel("time [s]")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
