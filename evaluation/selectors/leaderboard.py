"""Campaign scoring: ORM rows -> plain DataFrames -> the pure core, and the rows people read.

The leaderboard, the comparison of two teams and every export of a campaign are
computed from the same inputs (the scored ratings, the rated set, the tasks and
the teams) and carry the same *input hash* (:func:`input_hash_of`, the canonical form
of :mod:`evaluation.scoring.input_hash`). An auditor who holds ``ratings.csv`` and
``episodes.csv`` can recompute the rankings offline with
``manage.py rank --ratings ratings.csv --episodes episodes.csv --seed SEED``.

:func:`standing_rows` is the one projection of a ranked team for people: the
leaderboard page, the rankings API and a team's own results show its rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd
from django.core.cache import cache
from django.utils.translation import gettext as _

from annotate.models import Campaign, Team
from evaluation.scoring import (
    MAX_RESAMPLES,
    SCORE_MAX,
    Leaderboard,
    PairedComparison,
    ScoringInputError,
    leaderboard,
    paired_comparison,
)
from evaluation.scoring.input_hash import input_hash
from evaluation.scoring.tables import rankings_rows
from evaluation.selectors.ratings import (
    Coverage,
    campaign_tasks,
    coverage,
    entrant_teams,
    rated_set,
    ratings_frame,
)

LEADERBOARD_CACHE_SECONDS = 3600


class ScoringRequestError(ScoringInputError):
    """A scoring request that cannot be served; the message says what is wrong."""


@dataclass(frozen=True)
class ScoringParameters:
    n_boot: int = 1000
    seed: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if (
            isinstance(self.n_boot, bool)
            or not isinstance(self.n_boot, int)
            or not 1 <= self.n_boot <= MAX_RESAMPLES
        ):
            raise ScoringRequestError(
                _(
                    "the number of bootstrap resamples must be an integer from 1 to %(max)s, "
                    "not %(n)r"
                )
                % {"max": MAX_RESAMPLES, "n": self.n_boot}
            )
        if not 0.0 < self.confidence < 1.0:
            raise ScoringRequestError(
                _("confidence must lie strictly between 0 and 1, not %(value)r")
                % {"value": self.confidence}
            )

    @classmethod
    def for_campaign(
        cls, *, campaign: Campaign, n_boot: int = 1000, confidence: float = 0.95
    ) -> ScoringParameters:
        """The campaign's seed drives its bootstrap too, so its leaderboard never wobbles."""
        return cls(n_boot=n_boot, seed=campaign.seed, confidence=confidence)


@dataclass(frozen=True)
class ScoringInputs:
    ratings: pd.DataFrame  # at least task, team, episode, rater, score
    rated_set: dict[str, list[str]]
    tasks: list[str]
    teams: list[str]


def scoring_inputs(*, campaign: Campaign, detailed: bool = False) -> ScoringInputs:
    """Everything the scoring core needs about a campaign, in a fixed number of queries."""
    return ScoringInputs(
        ratings=ratings_frame(campaign=campaign, detailed=detailed),
        rated_set=rated_set(campaign=campaign),
        tasks=campaign_tasks(campaign=campaign),
        teams=entrant_teams(campaign=campaign),
    )


def input_hash_of(*, inputs: ScoringInputs, parameters: ScoringParameters) -> str:
    """The input hash of a campaign's scoring inputs under ``parameters``."""
    return input_hash(
        ratings=inputs.ratings,
        rated_set=inputs.rated_set,
        tasks=inputs.tasks,
        teams=inputs.teams,
        parameters=asdict(parameters),
    )


def checked_inputs(*, campaign: Campaign, inputs: ScoringInputs) -> ScoringInputs:
    """``inputs``, once they hold a task and a team to rank."""
    if not inputs.tasks:
        raise ScoringRequestError(
            _("campaign %(campaign)r has no task yet") % {"campaign": campaign.slug}
        )
    if not inputs.teams:
        raise ScoringRequestError(
            _("campaign %(campaign)r has no team with a submission yet")
            % {"campaign": campaign.slug}
        )
    return inputs


@dataclass(frozen=True)
class CampaignLeaderboard:
    campaign_slug: str
    board: Leaderboard
    coverage: dict[tuple[str, str], Coverage]
    parameters: ScoringParameters
    input_hash: str
    n_ratings: int
    teams_without_ratings: list[str]  # ranked at 0; a re-ranking of the export omits them
    raters_per_cell: int  # the campaign's setting: N_total counts this many per episode

    def cell_coverage(self, *, team: str, task: str) -> Coverage:
        return self.coverage.get((team, task), Coverage(n_ratings=0, n_expected=0))

    def team_coverage(self, *, team: str) -> Coverage:
        cells = [self.cell_coverage(team=team, task=task) for task in self.board.tasks]
        return Coverage(
            n_ratings=sum(cell.n_ratings for cell in cells),
            n_expected=sum(cell.n_expected for cell in cells),
        )


def campaign_leaderboard(
    *, campaign: Campaign, parameters: ScoringParameters | None = None
) -> CampaignLeaderboard:
    """Ranked teams of a campaign with intervals, rank probabilities and coverage."""
    parameters = parameters or ScoringParameters.for_campaign(campaign=campaign)
    inputs = checked_inputs(campaign=campaign, inputs=scoring_inputs(campaign=campaign))
    hashed = input_hash_of(inputs=inputs, parameters=parameters)
    # The board is a pure function of the hashed inputs, so a page and its figure,
    # or two organizers looking at unchanged data, share one bootstrap.
    cache_key = f"refscore:leaderboard:{hashed}"
    board = cache.get(cache_key)
    if board is None:
        board = leaderboard(
            ratings=inputs.ratings,
            rated_set=inputs.rated_set,
            tasks=inputs.tasks,
            teams=inputs.teams,
            n_boot=parameters.n_boot,
            seed=parameters.seed,
            confidence=parameters.confidence,
        )
        cache.set(cache_key, board, timeout=LEADERBOARD_CACHE_SECONDS)
    rated_teams = set(inputs.ratings["team"])
    return CampaignLeaderboard(
        campaign_slug=campaign.slug,
        board=board,
        coverage=coverage(campaign=campaign),
        parameters=parameters,
        input_hash=hashed,
        n_ratings=len(inputs.ratings),
        teams_without_ratings=[team for team in inputs.teams if team not in rated_teams],
        raters_per_cell=campaign.raters_per_cell,
    )


def campaign_task_score(*, campaign: Campaign, team: Team, task: str) -> float:
    """``S(team, task)`` as the leaderboard has it; 0 for a team it does not rank."""
    try:
        board = campaign_leaderboard(campaign=campaign).board
    except ScoringRequestError:  # no task or no submission yet: nothing scores above 0
        return 0.0
    ranked = {standing.team: standing for standing in board.teams}
    standing = ranked.get(team.name)
    return standing.tasks[task].score if standing is not None else 0.0


@dataclass(frozen=True)
class CampaignComparison:
    comparison: PairedComparison
    parameters: ScoringParameters
    input_hash: str


def campaign_comparison(
    *,
    campaign: Campaign,
    candidate: str,
    incumbent: str,
    margin: float = 0.0,
    n_boot: int = 2000,
    confidence: float = 0.95,
) -> CampaignComparison:
    """Release gate: does ``candidate`` beat ``incumbent`` by at least ``margin``?"""
    parameters = ScoringParameters.for_campaign(
        campaign=campaign, n_boot=n_boot, confidence=confidence
    )
    if not math.isfinite(margin) or margin < 0:
        raise ScoringRequestError(
            _("margin must be a finite number >= 0, not %(margin)r") % {"margin": margin}
        )
    inputs = checked_inputs(campaign=campaign, inputs=scoring_inputs(campaign=campaign))
    for role, team in (("candidate", candidate), ("incumbent", incumbent)):
        if team not in inputs.teams:
            refusal = (
                _("candidate %(team)r is not a team with a submission in campaign %(campaign)r")
                if role == "candidate"
                else _(
                    "incumbent %(team)r is not a team with a submission in campaign %(campaign)r"
                )
            )
            raise ScoringRequestError(refusal % {"team": team, "campaign": campaign.slug})
    comparison = paired_comparison(
        ratings=inputs.ratings,
        rated_set=inputs.rated_set,
        tasks=inputs.tasks,
        candidate=candidate,
        incumbent=incumbent,
        margin=margin,
        n_boot=parameters.n_boot,
        seed=parameters.seed,
        confidence=parameters.confidence,
    )
    return CampaignComparison(
        comparison=comparison,
        parameters=parameters,
        input_hash=input_hash_of(inputs=inputs, parameters=parameters),
    )


# --- the rows people read -----------------------------------------------------------------


@dataclass(frozen=True)
class TaskCell:
    task: str
    score: float
    ci_low: float
    ci_high: float
    n3: int
    n2: int
    n1: int
    n0: int
    n_missing: int  # ratings counting 0: episodes not submitted, rejected or not rated yet
    n_total: int  # the protocol's denominator, in ratings
    reproduces_score: bool  # (3·N3 + 2·N2 + N1) / N_total == score
    n_ratings: int
    n_expected_ratings: int  # the team's submitted clips in E(task) x raters per cell
    n_clips_rated: int
    n_expected_clips: int  # |E(task)|


@dataclass(frozen=True)
class StandingRow:
    rank: int
    team: str
    team_id: int | None
    final_score: float
    ci_low: float
    ci_high: float
    rank_probability: float
    rank_distribution: dict[int, float]  # rank -> probability, ranks never held left out
    n_ratings: int
    n_expected_ratings: int  # the team's submitted clips x raters per cell, over all tasks
    n_total: int
    coverage: float  # n_ratings / n_total, as in the rankings export
    coverage_percent: float  # the same in percent, rounded for the page
    bar_left: float  # the interval drawn on a 0-3 scale, in percent of the width
    bar_width: float
    marker: float
    tasks: list[TaskCell]


# Fields of a row that only the organizers' pages and API carry: drawing aids, the
# team's database id, the full rank distribution and the expected counts.
ORGANIZER_ONLY_FIELDS = (
    "team_id",
    "bar_left",
    "bar_width",
    "marker",
    "rank_distribution",
    "n_expected_ratings",
    "coverage",
)
ORGANIZER_ONLY_TASK_FIELDS = ("n_clips_rated", "n_expected_clips")


def _percent(value: float) -> float:
    return round(100.0 * min(max(value, 0.0), SCORE_MAX) / SCORE_MAX, 2)


def standing_rows(
    result: CampaignLeaderboard, *, team_ids: dict[str, int] | None = None
) -> list[StandingRow]:
    """The ranked teams of ``result``, best first, with their per-task terms and coverage."""
    team_ids = team_ids or {}
    rows = []
    for ranked in rankings_rows(result.board, raters_per_cell=result.raters_per_cell):
        standing = ranked.standing
        cells = []
        for task, counts in ranked.counts.items():
            score = standing.tasks[task]
            cells.append(
                TaskCell(
                    task=task,
                    score=score.score,
                    ci_low=score.ci_low,
                    ci_high=score.ci_high,
                    n3=counts.n3,
                    n2=counts.n2,
                    n1=counts.n1,
                    n0=counts.n0,
                    n_missing=counts.n_missing,
                    n_total=counts.n_total,
                    reproduces_score=abs(counts.score - score.score) < 1e-9,
                    n_ratings=counts.n_ratings,
                    n_expected_ratings=result.cell_coverage(
                        team=standing.team, task=task
                    ).n_expected,
                    n_clips_rated=score.n_clips_rated,
                    n_expected_clips=score.n_expected,
                )
            )
        rows.append(
            StandingRow(
                rank=standing.rank,
                team=standing.team,
                team_id=team_ids.get(standing.team),
                final_score=standing.final_score,
                ci_low=standing.ci_low,
                ci_high=standing.ci_high,
                rank_probability=standing.rank_probability,
                rank_distribution=dict(standing.rank_distribution),
                n_ratings=ranked.n_ratings,
                n_expected_ratings=sum(cell.n_expected_ratings for cell in cells),
                n_total=ranked.n_total,
                coverage=ranked.coverage,
                coverage_percent=(
                    round(100.0 * ranked.n_ratings / ranked.n_total, 1) if ranked.n_total else 0.0
                ),
                bar_left=_percent(standing.ci_low),
                bar_width=round(_percent(standing.ci_high) - _percent(standing.ci_low), 2),
                marker=_percent(standing.final_score),
                tasks=cells,
            )
        )
    return rows
