"""The ranking a judge run gives, beside the human one.

The judge's verdicts go through the same scoring core as the human ratings, on the
same inputs: the campaign's rated set, tasks and teams (:func:`scoring_inputs`) and
the run's verdicts on current clips (:func:`run_verdicts`, the one reader the agreement
report uses too). Kendall's tau of the final scores is the agreement report's
``team.kendall_tau`` (:func:`evaluation.scoring.agreement.kendall_tau`), so the judge
run page and the agreement page show the same number for the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext as _

from evaluation.models import JudgeRun
from evaluation.scoring import Leaderboard, ScoringInputError, leaderboard
from evaluation.scoring.agreement import kendall_tau
from evaluation.selectors.judge import judge_rater_label, judge_ratings_frame
from evaluation.selectors.leaderboard import (
    ScoringParameters,
    ScoringRequestError,
    campaign_leaderboard,
    scoring_inputs,
)


@dataclass(frozen=True)
class TeamRankComparison:
    team: str
    judge_rank: int
    judge_score: float
    judge_ci_low: float
    judge_ci_high: float
    human_rank: int | None  # None when humans have not rated the campaign yet
    human_score: float | None

    @property
    def rank_shift(self) -> int | None:
        """Positive when the judge ranks the team better than humans do."""
        return None if self.human_rank is None else self.human_rank - self.judge_rank


@dataclass(frozen=True)
class JudgeLeaderboard:
    run_id: int
    rater: str
    board: Leaderboard
    human_board: Leaderboard | None
    rows: list[TeamRankComparison] = field(default_factory=list)
    kendall_tau: float | None = None  # of the final scores, judge vs humans
    n_judged: int = 0
    n_human_ratings: int = 0


def judge_leaderboard(
    *, run: JudgeRun, n_boot: int = 1000, seed: int | None = None
) -> JudgeLeaderboard:
    """The ranking the judge's verdicts give, by the same scoring core as the humans'.

    Each judged current clip counts as one rating by ``judge:<name>@<version>``; clips
    the judge could not judge count 0, as unrated clips do. Only episodes of the
    current rated set are scored, so both rankings rest on the same episodes.
    """
    campaign = run.campaign
    seed = campaign.seed if seed is None else seed
    inputs = scoring_inputs(campaign=campaign)
    if not inputs.tasks or not inputs.teams:
        raise ScoringRequestError(
            _("campaign %(campaign)r has no task or no team to rank") % {"campaign": campaign.slug}
        )
    frame = judge_ratings_frame(run=run)
    in_rated_set = [
        episode in inputs.rated_set.get(task, ())
        for task, episode in zip(frame["task"], frame["episode"], strict=True)
    ]
    frame = frame.loc[np.asarray(in_rated_set, dtype=bool)].reset_index(drop=True)
    try:
        board = leaderboard(
            ratings=frame,
            rated_set=inputs.rated_set,
            tasks=inputs.tasks,
            teams=inputs.teams,
            n_boot=n_boot,
            seed=seed,
        )
    except ScoringInputError as exc:
        raise ScoringRequestError(f"cannot rank teams by judge run {run.pk}: {exc}") from exc
    human_board = None
    if len(inputs.ratings):
        # The human leaderboard itself (cached under its input hash), at this page's settings.
        human_board = campaign_leaderboard(
            campaign=campaign, parameters=ScoringParameters(n_boot=n_boot, seed=seed)
        ).board
    rows = []
    for standing in board.teams:
        human = human_board.standing(standing.team) if human_board else None
        rows.append(
            TeamRankComparison(
                team=standing.team,
                judge_rank=standing.rank,
                judge_score=standing.final_score,
                judge_ci_low=standing.ci_low,
                judge_ci_high=standing.ci_high,
                human_rank=human.rank if human else None,
                human_score=human.final_score if human else None,
            )
        )
    tau = None
    if human_board is not None:
        tau = kendall_tau(
            human=[row.human_score for row in rows], judge=[row.judge_score for row in rows]
        )
    return JudgeLeaderboard(
        run_id=run.pk,
        rater=judge_rater_label(judge=run.judge),
        board=board,
        human_board=human_board,
        rows=rows,
        kendall_tau=tau,
        n_judged=len(frame),
        n_human_ratings=len(inputs.ratings),
    )
