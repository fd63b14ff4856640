"""``twinarm calibrate-device device=homunculus_glove port=/dev/ttyACM0 side=right``: record a HopeJR teleop
device's calibration (the glove, or ``device=homunculus_exo`` for the exoskeleton arm), interactively.

1. Hold the rest pose (glove: hand open flat, fingers together; exo: the robot arm's zero pose) and press Enter:
   each sensor's reading there becomes joint angle zero.
2. Move every joint, one at a time, through its whole range, stop to stop, while a table shows the range swept per
   sensor; press Enter when done (``sweep_s=N`` stops after N s instead).

The file goes to ``~/.cache/twinarm/calibration/<device>_<side>_<name>.json`` (``$TWINARM_HOME``) or ``output=``;
``twinarm teleop source=homunculus`` reads it from there. Two-sided sensors (abduction, arm joints) read in the
direction the device data says for the side; ``inverted=[index_mcp_abduction]`` flips some (check on the robot:
a finger spreading the wrong way). ``port=emulator`` calibrates an emulated device (a dry run of the procedure).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from twinarm.hardware.homunculus.calibration import DeviceCalibration, RangeRecorder
from twinarm.hardware.homunculus.calibration_file import default_device_path, save_device_calibration
from twinarm.hardware.homunculus.device import HallDevice
from twinarm.hardware.homunculus.recording import record_rest, record_sweep
from twinarm.hardware.homunculus.stream import DEVICES
from twinarm.robot.errors import ConfigError

HELP = "record a HopeJR glove's or exoskeleton's sensor calibration (rest pose + range sweep) into a file"

Ask = Callable[[str], str]
Out = Callable[[str], None]


@dataclass
class Config:
    device: str = "homunculus_glove"  # homunculus_glove | homunculus_exo
    port: str = ""  # serial port of the device ("emulator": an emulated one)
    side: str = "right"  # right | left
    name: str = "default"  # calibration name (file <device>_<side>_<name>.json)
    output: str = ""  # file to write ("": the default path)
    inverted: list[str] = field(default_factory=list)  # two-sided sensors to read backwards
    rest_s: float = 0.5  # averaging time of the rest pose [s]
    sweep_s: float = 0.0  # stop the sweep after this long [s] (0: when Enter is pressed)

    def validate(self) -> None:
        if self.device not in DEVICES:
            raise ConfigError(f"device={self.device!r} is invalid; valid: {', '.join(DEVICES)}")
        if not self.port:
            raise ConfigError("port=... is required (a serial port such as /dev/ttyACM0, or emulator)")


def run(cfg: Config, ask: Ask | None = None, out: Out | None = None, live: bool | None = None) -> DeviceCalibration:
    """The procedure; ``ask``/``out`` default to input/print (tests drive them), ``live`` redraws the table."""
    from twinarm.hardware.homunculus.emulator import DeviceEmulator, DeviceEmulatorConfig

    cfg.validate()
    ask, out = ask or input, out or print
    live = sys.stdout.isatty() if live is None else live
    spec = DEVICES[cfg.device]
    recorder = RangeRecorder(spec, cfg.side, tuple(cfg.inverted))
    with contextlib.ExitStack() as stack:
        port = cfg.port
        if port == "emulator":
            emu_cfg = DeviceEmulatorConfig(cfg.device, cfg.side, frequency_hz=1.0)
            port = stack.enter_context(DeviceEmulator(emu_cfg)).port
        device = stack.enter_context(HallDevice(spec, port))
        device.wait_frame(0)
        out(f"{port}: {spec.name} streaming ({len(spec.sensors)} sensors)")
        what = "hand open flat, fingers together" if spec.name.endswith("glove") else "the robot arm's zero pose"
        ask(f"Step 1/2: hold the rest pose ({what}) and press Enter... ")
        rest = record_rest(device, cfg.rest_s)
        recorder.rest(rest)
        out(f"rest pose recorded: {[int(v) for v in rest.round()]}")
        out("Step 2/2: move every joint, one at a time, through its whole range, stop to stop.")
        done = threading.Event()
        if cfg.sweep_s <= 0:
            out("Press Enter when every joint has been moved through its range.")

            def wait_for_enter() -> None:
                try:
                    ask("")
                finally:
                    done.set()

            threading.Thread(target=wait_for_enter, name="calibrate-input", daemon=True).start()
        drawn = [0]

        def show(frame) -> None:
            if live and frame.seq % 10 == 0:
                table = _table(recorder, frame.values)
                sys.stdout.write((f"\x1b[{drawn[0]}F" if drawn[0] else "") + table + "\n")
                sys.stdout.flush()
                drawn[0] = table.count("\n") + 1

        record_sweep(device, recorder, done, cfg.sweep_s, show)
        if not live:
            out(_table(recorder, device.raw().values))
    cal = recorder.result(cfg.name)
    path = save_device_calibration(cal, cfg.output or default_device_path(cfg.device, cfg.side, cfg.name))
    out(f"calibration written to {path}")
    return cal


def _table(recorder: RangeRecorder, present: np.ndarray) -> str:
    low, high = recorder.extents()
    rest = recorder.rest_values
    rows = [f"  {'sensor':<22} {'low':>6} {'rest':>6} {'present':>8} {'high':>6}"]
    for s, lo, r, p, hi in zip(recorder.spec.sensors, low, rest, present, high):
        rows.append(f"  {s.name:<22} {int(r + lo):>6} {int(r):>6} {int(p):>8} {int(r + hi):>6}")
    return "\n".join(rows)
