"""The system-identification run, composed: excite a connected robot through the Robot interface, fit the sim
parameters (:mod:`twinarm.sim.sysid`, :mod:`twinarm.sim.sysid_fit`), write ``sim_params.json``, ``report.json``
and a tracking plot. The robot may be a SimRobot (a hidden reality), a HIL rig or a real arm."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from twinarm.robot.robot import Robot
from twinarm.sim.servo_models import default_params, preset
from twinarm.sim.sim_params import SimParams, save_sim_params
from twinarm.sim.sim_robot import SimModel, SimRobot
from twinarm.sim.sysid import FIT_FIELDS, SysidLog, excitation, record
from twinarm.sim.sysid_fit import FitReport, fit
from twinarm.sim.sysid_replay import scene_clearance


class SysidResult(NamedTuple):
    log: SysidLog
    report: FitReport
    excitation_s: float
    files: dict[str, Path]


def _relative(value: float, truth: float) -> float:
    """value / truth - 1; 0 when both are 0 (a servo class without that term, e.g. the SCS0009's armature)."""
    if truth == 0.0:
        return 0.0 if value == 0.0 else float("inf")
    return value / truth - 1.0


def parameter_errors(fitted: SimParams, truth: SimParams) -> dict[str, Any]:
    """Relative error of every fitted field per servo, and the delay error [ms] (when the truth is known)."""
    errors = {
        j: {f: _relative(getattr(fitted.joints[j], f), getattr(truth.joints[j], f)) for f in FIT_FIELDS}
        for j in truth.joints
    }
    return {"joints": errors, "delay_error_ms": 1000.0 * (fitted.action_delay_s - truth.action_delay_s)}


def other_presets(sim_model: SimModel, nominal: SimParams) -> list[SimParams]:
    """The model's presets with servo parameters other than ``nominal``: the servo/supply classes the fit may
    start from when one replays the log better (:func:`twinarm.sim.sysid_fit.best_start`)."""
    presets = (preset(sim_model, name) for name in sim_model.physics.presets)
    return [p for p in presets if p is not None and p.name != nominal.name]


def default_nominal(sim_model: SimModel) -> SimParams | None:
    """Where the fit starts by default: the model's default preset, or (when that is the MJCF's own figures) its
    first preset with servo parameters; None when it has none."""
    return default_params(sim_model) or next(
        filter(None, map(partial(preset, sim_model), sim_model.physics.presets)), None
    )


def run_sysid(
    robot: Robot,
    sim_model: SimModel,
    nominal: SimParams,
    out: Path,
    duration_s: float = 60.0,
    seed: int = 0,
    max_iter: int = 10,
    truth: SimParams | None = None,
    plot: bool = True,
) -> SysidResult:
    """Excite the connected ``robot`` around its model's home pose for ``duration_s`` [s], clear of the scene
    (the model's table and objects), fit starting from ``nominal``, and write the results under ``out``."""
    from twinarm.compose.episodes import move_to

    spec = robot.spec
    home = np.asarray(sim_model.home, dtype=np.float64)
    if isinstance(robot, SimRobot):
        robot.reset()
    else:
        move_to(robot, home.astype(np.float32))
        time.sleep(1.0)  # settle
    clearance = scene_clearance(sim_model)
    targets, n_train = excitation(home, spec.lower, spec.upper, duration_s, spec.control_hz, seed, clearance)
    t0 = time.monotonic()
    log = record(robot, targets, n_train, realtime=not isinstance(robot, SimRobot))
    excitation_s = time.monotonic() - t0
    report = fit(sim_model, nominal, log, max_iter=max_iter, candidates=other_presets(sim_model, nominal))
    out.mkdir(parents=True, exist_ok=True)
    files = {"sim_params": save_sim_params(report.params, out / "sim_params.json")}
    info: dict[str, Any] = {
        "robot": spec.name,
        "nominal": nominal.name,
        "excitation_s": excitation_s,
        "excitation_duration_s": len(targets) / spec.control_hz,
        "fit_time_s": report.fit_time_s,
        "fit_cpu_s": report.fit_cpu_s,
        "iterations": report.iterations,
        "start": report.start,
        "delay_s": report.delay_s,
        "heldout_rms_deg": report.heldout_rms_deg,
        "nominal_heldout_rms_deg": report.nominal_heldout_rms_deg,
        "train_rms_deg": {"nominal": report.train_rms_deg[0], "fitted": report.train_rms_deg[1]},
    }
    if truth is not None:
        info["truth"] = truth.name
        info["errors"] = parameter_errors(report.params, truth)
    files["report"] = out / "report.json"
    files["report"].write_text(json.dumps(info, indent=2) + "\n")
    if plot:
        files["plot"] = _plot(log, report, spec.joint_names, out / "tracking.png")
    return SysidResult(log, report, excitation_s, files)


def _plot(log: SysidLog, report: FitReport, names: tuple[str, ...], path: Path) -> Path:
    """Held-out block per joint: measured, nominal and fitted replays [deg]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    held = slice(log.n_train, len(log.sent))
    t = np.arange(len(log.sent))[held] / log.control_hz
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 1.8 * len(names)), sharex=True)
    for i, (ax, name) in enumerate(zip(np.atleast_1d(axes), names)):
        ax.plot(t, np.degrees(log.sent[held, i]), color="0.7", lw=1, label="command")
        ax.plot(t, np.degrees(log.pos[held, i]), "k", lw=1.2, label="measured")
        ax.plot(t, np.degrees(report.pos_nominal[held, i]), "r--", lw=1, label="nominal")
        ax.plot(t, np.degrees(report.pos_fitted[held, i]), "b", lw=1, label="fitted")
        ax.set_ylabel(f"{name} [deg]", fontsize=8)
    np.atleast_1d(axes)[0].legend(fontsize=7, ncol=4, loc="upper right")
    np.atleast_1d(axes)[-1].set_xlabel("time [s] (held-out block)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
