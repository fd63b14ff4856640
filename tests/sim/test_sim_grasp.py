"""Grasp contact tuning: a cube lifted by the expert stays put in the jaws while the arm holds still.

The public SO-101 contact settings let a held box creep about 1 mm per 10 s (shared mujoco-notes); ours measured
0.13 mm over the same 10 s, so 0.5 mm catches a regression towards the public figure.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.sim.envs import ENV_IDS
from twinarm.sim.experts import make_expert


def test_a_held_cube_does_not_slip() -> None:
    env = gym.make(ENV_IDS["lift"], cameras=())
    expert = make_expert("lift")
    try:
        obs, info = env.reset(seed=1)
        expert.reset(info["privileged"])
        base = env.unwrapped
        for _ in range(240):  # the expert grasps, lifts and then holds still
            obs, _, _, _, info = base.step(expert.act(obs, info["privileged"]))
        assert info["is_success"]
        p = info["privileged"]
        start = p["cube_pos"] - p["grasp_pos"]  # (3,) [m] cube relative to the jaws
        hold = base.robot.last_target
        for _ in range(300):  # 10 s more at 30 Hz
            _, _, _, _, info = base.step(hold)
        p = info["privileged"]
        drift = np.linalg.norm((p["cube_pos"] - p["grasp_pos"]) - start)
        assert info["is_success"]
        assert drift < 5e-4, f"held cube slipped {drift * 1e3:.2f} mm in 10 s"
    finally:
        env.close()
