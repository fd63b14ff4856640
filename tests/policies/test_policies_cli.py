"""A recorded LeRobot v3 dataset -> LeRobotSource windows -> `twinarm train` writes a loadable checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinarm.cli import cmd_eval, cmd_train
from twinarm.dataset import Recorder
from twinarm.policies.base import Policy
from twinarm.policies.bc import BCConfig
from twinarm.policies.dataset import LeRobotSource, dataset_features
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import SO101
from twinarm.robot.spec import CameraSpec


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ds") / "demo"
    spec = SO101.with_cameras((CameraSpec("front", 48, 48),))
    rng = np.random.default_rng(0)
    with Recorder(root, spec) as rec:
        for ep, length in enumerate((12, 9)):
            rec.start_episode("lift the cube")
            for t in range(length):
                pos = np.full(6, ep + t / 100, np.float32)
                img = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
                obs = {"joint_pos": pos, "joint_vel": np.zeros(6, np.float32), "image_front": img}
                rec.add_frame(obs, pos + 0.5, timestamp=t / 30)
            rec.save_episode()
    return root


def test_source_windows_clamp_to_the_episode_and_mark_padding(dataset: Path) -> None:
    feats = dataset_features(dataset)
    assert feats == (6, 6, ("front",), 30.0)
    src = LeRobotSource(dataset, BCConfig(cameras=("front",), chunk_size=4, n_action_steps=2, n_obs_steps=2))
    assert len(src) == 21 and "front" in src.images  # preloaded
    s = src[10]  # episode 0, frames 0..11
    np.testing.assert_allclose(s["observation.state"][:, 0], [0.09, 0.10], atol=1e-6)
    np.testing.assert_allclose(s["action"][:, 0], [0.60, 0.61, 0.61, 0.61], atol=1e-6)
    assert s["action_is_pad"].tolist() == [False, False, True, True]
    first = src[12]  # first frame of episode 1: the history repeats it
    np.testing.assert_allclose(first["observation.state"][:, 0], [1.0, 1.0], atol=1e-6)
    assert first["observation.images.front"].shape == (2, 48, 48, 3)
    stats = src.stats()
    assert stats["action"]["max"][0] == pytest.approx(1.58, abs=1e-5)


def test_cli_train_writes_a_loadable_checkpoint(dataset: Path, tmp_path: Path, capsys) -> None:
    cfg = cmd_train.Config(
        policy="bc",
        policy_args={"chunk_size": 4, "n_action_steps": 2, "hidden_dims": [32], "backbone_channels": [8, 16]},
    )
    cfg.dataset.root = str(dataset)
    cfg.train.output_dir = str(tmp_path)
    cfg.train.steps, cfg.train.batch_size, cfg.train.progress = 3, 4, False
    cfg.image_size = [24, 32]  # another input size than the dataset's 48x48 frames
    cmd_train.run(cfg)
    policy = Policy.load(tmp_path / "checkpoints" / "000003" / "pretrained_model")
    assert policy.config.cameras == ("front",) and policy.config.hidden_dims == (32,)
    assert "checkpoint:" in capsys.readouterr().out
    contract = policy.contract
    assert contract.robot == "so101" and contract.joint_names == SO101.joint_names and contract.control_hz == 30.0
    assert [(c.name, c.height, c.width, c.capture_height, c.capture_width) for c in contract.cameras] == [
        ("front", 24, 32, 48, 48)
    ]
    assert contract.task == "lift the cube" and contract.dataset == str(dataset.resolve())
    src = LeRobotSource(dataset, policy.config, contract=contract)
    assert src[0]["observation.images.front"].shape == (1, 24, 32, 3)  # training frames fitted like robot frames


@pytest.mark.slow
def test_cli_train_dagger_grows_a_copy_of_the_dataset(dataset: Path, tmp_path: Path, capsys) -> None:
    cfg = cmd_train.Config(policy="bc", policy_args={"hidden_dims": [32], "backbone_channels": [8, 16]})
    cfg.dataset.root = str(dataset)
    cfg.train.output_dir = str(tmp_path)
    cfg.train.steps, cfg.train.batch_size, cfg.train.progress = 2, 4, False
    cfg.eval.task, cfg.eval.episodes, cfg.eval.num_envs = "lift", 1, 1
    cfg.dagger.rounds, cfg.dagger.episodes, cfg.dagger.frames, cfg.dagger.steps = 1, 2, 6, 2
    cmd_train.run(cfg)
    assert "dagger round 1: the student solved" in capsys.readouterr().out
    grown = LeRobotSource(tmp_path / "dagger_dataset", Policy.load(tmp_path / "dagger1" / "checkpoints" / "000002" /
                          "pretrained_model").config)  # fmt: skip
    original = LeRobotSource(dataset, grown.config)
    assert len(grown) == len(original) + 2 * 6  # two rollouts of 6 expert-labelled frames added; the original kept


def test_cli_errors_name_the_missing_key() -> None:
    with pytest.raises(ConfigError, match=r"dataset\.root"):
        cmd_train.run(cmd_train.Config())
    cfg = cmd_train.Config(dagger=cmd_train.DaggerConfig(rounds=1))
    cfg.dataset.root = "somewhere"
    with pytest.raises(ConfigError, match=r"eval\.task"):
        cmd_train.run(cfg)
    with pytest.raises(ConfigError, match=r"policy\.path"):
        cmd_eval.run(cmd_eval.Config())


def test_demo_recording_keeps_every_frame_of_every_demonstration(tmp_path: Path) -> None:
    """`twinarm demo` records episodes that already ran, faster than real time: every frame must reach the dataset
    (the live recorder's policy dropped the frames its 2 s encoder queues could not take: ~38 of each 100)."""
    from twinarm.cli.cmd_demo import Config
    from twinarm.cli.demo_pipeline import record_demos
    from twinarm.dataset import LeRobotDatasetReader

    frames = 75  # more than the encoder queue holds (60 frames at 30 Hz)
    cfg = Config(demos=2, demo_frames=frames, num_envs=2, image_size=32, keep_failed_demos=True, randomize="none")
    stats, _ = record_demos(cfg, tmp_path / "ds")
    reader = LeRobotDatasetReader(tmp_path / "ds")
    assert stats.kept == reader.num_episodes == 2 and stats.frames == 2 * frames
    for ep in range(2):
        lo, hi = reader.episode_bounds(ep)
        assert hi - lo == frames
    assert [row["dropped_frames"] for row in reader.episodes] == [0, 0]
