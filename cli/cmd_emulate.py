"""``twinarm emulate robot=so101 link=/tmp/so101``: serve emulated servos on a pty until Ctrl-C/SIGTERM.

``robot`` is a model (``so101``, ``koch``, ``amazing_hand``; ``role=leader`` for its leader) or the name of one of
its bus descriptions (``so101_leader``, ``koch_leader``): Feetech or Dynamixel servos, as the model's bus says.

A robot of parts (``robot=so101_amazing_hand``: an arm bus and a hand bus) gets one pty per part, linked at
``<link>-<part>`` (``/tmp/twinarm-bus-arm``, ``/tmp/twinarm-bus-hand``).

``physics=first_order`` (default) moves every shaft with the emulator's first-order model. ``physics=sim`` serves
the follower (SO-101, Koch) whose shafts are the joints of the MuJoCo scene (table and cube, the cube placed as episode
``seed`` of ``task`` places it), pre-calibrated with the nominal calibration; that calibration is written to a
file whose path is printed, for ``robot.calibration=...`` of the process that drives the arm.

``device=homunculus_glove`` (or ``homunculus_exo``) serves a HopeJR teleop device instead of servos: the
firmware's ASCII lines at 115200-baud pace, from slow sinusoids through every sensor's range (``stream.*``) or a
captured file (``stream.replay=PATH``); its nominal calibration is written to a file whose path is printed, for
``homunculus.glove_calibration=...`` of ``twinarm teleop source=homunculus homunculus.glove=<link>``.
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
DEVICES = ("homunculus_glove", "homunculus_exo")

HELP = "serve emulated servos (SO-101 by default) or a HopeJR glove/exo on a pty, for robots, tools and vendor SDKs"


@dataclass
class DeviceStream:
    """``device=...``: what the emulated Homunculus device streams."""

    replay: str = ""  # a file of captured lines, sent verbatim in a loop ("": synthetic sinusoids)
    frequency_hz: float = 0.25  # synthetic: sinusoid frequency [Hz]
    noise_counts: float = 0.0  # Gaussian noise on every ADC reading [counts]
    garble_prob: float = 0.0  # probability a line goes out with a corrupted byte
    wire_timing: bool = True  # pace lines at 115200 baud (else at the board's ~3 ms scan)
    seed: int = 0


@dataclass
class Config:
    robot: str = "so101"  # a model (so101, koch, amazing_hand, leap_hand, so101_amazing_hand) or a bus (koch_leader)
    role: str = "follower"  # a role of the model: follower | leader
    side: str = "right"  # a side of the model (hands): right | left
    ids: list[int] = field(default_factory=list)  # explicit servo ids instead of a robot, e.g. ids=[1,2,3]
    model: str = "sts3215"  # model of the servos given by ids (sts3215 | sts3250 | scs0009 | xl430-w250 | ...)
    link: str = "/tmp/twinarm-bus"  # symlink to the pty ("" for none: the pty path is printed)
    baudrate: int = 0  # [baud]; 0: the robot's bus rate (1 Mbaud for ids=...)
    wire_timing: bool = False  # wait for the bytes' wire time at baudrate (10 bits per byte)
    return_delay: int = 0  # initial Return_Delay_Time register [2 us] (factory 250)
    duration_s: float = 0.0  # stop after this long [s]; 0 = until Ctrl-C / SIGTERM
    faults: FaultConfig = field(default_factory=FaultConfig)
    physics: str = "first_order"  # first_order | sim (MuJoCo: the follower (so101, koch), table and cube)
    task: str = "lift"  # physics=sim: the task (or rule: lift -> koch_lift) whose reset places the cube ("": none)
    seed: int = 0  # physics=sim: episode seed of that reset
    control_hz: float = 30.0  # physics=sim: the physics step is the one the SimRobot uses at this rate
    output_dir: str = ""  # physics=sim: where the calibration file goes (default outputs/emulate/<time>)
    sim: SimConfig = dataclasses.field(default_factory=SimConfig)  # physics=sim: sim.params=PRESET|PATH
    reality: RealityConfig = dataclasses.field(default_factory=RealityConfig)  # physics=sim: reality.seed=N
    device: str = ""  # a HopeJR teleop device instead of servos: homunculus_glove | homunculus_exo
    stream: DeviceStream = dataclasses.field(default_factory=DeviceStream)  # device=...: its stream


def model_and_role(robot: str, role: str) -> tuple[str, str]:
    """``robot`` as (model, role): a model name keeps ``role``; a bus description name (``koch_leader``) gives
    its model and role. ConfigError lists both kinds of valid names."""
    from twinarm.compose.registry import MODELS

    if robot in MODELS:
        return robot, role
    for name, entry in MODELS.items():
        for bus in entry.buses:
            if bus.description.name == robot:
                return name, bus.role.value
    buses = sorted({b.description.name for m in MODELS.values() for b in m.buses})
    raise ConfigError(f"robot={robot!r} is unknown; valid: a model ({', '.join(MODELS)}) or a bus ({', '.join(buses)})")


def emulator_config(cfg: Config, part: str = "") -> EmulatorConfig:
    """The library config of a CLI config (of one ``part`` of a robot of parts)."""
    from twinarm.compose.registry import get_model

    mid = 512 if cfg.model.lower() == "scs0009" else 2048
    baudrate = cfg.baudrate or 1_000_000
    link = cfg.link or None
    if cfg.ids:
        servos = [ServoConfig(i, cfg.model, mid) for i in cfg.ids]
    else:
        model, role = model_and_role(cfg.robot, cfg.role)
        servos = get_model(model).emulator_servos(role, cfg.side, part)
        baudrate = cfg.baudrate or get_model(model).bus(role, cfg.side, part=part).baudrate
        link = f"{link}-{part}" if link and part else link
    return EmulatorConfig(
        servos=servos,
        link=link,
        baudrate=baudrate,
        wire_timing=cfg.wire_timing,
        return_delay=cfg.return_delay,
        faults=cfg.faults,
    )


def emulator_configs(cfg: Config) -> dict[str, EmulatorConfig]:
    """One emulated bus per part of the robot (``{"": config}`` for a robot on one bus, or explicit ids)."""
    from twinarm.compose.registry import get_model

    if cfg.ids:
        return {"": emulator_config(cfg)}
    model, role = model_and_role(cfg.robot, cfg.role)
    parts = [bus.part for bus in get_model(model).parts(role, cfg.side)]
    return {part: emulator_config(cfg, part) for part in parts}


@contextlib.contextmanager
def _sim_emulator(cfg: Config):
    """physics=sim: the MuJoCo-backed bus (hardware in the loop), its calibration saved for the driving process."""
    import mujoco

    from twinarm.cli.common import output_dir
    from twinarm.compose.episodes import TaskEpisodes
    from twinarm.compose.hil import sim_bus
    from twinarm.compose.registry import MODELS, get_model
    from twinarm.compose.sim_config import sim_params_for
    from twinarm.hardware.calibration_file import save_calibration
    from twinarm.hardware.motors import Role
    from twinarm.sim.envs import task_for_robot

    model, role = model_and_role(cfg.robot, cfg.role)
    entry = get_model(model)
    if cfg.ids or not entry.sim_bus or role != Role.FOLLOWER.value:
        valid = ", ".join(f"robot={name}" for name, m in MODELS.items() if m.sim_bus)
        raise ConfigError(f"physics=sim serves a follower without ids, of a model with a MuJoCo bus: {valid}")
    arm = entry.bus(Role.FOLLOWER.value)
    kwargs = {
        "baudrate": cfg.baudrate or arm.baudrate,
        "wire_timing": cfg.wire_timing,
        "return_delay": cfg.return_delay,
    }
    params = sim_params_for(entry.sim, cfg.sim, cfg.reality)
    with sim_bus(cfg.control_hz, cfg.link or None, cfg.faults, params, arm, entry.sim, **kwargs) as bus:
        if cfg.task:
            episodes = TaskEpisodes(task_for_robot(cfg.task, entry.name), bus.motion.robot)
            with bus.motion.lock:
                episodes.reset(0, cfg.seed)
        path = save_calibration(bus.calibration, output_dir("emulate", cfg.output_dir or None) / "calibration.json")
        model = bus.motion.robot.model
        thing = next(n for n in ("cube", "object") if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, n) >= 0)
        pos = bus.motion.robot.data.body(thing).xpos  # the arm scenes' cube, the hand scenes' object
        servos = params.name if params is not None else "the MJCF's figures"
        where = f"{thing} at ({pos[0]:.3f}, {pos[1]:.3f}) m; calibration: {path}; servos: {servos}"
        print(f"physics: MuJoCo, {where}", flush=True)
        yield bus.emulator, bus.emulator.config


def _run_device(cfg: Config) -> None:
    """device=...: a Homunculus glove or exoskeleton on a pty until Ctrl-C / SIGTERM / duration_s."""
    from twinarm.cli.common import output_dir
    from twinarm.hardware.homunculus.calibration_file import save_device_calibration
    from twinarm.hardware.homunculus.emulator import DeviceEmulator, DeviceEmulatorConfig

    if cfg.device not in DEVICES:
        raise ConfigError(f"device={cfg.device!r} is invalid; valid: {', '.join(DEVICES)}")
    st = cfg.stream
    link = cfg.link if cfg.link != Config.link else f"/tmp/twinarm-{cfg.device.removeprefix('homunculus_')}"
    emu_cfg = DeviceEmulatorConfig(
        cfg.device, cfg.side, link or None, st.replay, st.frequency_hz, st.noise_counts, st.garble_prob,
        st.wire_timing, st.seed,
    )  # fmt: skip
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with DeviceEmulator(emu_cfg) as emu:
            path = output_dir("emulate", cfg.output_dir or None) / f"{cfg.device}_calibration.json"
            save_device_calibration(emu.calibration, path)
            what = f"replaying {st.replay}" if st.replay else f"{st.frequency_hz:g} Hz sinusoids"
            print(f"emulating {cfg.device} ({cfg.side}, {what}) at {emu.spec.baudrate} baud", flush=True)
            print(f"port: {emu.port}", flush=True)
            print(f"calibration: {path}", flush=True)
            print("serving; Ctrl-C or SIGTERM to stop", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait(cfg.duration_s or None)
            elapsed = time.monotonic() - emu.started_s
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(
        f"sent {emu.lines} lines in {elapsed:.1f} s ({emu.lines / max(elapsed, 1e-9):.0f} lines/s; "
        f"{emu.garbled} garbled, {emu.dropped} dropped with nobody reading)"
    )


def run(cfg: Config) -> None:
    if cfg.device:
        _run_device(cfg)
        return
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
                print(f"{bus}emulating {len(emu_cfg.servos)} servos ({servos}) at {emu_cfg.baudrate} baud", flush=True)
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
