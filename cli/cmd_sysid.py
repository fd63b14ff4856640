"""``twinarm sysid``: identify the servo models of an arm; writes ``sim_params.json``, ``report.json`` and a plot.

``twinarm sysid reality.seed=3`` identifies hidden reality 3 (a SimRobot; the report then compares with the truth);
``robot.port=emulator physics=sim reality.seed=3`` the same reality behind the emulated bus and the real driver;
``robot.port=/dev/ttyACM0`` a real SO-101 follower (it moves: clear its surroundings). The fit starts from
``nominal`` (a preset or a sim_params.json; default the model's identified preset).
"""

from __future__ import annotations

import contextlib
import dataclasses

from twinarm.cli.common import output_dir
from twinarm.compose.backends import EMULATOR, RobotConfig
from twinarm.compose.sim_config import RealityConfig, SimConfig
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import SO101

HELP = "identify the servo models (delay, kp, damping, armature, friction, force) of an arm -> sim_params.json"


@dataclasses.dataclass
class Config:
    robot: RobotConfig = dataclasses.field(default_factory=lambda: RobotConfig(cameras=[]))
    physics: str = "sim"  # with robot.port=emulator: sim (HIL: MuJoCo behind the bus) is the only choice
    sim: SimConfig = dataclasses.field(default_factory=SimConfig)  # simulated arm under test: sim.params=...
    reality: RealityConfig = dataclasses.field(default_factory=RealityConfig)  # or a hidden reality: reality.seed=N
    nominal: str = ""  # starting point of the fit: preset name or sim_params.json ("" = the model's default)
    duration_s: float = 60.0  # excitation [s] (70 % fitted, 30 % held out)
    seed: int = 0  # excitation seed
    max_iter: int = 10  # least-squares iterations
    plot: bool = True
    output_dir: str = ""


def run(cfg: Config) -> None:
    from twinarm.compose.sim_config import sim_params_for
    from twinarm.compose.sysid import default_nominal, run_sysid
    from twinarm.sim.servo_models import resolve_params
    from twinarm.sim.servo_physics import XML_PRESET
    from twinarm.sim.sim_robot import SimRobot

    model = cfg.robot.model
    sim_model = cfg.robot.entry().sim
    if sim_model is None:
        raise ConfigError(f"robot.model={model!r}: sysid fits the servos of a simulated model; this model has none")
    if cfg.duration_s < 2:
        raise ConfigError(f"duration_s={cfg.duration_s}: must be >= 2 s")
    nominal = resolve_params(sim_model, cfg.nominal) if cfg.nominal else default_nominal(sim_model)
    if nominal is None:
        valid = ", ".join(name for name in sim_model.physics.presets if name != XML_PRESET) or "none"
        raise ConfigError(
            f"nominal={cfg.nominal or XML_PRESET!r} has no servo parameters to start from; give a preset ({valid}) "
            "or a sim_params.json"
        )
    simulated = cfg.robot.port is None or cfg.robot.port == EMULATOR
    params = sim_params_for(sim_model, cfg.sim, cfg.reality) if simulated else None
    truth = params if cfg.reality.seed is not None else None
    out = output_dir("sysid", cfg.output_dir or None)
    with contextlib.ExitStack() as stack:
        if cfg.robot.port is None:
            spec = sim_model.spec.with_rate(cfg.robot.control_hz).with_cameras(())
            robot = stack.enter_context(SimRobot(sim_model, spec, seed=cfg.robot.seed, params=params))
        elif cfg.robot.port == EMULATOR:
            from twinarm.compose.hil import hil_robot

            if sim_model.spec.name != SO101.name:
                raise ConfigError(f"robot.model={model!r}: the emulated bus runs the SO-101 only; omit robot.port")
            if cfg.physics != "sim":
                raise ConfigError(f"physics={cfg.physics!r}: sysid on the emulator needs physics=sim")
            rig = stack.enter_context(hil_robot(cfg.robot.control_hz, sim_params=params))
            robot = stack.enter_context(rig.robot)
        else:
            from twinarm.compose.backends import open_robot

            robot = stack.enter_context(open_robot(dataclasses.replace(cfg.robot, cameras=[])))
        print(f"sysid: exciting {robot.spec.name} for {cfg.duration_s:.0f} s, then fitting from {nominal.name}")
        result = run_sysid(robot, sim_model, nominal, out, cfg.duration_s, cfg.seed, cfg.max_iter, truth, cfg.plot)
    r = result.report
    print(f"started from {r.start}; delay {1000 * r.delay_s:.1f} ms; fit {r.fit_time_s:.0f} s ({r.iterations} iter.)")
    print("held-out RMS [deg]:")
    for joint, rms in r.heldout_rms_deg.items():
        print(f"  {joint:<14} fitted {rms:.3f}  nominal {r.nominal_heldout_rms_deg[joint]:.3f}")
    for name, path in result.files.items():
        print(f"{name}: {path}")
