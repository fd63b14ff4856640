"""PNG views of a dataset: joint trajectories per episode and a contact sheet of camera frames."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from twinarm.dataset import layout
from twinarm.dataset.reader import LeRobotDatasetReader
from twinarm.robot.features import camera_of_feature


def plot_trajectories(reader: LeRobotDatasetReader, out: Path, max_episodes: int = 8) -> Path:
    """One row per episode: ``observation.state`` (solid) and ``action`` (dashed) per joint vs time [s]."""
    data = reader.lowdim()
    eps = [int(e["episode_index"]) for e in reader.episodes[:max_episodes]]
    fig, axes = plt.subplots(max(1, len(eps)), 1, figsize=(10, 2.4 * max(1, len(eps))), squeeze=False)
    names = reader.features.get(layout.STATE, {}).get("names") or []
    for ax, ep in zip(axes[:, 0], eps):
        lo, hi = reader.episode_bounds(ep)
        t = data["timestamp"][lo:hi]
        for j in range(data[layout.STATE].shape[1] if layout.STATE in data else 0):
            line = ax.plot(t, data[layout.STATE][lo:hi, j], label=names[j] if j < len(names) else f"j{j}")[0]
            if layout.ACTION in data:
                ax.plot(t, data[layout.ACTION][lo:hi, j], "--", color=line.get_color(), linewidth=0.8)
        ax.set_title(f"episode {ep}: {reader.episode_task(ep)}", fontsize=9)
        ax.set_ylabel("[rad]")
    axes[-1, 0].set_xlabel("time [s]  (solid: state, dashed: action)")
    axes[0, 0].legend(fontsize=7, ncol=6, loc="upper right")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def contact_sheet(reader: LeRobotDatasetReader, out: Path, frames_per_episode: int = 6, max_episodes: int = 4) -> Path:
    """A grid of decoded frames: one row per (episode, camera), evenly spaced through the episode."""
    rows = []
    for e in reader.episodes[:max_episodes]:
        ep = int(e["episode_index"])
        lo, hi = reader.episode_bounds(ep)
        idx = np.unique(np.linspace(lo, hi - 1, frames_per_episode).round().astype(int))
        for key in reader.camera_keys:
            rows.append((f"ep {ep} {camera_of_feature(key)}", [reader.frame(key, int(i)) for i in idx]))
    n_cols = max((len(r[1]) for r in rows), default=1)
    fig, axes = plt.subplots(max(1, len(rows)), n_cols, figsize=(1.8 * n_cols, 1.6 * max(1, len(rows))), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for r, (label, imgs) in enumerate(rows):
        for c, img in enumerate(imgs):
            axes[r, c].imshow(img)
        axes[r, 0].set_title(label, fontsize=7, loc="left")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out
