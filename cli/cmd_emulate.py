"""``twinarm emulate robot=so101 link=/tmp/so101``: serve emulated Feetech servos on a pty until Ctrl-C/SIGTERM.

A robot of parts (``robot=so101_amazing_hand``: an arm bus and a hand bus) gets one pty per part, linked at
``<link>-<part>`` (``/tmp/twinarm-bus-arm``, ``/tmp/twinarm-bus-hand``).

``physics=first_order`` (default) moves every shaft with the emulator's first-order model. ``physics=sim`` serves
the SO-101 follower whose shafts are the joints of the MuJoCo scene (table and cube, the cube placed as episode
``seed`` of ``task`` places it), pre-calibrated with the nominal calibration; that calibration is written to a
file whose path is printed, for ``robot.calibration=...`` of the process that drives the arm.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
import time
from dataclasses import dataclass, field

from twinarm.compose.sim_config import RealityConfig, SimConfig
from twinarm.hardware.emulator import Emulator, EmulatorConfig, FaultConfig, ServoConfig
from twinarm.robot.errors import ConfigError

PHYSICS = ("first_order", "sim")

HELP = "serve emulated Feetech servos (SO-101 by default) on a pty, for robots, tools and the vendor SDK"


@dataclass
class Config:
    robot: str = "so101"  # so101 | amazing_hand | so101_amazing_hand (ignored when ids is given)
    role: str = "follower"  # a role of the model: follower | leader
    side: str = "right"  # a side of the model (hands): right | left
    ids: list[int] = field(default_factory=list)  # explicit servo ids instead of a robot, e.g. ids=[1,2,3]
    model: str = "sts3215"  # model of the servos given by ids (sts3215 | sts3250 | scs0009)
    link: str = "/tmp/twinarm-bus"  # symlink to the pty ("" for none: the pty path is printed)
    baudrate: int = 1_000_000
    wire_timing: bool = False  # wait for the bytes' wire time at baudrate (10 bits per byte)
    return_delay: int = 0  # initial Return_Delay_Time register [2 us] (factory 250)
    duration_s: float = 0.0  # stop after this long [s]; 0 = until Ctrl-C / SIGTERM
    faults: FaultConfig = field(default_factory=FaultConfig)
    physics: str = "first_order"  # first_order | sim (MuJoCo: the SO-101 follower, table and cube)
    task: str = "lift"  # physics=sim: the task whose reset places the cube ("" = the scene file's pose)
    seed: int = 0  # physics=sim: episode seed of that reset
    control_hz: float = 30.0  # physics=sim: the physics step is the one the SimRobot uses at this rate
    output_dir: str = ""  # physics=sim: where the calibration file goes (default outputs/emulate/<time>)
    sim: SimConfig = dataclasses.field(default_factory=SimConfig)  # physics=sim: sim.params=PRESET|PATH
    reality: RealityConfig = dataclasses.field(default_factory=RealityConfig)  # physics=sim: reality.seed=N


def emulator_config(cfg: Config, part: str = "") -> EmulatorConfig:
    """The library config of a CLI config (of one ``part`` of a robot of parts)."""
    from twinarm.compose.registry import get_model

    mid = 512 if cfg.model.lower() == "scs0009" else 2048
    link = cfg.link or None
    if cfg.ids:
        servos = [ServoConfig(i, cfg.model, mid) for i in cfg.ids]
    else:
        servos = get_model(cfg.robot).emulator_servos(cfg.role, cfg.side, part)
        link = f"{link}-{part}" if link and part else link
    return EmulatorConfig(
        servos=servos,
        link=link,
        baudrate=cfg.baudrate,
        wire_timing=cfg.wire_timing,
        return_delay=cfg.return_delay,
        faults=cfg.faults,
    )


def emulator_configs(cfg: Config) -> dict[str, EmulatorConfig]:
    """One emulated bus per part of the robot (``{"": config}`` for a robot on one bus, or explicit ids)."""
    from twinarm.compose.registry import get_model

    parts = [""] if cfg.ids else [bus.part for bus in get_model(cfg.robot).parts(cfg.role, cfg.side)]
    return {part: emulator_config(cfg, part) for part in parts}


@contextlib.contextmanager
def _sim_emulator(cfg: Config):
    """physics=sim: the MuJoCo-backed bus (hardware in the loop), its calibration saved for the driving process."""
    from twinarm.cli.common import output_dir
    from twinarm.compose.episodes import TaskEpisodes
    from twinarm.compose.hil import sim_bus
    from twinarm.compose.registry import MODELS, get_model
    from twinarm.compose.sim_config import sim_params_for
    from twinarm.hardware.calibration_file import save_calibration
    from twinarm.hardware.motors import Role

    entry = get_model(cfg.robot)
    if cfg.ids or not entry.sim_bus or cfg.role != Role.FOLLOWER.value:
        valid = ", ".join(f"robot={name}" for name, m in MODELS.items() if m.sim_bus)
        raise ConfigError(f"physics=sim serves a follower without ids, of a model with a MuJoCo bus: {valid}")
    kwargs = {"baudrate": cfg.baudrate, "wire_timing": cfg.wire_timing, "return_delay": cfg.return_delay}
    params = sim_params_for(entry.sim, cfg.sim, cfg.reality)
    with sim_bus(cfg.control_hz, cfg.link or None, cfg.faults, params, **kwargs) as bus:
        if cfg.task:
            episodes = TaskEpisodes(cfg.task, bus.motion.robot)
            with bus.motion.lock:
                episodes.reset(0, cfg.seed)
        path = save_calibration(bus.calibration, output_dir("emulate", cfg.output_dir or None) / "calibration.json")
        cube = bus.motion.robot.data.body("cube").xpos
        servos = params.name if params is not None else "the MJCF's figures"
        where = f"cube at ({cube[0]:.3f}, {cube[1]:.3f}) m; calibration: {path}; servos: {servos}"
        print(f"physics: MuJoCo, {where}", flush=True)
        yield bus.emulator, bus.emulator.config


def run(cfg: Config) -> None:
    if cfg.physics not in PHYSICS:
        raise ConfigError(f"physics={cfg.physics!r} is invalid; valid: {', '.join(PHYSICS)}")
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            if cfg.physics == "sim":
                emus = {"": stack.enter_context(_sim_emulator(cfg))}
            else:
                emus = {part: (stack.enter_context(Emulator(c)), c) for part, c in emulator_configs(cfg).items()}
            for part, (emu, emu_cfg) in emus.items():
                servos = ", ".join(f"{s.id}:{s.model}" for s in emu_cfg.servos)
                bus = f"{part} bus: " if part else ""
                print(f"{bus}emulating {len(emu_cfg.servos)} servos ({servos}) at {cfg.baudrate} baud", flush=True)
                print(f"{part + ' ' if part else ''}port: {emu.port}", flush=True)
            print("serving; Ctrl-C or SIGTERM to stop", flush=True)
            try:
                while not stop.wait(0.2):
                    if cfg.duration_s and time.monotonic() - started >= cfg.duration_s:
                        break
            except KeyboardInterrupt:
                pass
            stats = {part: emu.stats for part, (emu, _) in emus.items()}
    finally:
        signal.signal(signal.SIGTERM, previous)
    for part, s in stats.items():
        print(
            f"{part + ' bus: ' if part else ''}served {s.requests} requests, {s.replies} replies in "
            f"{time.monotonic() - started:.1f} s (injected: {s.dropped} dropped, {s.corrupted} corrupted, "
            f"{s.delayed} delayed; {s.rx_errors} bad requests)"
        )
