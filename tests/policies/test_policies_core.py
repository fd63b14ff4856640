"""Policy interface: shapes, normalization, action queue, save/load, registry, config validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.policies.helpers_policies import POLICIES, batch, observation, tiny_policy
from twinarm.policies.base import Policy
from twinarm.policies.config import PolicyConfig
from twinarm.policies.data import ACTION, STATE, SyntheticDemos, compute_stats, observation_to_batch
from twinarm.policies.errors import MissingObservationError, PolicyConfigError, PolicyError
from twinarm.policies.normalize import Normalization
from twinarm.policies.registry import available_policies, make_policy


def test_registry_lists_the_three_policies_and_rejects_unknown_names() -> None:
    assert available_policies() == ["act", "bc", "diffusion"]
    with pytest.raises(PolicyError, match="valid policies: act, bc, diffusion"):
        make_policy("transformer")
    with pytest.raises(PolicyError, match="unknown config keys \\['chunk'\\]"):
        make_policy("bc", chunk=3)


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"n_action_steps": 30, "chunk_size": 20}, "n_action_steps"),
        ({"state_norm": "zscore"}, "state_norm"),
        ({"cameras": ("a", "a")}, "cameras"),
        ({"ema_decay": 1.0}, "ema_decay"),
    ],
)
def test_invalid_config_names_the_key(fields: dict, key: str) -> None:
    with pytest.raises(PolicyConfigError, match=key):
        PolicyConfig(**fields)


def test_model_specific_config_checks() -> None:
    with pytest.raises(PolicyConfigError, match="chunk_size"):
        make_policy("diffusion", chunk_size=10)  # not divisible by 4 with 3 U-Net levels
    with pytest.raises(PolicyConfigError, match="dim_model"):
        make_policy("act", dim_model=30, n_heads=4)


@pytest.mark.parametrize("mode", ["mean_std", "min_max"])
def test_normalization_round_trip_and_ranges(mode: str) -> None:
    src = SyntheticDemos(size=32, chunk_size=5, cameras=())
    stats = compute_stats(src)
    norm = Normalization(PolicyConfig(cameras=(), chunk_size=5, n_action_steps=5, state_norm=mode, action_norm=mode))
    norm.set_stats(stats)
    actions = torch.as_tensor(np.stack([src[i][ACTION] for i in range(32)]))
    z = norm.normalize(ACTION, actions)
    assert torch.allclose(norm.unnormalize(ACTION, z), actions, atol=1e-5)
    if mode == "min_max":
        assert z.min() >= -1.0001 and z.max() <= 1.0001 and z.min() < -0.9 and z.max() > 0.9
    else:
        flat = z.reshape(-1, 6)
        assert torch.allclose(flat.mean(0), torch.zeros(6), atol=1e-4)
        assert torch.allclose(flat.std(0, unbiased=False), torch.ones(6), atol=1e-3)
    with pytest.raises(PolicyError, match=r"observation\.state"):
        norm.set_stats({ACTION: stats[ACTION]})


def test_stats_become_buffers_of_the_model() -> None:
    policy = tiny_policy("bc")
    keys = set(policy.state_dict())
    assert {"normalization.norms.observation__state.shift", "normalization.norms.action.scale"} <= keys
    assert not torch.allclose(policy.state_dict()["normalization.norms.action.scale"], torch.ones(6))


def test_observation_to_batch_converts_layout_and_range() -> None:
    obs = observation(cameras=("front",))
    out = observation_to_batch(obs, ("front",))
    assert out[STATE].shape == (1, 6)
    img = out["observation.images.front"]
    assert img.shape == (1, 3, 48, 48) and img.dtype == torch.float32
    assert torch.allclose(img[0, :, 5, 7] * 255, torch.as_tensor(obs["image_front"][5, 7]).float())
    with pytest.raises(MissingObservationError, match=r"image_wrist"):
        observation_to_batch(obs, ("wrist",))


@pytest.mark.parametrize("name", POLICIES)
def test_shapes_of_chunks_and_actions(name: str) -> None:
    policy = tiny_policy(name)
    chunk = policy.predict_chunk(observation())
    assert chunk.shape == (8, 6) and chunk.dtype == np.float32 and np.isfinite(chunk).all()
    assert policy.predict_chunk(observation(batch_size=3)).shape == (3, 8, 6)
    policy.reset()
    assert policy.select_action(observation()).shape == (6,)
    policy.reset()
    assert policy.select_action(observation(batch_size=2)).shape == (2, 6)
    loss, logs = policy(batch(name))
    assert loss.ndim == 0 and torch.isfinite(loss) and logs


@pytest.mark.parametrize("name", POLICIES)
def test_select_action_replays_the_chunk_then_replans(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tiny_policy(name)
    calls = []
    original = policy.sample_chunk

    def counting(b):
        calls.append(1)
        return original(b)

    monkeypatch.setattr(policy, "sample_chunk", counting)
    torch.manual_seed(1)
    policy.reset()
    obs = observation()
    actions = [policy.select_action(obs) for _ in range(6)]  # n_action_steps = 4
    assert len(calls) == 2
    torch.manual_seed(1)
    policy.reset()
    chunk = policy.predict_chunk(obs)
    np.testing.assert_allclose(np.stack(actions[:4]), chunk[:4], atol=1e-5)


@pytest.mark.parametrize("name", POLICIES)
def test_save_load_gives_identical_actions(name: str, tmp_path) -> None:
    policy = tiny_policy(name)
    policy.save(tmp_path / "ckpt")
    assert json.loads((tmp_path / "ckpt" / "config.json").read_text())["type"] == name
    loaded = Policy.load(tmp_path / "ckpt")
    assert type(loaded) is type(policy)
    obs = observation(seed=3)
    torch.manual_seed(5)
    a = policy.predict_chunk(obs)
    torch.manual_seed(5)
    b = loaded.predict_chunk(obs)
    np.testing.assert_array_equal(a, b)


def test_load_reports_missing_or_mismatched_checkpoints(tmp_path) -> None:
    with pytest.raises(PolicyError, match="not a policy checkpoint"):
        Policy.load(tmp_path)
    tiny_policy("bc").save(tmp_path / "bc")
    from twinarm.policies.act import ACTPolicy

    with pytest.raises(PolicyError, match="holds a 'bc' policy"):
        ACTPolicy.load(tmp_path / "bc")


@pytest.mark.parametrize("name", POLICIES)
def test_one_training_step_decreases_loss_on_a_fixed_batch(name: str) -> None:
    policy = tiny_policy(name)
    policy.train()
    fixed = batch(name)
    opt = torch.optim.Adam(policy.parameters(), lr=1e-3)

    def loss_at() -> float:
        torch.manual_seed(0)  # same noise / diffusion steps / latent samples for both measurements
        with torch.no_grad():
            return float(policy(fixed)[0])

    before = loss_at()
    torch.manual_seed(0)
    loss, _ = policy(fixed)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert loss_at() < before


def test_act_temporal_ensembling_averages_overlapping_chunks() -> None:
    policy = tiny_policy("act", temporal_ensemble_coeff=0.5)
    policy.reset()
    o1, o2 = observation(seed=1), observation(seed=2)
    first = policy.predict_chunk(o1)
    second = policy.predict_chunk(o2)
    policy.reset()
    np.testing.assert_allclose(policy.select_action(o1), first[0], atol=1e-5)
    w = np.exp(-0.5 * np.arange(2))
    expected = (w[0] * first[1] + w[1] * second[0]) / w.sum()
    np.testing.assert_allclose(policy.select_action(o2), expected, atol=1e-5)


def test_diffusion_sampling_is_deterministic_given_the_seed_and_in_range() -> None:
    policy = tiny_policy("diffusion")
    obs = observation()
    torch.manual_seed(0)
    a = policy.predict_chunk(obs)
    torch.manual_seed(0)
    np.testing.assert_array_equal(a, policy.predict_chunk(obs))
    lo = policy.normalization.unnormalize(ACTION, -torch.ones(6)).numpy()
    hi = policy.normalization.unnormalize(ACTION, torch.ones(6)).numpy()
    assert (a >= lo - 1e-4).all() and (a <= hi + 1e-4).all()  # clip_sample keeps it in the data range
