"""Bootstrap intervals, rank probabilities and the paired release-gate comparison.

One bootstrap replicate resamples, within each task, the rated episodes with
replacement (the same draw for every team, so teams stay comparable and paired),
then, for every drawn clip, its ratings with replacement. Scores of a replicate are
computed exactly as the point scores are (:mod:`evaluation.scoring.protocol`).

Everything is vectorized over replicates, teams, episodes and rating slots; the only
Python loops run over tasks and over memory-bounded chunks of replicates.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.scoring.protocol import (
    SCORE_MAX,
    PointScores,
    PreparedRatings,
    RatedSet,
    ScoringInputError,
    TaskCube,
    competition_ranks,
    natural_key,
    point_scores_of,
    prepare_ratings,
)

# Elements of one (teams x replicates x episodes [x slots]) block of draws: small
# enough to stay in cache (measured fastest near this size), and memory stays flat
# whatever the campaign size.
_CHUNK_ELEMENTS = 262_144
# A clip with n ratings has n**n resampling outcomes; up to 4 ratings (256 outcomes)
# they are tabulated, beyond that ratings are drawn slot by slot.
_MAX_RATINGS_FOR_OUTCOME_TABLE = 4
# The most resamples an entry point (API, page, command) accepts: intervals are stable
# long before, while time and memory grow with the count (1e8 resamples need gigabytes).
MAX_RESAMPLES = 20_000


@dataclass(frozen=True)
class BootstrapReplicates:
    task_scores: np.ndarray  # (n_boot, n_teams, n_tasks)
    final_scores: np.ndarray  # (n_boot, n_teams)


def _check_n_boot(n_boot: int) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ScoringInputError(f"n_boot must be a positive integer, got {n_boot!r}")


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ScoringInputError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def _check_bootstrap_arguments(*, n_boot: int, confidence: float) -> None:
    _check_n_boot(n_boot)
    _check_confidence(confidence)


def bootstrap_replicates(
    *, prepared: PreparedRatings, n_boot: int, seed: int | None = 0
) -> BootstrapReplicates:
    """Task and final scores of ``n_boot`` replicates, reproducible for a given seed."""
    _check_n_boot(n_boot)
    rng = np.random.default_rng(seed)
    task_scores = np.stack(
        [_task_replicates(cube=cube, n_boot=n_boot, rng=rng) for cube in prepared.cubes],
        axis=-1,
    )
    return BootstrapReplicates(task_scores=task_scores, final_scores=task_scores.mean(axis=-1))


def _task_replicates(*, cube: TaskCube, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_boot, n_teams)`` replicates of ``S(team, task)`` for one task."""
    n_teams, n_episodes, n_slots = cube.values.shape
    if n_episodes == 0:
        return np.zeros((n_boot, n_teams))
    drawn_episodes = rng.integers(0, n_episodes, size=(n_boot, n_episodes))
    if n_slots <= _MAX_RATINGS_FOR_OUTCOME_TABLE:
        return _replicates_by_outcome_table(cube=cube, drawn_episodes=drawn_episodes, rng=rng)
    return _replicates_by_slot_draws(cube=cube, drawn_episodes=drawn_episodes, rng=rng)


def _replicates_by_outcome_table(
    *, cube: TaskCube, drawn_episodes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Resample ratings with one uniform draw per drawn clip.

    A clip with n ratings has n**n equally likely ways to resample them. Clips
    sharing the same multiset of ratings share a row of a small table holding the
    mean of each way, so a replicate clip score is a single table lookup instead of
    n draws and n lookups.
    """
    n_boot = drawn_episodes.shape[0]
    n_teams, n_episodes, _ = cube.values.shape
    clip_types, n_outcomes, outcome_means = _clip_type_tables(cube)
    # float32 and int32 halve memory traffic, which is what bounds this loop.
    clip_limits = n_outcomes[clip_types].astype(np.float32)
    clip_offsets = (clip_types * outcome_means.shape[1]).astype(np.int32)
    outcome_means_flat = outcome_means.reshape(-1)
    result = np.empty((n_boot, n_teams))
    chunk = max(1, _CHUNK_ELEMENTS // (n_teams * n_episodes))
    for start in range(0, n_boot, chunk):
        episodes = drawn_episodes[start : start + chunk]
        picks = rng.random((n_teams, *episodes.shape), dtype=np.float32)  # (T, chunk, E)
        # With round-to-nearest, u * m stays below m for u < 1, so the floor is a
        # valid outcome 0..m-1. float32 uniforms come in steps of 2**-24, which
        # skews outcome odds by under 2e-5 (m <= 256): far below bootstrap noise.
        picks *= clip_limits[:, episodes]
        outcomes = picks.astype(np.int32)
        outcomes += clip_offsets[:, episodes]
        result[start : start + chunk] = outcome_means_flat[outcomes].mean(axis=-1).T
    return result


def _clip_type_tables(cube: TaskCube) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per clip a type code; per type the number of resampling outcomes and their means."""
    n_slots = cube.values.shape[-1]
    filled = np.arange(n_slots) < cube.n_ratings[..., None]
    # Empty slots sort last, so each clip reads as (n, sorted filled scores).
    ordered = np.sort(np.where(filled, cube.values, SCORE_MAX + 1), axis=-1).astype(np.int64)
    base = SCORE_MAX + 2
    keys = cube.n_ratings * base**n_slots + (ordered * base ** np.arange(n_slots)).sum(axis=-1)
    unique_keys, clip_types = np.unique(keys, return_inverse=True)
    n_outcomes = np.ones(len(unique_keys), dtype=np.int64)
    rows = []
    for i, key in enumerate(unique_keys.tolist()):
        n = key // base**n_slots
        scores = [(key // base**slot) % base for slot in range(n)]
        if n == 0:
            rows.append([0.0])
            continue
        n_outcomes[i] = n**n
        rows.append([sum(pick) / n for pick in itertools.product(scores, repeat=n)])
    width = max(len(row) for row in rows)
    outcome_means = np.zeros((len(rows), width))
    for i, row in enumerate(rows):
        outcome_means[i, : len(row)] = row
    return clip_types.reshape(cube.n_ratings.shape), n_outcomes, outcome_means


def _replicates_by_slot_draws(
    *, cube: TaskCube, drawn_episodes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Resample ratings slot by slot; used when clips carry many ratings."""
    n_boot = drawn_episodes.shape[0]
    n_teams, n_episodes, n_slots = cube.values.shape
    n_ratings = cube.n_ratings
    values_flat = cube.values.reshape(-1)
    team_offsets = (np.arange(n_teams) * n_episodes)[:, None, None]
    slot_numbers = np.arange(n_slots)
    result = np.empty((n_boot, n_teams))
    chunk = max(1, _CHUNK_ELEMENTS // (n_teams * n_episodes * n_slots))
    for start in range(0, n_boot, chunk):
        episodes = drawn_episodes[start : start + chunk]  # (chunk, E)
        n_drawn = n_ratings[:, episodes]  # (T, chunk, E)
        uniforms = rng.random((*n_drawn.shape, n_slots))
        slots = (uniforms * n_drawn[..., None]).astype(np.int64)
        np.minimum(slots, np.maximum(n_drawn - 1, 0)[..., None], out=slots)
        slots += ((team_offsets + episodes[None]) * n_slots)[..., None]
        picked = values_flat[slots] * (slot_numbers < n_drawn[..., None])
        sums = picked.sum(axis=-1, dtype=np.float64)
        means = np.divide(sums, n_drawn, out=np.zeros_like(sums), where=n_drawn > 0)
        result[start : start + chunk] = means.mean(axis=-1).T
    return result


def percentile_interval(
    replicates: np.ndarray, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided percentile interval along the replicate axis (axis 0)."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail], axis=0)
    return low, high


def rank_distribution(final_scores: np.ndarray) -> np.ndarray:
    """``(n_teams, n_teams)`` probabilities: row = team, column = rank - 1."""
    n_boot, n_teams = final_scores.shape
    ranks = competition_ranks(final_scores)  # (n_boot, n_teams)
    cells = np.arange(n_teams)[None, :] * n_teams + (ranks - 1)
    counts = np.bincount(cells.ravel(), minlength=n_teams * n_teams)
    return counts.reshape(n_teams, n_teams) / n_boot


@dataclass(frozen=True)
class RatingCounts:
    n3: int
    n2: int
    n1: int
    n0: int


@dataclass(frozen=True)
class TaskScore:
    task: str
    score: float
    ci_low: float
    ci_high: float
    counts: RatingCounts
    n_clips_rated: int
    n_expected: int
    n_ratings: int


@dataclass(frozen=True)
class TeamStanding:
    team: str
    rank: int
    final_score: float
    ci_low: float
    ci_high: float
    rank_probability: float  # probability of holding ``rank`` over the replicates
    rank_distribution: dict[int, float]  # rank -> probability, ranks never held left out
    tasks: dict[str, TaskScore] = field(default_factory=dict)


@dataclass(frozen=True)
class Leaderboard:
    teams: list[TeamStanding]  # best first
    tasks: list[str]
    n_boot: int
    seed: int | None
    confidence: float

    def standing(self, team: str) -> TeamStanding:
        for standing in self.teams:
            if standing.team == team:
                return standing
        raise KeyError(team)

    def to_frame(self) -> pd.DataFrame:
        """rank, team, final_score, ci_low, ci_high, then one score column per task."""
        columns = ["rank", "team", "final_score", "ci_low", "ci_high", *self.tasks]
        rows = [
            [
                standing.rank,
                standing.team,
                standing.final_score,
                standing.ci_low,
                standing.ci_high,
                *(standing.tasks[task].score for task in self.tasks),
            ]
            for standing in self.teams
        ]
        return pd.DataFrame(rows, columns=columns)

    def to_records(self) -> list[dict[str, object]]:
        """JSON-ready rows: rank, team, final_score, ci_low, ci_high, rank_probability, tasks."""
        return [
            {
                "rank": standing.rank,
                "team": standing.team,
                "final_score": standing.final_score,
                "ci_low": standing.ci_low,
                "ci_high": standing.ci_high,
                "rank_probability": standing.rank_probability,
                "tasks": {task: standing.tasks[task].score for task in self.tasks},
            }
            for standing in self.teams
        ]

    def task_frame(self) -> pd.DataFrame:
        """One row per team and task with interval, counts and coverage."""
        rows = []
        for standing in self.teams:
            for task in self.tasks:
                score = standing.tasks[task]
                rows.append(
                    {
                        "team": standing.team,
                        "task": task,
                        "score": score.score,
                        "ci_low": score.ci_low,
                        "ci_high": score.ci_high,
                        "n3": score.counts.n3,
                        "n2": score.counts.n2,
                        "n1": score.counts.n1,
                        "n0": score.counts.n0,
                        "n_clips_rated": score.n_clips_rated,
                        "n_expected": score.n_expected,
                        "n_ratings": score.n_ratings,
                    }
                )
        return pd.DataFrame(rows)


def leaderboard(
    *,
    ratings: pd.DataFrame,
    rated_set: RatedSet | None = None,
    tasks: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> Leaderboard:
    """Ranked teams with bootstrap intervals and rank probabilities.

    See :func:`evaluation.scoring.protocol.prepare_ratings` for ``rated_set``,
    ``tasks`` and ``teams``.
    """
    _check_bootstrap_arguments(n_boot=n_boot, confidence=confidence)
    prepared = prepare_ratings(ratings=ratings, rated_set=rated_set, tasks=tasks, teams=teams)
    return leaderboard_of(prepared=prepared, n_boot=n_boot, seed=seed, confidence=confidence)


def leaderboard_of(
    *, prepared: PreparedRatings, n_boot: int = 1000, seed: int | None = 0, confidence: float = 0.95
) -> Leaderboard:
    _check_bootstrap_arguments(n_boot=n_boot, confidence=confidence)
    points = point_scores_of(prepared)
    replicates = bootstrap_replicates(prepared=prepared, n_boot=n_boot, seed=seed)
    final_low, final_high = percentile_interval(replicates.final_scores, confidence=confidence)
    task_low, task_high = percentile_interval(replicates.task_scores, confidence=confidence)
    distribution = rank_distribution(replicates.final_scores)
    standings = [
        _standing(
            points=points,
            index=i,
            final_interval=(float(final_low[i]), float(final_high[i])),
            task_intervals=(task_low[i], task_high[i]),
            distribution=distribution[i],
        )
        for i in range(len(points.teams))
    ]
    standings.sort(key=lambda standing: (standing.rank, natural_key(standing.team)))
    return Leaderboard(
        teams=standings,
        tasks=list(points.tasks),
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )


def _standing(
    *,
    points: PointScores,
    index: int,
    final_interval: tuple[float, float],
    task_intervals: tuple[np.ndarray, np.ndarray],
    distribution: np.ndarray,
) -> TeamStanding:
    rank = int(points.ranks[index])
    tasks = {}
    for k, task in enumerate(points.tasks):
        n0, n1, n2, n3 = (int(count) for count in points.counts[index, k])
        tasks[task] = TaskScore(
            task=task,
            score=float(points.task_scores[index, k]),
            ci_low=float(task_intervals[0][k]),
            ci_high=float(task_intervals[1][k]),
            counts=RatingCounts(n3=n3, n2=n2, n1=n1, n0=n0),
            n_clips_rated=int(points.n_clips_rated[index, k]),
            n_expected=int(points.n_expected[k]),
            n_ratings=int(points.n_ratings[index, k]),
        )
    return TeamStanding(
        team=points.teams[index],
        rank=rank,
        final_score=float(points.final_scores[index]),
        ci_low=final_interval[0],
        ci_high=final_interval[1],
        rank_probability=float(distribution[rank - 1]),
        rank_distribution={r + 1: float(p) for r, p in enumerate(distribution) if p > 0.0},
        tasks=tasks,
    )


@dataclass(frozen=True)
class PairedComparison:
    """Candidate minus incumbent, on the same resampled episodes and tasks."""

    candidate: str
    incumbent: str
    margin: float
    confidence: float
    n_boot: int
    candidate_score: float
    incumbent_score: float
    difference: float
    ci_low: float
    ci_high: float
    p_value_two_sided: float  # against "no difference"
    p_value_one_sided: float  # against "the candidate does not beat the incumbent by margin"
    beats_incumbent: bool
    verdict: str  # "pass" or "fail"
    task_differences: dict[str, float]

    @property
    def summary(self) -> str:
        outcome = "beats" if self.beats_incumbent else "is not shown to beat"
        return (
            f"{self.candidate} {outcome} {self.incumbent} by at least {self.margin:g}: "
            f"difference {self.difference:+.4f} "
            f"[{self.ci_low:+.4f}, {self.ci_high:+.4f}] at {self.confidence:.0%}, "
            f"one-sided p = {self.p_value_one_sided:.4f}"
        )


def paired_comparison(
    *,
    ratings: pd.DataFrame,
    rated_set: RatedSet | None,
    candidate: str,
    incumbent: str,
    margin: float = 0.0,
    n_boot: int = 2000,
    seed: int | None = 0,
    confidence: float = 0.95,
    tasks: Sequence[str] | None = None,
) -> PairedComparison:
    """Release gate: does ``candidate`` beat ``incumbent`` by at least ``margin``?

    Both teams are scored on the same rated set and each replicate draws the same
    episodes for both, so the comparison is paired. p-values are percentile-bootstrap
    ones, consistent with the reported interval: the one-sided p is the share of
    replicates whose difference is at most ``margin`` (with the usual +1 correction),
    and the gate passes when it is below ``1 - confidence``.
    """
    _check_bootstrap_arguments(n_boot=n_boot, confidence=confidence)
    candidate, incumbent = str(candidate), str(incumbent)
    if candidate == incumbent:
        raise ScoringInputError("candidate and incumbent must be different teams")
    if "team" not in getattr(ratings, "columns", ()):
        raise ScoringInputError("ratings lack column(s) team")
    known_teams = set(ratings["team"].astype(str).unique())
    for role, team in (("candidate", candidate), ("incumbent", incumbent)):
        if team not in known_teams:
            raise ScoringInputError(f"{role} team {team!r} has no ratings")
    pair = ratings[ratings["team"].astype(str).isin([candidate, incumbent])]
    prepared = prepare_ratings(
        ratings=pair, rated_set=rated_set, tasks=tasks, teams=[candidate, incumbent]
    )
    points = point_scores_of(prepared)
    replicates = bootstrap_replicates(prepared=prepared, n_boot=n_boot, seed=seed)
    difference = float(points.final_scores[0] - points.final_scores[1])
    replicate_differences = replicates.final_scores[:, 0] - replicates.final_scores[:, 1]
    ci_low, ci_high = percentile_interval(replicate_differences, confidence=confidence)
    # Rounding keeps float noise from counting an exact tie as a win or a loss.
    rounded = np.round(replicate_differences, 12)
    at_most_margin = int((rounded <= round(margin, 12)).sum())
    at_most_zero = int((rounded <= 0.0).sum())
    at_least_zero = int((rounded >= 0.0).sum())
    p_one_sided = (at_most_margin + 1) / (n_boot + 1)
    p_two_sided = min(1.0, 2.0 * (min(at_most_zero, at_least_zero) + 1) / (n_boot + 1))
    beats = bool(p_one_sided < 1.0 - confidence)
    return PairedComparison(
        candidate=candidate,
        incumbent=incumbent,
        margin=float(margin),
        confidence=confidence,
        n_boot=n_boot,
        candidate_score=float(points.final_scores[0]),
        incumbent_score=float(points.final_scores[1]),
        difference=difference,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        p_value_two_sided=float(p_two_sided),
        p_value_one_sided=float(p_one_sided),
        beats_incumbent=beats,
        verdict="pass" if beats else "fail",
        task_differences={
            task: float(points.task_scores[0, k] - points.task_scores[1, k])
            for k, task in enumerate(points.tasks)
        },
    )
