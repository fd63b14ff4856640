"""Recording a calibration from a streaming device, without prompts (the CLI or a program says when to stop).

``rest = record_rest(device, 0.5)``; ``recorder.rest(rest)``; ``record_sweep(device, recorder, done)`` until
``done`` is set (or ``max_s`` passes); ``recorder.result(name)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from twinarm.hardware.homunculus.calibration import RangeRecorder
from twinarm.hardware.homunculus.device import Frame, HallDevice
from twinarm.hardware.homunculus.stream import ANGLE_TURN, SensorKind


def record_rest(device: HallDevice, duration_s: float = 0.5) -> np.ndarray:
    """Mean (n_sensors,) reading over ``duration_s`` [s] of frames (angle sensors averaged across their wrap)."""
    first = device.wait_frame(0)
    angle = np.array([s.kind is SensorKind.ANGLE for s in device.spec.sensors])
    half = ANGLE_TURN / 2
    acc, n, seq = np.zeros(len(angle)), 0, 0
    end = time.monotonic() + duration_s
    while n == 0 or time.monotonic() < end:
        frame = device.wait_frame(seq)
        seq = frame.seq
        d = frame.values.astype(np.float64) - first.values
        acc += np.where(angle, (d + half) % ANGLE_TURN - half, d)
        n += 1
    mean = first.values + acc / n
    return np.where(angle, mean % ANGLE_TURN, mean)


def record_sweep(
    device: HallDevice,
    recorder: RangeRecorder,
    done: threading.Event,
    max_s: float = 0.0,
    on_frame: Callable[[Frame], None] | None = None,
) -> int:
    """Feed every frame to ``recorder`` until ``done`` is set or ``max_s`` [s] passed (0: no limit); returns the
    number of frames. ``on_frame`` sees each one (a live table)."""
    seq = device.wait_frame(0).seq
    start = time.monotonic()
    n = 0
    while not done.is_set() and not (max_s and time.monotonic() - start >= max_s):
        frame = device.wait_frame(seq)
        seq = frame.seq
        recorder.add(frame.values)
        n += 1
        if on_frame is not None:
            on_frame(frame)
    return n
