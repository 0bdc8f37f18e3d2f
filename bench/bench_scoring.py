"""Scoring benchmark: leaderboard() with bootstrap against a plain pandas groupby.

Synthetic campaigns of 8 tasks x 30 episodes x 3 ratings per clip, with 10, 100 and
1,000 teams (7,200 / 72,000 / 720,000 ratings). Teams have graded quality, raters
agree on about three clips in four. For each size
the table shows the time of ``leaderboard()`` (validation, point scores, bootstrap
intervals and rank probabilities), of ``point_scores()`` alone, and of the point
scores written as a plain pandas groupby (checked equal to ours), then the growth
of the leaderboard time against the growth of the data.

Run: ``.venv/bin/python bench/bench_scoring.py [--resamples 1000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.scoring import leaderboard, point_scores  # noqa: E402

N_TASKS = 8
N_EPISODES = 30
N_RATERS = 3


def synthetic_campaign(*, n_teams: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shape = (n_teams, N_TASKS, N_EPISODES)
    quality = rng.uniform(0.3, 2.7, size=n_teams)[:, None, None]
    true_scores = np.clip(np.round(quality + rng.normal(0, 0.9, size=shape)), 0, 3)
    disagreement = (rng.random((*shape, N_RATERS)) < 0.25) * rng.choice([-1, 1], (*shape, N_RATERS))
    scores = np.clip(true_scores[..., None] + disagreement, 0, 3).astype(np.int64)
    team, task, episode, rater = np.indices(scores.shape).reshape(4, -1)
    return pd.DataFrame(
        {
            "task": pd.Series([f"task{k + 1}" for k in range(N_TASKS)]).to_numpy()[task],
            "team": pd.Series([f"team{t}" for t in range(n_teams)]).to_numpy()[team],
            "episode": pd.Series([f"episode_{e}" for e in range(N_EPISODES)]).to_numpy()[episode],
            "rater": pd.Series([f"annotator{r}" for r in range(N_RATERS)]).to_numpy()[rater],
            "score": scores[team, task, episode, rater],
        }
    )


def rated_set() -> dict[str, list[str]]:
    return {f"task{k + 1}": [f"episode_{e}" for e in range(N_EPISODES)] for k in range(N_TASKS)}


def pandas_point_scores(ratings: pd.DataFrame, episodes: dict[str, list[str]]) -> pd.Series:
    """Final scores as a plain groupby: clip means, summed per task over E(task)."""
    clip_means = ratings.groupby(["task", "team", "episode"])["score"].mean()
    task_sums = clip_means.groupby(["team", "task"]).sum().unstack(fill_value=0.0)
    task_sums = task_sums.reindex(columns=list(episodes), fill_value=0.0)
    task_scores = task_sums / pd.Series({task: len(eps) for task, eps in episodes.items()})
    return task_scores.mean(axis=1)


def best_time(action: Callable[[], object], *, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


@dataclass(frozen=True)
class Row:
    n_ratings: int
    n_teams: int
    resamples: int
    leaderboard_s: float
    point_scores_s: float
    pandas_s: float


def measure(*, n_teams: int, resamples: int, repeats: int) -> Row:
    ratings = synthetic_campaign(n_teams=n_teams, seed=n_teams)
    episodes = rated_set()
    ours = point_scores(ratings=ratings, rated_set=episodes)
    reference = pandas_point_scores(ratings, episodes).reindex(list(ours.teams))
    np.testing.assert_allclose(ours.final_scores, reference.to_numpy(), rtol=0, atol=1e-12)
    return Row(
        n_ratings=len(ratings),
        n_teams=n_teams,
        resamples=resamples,
        leaderboard_s=best_time(
            lambda: leaderboard(ratings=ratings, rated_set=episodes, n_boot=resamples, seed=0),
            repeats=repeats,
        ),
        point_scores_s=best_time(
            lambda: point_scores(ratings=ratings, rated_set=episodes), repeats=repeats
        ),
        pandas_s=best_time(lambda: pandas_point_scores(ratings, episodes), repeats=repeats),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs")
    parser.add_argument("--teams", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"{os.cpu_count()} CPUs; best of {args.repeats}"
    )
    header = (
        f"{'ratings':>8} {'teams':>6} {'resamples':>9} {'leaderboard s':>13} "
        f"{'point_scores s':>14} {'pandas groupby s':>16} {'lb / pandas':>11} {'growth':>16}"
    )
    print(header)
    print("-" * len(header))
    previous: Row | None = None
    for n_teams in args.teams:
        row = measure(n_teams=n_teams, resamples=args.resamples, repeats=args.repeats)
        growth = ""
        if previous is not None:
            growth = (
                f"x{row.leaderboard_s / previous.leaderboard_s:.1f} for "
                f"x{row.n_ratings / previous.n_ratings:.0f} data"
            )
        print(
            f"{row.n_ratings:>8} {row.n_teams:>6} {row.resamples:>9} {row.leaderboard_s:>13.3f} "
            f"{row.point_scores_s:>14.3f} {row.pandas_s:>16.3f} "
            f"{row.leaderboard_s / row.pandas_s:>11.1f} {growth:>16}"
        )
        previous = row


if __name__ == "__main__":
    main()
