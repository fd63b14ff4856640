"""Action sources by name, composed for a robot: the loop commands (teleop, record, mirror) share this.

================  ==================================================================================================
``leader``        a leader arm, joint to joint (``leader.port=...``; ``emulator`` for a dry run)
``keyboard``      terminal keys: the gripper frame moves through IK on the MuJoCo model (a hand: named poses)
``gamepad``       a kernel joystick (``teleop.gamepad=/dev/input/js0``): the gripper frame moves through IK
``expert``        the sim task's scripted expert (simulation only, see ``twinarm.compose.episodes``)
``policy``        a trained policy checkpoint (``policy.path=...``)
``homunculus``    the HopeJR exoskeleton / glove (``homunculus.glove=PORT``, ``homunculus.exo=PORT``; ``emulator``)
``wave``          scripted smooth joint motion (dry runs, tests)
``none``          no commands: the robot holds still (a leader arm is only watched)
================  ==================================================================================================

Keys come from one terminal (or a file/FIFO) through a ``twinarm.compose.keys.KeyHub``: the keys a source claims (e.g.
``q`` = yaw for the keyboard) are withheld from the episode controls, so each key has one meaning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from twinarm.compose.backends import RobotConfig, open_robot
from twinarm.compose.homunculus import HomunculusSettings
from twinarm.compose.keys import KeyHub
from twinarm.compose.policy import PolicyRef
from twinarm.compose.scripted import IdleSource, WaveSource
from twinarm.robot.errors import ConfigError
from twinarm.robot.loop import ActionSource
from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import RobotSpec
from twinarm.robot.teleop import KEY_MAP, KEYBOARD_HELP

if TYPE_CHECKING:
    from twinarm.compose.episodes import TaskEpisodes

SOURCES = ("leader", "keyboard", "gamepad", "homunculus", "expert", "policy", "wave", "none")
HUMAN_SOURCES = ("leader", "keyboard", "gamepad", "homunculus")  # a person in the loop: always real time


@dataclasses.dataclass
class TeleopSettings:
    """End-effector teleoperation: keyboard increments and gamepad speeds, in the robot's base frame."""

    gamepad: str = "/dev/input/js0"  # kernel joystick device
    step_m: float = 0.005  # keyboard: gripper move per key press [m]
    step_rad: float = 0.05  # keyboard: yaw per key press [rad]
    max_speed: float = 0.1  # gamepad: gripper speed at full stick [m/s]
    max_yaw: float = 1.0  # gamepad: yaw rate at full stick [rad/s]


def leader_default() -> RobotConfig:
    return RobotConfig(role="leader", cameras=[])


class BuiltSource(NamedTuple):
    """A source ready for ``run_loop``. ``claimed_keys``: keys it reads (withheld from episode controls);
    ``quit``: the source asked to stop (e.g. ``q`` on the hand poses); ``help``: its key help line."""

    source: ActionSource
    claimed_keys: frozenset[str] = frozenset()
    help: str = ""
    quit: Callable[[], bool] = lambda: False


class SourceOptions(NamedTuple):
    """Everything a source may need besides the robot (the commands' config sections)."""

    leader: RobotConfig
    teleop: TeleopSettings
    policy: PolicyRef
    realtime: bool = True
    episodes: TaskEpisodes | None = None  # the sim task the robot runs, if any (needed by source=expert)
    homunculus: HomunculusSettings | None = None  # source=homunculus: device ports (None: no device given)


def build_source(
    name: str, robot: Robot, options: SourceOptions, keys: KeyHub | None, stack: contextlib.ExitStack
) -> BuiltSource:
    """Build source ``name`` for the connected ``robot``; whatever it opens (a leader arm, a gamepad, an inference
    thread) closes with ``stack``. ConfigError names a missing or invalid setting."""
    if name not in SOURCES:
        raise ConfigError(f"source={name!r} is not valid; valid sources: {', '.join(SOURCES)}")
    if name == "leader":
        return _leader(robot, options.leader, keys, stack)
    if name == "keyboard":
        return _keyboard(robot, options.teleop, keys)
    if name == "gamepad":
        return BuiltSource(_gamepad(robot, options.teleop, stack))
    if name == "homunculus":
        return BuiltSource(_homunculus(robot.spec, options.homunculus or HomunculusSettings(), stack))
    if name == "expert":
        if options.episodes is None:
            raise ConfigError("source=expert needs the simulated task scene: drop robot.port (sim only)")
        from twinarm.compose.episodes import ExpertSource

        return BuiltSource(ExpertSource(options.episodes, robot.spec.control_hz))
    if name == "policy":
        return BuiltSource(_policy(options.policy, robot, options.realtime, stack))
    if name == "wave":
        return BuiltSource(WaveSource(robot.spec))
    return BuiltSource(IdleSource())


def _leader(robot: Robot, cfg: RobotConfig, keys: KeyHub | None, stack: contextlib.ExitStack) -> BuiltSource:
    """The robot's leader arm joint to joint; a robot teleoperated by another model's leader (its ``leader_model``)
    gets the joints they share from it and the rest from its keyboard mapping (hand poses) when keys are given,
    else they hold still."""
    from twinarm.compose.registry import get_model
    from twinarm.robot.sources import JointMixSource, LeaderSource

    if cfg.port is None:
        raise ConfigError("source=leader needs leader.port=... (a serial port, or emulator for a dry run)")
    model = get_model(robot.spec.name).leader_model or robot.spec.name
    cfg = dataclasses.replace(cfg, model=model, control_hz=robot.spec.control_hz)
    leader = stack.enter_context(open_robot(cfg))
    names = leader.spec.joint_names
    if names == robot.spec.joint_names:
        return BuiltSource(LeaderSource(leader, names))
    parts: list[tuple[ActionSource, tuple[str, ...]]] = [(LeaderSource(leader, names), names)]
    rest = tuple(j for j in robot.spec.joints if j.name not in names)
    if keys is None or not rest:
        return BuiltSource(JointMixSource(robot.spec, parts))
    spec = dataclasses.replace(robot.spec, name=f"{robot.spec.name} (keys)", joints=rest, cameras=())
    keyboard = _keyboard_for(spec, keys)
    parts.append((keyboard.source, spec.joint_names))
    return keyboard._replace(source=JointMixSource(robot.spec, parts))


def _homunculus(spec: RobotSpec, cfg: HomunculusSettings, stack: contextlib.ExitStack) -> ActionSource:
    """The exoskeleton / glove on the joints they map to; the robot's other joints hold."""
    from twinarm.compose.homunculus import open_devices
    from twinarm.robot.sources import JointMixSource

    parts = open_devices(cfg, spec, stack)
    if len(parts) == 1 and parts[0][1] == spec.joint_names:
        return parts[0][0]
    return JointMixSource(spec, parts)


def _ik_source(robot: Robot, device: Any) -> ActionSource:
    from twinarm.compose.registry import MODELS, get_model
    from twinarm.robot.teleop import CartesianTeleopSource
    from twinarm.sim.ik import ArmIK

    entry = get_model(robot.spec.name)
    ee, sim = entry.ee, entry.sim
    if ee is None or sim is None:
        valid = [name for name, m in MODELS.items() if m.ee is not None and m.sim is not None]
        raise ConfigError(f"end-effector teleop has no kinematic model for robot {entry.name!r}; models: {valid}")
    ik = ArmIK(sim.load(), robot.spec.joint_names, ee.arm_joints, offset=ee.grasp_offset)
    return CartesianTeleopSource(robot.spec, device, ik, ee.workspace, gripper_joint=ee.gripper)


def _keyboard(robot: Robot, cfg: TeleopSettings, keys: KeyHub | None) -> BuiltSource:
    if keys is None:
        raise ConfigError("source=keyboard needs keys: run it in a terminal, or give keys=PATH (a file or FIFO)")
    from twinarm.compose.registry import KeyboardTeleop, get_model

    if get_model(robot.spec.name).keyboard is KeyboardTeleop.HAND_POSES:
        return _keyboard_for(robot.spec, keys)
    from twinarm.robot.teleop import KeyboardEE

    device = KeyboardEE(keys.view(), step_m=cfg.step_m, step_rad=cfg.step_rad)
    return BuiltSource(_ik_source(robot, device), frozenset(KEY_MAP), KEYBOARD_HELP)


def _keyboard_for(spec: RobotSpec, keys: KeyHub) -> BuiltSource:
    """Hand poses on the keys for the hand joints of ``spec``; its other joints (an arm carrying the hand) hold."""
    from twinarm.robot.hand_poses import HAND_KEYS_HELP, POSE_KEYS, HandPoseSource, hand_table
    from twinarm.robot.sources import JointMixSource

    table_joints = set(hand_table(spec).joint_names())
    hand_joints = tuple(j for j in spec.joints if j.name in table_joints)
    hand_spec = dataclasses.replace(spec, name=f"{spec.name} (hand)", joints=hand_joints, cameras=())
    hand = HandPoseSource(keys.view(), hand_spec)
    source: ActionSource = hand
    if hand_spec.joint_names != spec.joint_names:
        source = JointMixSource(spec, [(hand, hand_spec.joint_names)])
    claimed = frozenset(POSE_KEYS) | frozenset(hand.finger_keys) | {"up", "down", "left", "right"}
    return BuiltSource(source, claimed, HAND_KEYS_HELP, lambda: hand.quit)


def _gamepad(robot: Robot, cfg: TeleopSettings, stack: contextlib.ExitStack) -> ActionSource:
    from twinarm.robot.teleop import LinuxGamepad

    try:
        pad = LinuxGamepad.open(cfg.gamepad, max_speed=cfg.max_speed, max_yaw=cfg.max_yaw)
    except OSError as exc:
        raise ConfigError(
            f"teleop.gamepad={cfg.gamepad!r} cannot be opened ({exc}); is a joystick plugged in? (ls /dev/input/js*)"
        ) from exc
    stack.callback(os.close, pad.fd)
    return _ik_source(robot, pad)


class PolicySource:
    """A policy stepped in the loop's thread (``select_action``): for unpaced simulation, never starved."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy

    def reset(self) -> None:
        self.policy.reset()

    def act(self, obs: Observation) -> np.ndarray:
        return self.policy.select_action(obs)


class AsyncPolicySource:
    """A policy's chunks predicted in a worker thread (``robot.chunking``): the real-time loop never waits."""

    def __init__(self, policy: Any, stack: contextlib.ExitStack) -> None:
        from twinarm.robot.chunking import AsyncChunkSource

        self.policy = policy
        self.chunks = stack.enter_context(AsyncChunkSource(policy.predict_chunk))

    def reset(self) -> None:
        self.chunks.reset()
        self.policy.reset()

    def act(self, obs: Observation) -> np.ndarray | None:
        return self.chunks.act(obs)


def _policy(ref: PolicyRef, robot: Robot, realtime: bool, stack: contextlib.ExitStack) -> ActionSource:
    """The checkpoint ``ref`` as a source for ``robot`` (refused if the robot cannot feed its contract); frames
    reach it through the contract's observation pipeline inside the policy."""
    from twinarm.compose.policy import load_policy

    policy = load_policy(ref, robot.spec, command="source=policy")
    return AsyncPolicySource(policy, stack) if realtime else PolicySource(policy)
