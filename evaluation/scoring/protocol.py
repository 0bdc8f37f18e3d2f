"""Point scores of the 0-3 protocol: clip, team-task and final scores, and ranks.

Definitions (see DESIGN.md, "The protocol, made exact"):

- the rated set ``E(task)`` is the same list of episodes for every team;
- ``s(clip)`` is the mean of the clip's ratings;
- ``S(team, task)`` is the mean of ``s`` over ``E(task)``, a clip that is missing,
  rejected or unrated counting 0 (the protocol's ground-truth denominator);
- the final score is the mean of ``S`` over all tasks of the campaign;
- ranks are competition ranks (1, 2, 2, 4) on scores rounded to ``RANK_DECIMALS``.

Ratings are held as one dense cube per task (teams x episodes x rating slots) so that
the bootstrap in :mod:`evaluation.scoring.bootstrap` can resample them with numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

# The one natural order of the project, shared with ingest and the planner (re-exported).
from annotate.natural_order import natural_key as natural_key
from annotate.natural_order import natural_sorted as natural_sorted

SCORE_MIN = 0
SCORE_MAX = 3
RATING_COLUMNS = ("task", "team", "episode", "rater", "score")
# Scores are means of small integers; rounding before comparing keeps float noise
# (0.1 + 0.2 style) from splitting teams that are tied on paper.
RANK_DECIMALS = 12

RatedSet = Mapping[str, Sequence[str]]


class ScoringInputError(ValueError):
    """Ratings or campaign structure that cannot be scored; the message says why."""


def competition_ranks(scores: np.ndarray, *, decimals: int = RANK_DECIMALS) -> np.ndarray:
    """Ranks by score descending, ties sharing the best rank (1, 2, 2, 4).

    Works on the last axis, so a (replicates x teams) array is ranked row by row.
    """
    rounded = np.round(np.asarray(scores, dtype=np.float64), decimals)
    return rankdata(-rounded, method="min", axis=-1).astype(np.int64)


@dataclass(frozen=True)
class TaskCube:
    """All ratings of one task, dense: ``values[team, episode, slot]``.

    ``n_ratings[team, episode]`` says how many slots of a clip are filled; empty
    slots hold 0. A clip with no rating (not submitted, rejected, not rated yet)
    has ``n_ratings == 0``.
    """

    task: str
    episodes: tuple[str, ...]
    values: np.ndarray  # int8, (n_teams, n_episodes, max_ratings)
    n_ratings: np.ndarray  # int64, (n_teams, n_episodes)

    @property
    def n_expected(self) -> int:
        return len(self.episodes)

    def clip_scores(self) -> np.ndarray:
        """``s(clip)`` for every team x episode, 0 where a clip has no rating."""
        sums = self.values.sum(axis=-1, dtype=np.float64)
        return np.divide(sums, self.n_ratings, out=np.zeros_like(sums), where=self.n_ratings > 0)

    def task_scores(self) -> np.ndarray:
        """``S(team, task)`` for every team; 0 when the task has no rated episode."""
        if self.n_expected == 0:
            return np.zeros(self.values.shape[0])
        return self.clip_scores().mean(axis=1)

    def score_counts(self) -> np.ndarray:
        """``(n_teams, 4)`` counts of ratings scored 0, 1, 2, 3."""
        filled = np.arange(self.values.shape[-1]) < self.n_ratings[..., None]
        counts = np.stack(
            [((self.values == score) & filled).sum(axis=(1, 2)) for score in range(4)],
            axis=1,
        )
        return counts.astype(np.int64)


@dataclass(frozen=True)
class PreparedRatings:
    """Validated ratings of a campaign, one cube per task, teams in a fixed order."""

    teams: tuple[str, ...]
    tasks: tuple[str, ...]
    cubes: tuple[TaskCube, ...]


@dataclass(frozen=True)
class PointScores:
    teams: tuple[str, ...]
    tasks: tuple[str, ...]
    task_scores: np.ndarray  # (n_teams, n_tasks)
    final_scores: np.ndarray  # (n_teams,)
    ranks: np.ndarray  # (n_teams,)
    counts: np.ndarray  # (n_teams, n_tasks, 4): ratings scored 0, 1, 2, 3
    n_clips_rated: np.ndarray  # (n_teams, n_tasks)
    n_ratings: np.ndarray  # (n_teams, n_tasks)
    n_expected: np.ndarray  # (n_tasks,)

    def to_frame(self) -> pd.DataFrame:
        """One row per team and task, long form."""
        rows = []
        for i, team in enumerate(self.teams):
            for k, task in enumerate(self.tasks):
                n0, n1, n2, n3 = (int(c) for c in self.counts[i, k])
                rows.append(
                    {
                        "team": team,
                        "task": task,
                        "score": float(self.task_scores[i, k]),
                        "n3": n3,
                        "n2": n2,
                        "n1": n1,
                        "n0": n0,
                        "n_clips_rated": int(self.n_clips_rated[i, k]),
                        "n_expected": int(self.n_expected[k]),
                        "n_ratings": int(self.n_ratings[i, k]),
                        "final_score": float(self.final_scores[i]),
                        "rank": int(self.ranks[i]),
                    }
                )
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class _CodedRatings:
    """Validated ratings as integer codes; ``*_names[code]`` gives the string back."""

    frame: pd.DataFrame
    task_codes: np.ndarray
    task_names: pd.Index
    team_codes: np.ndarray
    team_names: pd.Index
    episode_codes: np.ndarray
    episode_names: pd.Index
    slots: np.ndarray  # position of each rating among its clip's ratings
    scores: np.ndarray  # int8


def validate_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """Checked copy of ``ratings`` with string keys and integer scores 0-3."""
    return _coded_ratings(ratings).frame


def _coded_ratings(ratings: pd.DataFrame) -> _CodedRatings:
    if not isinstance(ratings, pd.DataFrame):
        raise ScoringInputError(f"ratings must be a pandas DataFrame, got {type(ratings)!r}")
    missing = [column for column in RATING_COLUMNS if column not in ratings.columns]
    if missing:
        raise ScoringInputError(f"ratings lack column(s) {', '.join(missing)}")
    frame = ratings.loc[:, list(RATING_COLUMNS)].reset_index(drop=True)
    codes = {}
    names = {}
    for column in ("task", "team", "episode", "rater"):
        codes[column], names[column] = _string_codes(frame[column], column=column)
        frame[column] = names[column].to_numpy()[codes[column]]
    null_scores = np.flatnonzero(frame["score"].isna().to_numpy())
    if len(null_scores):
        raise ScoringInputError(f"ratings column 'score' is empty in row {null_scores[0]}")
    frame["score"] = _integer_scores(frame["score"])
    clip_keys = (codes["task"] * len(names["team"]) + codes["team"]) * len(
        names["episode"]
    ) + codes["episode"]
    rating_keys = clip_keys * len(names["rater"]) + codes["rater"]
    order = np.argsort(rating_keys, kind="stable")
    sorted_keys = rating_keys[order]
    repeated = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
    if len(repeated):
        row = frame.iloc[order[repeated[0] + 1]]
        raise ScoringInputError(
            f"rater {row['rater']!r} rated clip {row['team']}/{row['task']}/{row['episode']} "
            "more than once"
        )
    sorted_clips = clip_keys[order]
    starts_clip = np.ones(len(order), dtype=bool)
    starts_clip[1:] = sorted_clips[1:] != sorted_clips[:-1]
    positions = np.arange(len(order))
    clip_start = np.maximum.accumulate(np.where(starts_clip, positions, 0))
    slots = np.empty(len(order), dtype=np.int64)
    slots[order] = positions - clip_start
    return _CodedRatings(
        frame=frame,
        task_codes=codes["task"],
        task_names=names["task"],
        team_codes=codes["team"],
        team_names=names["team"],
        episode_codes=codes["episode"],
        episode_names=names["episode"],
        slots=slots,
        scores=frame["score"].to_numpy(dtype=np.int8),
    )


def _string_codes(values: pd.Series, *, column: str) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of a key column, as strings (so 17 and "17" are one key)."""
    # factorize first: hashing the original values is cheaper than converting every
    # row to str, and it marks missing values with -1 for free.
    raw_codes, raw_names = pd.factorize(values)
    missing = np.flatnonzero(raw_codes < 0)
    if len(missing):
        raise ScoringInputError(f"ratings column {column!r} is empty in row {missing[0]}")
    name_codes, names = pd.factorize(pd.Index(raw_names).astype(str))
    return name_codes[raw_codes], pd.Index(names, dtype=object)


def _integer_scores(scores: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(scores) or not pd.api.types.is_numeric_dtype(scores):
        raise ScoringInputError(f"ratings column 'score' must be integers 0-3, got {scores.dtype}")
    values = scores.to_numpy(dtype=np.float64)
    not_integral = np.flatnonzero(values != np.round(values))
    if len(not_integral):
        first = not_integral[0]
        raise ScoringInputError(f"score {values[first]!r} is not an integer (row {first})")
    out_of_range = np.flatnonzero((values < SCORE_MIN) | (values > SCORE_MAX))
    if len(out_of_range):
        first = out_of_range[0]
        raise ScoringInputError(
            f"score {int(values[first])} is outside {SCORE_MIN}-{SCORE_MAX} (row {first})"
        )
    return pd.Series(values.astype(np.int64), index=scores.index)


def prepare_ratings(
    *,
    ratings: pd.DataFrame,
    rated_set: RatedSet | None = None,
    tasks: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
) -> PreparedRatings:
    """Validate ratings against the campaign and lay them out as per-task cubes.

    ``rated_set`` maps each task to ``E(task)``; without it, the episodes seen in
    the ratings of a task form its rated set. ``tasks`` lists all tasks of the
    campaign (a task nobody submitted to still counts, as 0); without it, the tasks
    of ``rated_set`` and of the ratings. ``teams`` lists the teams to rank (a team
    with no rating scores 0); without it, the teams seen in the ratings.
    """
    coded = _coded_ratings(ratings)
    rated = _rated_set(coded=coded, rated_set=rated_set)
    task_list = _task_list(coded=coded, rated=rated, tasks=tasks)
    team_list = _team_list(coded=coded, teams=teams)
    team_positions = pd.Index(team_list, dtype=object).get_indexer(coded.team_names)
    team_of_row = team_positions[coded.team_codes]
    max_slots = int(coded.slots.max()) + 1 if len(coded.slots) else 1
    cubes = []
    for task in task_list:
        episodes = rated.get(task, ())
        # -1 (a task without ratings) matches no row: codes of real values are >= 0.
        rows = np.flatnonzero(coded.task_codes == coded.task_names.get_indexer([task])[0])
        episode_of_row = _episode_positions(coded=coded, episodes=episodes)[
            coded.episode_codes[rows]
        ]
        values = np.zeros((len(team_list), len(episodes), max_slots), dtype=np.int8)
        n_ratings = np.zeros((len(team_list), len(episodes)), dtype=np.int64)
        values[team_of_row[rows], episode_of_row, coded.slots[rows]] = coded.scores[rows]
        np.add.at(n_ratings, (team_of_row[rows], episode_of_row), 1)
        cubes.append(
            TaskCube(task=task, episodes=tuple(episodes), values=values, n_ratings=n_ratings)
        )
    return PreparedRatings(teams=tuple(team_list), tasks=tuple(task_list), cubes=tuple(cubes))


def _episode_positions(*, coded: _CodedRatings, episodes: Sequence[str]) -> np.ndarray:
    """For each episode code of the ratings, its position in ``episodes`` (-1 if absent)."""
    return pd.Index(list(episodes), dtype=object).get_indexer(coded.episode_names)


def _rated_set(*, coded: _CodedRatings, rated_set: RatedSet | None) -> dict[str, tuple[str, ...]]:
    pairs = pd.DataFrame(
        {"task": coded.task_codes, "episode": coded.episode_codes}
    ).drop_duplicates()
    seen: dict[str, list[str]] = {}
    for task_code, episode_code in zip(pairs["task"], pairs["episode"], strict=True):
        seen.setdefault(coded.task_names[task_code], []).append(coded.episode_names[episode_code])
    if rated_set is None:
        return {task: tuple(natural_sorted(episodes)) for task, episodes in seen.items()}
    rated: dict[str, tuple[str, ...]] = {}
    for task, episodes in rated_set.items():
        episode_list = tuple(str(episode) for episode in episodes)
        if len(set(episode_list)) != len(episode_list):
            raise ScoringInputError(f"rated set of task {task!r} lists an episode twice")
        rated[str(task)] = episode_list
    for task, episodes in seen.items():
        if task not in rated:
            raise ScoringInputError(f"task {task!r} of the ratings has no rated set")
        outside = set(episodes) - set(rated[task])
        if outside:
            raise ScoringInputError(
                f"episode {natural_sorted(outside)[0]!r} of task {task!r} is not in its rated set"
            )
    return rated


def _task_list(
    *, coded: _CodedRatings, rated: Mapping[str, Sequence[str]], tasks: Sequence[str] | None
) -> list[str]:
    known = set(rated) | set(coded.task_names)
    if tasks is None:
        task_list = natural_sorted(known)
    else:
        task_list = [str(task) for task in tasks]
        if len(set(task_list)) != len(task_list):
            raise ScoringInputError("tasks list a task twice")
        unknown = known - set(task_list)
        if unknown:
            raise ScoringInputError(
                f"task(s) {natural_sorted(unknown)} are not in the campaign tasks"
            )
    if not task_list:
        raise ScoringInputError("a campaign needs at least one task")
    return task_list


def _team_list(*, coded: _CodedRatings, teams: Sequence[str] | None) -> list[str]:
    if teams is None:
        team_list = natural_sorted(coded.team_names)
        if not team_list:
            raise ScoringInputError("there are no ratings and no teams to rank")
        return team_list
    team_list = [str(team) for team in teams]
    if len(set(team_list)) != len(team_list):
        raise ScoringInputError("teams list a team twice")
    unknown = set(coded.team_names) - set(team_list)
    if unknown:
        raise ScoringInputError(f"team(s) {natural_sorted(unknown)} of the ratings are not listed")
    if not team_list:
        raise ScoringInputError("there are no teams to rank")
    return team_list


def point_scores_of(prepared: PreparedRatings) -> PointScores:
    """Point scores of already prepared ratings."""
    task_scores = np.stack([cube.task_scores() for cube in prepared.cubes], axis=1)
    final_scores = task_scores.mean(axis=1)
    return PointScores(
        teams=prepared.teams,
        tasks=prepared.tasks,
        task_scores=task_scores,
        final_scores=final_scores,
        ranks=competition_ranks(final_scores),
        counts=np.stack([cube.score_counts() for cube in prepared.cubes], axis=1),
        n_clips_rated=np.stack([(cube.n_ratings > 0).sum(axis=1) for cube in prepared.cubes], 1),
        n_ratings=np.stack([cube.n_ratings.sum(axis=1) for cube in prepared.cubes], axis=1),
        n_expected=np.array([cube.n_expected for cube in prepared.cubes], dtype=np.int64),
    )


def point_scores(
    *,
    ratings: pd.DataFrame,
    rated_set: RatedSet | None = None,
    tasks: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
) -> PointScores:
    """``S(team, task)``, final scores and ranks, without intervals."""
    prepared = prepare_ratings(ratings=ratings, rated_set=rated_set, tasks=tasks, teams=teams)
    return point_scores_of(prepared)


def clip_scores(*, ratings: pd.DataFrame) -> pd.DataFrame:
    """``s(clip)`` for every rated clip: columns task, team, episode, score, n_ratings."""
    frame = validate_ratings(ratings)
    grouped = frame.groupby(["task", "team", "episode"], sort=False)["score"]
    result = grouped.agg(score="mean", n_ratings="size").reset_index()
    result["score"] = result["score"].astype(np.float64)
    return result
