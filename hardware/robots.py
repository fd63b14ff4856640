"""FeetechRobot: one hardware Robot for every servo arm or hand, Feetech or Dynamixel (the description's ``bus``
picks the driver, :func:`hardware.buses.bus_for`); the robot itself is data (:mod:`hardware.motors`).

On connect: open the bus, ping every servo (MissingServoError names the missing and answering ids and the
port), check model numbers, configure the description's operating modes (Feetech: single-turn position mode;
the Koch: extended position, gripper current-based position), the P gain the sim was fitted for and the
gripper's limits (where the description asks for them), verify the EEPROM calibration against the
file, then, for a follower, set each goal to the present position and turn torque on (so nothing jumps). A
leader stays torque-off and read-only. Every cycle reads Present_Position and Present_Velocity in one 4-byte
read (:meth:`FeetechBus.sync_read_state`) and writes one SYNC_WRITE.
On disconnect (also after exceptions, via the base's ``with`` support): optional slow park, then torque off.
Ticks <-> joints go through a :class:`~hardware.joint_map.JointMap` (calibration, then the description's
transmission); the base's ``_device_target`` hook adds the per-servo travel clip to the base's joint-space clip
and computes the cycle's goal ticks once, so ``send_action`` returns the joint target actually sent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from twinarm.hardware.buses import bus_for
from twinarm.hardware.calibration import Calibration, CalibrationError
from twinarm.hardware.calibration_file import default_path, load_calibration, reorder
from twinarm.hardware.calibration_io import compare_eeprom, read_eeprom, set_torque
from twinarm.hardware.cameras import CameraConfig, Frame, OpenCVCamera
from twinarm.hardware.errors import BusError, TorqueReleaseError
from twinarm.hardware.joint_map import JointMap, MotorCommand
from twinarm.hardware.motors import SO101_FOLLOWER, SO101_LEADER, ArmDescription
from twinarm.hardware.registers import Register
from twinarm.robot.errors import add_note
from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, CameraSpec, image_key


class Camera(Protocol):
    """What a robot needs from a camera (``OpenCVCamera`` or a test double)."""

    def connect(self) -> None: ...
    def disconnect(self) -> None: ...
    def read(self) -> Frame: ...


class CalibrationMismatchError(CalibrationError):
    """The servos' EEPROM (homing offset / position limits) disagrees with the calibration file."""

    def __init__(self, message: str, mismatches: list) -> None:
        super().__init__(message)
        self.mismatches = mismatches


class FeetechRobot(Robot):
    """A servo arm described by ``arm``, on ``port``, with ``calibration`` (motors matched by joint name).

    ``cameras`` maps spec camera names to configs (or camera objects); without cameras the spec has none.
    ``park_pose`` (n,) [rad]: where a follower moves, at ``park_speed_scale`` x max step, before torque off.
    ``control_hz`` [Hz]: the loop rate (default: the model's); the safety layer's max step per cycle follows it.
    """

    def __init__(
        self,
        arm: ArmDescription,
        port: str,
        calibration: Calibration,
        cameras: Mapping[str, CameraConfig | Camera] | None = None,
        park_pose: Sequence[float] | None = None,
        park_speed_scale: float = 0.5,
        check_eeprom: bool = True,
        bus_timeout_s: float = 0.02,
        bus_retries: int = 2,
        control_hz: float | None = None,
    ) -> None:
        cams: dict[str, Camera] = {
            name: OpenCVCamera(c) if isinstance(c, CameraConfig) else c for name, c in (cameras or {}).items()
        }
        spec = arm.spec if control_hz is None else arm.spec.with_rate(control_hz)
        super().__init__(spec.with_cameras(tuple(_camera_spec(arm, name, cam) for name, cam in cams.items())))
        self.arm = arm
        self.read_only = arm.read_only
        self.port = port
        self.calibration = _matching_calibration(arm, calibration)
        self.cameras = cams
        self.park_pose = None if park_pose is None else self.validate_action(park_pose)
        self.park_speed_scale = park_speed_scale
        self.check_eeprom = check_eeprom
        self.bus = bus_for(arm, port, timeout_s=bus_timeout_s, retries=bus_retries)
        self._ids = arm.ids
        self.joint_map = JointMap(self.calibration, arm.transmission)
        # [ticks/s] per Present_Velocity unit: the table's, or per servo from the STS Phase read on connect
        self._vel_unit = np.full(len(self._ids), arm.table.speed_unit_tps)
        self._command: MotorCommand | None = None  # computed by _device_target, written by _send_action

    # -- lifecycle ------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.bus.open()
        try:
            t = self.arm.table
            self.bus.check_servos(self.arm.model_numbers)
            set_torque(self.bus, self._ids, False)
            self._configure()
            if self.check_eeprom:
                self._verify_eeprom()
            if not self.read_only:
                present = self.bus.sync_read(t.PRESENT_POSITION, self._ids)
                self.bus.sync_write(t.GOAL_POSITION, self._ids, present.tolist())
                set_torque(self.bus, self._ids, True)
            for cam in self.cameras.values():
                cam.connect()
        except BaseException as exc:
            self._release_after(exc)
            raise

    def _configure(self) -> None:
        """Operating modes, single-turn feedback (STS), P gain, gripper limits; EEPROM only written where it differs."""
        t, arm = self.arm.table, self.arm
        if t.phase_bits is not None:
            phase = self.bus.sync_read(t.PHASE, self._ids)
            self._write_differing(t.PHASE, [t.phase_bits.single_turn(p) for p in phase.tolist()])
            self._vel_unit = t.phase_bits.speed_unit_tps(phase)
        if "Operating_Mode" in t:
            self._write_differing(t.OPERATING_MODE, arm.operating_modes)
        if self.read_only:
            return
        if arm.p_gain is not None:
            self._write_differing(t.P_COEFFICIENT, [arm.p_gain] * len(self._ids))
        for name, values in arm.motor_registers:
            reg = t[name]
            if reg.eeprom:
                self._write_differing(reg, values)
            else:
                self.bus.sync_write(reg, self._ids, values)
        if arm.gripper_joint is not None:
            grip = arm.motor(arm.gripper_joint)
            gid, grip_table = grip.id, arm.motor_table(grip)
            for name, value in arm.gripper.registers():
                reg = grip_table[name]
                if reg.eeprom:
                    self._write_differing(reg, [value], (gid,))
                else:
                    self.bus.write(gid, reg, value)

    def _write_differing(self, reg: Register, values: Sequence[int], ids: Sequence[int] | None = None) -> None:
        """Write EEPROM ``reg`` on the servos whose value differs (EEPROM wears out: never rewrite equal values)."""
        ids = self._ids if ids is None else ids
        for servo_id, have, want in zip(ids, self.bus.sync_read(reg, ids).tolist(), values):
            if have != want:
                self.bus.write_eeprom(servo_id, reg, want)

    def _verify_eeprom(self) -> None:
        mismatches = compare_eeprom(self.calibration, read_eeprom(self.bus, self._ids))
        if mismatches:
            lines = "; ".join(
                f"{m.joint} (id {m.id}) {m.register}: file {m.file_value}, servo {m.servo_value}" for m in mismatches
            )
            cal = self.calibration
            raise CalibrationMismatchError(
                f"{self.port}: servo EEPROM disagrees with calibration {cal.model}_{cal.role}_{cal.name}: {lines}; "
                f"run `twinarm calibrate robot={cal.model} role={cal.role} port={self.port}` to write the file to "
                "the servos or to recalibrate",
                mismatches,
            )

    def _disconnect(self) -> None:
        try:
            if self.park_pose is not None and not self.read_only:
                self._park()
        except BaseException as exc:
            self._release_after(exc)
            raise
        self._release()

    def _park(self) -> None:
        """Step towards ``park_pose`` at ``park_speed_scale`` x max step per control period (at most 10 s)."""
        goal = np.clip(self.park_pose, self.spec.lower, self.spec.upper)
        step = self.spec.max_step * np.float32(self.park_speed_scale)
        deadline = time.monotonic() + 10.0
        target = self.last_target
        while target is not None and not np.allclose(target, goal, atol=1e-4) and time.monotonic() < deadline:
            target = self.send_action(np.clip(goal, target - step, target + step))
            time.sleep(self.spec.control_period_s)

    def _release(self) -> None:
        """Torque off, cameras off, port closed (all of them even on a failing bus); TorqueReleaseError if no
        torque-off could be sent."""
        failure: BusError | None = None
        sent = False
        try:
            for _ in range(2 if self.bus.is_open else 0):  # a SYNC_WRITE gets no reply to confirm it: send it twice
                try:
                    set_torque(self.bus, self._ids, False)
                    sent = True
                except BusError as exc:
                    failure = failure or exc
        finally:
            for cam in self.cameras.values():
                cam.disconnect()
            self.bus.close()
        if failure is not None and not sent:
            raise TorqueReleaseError(
                f"could not turn torque off on servo id(s) {list(self._ids)} "
                f"({str(failure).removeprefix(self.port + ': ')}); the servos may still hold torque: cut their power "
                "if they do",
                port=self.port,
            ) from failure

    def _release_after(self, exc: BaseException) -> None:
        """:meth:`_release` on the way out of ``exc``: a release failure becomes a note on ``exc``, not a new error."""
        try:
            self._release()
        except TorqueReleaseError as cleanup:
            add_note(exc, f"also: {cleanup}")

    # -- I/O ------------------------------------------------------------------------------------------------
    def _get_observation(self) -> Observation:
        pos, vel = self.bus.sync_read_state(self._ids)
        q, qd = self.joint_map.to_joint_state(pos, vel * self._vel_unit)
        obs: Observation = {JOINT_POS: q, JOINT_VEL: qd}
        for name, cam in self.cameras.items():
            obs[image_key(name)] = cam.read().image
        return obs

    def _device_target(
        self, target: np.ndarray, low: np.ndarray, high: np.ndarray, previous: np.ndarray | None
    ) -> np.ndarray:
        """Each servo clipped to its calibrated travel: the joint target that motor command means (what
        ``send_action`` sends and returns). The command's goal ticks are kept for ``_send_action``."""
        self._command = self.joint_map.command(target, low, high, previous)
        return self._command.joint

    def _send_action(self, target: np.ndarray) -> None:
        command = self._command
        if command is None or command.joint is not target:  # not from _device_target (hold after reset_target)
            command = self.joint_map.command(target)
        self.bus.sync_write(self.arm.table.GOAL_POSITION, self._ids, command.ticks.tolist())


def _camera_spec(arm: ArmDescription, name: str, cam: Camera) -> CameraSpec:
    """The image size a camera delivers: its config's, else the model spec's camera of that name."""
    cfg = getattr(cam, "config", None)
    if cfg is not None:
        return CameraSpec(name, cfg.height, cfg.width)
    return arm.spec.camera(name)


def _matching_calibration(arm: ArmDescription, cal: Calibration) -> Calibration:
    where = f"calibration {cal.model}_{cal.role}_{cal.name}"
    if cal.model != arm.spec.name or cal.role != arm.role.value:
        raise CalibrationError(
            f"{where} is for robot={cal.model} role={cal.role}, but this is robot={arm.spec.name} role={arm.role.value}"
        )
    cal = reorder(cal, arm.motor_names, source=where)
    for m, motor in zip(cal.motors, arm.motors):
        if m.id != motor.id:
            raise CalibrationError(f"{where}: joint {m.joint!r} has servo id {m.id}, the arm wires it to id {motor.id}")
    tpt = float(arm.table.ticks_per_turn)
    for m in cal.motors:
        if abs(m.ticks_per_turn - tpt) > 0.5:
            raise CalibrationError(
                f"{where}: joint {m.joint!r} has ticks_per_turn {m.ticks_per_turn}, but {arm.name} uses "
                f"{arm.table.name} servos ({tpt:g} ticks per turn)"
            )
    return cal


def resolve_calibration(arm: ArmDescription, calibration: Calibration | str | Path | None, name: str) -> Calibration:
    """``calibration`` itself, the file it names, or (None) the default file of robot ``name``; motors in order."""
    if isinstance(calibration, Calibration):
        return calibration
    path = default_path(arm.spec.name, arm.role.value, name) if calibration is None else Path(calibration)
    return load_calibration(path, joints=arm.motor_names, model=arm.spec.name)


def so101_follower(
    port: str, calibration: Calibration | str | Path | None = None, name: str = "default", **kwargs
) -> FeetechRobot:
    """An SO-101 follower; ``calibration`` is a Calibration, a file, or None for the default file of ``name``.
    Other keyword arguments go to :class:`FeetechRobot` (cameras, park_pose, ...)."""
    return FeetechRobot(SO101_FOLLOWER, port, resolve_calibration(SO101_FOLLOWER, calibration, name), **kwargs)


def so101_leader(
    port: str, calibration: Calibration | str | Path | None = None, name: str = "default", **kwargs
) -> FeetechRobot:
    """An SO-101 leader arm: torque off, read-only (``send_action`` raises ActionError)."""
    return FeetechRobot(SO101_LEADER, port, resolve_calibration(SO101_LEADER, calibration, name), **kwargs)
