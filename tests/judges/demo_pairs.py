"""A rendered demo campaign as labelled judge pairs, the way a judge run sees it.

References come as one file per camera; like the ingest, they are laid side by side
into one clip (`annotate.media.composite_side_by_side`) so that they match the teams'
layout. "Human" consensus scores are the true categories with seeded off-by-one
noise, as from raters who disagree now and then by one point.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotate.media import composite_side_by_side
from demo.render import DEFAULT_TEAMS, render_demo
from demo.scene import CAMERAS
from evaluation.judges.base import Pair


@dataclass(frozen=True)
class DemoPairs:
    pairs: list[Pair]
    categories: np.ndarray  # the true rubric category of each pair
    teams: np.ndarray  # the team that made each generated clip
    episodes: np.ndarray  # "task<K>/episode_<N>"


def demo_pairs(
    *,
    folder: Path,
    seed: int,
    n_tasks: int = 4,
    episodes_per_task: int = 6,
    view_size: int = 96,
    fps: int = 12,
    seconds: float = 3.0,
) -> DemoPairs:
    """Render a demo campaign (default teams, no broken or missing clips) and pair its clips."""
    manifest = render_demo(
        out_dir=folder / "demo",
        seed=seed,
        n_tasks=n_tasks,
        episodes_per_task=episodes_per_task,
        teams=DEFAULT_TEAMS,
        view_size=view_size,
        fps=fps,
        seconds=seconds,
        broken_files=False,
        missing_episodes=False,
        debug_files=False,
    )
    composites = folder / "reference_composites"
    composites.mkdir(exist_ok=True)
    pairs, categories, teams, episodes = [], [], [], []
    for team, entry in sorted(manifest.truth["teams"].items()):
        for key, clip in sorted(entry["clips"].items()):
            task, episode = key.split("/")
            reference = composites / f"{task}_{episode}.mp4"
            if not reference.exists():
                composite_side_by_side(
                    [
                        manifest.reference_dir / task / "videos" / camera / f"{episode}.mp4"
                        for camera in CAMERAS
                    ],
                    reference,
                    fps=fps,
                    height=view_size,
                )
            generated = manifest.submissions_dir / team / "test" / task / f"{episode}.mp4"
            pairs.append(Pair(pair_id=f"{team}/{key}", reference=reference, generated=generated))
            categories.append(int(clip["category"]))
            teams.append(team)
            episodes.append(key)
    return DemoPairs(
        pairs=pairs,
        categories=np.array(categories),
        teams=np.array(teams),
        episodes=np.array(episodes),
    )


def noisy_consensus(*, categories: np.ndarray, seed: int, noise: float = 0.15) -> np.ndarray:
    """The categories, each moved one point (up or down, inward at 0 and 3) with probability `noise`."""
    rng = np.random.default_rng(seed)
    flip = rng.random(len(categories)) < noise
    direction = np.where(rng.random(len(categories)) < 0.5, -1, 1)
    direction = np.where(categories == 0, 1, np.where(categories == 3, -1, direction))
    return np.where(flip, categories + direction, categories).astype(np.int64)
