"""Building a policy's :class:`~twinarm.robot.policy_contract.PolicyContract` at training time.

The contract is written from what the policy is trained on: the dataset's robot, joint names, frame rate and
camera frame sizes (``meta/info.json``), its task texts, and the policy config's cameras, history and chunking.
The input size of every camera is the dataset's frame size unless ``image_hw`` asks for another one; then the
training frames go through the same :func:`~twinarm.robot.observation.fit_image` as every robot observation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from twinarm.policies.config import PolicyConfig
from twinarm.policies.errors import PolicyError
from twinarm.robot.features import STATE, image_feature
from twinarm.robot.policy_contract import ActionSemantics, CameraInput, PolicyContract
from twinarm.robot.spec import RobotSpec


def make_contract(
    config: PolicyConfig,
    robot: str,
    joint_names: Sequence[str],
    control_hz: float,
    capture_hw: Mapping[str, tuple[int, int]],
    image_hw: tuple[int, int] | None = None,
    task: str = "",
    sim_task: str = "",
    dataset: str = "",
) -> PolicyContract:
    """The contract of a policy with ``config`` for robot ``robot`` at ``control_hz`` [Hz]. ``capture_hw``: each
    camera's training frame size (height, width) [px]; ``image_hw``: the input size (default: the capture size)."""
    missing = [c for c in config.cameras if c not in capture_hw]
    if missing:
        raise PolicyError(f"policy cameras {missing} have no frame size; known cameras: {sorted(capture_hw)}")
    cams = []
    for name in config.cameras:
        ch, cw = (int(v) for v in capture_hw[name])
        h, w = (int(v) for v in (image_hw or (ch, cw)))
        cams.append(CameraInput(name, h, w, ch, cw))
    return PolicyContract(
        robot=robot,
        joint_names=tuple(joint_names),
        cameras=tuple(cams),
        control_hz=float(control_hz),
        n_obs_steps=config.n_obs_steps,
        action=ActionSemantics(config.chunk_size, config.n_action_steps),
        task=task,
        sim_task=sim_task,
        dataset=dataset,
    )


def contract_from_dataset(
    config: PolicyConfig,
    root: str | Path,
    image_hw: tuple[int, int] | None = None,
    sim_task: str = "",
    robot: RobotSpec | None = None,
) -> PolicyContract:
    """The contract of a policy with ``config`` trained on the LeRobot dataset at ``root``; with ``robot`` (the
    model the dataset was checked against and converted to), its name and joint names."""
    from twinarm.dataset import metadata
    from twinarm.dataset.errors import DatasetError

    root = Path(root)
    info = metadata.read_info(root)
    feats = info["features"]
    names = feats.get(STATE, {}).get("names") or [f"joint_{i}" for i in range(config.state_dim)]
    robot_name = info.get("robot_type") or "unknown"  # twinarm's recorder stores the robot model's name
    if robot is not None:
        robot_name, names = robot.name, list(robot.joint_names)
    capture = {}
    for cam in config.cameras:
        shape = feats.get(image_feature(cam), {}).get("shape")
        if shape:
            capture[cam] = (int(shape[0]), int(shape[1]))
    try:
        tasks = metadata.read_tasks(root)
    except DatasetError:  # a dataset without tasks still trains; the contract just has no task text
        tasks = []
    return make_contract(
        config,
        robot_name,
        names,
        float(info["fps"]),
        capture,
        image_hw,
        task=" | ".join(tasks),
        sim_task=sim_task,
        dataset=str(root.resolve()),
    )
