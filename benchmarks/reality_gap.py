"""Reality gap of sim-trained image policies: trained without and with domain randomization, tested on hidden realities.

For each training setting (``randomize=none`` and ``randomize=full``, the same data budget: ``--demos`` solved
expert demonstrations of ``--demo-frames`` frames, ``--steps`` BC steps, the demo's pipeline ``cli.demo_pipeline``)
the policy is evaluated for ``--episodes`` episodes on the nominal sim and on each hidden reality of
``--realities`` (its physics, ``sim.reality.draw_reality``, and its held-out look, ``sim.reality.RealityLook``,
which randomization never samples). Goal (issue 13): the randomized policy loses <= 10 points from nominal to the
realities' mean, the unrandomized one >= 25. Also: render fps of the front camera (96x96) with and without
randomization and under a reality's look (the same in-place model edits; nothing recompiled).

    python benchmarks/reality_gap.py [--quick] [--episodes 50] [--realities 1,2,3,4,5] [--out DIR]
        [--checkpoint none=PATH] [--checkpoint full=PATH]   # reuse trained policies (same data budget)

``--quick``: 30 demos, 800 steps, 10 episodes per condition (a smoke run, not the figures).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import twinarm.sim  # noqa: F401  (selects the headless GL backend)
from twinarm.cli.cmd_demo import Config
from twinarm.cli.demo_pipeline import record_demos, train_policy
from twinarm.compose.policy import PolicyRef, load_policy
from twinarm.compose.sim_config import sim_model_of_task
from twinarm.policies.evaluate import evaluate
from twinarm.policies.threads import apply_threads
from twinarm.sim.envs import TaskEnv, env_id
from twinarm.sim.reality import draw_reality

SETTINGS = ("none", "full")


def render_fps(frames: int = 200, rounds: int = 5) -> dict[str, float]:
    """Front-camera (96x96) frames/s on the nominal model, a randomized one, and under a reality's look; rounds
    interleaved so machine load hits all alike (median of ``rounds``)."""
    kinds = {"none": {}, "full": {"randomize": "full"}, "reality look": {"appearance": 1}}
    envs = {k: TaskEnv("lift", cameras=("front",), image_size=(96, 96), **kw) for k, kw in kinds.items()}
    rates: dict[str, list[float]] = {k: [] for k in kinds}
    try:
        for r in range(rounds):
            for k, env in envs.items():
                env.reset(seed=r)
                renderer, data = env.robot._renderer, env.robot.data
                t0 = time.perf_counter()
                for _ in range(frames):
                    renderer.render(data, "front")
                rates[k].append(frames / (time.perf_counter() - t0))
    finally:
        for env in envs.values():
            env.close()
    return {k: float(np.median(v)) for k, v in rates.items()}


def trained_policy(setting: str, args: argparse.Namespace, out: Path, checkpoints: dict[str, str]):
    if setting in checkpoints:
        return load_policy(PolicyRef(checkpoints[setting]), command="reality_gap"), {"checkpoint": checkpoints[setting]}
    cfg = Config(demos=args.demos, demo_frames=args.demo_frames, steps=args.steps, randomize=setting, seed=0, threads=0)
    root = out / setting
    t0 = time.monotonic()
    if args.reuse_data and (root / "dataset" / "meta" / "info.json").is_file():
        stats, record_s = None, 0.0  # the demonstrations of an earlier run of the same setting
    else:
        stats, record_s = record_demos(cfg, root / "dataset", "")
    policy, result, _ = train_policy(cfg, root / "dataset", root, "")
    return policy, {
        "demos": None if stats is None else stats._asdict(),
        "record_s": record_s,
        "train_s": time.monotonic() - t0 - record_s,
        "checkpoint": str(result.checkpoint),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--demos", type=int, default=240)  # the demo's default
    ap.add_argument("--demo-frames", type=int, default=100)
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--realities", default="1,2,3,4,5")
    ap.add_argument("--num-envs", type=int, default=4)
    ap.add_argument("--out", default="outputs/reality_gap")
    ap.add_argument("--reuse-data", action="store_true", help="train on OUT/SETTING/dataset if it exists")
    ap.add_argument("--settings", default="none,full", help="which training settings to run (none, full)")
    ap.add_argument("--checkpoint", action="append", default=[], help="SETTING=PATH: evaluate this, do not train")
    args = ap.parse_args()
    print(f"threads: {apply_threads(0).describe()}")  # torch threads on the idle cores only (oversubscription)
    if args.quick:
        args.demos, args.steps, args.episodes = 30, 800, 10
    checkpoints = dict(item.split("=", 1) for item in args.checkpoint)
    realities = [int(r) for r in args.realities.split(",") if r]
    out = Path(args.out)
    model = sim_model_of_task("lift")
    results: dict[str, dict] = {"render_fps": render_fps(), "args": vars(args), "settings": {}}
    print(f"render fps (front 96x96): {results['render_fps']}", flush=True)
    for setting in [s for s in args.settings.split(",") if s in SETTINGS]:
        t0 = time.monotonic()
        policy, info = trained_policy(setting, args, out, checkpoints)
        row = {"train": info, "nominal": None, "realities": {}}
        ev = evaluate(policy, env_id("lift"), args.episodes, args.num_envs, seed=0, progress=False)
        row["nominal"] = ev.success_rate
        print(f"{setting}: nominal {ev.successes}/{ev.episodes}", flush=True)
        for r in realities:
            kwargs = {"sim_params": draw_reality(model, r), "appearance": r}
            ev = evaluate(
                policy, env_id("lift"), args.episodes, args.num_envs, seed=0, env_kwargs=kwargs, progress=False
            )
            row["realities"][r] = ev.success_rate
            print(f"{setting}: reality {r} {ev.successes}/{ev.episodes}", flush=True)
        row["reality_mean"] = float(np.mean(list(row["realities"].values())))
        row["gap_points"] = 100.0 * (row["nominal"] - row["reality_mean"])
        row["seconds"] = time.monotonic() - t0
        results["settings"][setting] = row
    out.mkdir(parents=True, exist_ok=True)
    name = "reality_gap.json" if args.settings == "none,full" else f"reality_gap_{args.settings.replace(',', '_')}.json"
    (out / name).write_text(json.dumps(results, indent=2))
    print()
    head = " ".join(f"{'real ' + str(r):>7}" for r in realities)
    print(f"{'trained':<8} {'nominal':>8} {head} {'real mean':>10} {'gap [pt]':>9}   ({args.episodes} episodes each)")
    for setting, row in results["settings"].items():
        cells = " ".join(f"{row['realities'][r]:7.0%}" for r in realities)
        print(f"{setting:<8} {row['nominal']:8.0%} {cells} {row['reality_mean']:10.0%} {row['gap_points']:9.1f}")
    fps = results["render_fps"]
    print("render fps: " + ", ".join(f"{k} {v:.0f}" for k, v in fps.items()))
    goals = {
        "full": ("randomized gap <= 10 pt", lambda g: g <= 10),
        "none": ("unrandomized gap >= 25 pt", lambda g: g >= 25),
    }
    for setting, row in results["settings"].items():
        text, ok = goals[setting]
        print(f"goal: {text}: {'met' if ok(row['gap_points']) else 'NOT met'} ({row['gap_points']:.1f} pt)")
    print(f"results: {out / name}")


if __name__ == "__main__":
    main()
