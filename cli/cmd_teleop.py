"""``twinarm teleop source=leader|keyboard|gamepad|homunculus``: drive a robot by hand through the control loop.

``leader``: a leader arm mirrored joint to joint (both arms calibrated in the simulator's radians).
``keyboard`` / ``gamepad``: the gripper frame moves in the base frame, joint targets come from IK on the MuJoCo
model (the same for the sim robot and the real arm); on ``robot.model=amazing_hand`` the keyboard picks hand poses.
``homunculus``: the HopeJR glove (``homunculus.glove=PORT``) drives the hand joints and the exoskeleton
(``homunculus.exo=PORT``) the arm joints, through their calibrations (``twinarm calibrate-device``); ``emulator``
for either port serves an emulated device (slow sinusoids) in-process.
Without ``robot.port`` the robot is the simulation; ``robot.port=emulator leader.port=emulator`` is a dry run on
emulated buses. Runs until Esc, Ctrl-C or ``duration_s``; ends with the loop's timing report, also written as
JSON under ``outputs/teleop/<time>/``. On hardware run the loop faster than the default: ``robot.control_hz=100``.
To watch the arm (a viewer window, or an mp4 when headless), run the same sources through ``twinarm mirror``;
``display=rerun`` streams joints, cameras and loop timing to rerun (``display.rrd=PATH`` headless; ``compose.viewer``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time

from twinarm.cli.common import output_dir
from twinarm.compose.backends import RobotConfig, open_robot
from twinarm.compose.homunculus import HomunculusSettings
from twinarm.compose.keys import episode_controls, open_keys, stop_help
from twinarm.compose.runs import TrackingSink, loop_summary, stop_check, stop_on_interrupt, write_json
from twinarm.compose.sources import (
    PolicyRef,
    SourceOptions,
    TeleopSettings,
    build_source,
    leader_default,
)
from twinarm.compose.viewer import DisplayConfig, open_display
from twinarm.robot.loop import run_loop, terminate_on_sigterm

HELP = "teleoperate a robot (sim, emulator or real) from a leader arm, the keyboard, a gamepad or the HopeJR glove/exo"


@dataclasses.dataclass
class Config:
    source: str = "keyboard"  # leader | keyboard | gamepad | homunculus (also: wave | policy | none)
    robot: RobotConfig = dataclasses.field(default_factory=lambda: RobotConfig(cameras=[]))
    leader: RobotConfig = dataclasses.field(default_factory=leader_default)
    teleop: TeleopSettings = dataclasses.field(default_factory=TeleopSettings)
    policy: PolicyRef = dataclasses.field(default_factory=PolicyRef)
    homunculus: HomunculusSettings = dataclasses.field(default_factory=HomunculusSettings)  # source=homunculus
    keys: str = "stdin"  # stdin | none | path of a file or FIFO to read keys from
    duration_s: float = 0.0  # 0: until Esc or Ctrl-C
    output_dir: str = ""
    display: DisplayConfig = dataclasses.field(default_factory=DisplayConfig)  # display=rerun: live view

    def validate(self) -> None:
        from twinarm.cli.checks import at_least

        at_least(self, ("duration_s",), 0)
        self.display.validate()


def run(cfg: Config) -> None:
    out = output_dir("teleop", cfg.output_dir)
    stop = threading.Event()
    with terminate_on_sigterm(), contextlib.ExitStack() as stack:
        robot = stack.enter_context(open_robot(cfg.robot))
        keys = open_keys(cfg.keys, stack)
        options = SourceOptions(cfg.leader, cfg.teleop, cfg.policy, homunculus=cfg.homunculus)
        built = build_source(cfg.source, robot, options, keys, stack)
        controls = episode_controls(keys, built.claimed_keys)
        where = cfg.robot.port or "simulation"
        print(f"[teleop] {cfg.source} -> {robot.spec.name} on {where} at {robot.spec.control_hz:g} Hz")
        if built.help:
            print(f"[teleop] {built.help}")
        print(f"[teleop] {stop_help(keys, built.claimed_keys, cfg.duration_s)}")
        tracking = TrackingSink(robot.spec)
        view = stack.enter_context(open_display(cfg.display, robot.spec, "teleop"))
        t0 = time.time()
        with stop_on_interrupt(stop):
            report = run_loop(
                robot,
                built.source,
                [tracking, view] if view is not None else [tracking],
                duration_s=cfg.duration_s if cfg.duration_s > 0 else None,
                stall_timeout_s=math.inf if cfg.source == "none" else 0.5,
                stop=stop,
                is_done=stop_check(controls, built.quit),
            )
    path = write_json(
        {
            "command": "teleop",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t0)),
            "source": cfg.source,
            "robot": {"model": cfg.robot.model, "port": cfg.robot.port, "control_hz": cfg.robot.control_hz},
            "leader_port": cfg.leader.port if cfg.source == "leader" else None,
            "homunculus": cfg.homunculus.ports() if cfg.source == "homunculus" else None,
            "loop": report._asdict(),
            "tracking": tracking.as_dict(),
        },
        out / "report.json",
    )
    print(f"[teleop] {loop_summary(report)}; stopped by {report.stopped_by}")
    print(f"[teleop] report: {path}")
