"""Leaderboard benchmark: the full service, from the database to ranked teams with intervals.

Builds campaigns of 8 tasks x 30 episodes x 3 ratings per clip with 10, 100 and
1,000 teams (7,200 / 72,000 / 720,000 ratings) in a throw-away database (SQLite
file by default, PostgreSQL when DATABASE_URL points at one: a ``test_`` database
is created and dropped), with bulk inserts. For each size it times
``campaign_leaderboard()`` (ORM read, coverage, point scores, bootstrap intervals
and rank probabilities; its result cache emptied first), the same call served from
that cache (unchanged data: only the read and the hash), the ORM read alone, and the point scores written as a
plain pandas groupby over the same rows (checked equal to ours); it counts the SQL
queries of the service, and shows how time grows with the data.

Run: ``.venv/bin/python bench/bench_leaderboard.py [--teams 10 100 1000] [--resamples 1000]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from annotate.models import (  # noqa: E402
    Assignment,
    Campaign,
    Clip,
    Episode,
    MediaAsset,
    Rating,
    Submission,
    Task,
    Team,
)
from evaluation import selectors  # noqa: E402

N_TASKS = 8
N_EPISODES = 30
N_RATERS = 3
RATER_POOL = 30
CLIPS_PER_RATER = 10
RATERS_PER_CELL = N_RATERS * N_EPISODES // CLIPS_PER_RATER  # 9: every clip gets 3 ratings
BATCH = 5000
ANSWERS = {
    3: (True, True, None),
    2: (True, False, None),
    1: (False, None, True),
    0: (False, None, False),
}


def synthetic_scores(*, n_teams: int, seed: int) -> np.ndarray:
    """(teams, tasks, episodes, raters) scores: graded team quality, raters mostly agree."""
    rng = np.random.default_rng(seed)
    shape = (n_teams, N_TASKS, N_EPISODES)
    quality = rng.uniform(0.3, 2.7, size=n_teams)[:, None, None]
    true_scores = np.clip(np.round(quality + rng.normal(0, 0.9, size=shape)), 0, 3)
    disagreement = (rng.random((*shape, N_RATERS)) < 0.25) * rng.choice([-1, 1], (*shape, N_RATERS))
    return np.clip(true_scores[..., None] + disagreement, 0, 3).astype(np.int64)


def rater_index(*, clip_index: int, slot: int) -> int:
    """The pool index of a clip's ``slot``-th rater, within the campaign's caps.

    Clips come team by team, task by task. Each cell (team, task) splits its 30
    clips into 3 groups of 10, each rated by its own 3 raters: 9 distinct raters
    per cell, 10 clips each, as the planner would lay it out.
    """
    team, rest = divmod(clip_index, N_TASKS * N_EPISODES)
    task, episode = divmod(rest, N_EPISODES)
    base = (team * 7 + task * 11) % RATER_POOL
    return (base + (episode // CLIPS_PER_RATER) * N_RATERS + slot) % RATER_POOL


def build_campaign(*, n_teams: int, raters: list, asset: MediaAsset, seed: int) -> Campaign:
    campaign = Campaign.objects.create(
        slug=f"bench-{n_teams}",
        name=f"Bench {n_teams}",
        seed=seed,
        raters_per_cell=RATERS_PER_CELL,
        max_clips_per_rater=CLIPS_PER_RATER,
    )
    tasks = Task.objects.bulk_create(
        Task(campaign=campaign, key=f"task{k + 1}", number=k + 1) for k in range(N_TASKS)
    )
    episodes = Episode.objects.bulk_create(
        Episode(task=task, key=f"episode_{e}", number=e, reference=asset)
        for task in tasks
        for e in range(N_EPISODES)
    )
    teams = Team.objects.bulk_create(
        Team(campaign=campaign, name=f"team{t:04d}") for t in range(n_teams)
    )
    submissions = Submission.objects.bulk_create(Submission(team=team, version=1) for team in teams)
    clips = Clip.objects.bulk_create(
        (
            Clip(submission=submission, episode=episode, asset=asset, source_name=episode.key)
            for submission in submissions
            for episode in episodes
        ),
        batch_size=BATCH,
    )
    scores = synthetic_scores(n_teams=n_teams, seed=seed).reshape(-1)
    assignments = Assignment.objects.bulk_create(
        (
            Assignment(
                campaign=campaign,
                annotator=raters[rater_index(clip_index=c, slot=r)],
                clip=clip,
                status=Assignment.Status.DONE,
            )
            for c, clip in enumerate(clips)
            for r in range(N_RATERS)
        ),
        batch_size=BATCH,
    )
    Rating.objects.bulk_create(
        (
            Rating(
                assignment=assignment,
                clip_id=assignment.clip_id,
                annotator_id=assignment.annotator_id,
                score=int(score),
                final_state=ANSWERS[int(score)][0],
                clean=ANSWERS[int(score)][1],
                motion=ANSWERS[int(score)][2],
            )
            for assignment, score in zip(assignments, scores, strict=True)
        ),
        batch_size=BATCH,
    )
    return campaign


def pandas_point_scores(campaign: Campaign) -> pd.Series:
    """The point scores as a plain ORM read plus a pandas groupby, no bootstrap."""
    rows = Rating.objects.filter(clip__submission__team__campaign=campaign).values_list(
        "clip__episode__task__key", "clip__submission__team__name", "clip__episode__key", "score"
    )
    ratings = pd.DataFrame(list(rows), columns=["task", "team", "episode", "score"])
    clip_means = ratings.groupby(["task", "team", "episode"])["score"].mean()
    task_scores = clip_means.groupby(["team", "task"]).sum().unstack(fill_value=0.0) / N_EPISODES
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
    build_s: float
    service_s: float
    cached_s: float
    read_s: float
    pandas_s: float
    queries: int


def cold_leaderboard(campaign: Campaign, parameters: selectors.ScoringParameters) -> object:
    """The whole service with the bootstrap recomputed (its result cache emptied first)."""
    cache.clear()
    return selectors.campaign_leaderboard(campaign=campaign, parameters=parameters)


def measure(*, n_teams: int, resamples: int, repeats: int, raters: list, asset) -> Row:
    start = time.perf_counter()
    campaign = build_campaign(n_teams=n_teams, raters=raters, asset=asset, seed=n_teams)
    build_s = time.perf_counter() - start
    parameters = selectors.ScoringParameters(n_boot=resamples, seed=0)
    cache.clear()
    # The log keeps only the last 9,000 queries, which the bulk inserts above fill:
    # empty it, or the count below would read 0.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        result = selectors.campaign_leaderboard(campaign=campaign, parameters=parameters)
    reference = pandas_point_scores(campaign)
    ours = pd.Series({s.team: s.final_score for s in result.board.teams})
    assert np.allclose(ours.sort_index().to_numpy(), reference.sort_index().to_numpy())
    assert result.n_ratings == n_teams * N_TASKS * N_EPISODES * N_RATERS
    return Row(
        n_ratings=result.n_ratings,
        n_teams=n_teams,
        resamples=resamples,
        build_s=build_s,
        service_s=best_time(lambda: cold_leaderboard(campaign, parameters), repeats=repeats),
        cached_s=best_time(
            lambda: selectors.campaign_leaderboard(campaign=campaign, parameters=parameters),
            repeats=repeats,
        ),
        read_s=best_time(
            lambda: selectors.ratings_frame(campaign=campaign, detailed=False), repeats=repeats
        ),
        pandas_s=best_time(lambda: pandas_point_scores(campaign), repeats=repeats),
        queries=len(queries),
    )


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        ram_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{ram_kb / 1024**2:.0f} GiB RAM"
    except (OSError, StopIteration):
        ram = "unknown RAM"
    return f"{os.cpu_count()} CPUs ({cpu}), {ram}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument(
        "--largest-resamples",
        type=int,
        default=None,
        help="resamples for the largest size only (default: --resamples)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test_settings["NAME"] = str(
            Path(tempfile.mkdtemp(prefix="bench-leaderboard-")) / "bench.sqlite3"
        )
    else:
        # Its own name: never clobber the test database of a test run going on beside it.
        test_settings["NAME"] = f"bench_leaderboard_{os.getpid()}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    if connection.vendor == "sqlite":
        # A throw-away file: skip the fsyncs that make building it slow. Reads,
        # which are what is measured, do not depend on these settings.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA journal_mode = MEMORY")
    try:
        User = get_user_model()
        raters = User.objects.bulk_create(
            User(username=f"bench-rater-{i}") for i in range(RATER_POOL)
        )
        asset = MediaAsset.objects.create(
            sha256="0" * 64, original="bench.mp4", size_bytes=1, codec="h264", width=672,
            height=224, fps=24.0, frame_count=72, duration_s=3.0,
        )  # fmt: skip
        print(f"Machine: {machine()}; database: {connection.vendor}")
        rows = []
        for i, n_teams in enumerate(sorted(args.teams)):
            largest = i == len(args.teams) - 1
            resamples = (args.largest_resamples or args.resamples) if largest else args.resamples
            row = measure(
                n_teams=n_teams,
                resamples=resamples,
                repeats=1 if largest and n_teams >= 1000 else args.repeats,
                raters=raters,
                asset=asset,
            )
            rows.append(row)
            print(f"  built {row.n_ratings:,} ratings in {row.build_s:.1f} s", file=sys.stderr)
        print()
        print(
            "| ratings | teams | resamples | service (s) | service, cached (s) | ORM read (s) "
            "| pandas groupby (s) | service / pandas | SQL queries |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            print(
                f"| {row.n_ratings:,} | {row.n_teams} | {row.resamples} | {row.service_s:.3f} "
                f"| {row.cached_s:.3f} | {row.read_s:.3f} | {row.pandas_s:.3f} | {row.service_s / row.pandas_s:.1f}x "
                f"| {row.queries} |"
            )
        print()
        for before, after in zip(rows, rows[1:], strict=False):
            print(
                f"{before.n_ratings:,} -> {after.n_ratings:,} ratings "
                f"(x{after.n_ratings / before.n_ratings:.0f}): service time "
                f"x{after.service_s / before.service_s:.1f}, queries "
                f"{before.queries} -> {after.queries}"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
