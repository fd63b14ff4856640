"""End to end against the sim package (skipped until ``sim.envs`` registers the twinarm envs): a tiny policy
trained on synthetic demos for the env's cameras runs vectorised rollouts and records a video."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

from twinarm.policies.data import SyntheticDemos, TorchDataset, compute_stats
from twinarm.policies.evaluate import evaluate
from twinarm.policies.train import TrainConfig, train

pytest.importorskip("twinarm.sim.envs")
ENV_ID = "twinarm/SO101Lift-v0"


def test_train_then_evaluate_in_sim(tmp_path: Path) -> None:
    from twinarm.policies.registry import make_policy

    if ENV_ID not in gym.registry:
        pytest.skip(f"{ENV_ID} is not registered by sim.envs")
    env = gym.make(ENV_ID)
    space = env.observation_space
    env.close()
    cams = tuple(k[len("image_") :] for k in space.spaces if k.startswith("image_"))
    hw = space[f"image_{cams[0]}"].shape[:2] if cams else (96, 96)
    src = SyntheticDemos(size=16, chunk_size=8, cameras=cams, image_hw=hw)
    policy = make_policy(
        "bc",
        stats=compute_stats(src),
        cameras=cams,
        chunk_size=8,
        n_action_steps=4,
        backbone_channels=(8, 16, 32),
        hidden_dims=(32,),
    )
    result = train(
        policy, TorchDataset(src), TrainConfig(output_dir=str(tmp_path), steps=2, batch_size=8, progress=False)
    )
    assert (result.checkpoint / "model.safetensors").is_file()
    res = evaluate(
        policy, ENV_ID, episodes=2, num_envs=2, max_steps=15, video_dir=tmp_path / "videos", videos=1, progress=False
    )
    assert res.episodes == 2 and 0 <= res.success_rate <= 1 and 1 <= res.mean_length <= 15
    if cams:
        assert len(res.videos) == 1 and res.videos[0].stat().st_size > 0
