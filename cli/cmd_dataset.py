"""``twinarm dataset info|check|visualize PATH``: inspect, verify and plot a LeRobot v3.0 dataset."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from twinarm.dataset.errors import DatasetError

HELP = "inspect a LeRobot v3.0 dataset: info | check [--repair] | visualize PATH [--rrd [OUT]]"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="twinarm dataset", description=HELP)
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("info", help="summary: episodes, frames, features, tasks").add_argument("path", type=Path)
    c = sub.add_parser("check", help="parquet vs video frame counts, timestamps, stats")
    c.add_argument("path", type=Path)
    c.add_argument("--repair", action="store_true", help="discard a partial episode / orphan files left by a crash")
    v = sub.add_parser("visualize", help="PNG plots of joint trajectories and a contact sheet of frames")
    v.add_argument("path", type=Path)
    v.add_argument("--out", type=Path, default=None, help="output directory (default outputs/dataset/<time>)")
    v.add_argument("--episodes", type=int, default=8, help="episodes to plot")
    v.add_argument(
        "--rrd",
        type=Path,
        nargs="?",
        const=Path(),
        default=None,
        help="also write the episodes to a rerun .rrd file (default <out>/dataset.rrd; needs twinarm[viz])",
    )
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.action == "info":
            from twinarm.dataset.inspect import summary

            print(summary(args.path))
            return 0
        if args.action == "check":
            from twinarm.dataset.inspect import check

            report = check(args.path, repair=args.repair)
            for m in report.repairs:
                print(f"repaired: {m}")
            for m in report.problems:
                print(f"PROBLEM: {m}")
            print(f"check {args.path}: {'OK' if report.ok else f'{len(report.problems)} problem(s)'}")
            return 0 if report.ok else 1
        from twinarm.dataset.reader import LeRobotDatasetReader
        from twinarm.dataset.visualize import contact_sheet, plot_trajectories

        out = args.out or Path("outputs/dataset") / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        if args.rrd is not None:
            from twinarm.compose.viewer import require_rerun

            require_rerun()  # the missing extra is reported before any work
        reader = LeRobotDatasetReader(args.path)
        traj = plot_trajectories(reader, out / "trajectories.png", max_episodes=args.episodes)
        print(f"joint trajectories: {traj}")
        if reader.camera_keys:
            print(f"contact sheet:      {contact_sheet(reader, out / 'contact_sheet.png')}")
        if args.rrd is not None:
            from twinarm.compose.dataset_view import write_dataset_rrd

            episodes = [int(e["episode_index"]) for e in reader.episodes[: args.episodes]]
            rrd = args.rrd if args.rrd != Path() else out / "dataset.rrd"
            print(f"rerun recording:    {write_dataset_rrd(reader, rrd, episodes)} (open with `rerun {rrd}`)")
        return 0
    except DatasetError as e:
        print(f"twinarm dataset {args.action}: {e}", file=sys.stderr)
        return 1
