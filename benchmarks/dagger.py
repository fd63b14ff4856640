"""Does DAgger help? From one trained checkpoint (e.g. a ``twinarm demo`` run) and its dataset, two continuations
with the same number of extra training steps:

- ``bc``: ``--steps`` more steps on the expert demonstrations only;
- ``dagger``: one DAgger round first: ``--rollouts`` student rollouts (``--beta`` expert share, randomized like the
  demonstrations), every visited state labelled by the privileged scripted expert and added to a copy of the
  dataset; then ``--steps`` steps on the grown dataset.

Both are evaluated on ``--episodes`` nominal episodes and as many of hidden reality ``--reality``.

    python benchmarks/dagger.py --checkpoint RUN/train/checkpoints/002500/pretrained_model --dataset RUN/dataset
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path

import twinarm.sim  # noqa: F401  (selects the headless GL backend)
from twinarm.compose.policy import PolicyRef, load_policy
from twinarm.compose.sim_config import sim_model_of_task
from twinarm.compose.sim_demos import dagger_round
from twinarm.policies.data import TorchDataset
from twinarm.policies.dataset import LeRobotSource
from twinarm.policies.evaluate import contract_env_kwargs, evaluate
from twinarm.policies.threads import apply_threads
from twinarm.policies.train import TrainConfig, train
from twinarm.sim.envs import env_id
from twinarm.sim.reality import draw_reality


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--arms", default="bc,dagger")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--rollouts", type=int, default=20)
    ap.add_argument("--beta", type=float, default=0.3)
    ap.add_argument("--randomize", default="full")
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--reality", type=int, default=1)
    ap.add_argument("--out", default="outputs/dagger")
    args = ap.parse_args()
    print(f"threads: {apply_threads(0).describe()}")
    out = Path(args.out)
    results = {}
    for arm in args.arms.split(","):
        t0 = time.monotonic()
        policy = load_policy(PolicyRef(args.checkpoint), command="dagger benchmark")
        root = Path(args.dataset)
        info: dict = {}
        if arm == "dagger":
            root = out / "dagger_dataset"
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(args.dataset, root)
            kwargs = {**contract_env_kwargs(policy.contract), "randomize": args.randomize}
            stats = dagger_round(policy, "lift", root, kwargs, range(300_000, 300_000 + args.rollouts), 100, args.beta)
            info["rollouts"] = stats._asdict()
            print(f"dagger: the student solved {stats.expert_successes}/{stats.episodes} rollouts", flush=True)
        source = LeRobotSource(root, policy.config, contract=policy.contract)
        cfg = TrainConfig(output_dir=str(out / arm), steps=args.steps, batch_size=64, lr=3e-4, seed=1, log_every=100)
        train(policy, TorchDataset(source), dataclasses.replace(cfg, warmup_steps=min(100, args.steps // 5)))
        nominal = evaluate(policy, env_id("lift"), args.episodes, 4, seed=0, progress=False)
        real_kwargs = {"sim_params": draw_reality(sim_model_of_task("lift"), args.reality), "appearance": args.reality}
        real = evaluate(policy, env_id("lift"), args.episodes, 4, seed=0, env_kwargs=real_kwargs, progress=False)
        info.update(nominal=nominal.success_rate, reality=real.success_rate, frames=len(source))
        info["seconds"] = time.monotonic() - t0
        results[arm] = info
        print(f"{arm}: nominal {nominal.successes}/{nominal.episodes}, reality {args.reality} "
              f"{real.successes}/{real.episodes} ({len(source)} frames)", flush=True)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / f"dagger_{'_'.join(results)}.json").write_text(json.dumps({"args": vars(args), **results}, indent=2))


if __name__ == "__main__":
    main()
