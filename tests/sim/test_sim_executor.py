"""Executors without Ray: the local executor's order and laziness, executor=ray refused at config validation with a
typed error naming the install when Ray is absent, and the sharded evaluation equal to the one-process one."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.policies.helpers_policies import tiny_policy
from tests.policies.test_policies_eval import ScriptedEnv
from twinarm.cli.main import main
from twinarm.compose.errors import MissingExtraError
from twinarm.compose.eval_jobs import eval_shards, evaluate_on
from twinarm.compose.executor import ExecutorConfig, LocalExecutor, RayConfig, chunks, open_executor
from twinarm.policies.evaluate import evaluate
from twinarm.robot.errors import ConfigError, TwinarmError


@dataclasses.dataclass(frozen=True)
class SquareJob:
    """Squares shards; records what ran in ``log`` (shared: local workers run in this process)."""

    log: list

    def open(self) -> SquareJob:
        self.log.append("open")
        return self

    def run(self, shard: int) -> int:
        self.log.append(shard)
        return shard * shard

    def close(self) -> None:
        self.log.append("close")


def test_local_executor_yields_in_order_and_runs_only_what_is_consumed() -> None:
    log: list = []
    assert list(LocalExecutor().imap(SquareJob(log), [3, 1, 2])) == [9, 1, 4]
    assert log == ["open", 3, 1, 2, "close"]
    log.clear()
    results = LocalExecutor().imap(SquareJob(log), [5, 6, 7])
    assert next(results) == 25
    results.close()
    assert log == ["open", 5, "close"]  # shards 6 and 7 never ran


def test_shards_cover_every_episode_in_whole_waves() -> None:
    assert eval_shards(7, 3) == [(0, 3), (3, 3), (6, 1)]
    assert [list(c) for c in chunks(range(5), 2)] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ConfigError):
        chunks([1], 0)


@pytest.fixture
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as when not installed


def test_ray_without_ray_is_a_typed_error_naming_the_install(no_ray) -> None:
    with pytest.raises(MissingExtraError, match=r'pip install "twinarm\[ray\]"') as info:
        ExecutorConfig("ray").validate()
    assert isinstance(info.value, TwinarmError) and isinstance(info.value, ImportError)
    ExecutorConfig("local").validate()  # local never needs Ray
    with open_executor() as executor:
        assert isinstance(executor, LocalExecutor)


def test_cli_refuses_executor_ray_at_validation(no_ray, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["eval", "policy.path=/nonexistent", "executor=ray", f"output_dir={out}"])
    err = capsys.readouterr().err
    assert code == 1 and 'pip install "twinarm[ray]"' in err and "Traceback" not in err
    assert "error: executor=ray needs Ray" in err  # refused before the (missing) checkpoint was looked at
    assert not out.exists()


@pytest.mark.parametrize(
    ("cfg", "key"),
    [
        (ExecutorConfig("dask"), "executor="),
        (ExecutorConfig("ray", RayConfig(workers=0)), "ray.workers"),
        (ExecutorConfig("ray", RayConfig(cpus_per_worker=0)), "ray.cpus_per_worker"),
    ],
)
def test_bad_executor_values_name_the_key(cfg: ExecutorConfig, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        cfg.validate()


def test_sharded_evaluation_equals_the_one_process_evaluation(tmp_path: Path) -> None:
    policy = tiny_policy("bc")
    one = evaluate(policy, ScriptedEnv, episodes=7, num_envs=3, seed=10, video_dir=tmp_path / "a", progress=False)
    sharded = evaluate_on(None, policy, ScriptedEnv, episodes=7, num_envs=3, seed=10, video_dir=tmp_path / "b")
    assert sharded.episode_successes == one.episode_successes
    assert sharded.episode_returns == one.episode_returns and sharded.mean_length == one.mean_length
    assert sharded.seeds == tuple(range(10, 17)) and sharded.successes == sum(s % 2 == 0 for s in range(10, 17))
    assert [p.name for p in sharded.videos] == [p.name for p in one.videos]
    for a, b in zip(one.videos, sharded.videos):
        assert a.read_bytes() == b.read_bytes()
    assert np.isclose(sharded.success_rate, 4 / 7)


def test_eval_workers_run_the_policy_with_the_callers_torch_threads() -> None:
    import torch

    from twinarm.compose.eval_jobs import EpisodeRange, EvalJob

    before = torch.get_num_threads()
    wanted = 1 if before > 1 else 2
    job = EvalJob(tiny_policy("bc"), ScriptedEnv, {}, 2, seed=0, torch_threads=wanted)
    worker = job.open()
    try:
        assert torch.get_num_threads() == wanted
        assert len(worker.run(EpisodeRange(0, 3)).episodes) == 3
    finally:
        worker.close()
    assert torch.get_num_threads() == before  # restored for the caller
