"""Sim-to-real gap on the hardware-in-the-loop rig: the same policy, the same episode seeds, sim vs HIL.

1. Demonstrations: the scripted lift expert in the gymnasium env (``twinarm/SO101Lift-v0``, cameras front and
   wrist at ``--image-size``, 48x48 by default to keep CPU training short), seeds 0..demos-1, each episode recorded
   until ``--hold-steps`` after the cube is lifted.
2. Training (skipped with ``--checkpoint``): BC (default; ``--policy act`` for ACT) on those demos, ``policies.train``.
3. Pure sim (the baseline): ``policies.evaluate`` exactly as ``twinarm eval`` runs it, seeds 1000.. (disjoint
   from the demos).
4. Hardware in the loop: ``twinarm deploy robot.port=emulator physics=sim`` with the same seeds: the real driver,
   calibration and safety layers on an emulated bus whose physics and cameras are the MuJoCo scene; chunks are
   predicted in a worker thread while the loop runs in real time (30 Hz), so an episode takes its real duration.
5. ``twinarm deploy`` on the SimRobot (``--deploy-sim``, default on): the same asynchronous loop without the rig, so
   the HIL gap splits into execution (synchronous eval vs async chunks in real time) and rig (driver, bus, ticks).

The scripted expert is measured in sim and on HIL first (``--expert-episodes``): its gap is the rig's own, with no
learning in it. Printed per row: both success rates, the HIL/sim ratio and the gap in points (goal: within 10).

    python benchmarks/sim_to_real.py [--policy bc|act] [--demos 40] [--train-steps 2000] [--episodes 50]
                                     [--checkpoint DIR --image-size 48]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import twinarm.sim  # noqa: F401  (registers the twinarm/ envs)
from twinarm.policies.data import ACTION, ACTION_IS_PAD, STATE, image_feature

ENV_ID = "twinarm/SO101Lift-v0"
CAMERAS = ("front", "wrist")
EVAL_SEED = 1000
# CPU-sized policies (the figures of benchmarks/policy.py are for the library defaults)
POLICY_ARGS = {
    "act": {"chunk_size": 20, "n_action_steps": 10, "dim_model": 128, "n_encoder_layers": 2, "n_decoder_layers": 1},
    "bc": {"chunk_size": 20, "n_action_steps": 10},
}


def collect_demos(n: int, hold_steps: int, size: int) -> tuple[list[dict[str, np.ndarray]], int]:
    """Expert episodes (seeds 0..n-1) as arrays: state (T, 6), action (T, 6) (the targets sent), images; and how
    many of them lifted the cube (only those are kept)."""
    from twinarm.sim.experts import make_expert

    env = gym.make(ENV_ID, cameras=CAMERAS, image_size=(size, size))
    expert = make_expert("lift")
    demos = []
    try:
        for seed in range(n):
            obs, info = env.reset(seed=seed)
            expert.reset(info["privileged"])
            rows: list[tuple[dict[str, np.ndarray], np.ndarray]] = []
            after = None
            while after is None or after < hold_steps:
                action = expert.act(obs, info["privileged"])
                next_obs, _, terminated, truncated, info = env.step(action)
                rows.append((obs, info["action_sent"]))
                obs = next_obs
                if after is not None or info["is_success"]:
                    after = 0 if after is None else after + 1
                if terminated or truncated:
                    break
            if after is not None:
                demo = {STATE: np.stack([o["joint_pos"] for o, _ in rows]), ACTION: np.stack([a for _, a in rows])}
                for cam in CAMERAS:
                    demo[cam] = np.stack([o[f"image_{cam}"] for o, _ in rows])
                demos.append(demo)
    finally:
        env.close()
    return demos, len(demos)


class DemoSource:
    """Demos as lerobot-keyed training samples (observation at t, actions t..t+chunk-1, padded at the end)."""

    def __init__(self, demos: list[dict[str, np.ndarray]], chunk_size: int) -> None:
        self.state = np.concatenate([d[STATE] for d in demos]).astype(np.float32)
        self.action = np.concatenate([d[ACTION] for d in demos]).astype(np.float32)
        self.images = {cam: np.concatenate([d[cam] for d in demos]) for cam in CAMERAS}
        ends = np.cumsum([len(d[STATE]) for d in demos])
        starts = ends - [len(d[STATE]) for d in demos]
        self.hi = np.repeat(ends, [len(d[STATE]) for d in demos])
        self.lo = np.repeat(starts, [len(d[STATE]) for d in demos])
        self.offsets = np.arange(chunk_size)

    def __len__(self) -> int:
        return len(self.state)

    def __getitem__(self, i: int) -> dict[str, Any]:
        q = i + self.offsets
        sample = {
            STATE: self.state[i],
            ACTION: self.action[np.minimum(q, self.hi[i] - 1)],
            ACTION_IS_PAD: q >= self.hi[i],
        }
        for cam in CAMERAS:
            sample[image_feature(cam)] = self.images[cam][i]
        return sample


def train_policy(kind: str, demos: list[dict[str, np.ndarray]], steps: int, out: Path) -> Path:
    from twinarm.policies.data import TorchDataset, compute_stats
    from twinarm.policies.registry import make_policy
    from twinarm.policies.train import TrainConfig, train

    args = POLICY_ARGS[kind]
    source = DemoSource(demos, args["chunk_size"])
    policy = make_policy(kind, stats=compute_stats(source), cameras=CAMERAS, **args)
    cfg = TrainConfig(output_dir=str(out), steps=steps, batch_size=32, log_every=max(1, steps // 10), progress=False)
    t0 = time.monotonic()
    result = train(policy, TorchDataset(source), cfg)
    print(
        f"trained {kind} ({policy.num_parameters() / 1e6:.2f} M params) on {len(source)} frames: {steps} steps in "
        f"{time.monotonic() - t0:.0f} s, final loss {result.final_loss:.4f}",
        flush=True,
    )
    return result.checkpoint


def expert_sim(episodes: int) -> int:
    """Successes of the scripted expert in the gymnasium env, seeds EVAL_SEED.. (what `twinarm sim` runs)."""
    from twinarm.sim.experts import make_expert

    env = gym.make(ENV_ID, cameras=())
    expert = make_expert("lift")
    wins = 0
    try:
        for k in range(episodes):
            obs, info = env.reset(seed=EVAL_SEED + k)
            expert.reset(info["privileged"])
            done = False
            while not done and not info["is_success"]:
                obs, _, terminated, truncated, info = env.step(expert.act(obs, info["privileged"]))
                done = terminated or truncated
            wins += bool(info["is_success"])
    finally:
        env.close()
    return wins


def policy_sim(checkpoint: Path, episodes: int, size: int) -> tuple[str, int]:
    """(policy type, successes) of ``twinarm eval``'s rollouts (``policies.evaluate``), seeds EVAL_SEED.."""
    from twinarm.policies.base import Policy
    from twinarm.policies.evaluate import evaluate

    policy = Policy.load(checkpoint)
    env_kwargs = {"cameras": CAMERAS, "image_size": (size, size)}
    result = evaluate(policy, ENV_ID, episodes, num_envs=4, seed=EVAL_SEED, env_kwargs=env_kwargs, progress=False)
    return policy.name, result.successes


def deploy(args: list[str], episodes: int, out: Path, hil: bool = True) -> dict[str, Any]:
    """``twinarm deploy`` with ``args`` on the HIL rig (``robot.port=emulator physics=sim``) or, with ``hil=False``,
    on the SimRobot; its deploy_info.json."""
    from twinarm.cli.main import main

    argv = ["deploy", "task=lift", f"episodes={episodes}", f"seed={EVAL_SEED}"]
    argv += ["robot.port=emulator", "physics=sim"] if hil else []
    if main([*argv, *args, f"output_dir={out}"]) != 0:
        raise SystemExit("twinarm deploy failed")
    return json.loads((out / "deploy_info.json").read_text())


def line(label: str, sim_wins: int, hil_wins: int, n: int) -> str:
    sim_rate, hil_rate = sim_wins / n, hil_wins / n
    ratio = f"{hil_rate / sim_rate:.2f}" if sim_wins else "n/a"
    gap = 100 * (sim_rate - hil_rate)
    return (
        f"{label:<22} sim {sim_wins:3d}/{n} = {sim_rate:4.0%}   HIL {hil_wins:3d}/{n} = {hil_rate:4.0%}   "
        f"HIL/sim {ratio}   gap {gap:+5.1f} points ({'within' if abs(gap) <= 10 else 'OUTSIDE'} the 10-point goal)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", choices=sorted(POLICY_ARGS), default="bc", help="bc trains in ~1/4 of act's time")
    ap.add_argument("--image-size", type=int, default=48, help="camera images [px] (square), in demos and evals")
    ap.add_argument(
        "--checkpoint",
        type=Path,
        help="a trained checkpoint (skips demos and training; its images must have been --image-size)",
    )
    ap.add_argument("--demos", type=int, default=40)
    ap.add_argument("--hold-steps", type=int, default=30)
    ap.add_argument("--train-steps", type=int, default=2000)
    ap.add_argument("--episodes", type=int, default=50, help="per evaluation (the gap's std is ~8 points at 50)")
    ap.add_argument("--expert-episodes", type=int, default=10)
    ap.add_argument(
        "--deploy-sim",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also deploy on the SimRobot (separates the rig's gap from the async execution's)",
    )
    ap.add_argument("--out", type=Path, help="working directory (default: a temporary one)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="sim_to_real_"))
    lines = []
    if args.expert_episodes:
        n = args.expert_episodes
        hil = deploy(["source=expert"], n, out / "expert_hil")
        lines.append(line("scripted expert", expert_sim(n), hil["successes"], n))
        print(lines[-1], flush=True)
    checkpoint = args.checkpoint
    if checkpoint is None:
        t0 = time.monotonic()
        demos, kept = collect_demos(args.demos, args.hold_steps, args.image_size)
        frames, took = sum(len(d[STATE]) for d in demos), time.monotonic() - t0
        print(f"demos: {kept}/{args.demos} expert episodes lifted the cube, {frames} frames, {took:.0f} s", flush=True)
        checkpoint = train_policy(args.policy, demos, args.train_steps, out / "train")
    if args.episodes:
        n = args.episodes
        t0 = time.monotonic()
        name, sim_wins = policy_sim(checkpoint, n, args.image_size)
        print(f"pure sim eval: {time.monotonic() - t0:.0f} s", flush=True)
        size = args.image_size
        cams = [f"policy.path={checkpoint}", f"robot.camera_height={size}", f"robot.camera_width={size}"]
        hil = deploy(cams, n, out / "policy_hil")
        lines.append(line(f"{name} policy", sim_wins, hil["successes"], n))
        if args.deploy_sim:
            async_sim = deploy(cams, n, out / "policy_sim_deploy", hil=False)
            lines.append(line(f"{name} deployed", async_sim["successes"], hil["successes"], n))
            same = sum(a["success"] == b["success"] for a, b in zip(async_sim["episodes"], hil["episodes"]))
            lines.append(f"{'':<22} same outcome on {same}/{n} seeds")
            lines.append(f"{'':<22} (sim = `twinarm deploy` on the SimRobot: the same async chunk loop, no rig)")
        starved = sum(e["starved_steps"] for e in hil["episodes"])
        steps = sum(e["steps"] for e in hil["episodes"])
        overruns = sum(e["loop"]["overruns"] for e in hil["episodes"])
        lines.append(f"{'':<22} HIL loop: {steps} steps, {overruns} overruns, {starved} steps without a fresh action")
    print("\n".join(["", f"checkpoint: {checkpoint}; outputs: {out}", *lines]))


if __name__ == "__main__":
    main()
