"""Agreement reports: humans among themselves, and a judge against the humans.

Three levels:

- raters (:mod:`agreement_raters`): Krippendorff's alpha, Fleiss' kappa, pairwise
  quadratic-weighted kappa, exact and within-1 agreement, resampling clips;
- video (:mod:`agreement_judge`): the judge's 0-3 score against the human consensus
  of each clip, resampling clips;
- team (this module): the judge's scores go through the same scoring core as the
  human ratings (one "rating" per clip, :func:`protocol.point_scores`), and the
  resulting ``S(team, task)``, final scores and rankings are compared, resampling
  teams.

:func:`agreement_report` puts them together as a JSON-ready dict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.scoring.agreement_judge import JudgeAgreement, judge_agreement, validate_verdicts
from evaluation.scoring.agreement_raters import (
    CONFIDENCE,
    DEFAULT_MIN_SHARED_CLIPS,
    NO_VARIATION,
    TOO_FEW_ITEMS,
    AgreementInputError,
    ClipRatings,
    RaterAgreement,
    Stat,
    bootstrap_stat,
    clip_ratings,
    rater_agreement,
    resample_weights,
)
from evaluation.scoring.protocol import (
    RANK_DECIMALS,
    RatedSet,
    ScoringInputError,
    competition_ranks,
    natural_sorted,
    point_scores,
)
from evaluation.scoring.reliability import per_rater_agreement
from evaluation.scoring.statistics import weighted_kendall_tau_b
from evaluation.scoring.tables import rated_set_from, read_episodes, read_ratings, read_verdicts

__all__ = [
    "AgreementInputError",
    "JudgeAgreement",
    "RaterAgreement",
    "Stat",
    "TeamAgreement",
    "TeamScores",
    "agreement_files",
    "agreement_report",
    "judge_agreement",
    "kendall_tau",
    "mmrv",
    "rater_agreement",
    "team_agreement",
    "team_scores",
    "top_k_agreement",
]

JUDGE_RATER = "judge"
MIN_CORRELATION_ITEMS = 3  # two points always lie on a line

WeightedStatistic = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


# --- point definitions of the ranking statistics ---------------------------------------------


def mmrv(*, human: Sequence[float] | np.ndarray, judge: Sequence[float] | np.ndarray) -> float:
    """Mean maximum rank violation (SIMPLER, Li et al. 2024), humans as the reference.

    For teams ``i`` and ``j`` the rank violation is ``|human_i - human_j|`` when the
    judge orders them differently from the humans, i.e. when
    ``(judge_i > judge_j) != (human_i > human_j)``, else 0. Each team keeps its worst
    violation (max over ``j``) and MMRV is the mean over teams: 0 when the judge ranks
    like the humans, larger when it swaps teams whose human scores are far apart.
    """
    human_scores, judge_scores = _paired_scores(human=human, judge=judge)
    return float(_weighted_mmrv(human_scores, judge_scores, np.ones((1, len(human_scores))))[0])


def top_k_agreement(
    *, human: Sequence[float] | np.ndarray, judge: Sequence[float] | np.ndarray, k: int
) -> float:
    """Overlap of the human and judge top-``k`` sets, ``|H & J| / max(|H|, |J|)``.

    A side's top-``k`` set holds the teams with competition rank <= ``k`` on that side
    (ties share a rank, so a tie across the cut puts more than ``k`` teams in the set).
    Without such ties both sets have ``k`` teams and this is ``|H & J| / k``; with
    ``k = 1`` it is 1 when both sides agree on the winner, else 0.
    """
    if k < 1:
        raise AgreementInputError(f"k must be 1 or more, got {k}")
    human_scores, judge_scores = _paired_scores(human=human, judge=judge)
    top_human = set(np.flatnonzero(competition_ranks(human_scores) <= k).tolist())
    top_judge = set(np.flatnonzero(competition_ranks(judge_scores) <= k).tolist())
    return len(top_human & top_judge) / max(len(top_human), len(top_judge))


def kendall_tau(
    *, human: Sequence[float] | np.ndarray, judge: Sequence[float] | np.ndarray
) -> float | None:
    """Kendall's tau-b of final scores, judge against humans: the report's ``team.kendall_tau``.

    None where the report says why instead: fewer than three teams, or one side giving
    every team the same score. Scores are compared as the ranking compares them
    (rounded to :data:`RANK_DECIMALS`), so equal means on paper tie.
    """
    human_scores, judge_scores = _paired_scores(human=human, judge=judge)
    if _undefined_reason(human_scores, judge_scores, min_items=MIN_CORRELATION_ITEMS):
        return None
    return float(
        weighted_kendall_tau_b(human_scores, judge_scores, np.ones((1, len(human_scores))))[0]
    )


def _paired_scores(
    *, human: Sequence[float] | np.ndarray, judge: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    human_scores = np.asarray(human, dtype=np.float64)
    judge_scores = np.asarray(judge, dtype=np.float64)
    if human_scores.ndim != 1 or human_scores.shape != judge_scores.shape:
        raise AgreementInputError(
            f"human and judge scores must be two lists of one length, got shapes "
            f"{human_scores.shape} and {judge_scores.shape}"
        )
    if not (np.isfinite(human_scores).all() and np.isfinite(judge_scores).all()):
        raise AgreementInputError("human and judge scores must be finite numbers")
    # Scores are means of small integers: equal on paper must compare equal.
    return np.round(human_scores, RANK_DECIMALS), np.round(judge_scores, RANK_DECIMALS)


# --- the same statistics for a weight matrix (bootstrap draw counts of items) -------------


def _constant_among_drawn(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    drawn = weights > 0
    highest = np.where(drawn, values, -np.inf).max(axis=1)
    lowest = np.where(drawn, values, np.inf).min(axis=1)
    return highest <= lowest


def _weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson's r of the sample holding item ``i`` ``weights[b, i]`` times, per row ``b``."""
    x = np.broadcast_to(x, weights.shape)
    y = np.broadcast_to(y, weights.shape)
    total = weights.sum(axis=1, keepdims=True)
    dx = x - (weights * x).sum(axis=1, keepdims=True) / total
    dy = y - (weights * y).sum(axis=1, keepdims=True) / total
    covariance = (weights * dx * dy).sum(axis=1)
    variance = (weights * dx * dx).sum(axis=1) * (weights * dy * dy).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.clip(covariance / np.sqrt(variance), -1.0, 1.0)
    undefined = _constant_among_drawn(x, weights) | _constant_among_drawn(y, weights)
    return np.where(undefined, np.nan, r)


def _weighted_midranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    below = (values[None, :] < values[:, None]).astype(np.float64)
    equal = (values[None, :] == values[:, None]).astype(np.float64)
    return weights @ below.T + (weights @ equal.T + 1.0) / 2.0


def _weighted_spearman(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return _weighted_pearson(
        _weighted_midranks(x, weights), _weighted_midranks(y, weights), weights
    )


def _weighted_mmrv(human: np.ndarray, judge: np.ndarray, weights: np.ndarray) -> np.ndarray:
    swapped = (judge[:, None] > judge[None, :]) != (human[:, None] > human[None, :])
    violation = np.abs(human[:, None] - human[None, :]) * swapped
    worst = (violation[None, :, :] * (weights > 0)[:, None, :]).max(axis=2)
    return (weights * worst).sum(axis=1) / weights.sum(axis=1)


def _weighted_top_k(k: int) -> WeightedStatistic:
    def statistic(human: np.ndarray, judge: np.ndarray, weights: np.ndarray) -> np.ndarray:
        # A drawn team is in a side's top k when fewer than k draws score strictly
        # higher (competition rank <= k); copies of a team tie with each other.
        def in_top(values: np.ndarray) -> np.ndarray:
            higher = (values[None, :] > values[:, None]).astype(np.float64)
            return ((weights @ higher.T) < k) & (weights > 0)

        top_human, top_judge = in_top(human), in_top(judge)
        both = (weights * (top_human & top_judge)).sum(axis=1)
        larger = np.maximum((weights * top_human).sum(axis=1), (weights * top_judge).sum(axis=1))
        return both / larger

    return statistic


CORRELATIONS: dict[str, WeightedStatistic] = {
    "pearson": _weighted_pearson,
    "spearman": _weighted_spearman,
    "kendall_tau": weighted_kendall_tau_b,
}


def _undefined_reason(
    human: np.ndarray, judge: np.ndarray, *, min_items: int, needs_variation: bool = True
) -> str | None:
    if len(human) < min_items:
        return TOO_FEW_ITEMS
    if needs_variation and (np.ptp(human) == 0 or np.ptp(judge) == 0):
        return NO_VARIATION
    return None


def _paired_stat(
    *,
    statistic: WeightedStatistic,
    human: np.ndarray,
    judge: np.ndarray,
    item_of_unit: np.ndarray,
    weights: np.ndarray,
    min_items: int,
    needs_variation: bool,
) -> Stat:
    """A statistic of paired scores, resampling units (teams) that own the items.

    ``item_of_unit`` maps each item (a team, or a team x task cell) to its unit, so
    that resampling a team draws all of its cells.
    """
    n = len(human)
    reason = _undefined_reason(human, judge, min_items=min_items, needs_variation=needs_variation)
    if reason is not None:
        return Stat.undefined(reason=reason, n=n)
    return bootstrap_stat(
        estimator=lambda w: statistic(human, judge, w[:, item_of_unit]), weights=weights, n=n
    )


# --- scores of both sides ------------------------------------------------------------------


@dataclass(frozen=True)
class TeamScores:
    """Human and judge scores from the same scoring core, teams and tasks in one order."""

    teams: tuple[str, ...]
    tasks: tuple[str, ...]
    human_task_scores: np.ndarray  # (n_teams, n_tasks)
    judge_task_scores: np.ndarray
    human_final: np.ndarray  # (n_teams,)
    judge_final: np.ndarray
    human_ranks: np.ndarray
    judge_ranks: np.ndarray
    n_verdicts_outside: int  # verdicts of clips outside the rated set, teams or tasks

    def table(self) -> list[dict[str, object]]:
        """One entry per team, in human rank order."""
        order = sorted(range(len(self.teams)), key=lambda i: (self.human_ranks[i], i))
        return [
            {
                "team": self.teams[i],
                "human_score": float(self.human_final[i]),
                "judge_score": float(self.judge_final[i]),
                "human_rank": int(self.human_ranks[i]),
                "judge_rank": int(self.judge_ranks[i]),
                "task_scores": {
                    task: {
                        "human": float(self.human_task_scores[i, k]),
                        "judge": float(self.judge_task_scores[i, k]),
                    }
                    for k, task in enumerate(self.tasks)
                },
            }
            for i in order
        ]

    def rank_changes(self) -> list[dict[str, object]]:
        """Teams whose judge rank differs from their human rank, in human rank order."""
        return [
            {"team": row["team"], "human_rank": row["human_rank"], "judge_rank": row["judge_rank"]}
            for row in self.table()
            if row["human_rank"] != row["judge_rank"]
        ]


def _derived_rated_set(ratings: pd.DataFrame) -> dict[str, list[str]]:
    return {
        str(task): natural_sorted(group["episode"].astype(str).unique())
        for task, group in ratings.groupby(ratings["task"].astype(str), sort=False)
    }


def team_scores(
    *,
    ratings: pd.DataFrame,
    verdicts: pd.DataFrame,
    rated_set: RatedSet | None = None,
    tasks: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
) -> TeamScores:
    """``S(team, task)``, final scores and ranks of the humans and of the judge.

    Both sides use the same rated set (by default the episodes the humans rated), so
    a clip without a verdict counts 0 for the judge just as a missing clip does for
    the humans. Verdicts outside the rated set, tasks or teams are left out and
    counted.
    """
    checked = validate_verdicts(verdicts)
    rated = (
        {str(task): [str(e) for e in episodes] for task, episodes in rated_set.items()}
        if rated_set is not None
        else _derived_rated_set(ratings)
    )
    try:
        human = point_scores(ratings=ratings, rated_set=rated, tasks=tasks, teams=teams)
        inside = np.array(
            [
                task in rated and team in human.teams and episode in rated[task]
                for task, team, episode in zip(
                    checked["task"], checked["team"], checked["episode"], strict=True
                )
            ],
            dtype=bool,
        )
        judge = point_scores(
            ratings=checked[inside].assign(rater=JUDGE_RATER),
            rated_set=rated,
            tasks=human.tasks,
            teams=human.teams,
        )
    except AgreementInputError:
        raise
    except ScoringInputError as error:
        raise AgreementInputError(str(error)) from error
    return TeamScores(
        teams=human.teams,
        tasks=human.tasks,
        human_task_scores=human.task_scores,
        judge_task_scores=judge.task_scores,
        human_final=human.final_scores,
        judge_final=judge.final_scores,
        human_ranks=human.ranks,
        judge_ranks=judge.ranks,
        n_verdicts_outside=int((~inside).sum()),
    )


# --- team-level agreement ------------------------------------------------------------------


@dataclass(frozen=True)
class TeamAgreement:
    """Judge vs humans at team level.

    ``stats``: pearson, spearman, kendall_tau (tau-b) of the final scores, mmrv,
    top1_agree, top3_agree; ``n`` is the number of teams. ``cell_stats``: pearson,
    spearman, kendall_tau over all ``S(team, task)``; ``n`` is the number of cells.
    ``per_task``: the correlations of ``S(., task)`` across teams, per task. Every
    interval resamples teams.
    """

    stats: dict[str, Stat]
    cell_stats: dict[str, Stat]
    per_task: dict[str, dict[str, Stat]]
    scores: TeamScores

    def as_json(self) -> dict[str, object]:
        """Flat ``team.*`` and ``team_task.*`` keys, plus the team table and rank changes."""
        data: dict[str, object] = {
            f"team.{key}": stat.as_json() for key, stat in self.stats.items()
        }
        data.update({f"team_task.{key}": stat.as_json() for key, stat in self.cell_stats.items()})
        data["team.n_verdicts_outside"] = self.scores.n_verdicts_outside
        data["teams"] = self.scores.table()
        data["rank_changes"] = self.scores.rank_changes()
        return data


def team_agreement(*, scores: TeamScores, n_boot: int = 1000, seed: int = 0) -> TeamAgreement:
    """Correlations, MMRV and top-k agreement of the judge's scores with the humans'."""
    n_teams, n_tasks = scores.human_task_scores.shape
    weights = resample_weights(n_items=n_teams, n_boot=n_boot, seed=seed)
    human_final, judge_final = _paired_scores(human=scores.human_final, judge=scores.judge_final)
    teams = np.arange(n_teams)

    def final_stat(statistic: WeightedStatistic, *, min_items: int, needs_variation: bool) -> Stat:
        return _paired_stat(
            statistic=statistic,
            human=human_final,
            judge=judge_final,
            item_of_unit=teams,
            weights=weights,
            min_items=min_items,
            needs_variation=needs_variation,
        )

    stats = {
        name: final_stat(statistic, min_items=MIN_CORRELATION_ITEMS, needs_variation=True)
        for name, statistic in CORRELATIONS.items()
    }
    stats["mmrv"] = final_stat(_weighted_mmrv, min_items=2, needs_variation=False)
    # With k teams or fewer every team is in both top-k sets: no information.
    stats["top1_agree"] = final_stat(_weighted_top_k(1), min_items=2, needs_variation=False)
    stats["top3_agree"] = final_stat(_weighted_top_k(3), min_items=4, needs_variation=False)

    human_cells, judge_cells = _paired_scores(
        human=scores.human_task_scores.reshape(-1), judge=scores.judge_task_scores.reshape(-1)
    )
    cell_stats = {
        name: _paired_stat(
            statistic=statistic,
            human=human_cells,
            judge=judge_cells,
            item_of_unit=np.repeat(teams, n_tasks),
            weights=weights,
            min_items=MIN_CORRELATION_ITEMS,
            needs_variation=True,
        )
        for name, statistic in CORRELATIONS.items()
    }
    per_task: dict[str, dict[str, Stat]] = {}
    for k, task in enumerate(scores.tasks):
        human_task, judge_task = _paired_scores(
            human=scores.human_task_scores[:, k], judge=scores.judge_task_scores[:, k]
        )
        per_task[task] = {
            name: _paired_stat(
                statistic=statistic,
                human=human_task,
                judge=judge_task,
                item_of_unit=teams,
                weights=weights,
                min_items=MIN_CORRELATION_ITEMS,
                needs_variation=True,
            )
            for name, statistic in CORRELATIONS.items()
        }
    return TeamAgreement(stats=stats, cell_stats=cell_stats, per_task=per_task, scores=scores)


# --- the report --------------------------------------------------------------------------


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {
            key: (value.item() if isinstance(value, np.generic) else value)
            for key, value in row.items()
        }
        for row in frame.to_dict(orient="records")
    ]


def agreement_report(
    *,
    ratings: pd.DataFrame,
    verdicts: pd.DataFrame | None = None,
    rated_set: RatedSet | None = None,
    tasks: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    min_shared_clips: int = DEFAULT_MIN_SHARED_CLIPS,
    max_disagreements: int = 50,
) -> dict[str, object]:
    """The agreement report as a JSON-ready dict.

    Flat dotted keys at the top level, each statistic an object ``{"value", "ci_low",
    "ci_high", "n"}`` plus ``"reason"`` when the value is null:

    - ``raters.*`` always: krippendorff_alpha_ordinal, krippendorff_alpha_interval,
      fleiss_kappa, pairwise_qwk, exact, within1;
    - with ``verdicts``: ``video.*`` (qwk, spearman, kendall_tau_b, exact, within1,
      mae, outcome_agreement, the 4x4 ``video.confusion`` with rows human consensus
      0-3 and columns judge 0-3, and the ordinal alpha of humans alone, with the judge
      as one more rater, and their difference), ``team.*`` (pearson, spearman,
      kendall_tau, mmrv, top1_agree, top3_agree on final scores), ``team_task.*``
      (correlations over ``S(team, task)``), ``teams``, ``rank_changes`` and
      ``largest_disagreements``.

    ``per_rater`` gives each rater's kappa, exact agreement and bias against the
    leave-that-rater-out consensus (:func:`.reliability.per_rater_agreement`).
    ``per_task`` repeats the ``raters.*`` and ``video.*`` statistics for each task, and
    with verdicts the ``team.*`` correlations of that task's ``S`` across teams.
    ``meta`` records the bootstrap settings. Clip-level intervals resample clips and
    team-level ones resample teams, all with ``seed``.
    """
    if max_disagreements < 0:
        raise AgreementInputError(f"max_disagreements must be 0 or more, got {max_disagreements}")
    indexed = clip_ratings(ratings)
    if indexed.n_clips == 0:
        raise AgreementInputError("there are no ratings to compare")
    checked_verdicts = validate_verdicts(verdicts) if verdicts is not None else None
    common = {"n_boot": n_boot, "seed": seed}
    report: dict[str, object] = {
        "meta": {
            "n_boot": n_boot,
            "seed": seed,
            "confidence": CONFIDENCE,
            "min_shared_clips": min_shared_clips,
            "consensus": "median of a clip's ratings, halves rounded up",
            "n_clips": indexed.n_clips,
            "n_ratings": len(indexed.score),
            "has_judge": checked_verdicts is not None,
        }
    }
    report.update(
        rater_agreement(ratings=indexed, min_shared_clips=min_shared_clips, **common).as_json()
    )
    team: TeamAgreement | None = None
    if checked_verdicts is not None:
        judge = judge_agreement(ratings=indexed, verdicts=checked_verdicts, **common)
        report.update(judge.as_json())
        report["largest_disagreements"] = _records(
            judge.largest_disagreements(limit=max_disagreements)
        )
        scores = team_scores(
            ratings=ratings,
            verdicts=checked_verdicts,
            rated_set=rated_set,
            tasks=tasks,
            teams=teams,
        )
        team = team_agreement(scores=scores, **common)
        report.update(team.as_json())
    # Each rater against the leave-one-out consensus (evaluation.scoring.reliability).
    report["per_rater"] = per_rater_agreement(ratings)
    report["per_task"] = _per_task(
        indexed=indexed,
        verdicts=checked_verdicts,
        team=team,
        min_shared_clips=min_shared_clips,
        **common,
    )
    return report


def _per_task(
    *,
    indexed: ClipRatings,
    verdicts: pd.DataFrame | None,
    team: TeamAgreement | None,
    min_shared_clips: int,
    n_boot: int,
    seed: int,
) -> dict[str, dict[str, object]]:
    per_task: dict[str, dict[str, object]] = {}
    task_of_clip = indexed.clips["task"].to_numpy()
    for task in natural_sorted(set(task_of_clip.tolist())):
        subset = indexed.subset(task_of_clip == task)
        entry = rater_agreement(
            ratings=subset, min_shared_clips=min_shared_clips, n_boot=n_boot, seed=seed
        ).as_json()
        if verdicts is not None:
            task_verdicts = verdicts[verdicts["task"] == task]
            entry.update(
                judge_agreement(
                    ratings=subset, verdicts=task_verdicts, n_boot=n_boot, seed=seed
                ).as_json()
            )
        if team is not None and task in team.per_task:
            entry.update(
                {f"team.{key}": stat.as_json() for key, stat in team.per_task[task].items()}
            )
        per_task[task] = entry
    return per_task


def agreement_files(
    *,
    ratings_path: str | Path,
    output_path: str | Path,
    verdicts_path: str | Path | None = None,
    episodes_path: str | Path | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, object]:
    """Read a ratings export (and verdicts, and the rated set), write the report as JSON.

    Without an episodes file, the rated set of a task is the episodes rated in it.
    Returns the report that was written.
    """
    output = Path(output_path)
    if output.suffix.lower() != ".json":
        raise AgreementInputError(f"output {output.name!r} must end in .json")
    episodes = read_episodes(episodes_path) if episodes_path is not None else None
    ratings = read_ratings(ratings_path, episodes=episodes)
    verdicts = (
        read_verdicts(verdicts_path, episodes=episodes) if verdicts_path is not None else None
    )
    report = agreement_report(
        ratings=ratings,
        verdicts=verdicts,
        rated_set=rated_set_from(episodes) if episodes is not None else None,
        n_boot=n_boot,
        seed=seed,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return report
