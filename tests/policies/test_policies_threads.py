"""Thread budget on a busy machine: automatic threads leave busy cores alone; the progress line says when the
machine is oversubscribed."""

from __future__ import annotations

import json

import torch

from tests.policies.helpers_policies import source, tiny_policy
from twinarm.policies import threads
from twinarm.policies.data import TorchDataset
from twinarm.policies.train import TrainConfig, train


def test_automatic_threads_leave_busy_cores_alone() -> None:
    assert threads.choose_threads(0, cores=2, load=0.1).threads == 2  # idle: every core
    assert threads.choose_threads(0, cores=2, load=1.0).threads == 1  # one busy neighbour: one thread
    assert threads.choose_threads(0, cores=2, load=6.0).threads == 1  # never fewer than one
    assert threads.choose_threads(0, cores=8, load=2.6).threads == 5
    assert threads.choose_threads(0, cores=4, load=None).threads == 4  # no load average: the cores
    assert threads.choose_threads(3, cores=2, load=5.0).threads == 3  # an explicit count is taken as given
    assert "automatic" in threads.choose_threads(0, cores=2, load=1.0).describe()
    assert threads.cpu_cores() >= 1


def test_busy_note_only_when_oversubscribed() -> None:
    assert threads.busy_note(cores=2, load=2.3) == ""
    assert threads.busy_note(cores=2, load=3.4) == "oversubscribed: load 3.4 on 2 cores"
    assert threads.busy_note(cores=2, load=None) == ""


def test_training_progress_says_when_oversubscribed(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(threads, "load_average", lambda: 9.0)
    monkeypatch.setattr(threads, "cpu_cores", lambda: 2)
    before = torch.get_num_threads()
    try:
        assert threads.apply_threads(0).threads == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    cfg = TrainConfig(output_dir=str(tmp_path), steps=4, batch_size=4, log_every=2, warmup_steps=1)
    train(tiny_policy("bc"), TorchDataset(source("bc")), cfg)
    assert "oversubscribed: load 9.0 on 2 cores" in capsys.readouterr().err  # the tqdm progress line
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["cpu"] == "oversubscribed: load 9.0 on 2 cores"
