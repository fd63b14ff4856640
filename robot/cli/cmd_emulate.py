"""``twinarm emulate robot=so101 link=/tmp/so101``: serve emulated Feetech servos on a pty until Ctrl-C/SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field

from hardware.emulator import Emulator, EmulatorConfig, FaultConfig, ServoConfig, servos_for

HELP = "serve emulated Feetech servos (SO-101 by default) on a pty, for robots, tools and the vendor SDK"


@dataclass
class Config:
    robot: str = "so101"  # so101 | amazing_hand (ignored when ids is given)
    ids: list[int] = field(default_factory=list)  # explicit servo ids instead of a robot, e.g. ids=[1,2,3]
    model: str = "sts3215"  # model of the servos given by ids (sts3215 | sts3250 | scs0009)
    link: str = "/tmp/twinarm-bus"  # symlink to the pty ("" for none: the pty path is printed)
    baudrate: int = 1_000_000
    wire_timing: bool = False  # wait for the bytes' wire time at baudrate (10 bits per byte)
    return_delay: int = 0  # initial Return_Delay_Time register [2 us] (factory 250)
    duration_s: float = 0.0  # stop after this long [s]; 0 = until Ctrl-C / SIGTERM
    faults: FaultConfig = field(default_factory=FaultConfig)


def emulator_config(cfg: Config) -> EmulatorConfig:
    """The library config of a CLI config."""
    mid = 512 if cfg.model.lower() == "scs0009" else 2048
    servos = [ServoConfig(i, cfg.model, mid) for i in cfg.ids] if cfg.ids else servos_for(cfg.robot)
    return EmulatorConfig(
        servos=servos,
        link=cfg.link or None,
        baudrate=cfg.baudrate,
        wire_timing=cfg.wire_timing,
        return_delay=cfg.return_delay,
        faults=cfg.faults,
    )


def run(cfg: Config) -> None:
    emu_cfg = emulator_config(cfg)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    try:
        with Emulator(emu_cfg) as emu:
            servos = ", ".join(f"{s.id}:{s.model}" for s in emu_cfg.servos)
            print(f"emulating {len(emu_cfg.servos)} servos ({servos}) at {cfg.baudrate} baud", flush=True)
            print(f"port: {emu.port}", flush=True)
            print("serving; Ctrl-C or SIGTERM to stop", flush=True)
            try:
                while not stop.wait(0.2):
                    if cfg.duration_s and time.monotonic() - started >= cfg.duration_s:
                        break
            except KeyboardInterrupt:
                pass
            s = emu.stats
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(
        f"served {s.requests} requests, {s.replies} replies in {time.monotonic() - started:.1f} s "
        f"(injected: {s.dropped} dropped, {s.corrupted} corrupted, {s.delayed} delayed; {s.rx_errors} bad requests)"
    )
