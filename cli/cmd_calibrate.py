"""``twinarm calibrate robot=so101 role=follower port=/dev/ttyACM0``: record an arm's calibration, interactively.

Hands: ``twinarm calibrate robot=amazing_hand side=right port=/dev/ttyACM0`` (``ids=[...]`` for other servo ids,
``drive_signs=[...]`` with -1 for an inverted servo). Torque goes off, you hold the hand open flat and press
Enter: each servo's zero is the tick it reads then, its travel +-90 deg around it (no sweep: SCS servos have no
homing offset); the travel goes to the servos' position limits and the file (default name: the side).
``published=r_hand.toml`` imports the published per-servo offset/invert config instead of recording.

A robot of parts calibrates one part (one bus) at a time: ``twinarm calibrate robot=so101_amazing_hand part=arm
port=/dev/ttyACM0``, then ``part=hand port=/dev/ttyACM1`` (files named after the part's model:
``so101_arm_follower_default.json``, ``amazing_hand_follower_default.json``).

Steps for an arm (the prompts say the same):

1. Torque goes off on every servo; single-turn feedback and position mode are set.
2. You put the arm in its zero pose (so101_new_calib: every joint in the middle of its range) and press Enter.
   Each servo's Homing_Offset is written so that pose reads half a turn, far from the 4095 -> 0 wrap.
3. You move every joint, one at a time, through its whole range (stop to stop) while a live table shows
   min / present / max ticks; press Enter when done.
4. Homing offsets and position limits are written to the servos' EEPROM and the file is saved
   (default ``~/.cache/twinarm/calibration/<robot>_<role>_<name>.json``, or under ``$TWINARM_HOME``).

If a calibration file already exists, the servos' EEPROM is compared with it first: when they agree you may keep
it; when they differ you choose between writing the file to the servos and recalibrating.
Prompts go through ``ask`` and output through ``out`` so tests can drive the command (see tests/hardware).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twinarm.hardware.buses import bus_for
from twinarm.hardware.calibration import Calibration, CalibrationError, RangeSweep
from twinarm.hardware.calibration_file import default_path, load_calibration, save_calibration
from twinarm.hardware.calibration_io import (
    build_calibration,
    center_homing_offsets,
    compare_eeprom,
    prepare_for_calibration,
    read_eeprom,
    read_positions,
    set_torque,
    travel_calibration,
    write_calibration,
)
from twinarm.hardware.motors import ArmDescription
from twinarm.hardware.serial_bus import ServoBus
from twinarm.robot.errors import ConfigError

if TYPE_CHECKING:
    from twinarm.compose.registry import CalibrationImport

HELP = "record an arm's or hand's calibration (zero pose + range sweep) into its servos and a file"

Ask = Callable[[str], str]
Out = Callable[[str], None]


@dataclass
class Config:
    robot: str = "so101"  # robot model: so101 | amazing_hand (see twinarm.compose.registry)
    role: str = "follower"  # a role of the model: follower | leader
    port: str = "/dev/ttyACM0"  # serial port of the arm's bus (see `twinarm find-port`)
    name: str = "default"  # name of this arm, part of the file name (hands: "default" means the side)
    path: str = ""  # calibration file; empty: the default location
    drive_signs: list[int] = field(default_factory=list)  # +1/-1 per joint (hands: per servo, -1 = inverted)
    sweep_hz: float = 25.0  # sampling rate of the range sweep [Hz]
    side: str = "right"  # a side of the model (hands): right | left
    ids: list[int] = field(default_factory=list)  # servo ids in motor order; empty: the model's (hand: 1..8 / 11..18)
    published: str = ""  # hands: import this published config (r_hand.toml: offset/invert per servo) instead
    part: str = ""  # a robot of parts (so101_amazing_hand): the part on this port, arm | hand


def describe(cfg: Config) -> tuple[ArmDescription, str]:
    """The description of the robot ``cfg`` names, and the calibration name (hands: "default" means the side)."""
    from twinarm.compose.registry import get_model

    entry = get_model(cfg.robot)
    return entry.bus(cfg.role, cfg.side, cfg.ids, cfg.part), entry.calibration_name(cfg.name, cfg.side)


def _importer(cfg: Config) -> CalibrationImport | None:
    """The model's import of ``cfg.published`` (None without ``published``); ConfigError when it has none."""
    from twinarm.compose.registry import MODELS, get_model

    load = get_model(cfg.robot).published_calibration
    if cfg.published and load is None:
        valid = ", ".join(n for n, m in MODELS.items() if m.published_calibration is not None)
        raise ConfigError(f"published=...: robot={cfg.robot} has no published calibration format; models: {valid}")
    return load if cfg.published else None


def run(cfg: Config, ask: Ask | None = None, out: Out | None = None, live: bool | None = None) -> Calibration:
    """Calibrate (or re-apply a file to) the arm on ``cfg.port``; returns the calibration in force.

    ``ask`` (default ``input``) shows a prompt and returns the answer; ``out`` (default ``print``) shows a line;
    ``live`` redraws the sweep table in place (default: when stdout is a terminal).
    """
    ask = ask or input
    out = out or print
    arm, name = describe(cfg)
    importer = _importer(cfg)
    role = arm.role.value
    path = Path(cfg.path).expanduser() if cfg.path else default_path(arm.spec.name, role, name)
    signs = _drive_signs(cfg, arm)
    live = sys.stdout.isatty() if live is None else live
    with bus_for(arm, cfg.port) as bus:
        bus.check_servos(arm.model_numbers)
        out(f"{cfg.port}: found {arm.name} servos {list(arm.ids)} ({arm.table.name})")
        if importer is not None:
            cal = importer(Path(cfg.published).expanduser(), cfg.side, arm.ids, name)
            set_torque(bus, arm.ids, False)
            out(f"imported {cfg.published}")
        else:
            if path.is_file():
                cal = _offer_existing(bus, arm, path, ask, out)
                if cal is not None:
                    return cal
            if arm.motor_travel_rad is not None:
                cal = record_zero(bus, arm, name, signs, ask, out)
            else:
                cal = record(bus, arm, name, signs, ask, out, cfg.sweep_hz, live)
        writes = write_calibration(bus, cal)
        save_calibration(cal, path)
    out(summary(cal, arm))
    out(f"calibration written to {path} and to the servos' EEPROM ({writes} register writes)")
    return cal


def _drive_signs(cfg: Config, arm: ArmDescription) -> list[int]:
    if not cfg.drive_signs:
        return [m.drive_sign for m in arm.motors]
    signs = list(cfg.drive_signs)
    if len(signs) != len(arm.motors) or any(s not in (1, -1) for s in signs):
        raise ConfigError(f"drive_signs={signs}: give one +1/-1 per joint in the order {list(arm.motor_names)}, or []")
    return signs


def _choose(ask: Ask, prompt: str, choices: str, default: str) -> str:
    while True:
        answer = ask(prompt).strip().lower()[:1] or default
        if answer in choices:
            return answer


def _offer_existing(bus: ServoBus, arm: ArmDescription, path: Path, ask: Ask, out: Out) -> Calibration | None:
    """Keep or re-apply an existing file; None means: record a new calibration."""
    try:
        cal = load_calibration(path, joints=arm.motor_names, model=arm.spec.name)
    except CalibrationError as exc:
        out(f"existing calibration cannot be used ({exc}); recording a new one")
        return None
    mismatches = compare_eeprom(cal, read_eeprom(bus, arm.ids))
    if not mismatches:
        out(f"{path} (created {cal.created}) matches the servos' EEPROM")
        return cal if _choose(ask, "[k]eep it (default) or [r]ecalibrate? ", "kr", "k") == "k" else None
    out(f"the servos' EEPROM differs from {path} (created {cal.created}):")
    out(f"  {'joint':<14} {'id':>3} {'register':<20} {'file':>6} {'servo':>6}")
    for m in mismatches:
        out(f"  {m.joint:<14} {m.id:>3} {m.register:<20} {m.file_value:>6} {m.servo_value:>6}")
    out("Writing the file makes the servos match it (right if the file belongs to this arm);")
    out("recalibrating records a new zero pose and ranges (right after re-assembly or a servo swap).")
    answer = _choose(ask, "[w]rite the file to the servos, [r]ecalibrate, or [q]uit? ", "wrq", "q")
    if answer == "r":
        return None
    if answer == "w":
        set_torque(bus, arm.ids, False)
        writes = write_calibration(bus, cal)
        out(f"wrote {path} to the servos ({writes} register writes)")
    else:
        out("left the servos and the file unchanged")
    return cal


def record(
    bus: ServoBus,
    arm: ArmDescription,
    name: str,
    drive_signs: Sequence[int],
    ask: Ask,
    out: Out,
    sweep_hz: float = 25.0,
    live: bool = False,
) -> Calibration:
    """The interactive procedure (zero pose, homing offsets, range sweep); returns the new calibration."""
    prepare_for_calibration(bus, arm)
    out("Torque is OFF on every servo: support the arm, it can now be moved by hand.")
    out("Step 1/2: put the arm in its zero pose:")
    out(arm.zero_pose_help)
    ask("Press Enter when the arm is in the zero pose... ")
    offsets, zero = center_homing_offsets(bus, arm)
    out(f"zero pose recorded; homing offsets {offsets}")
    out("Step 2/2: move every joint, one at a time, slowly through its whole range, from stop to stop.")
    out("Press Enter when every joint has been moved through its range.")
    sweep = RangeSweep(zero, round(arm.table.ticks_per_turn), arm.motor_names)
    done = threading.Event()

    def wait_for_enter() -> None:
        try:
            ask("")
        finally:
            done.set()

    threading.Thread(target=wait_for_enter, name="calibrate-input", daemon=True).start()
    names = arm.motor_names
    drawn = 0
    while True:
        finished = done.is_set()
        present = read_positions(bus, arm.ids)
        sweep.update(present)
        if live:
            table = _sweep_table(names, sweep, present)
            sys.stdout.write((f"\x1b[{drawn}F" if drawn else "") + table + "\n")
            sys.stdout.flush()
            drawn = table.count("\n") + 1
        if finished:
            break
        done.wait(1.0 / sweep_hz)
    if not live:
        out(_sweep_table(names, sweep, present))
    return build_calibration(arm, name, offsets, zero.tolist(), sweep.results(), drive_signs)


def record_zero(
    bus: ServoBus, arm: ArmDescription, name: str, drive_signs: Sequence[int], ask: Ask, out: Out
) -> Calibration:
    """The hand procedure: torque off, the user holds the zero pose, each servo's zero = the tick it reads."""
    prepare_for_calibration(bus, arm)
    out("Torque is OFF on every servo: the fingers can now be moved by hand.")
    out("Put the hand in its zero pose:")
    out(arm.zero_pose_help)
    ask("Press Enter when the hand is in the zero pose... ")
    zero = read_positions(bus, arm.ids)
    cal = travel_calibration(arm, name, zero.tolist(), drive_signs)
    out(f"zero pose recorded: ticks {zero.tolist()}")
    return cal


def _sweep_table(names: Sequence[str], sweep: RangeSweep, present: np.ndarray) -> str:
    rows = [f"  {'joint':<14} {'min':>6} {'present':>8} {'max':>6} {'span[deg]':>10}"]
    for k, res in enumerate(sweep.ranges()):
        deg = res.span_ticks * 360.0 / sweep.tpt
        rows.append(f"  {names[k]:<14} {res.min_tick:>6} {int(present[k]):>8} {res.max_tick:>6} {deg:>10.1f}")
    return "\n".join(rows)


def summary(cal: Calibration, arm: ArmDescription) -> str:
    """Per motor: id, homing offset, zero, tick range and the range it covers [rad]; for an arm (one motor per
    joint) also the spec's joint limits."""
    lows, highs = cal.ticks.travel()
    direct = arm.transmission is None
    rows = [f"  {'motor':<14} {'id':>3} {'offset':>6} {'zero':>7} {'range[ticks]':>13} {'range[rad]':>16}"]
    rows[0] += "  spec[rad]" if direct else ""
    for k, m in enumerate(cal.motors):
        lo, hi = float(lows[k]), float(highs[k])
        row = (
            f"  {m.joint:<14} {m.id:>3} {m.homing_offset:>6} {m.zero_tick:>7.1f} "
            f"{m.range_min_tick:>6}..{m.range_max_tick:<6} {lo:>7.3f}..{hi:<7.3f}"
        )
        if direct:
            joint = arm.spec.joints[k]
            note = "" if lo <= joint.lower + 1e-3 and hi >= joint.upper - 1e-3 else "  (narrower than the spec)"
            row += f"  {joint.lower:.3f}..{joint.upper:.3f}{note}"
        rows.append(row.rstrip())
    return "\n".join(rows)
