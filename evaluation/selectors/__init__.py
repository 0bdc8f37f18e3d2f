"""Reads of the evaluation app, one module per area; writes are in :mod:`evaluation.services`.

- :mod:`.ratings`: a campaign's scored ratings, rated set, tasks, teams, coverage, drill-down;
- :mod:`.leaderboard`: the leaderboard, the release gate and the rows people read;
- :mod:`.judge`: judge versions, runs, progress and verdicts (:func:`run_verdicts`);
- :mod:`.judge_leaderboard`: the ranking a judge run gives, beside the human one;
- :mod:`.agreement`: agreement reports and the pair review;
- :mod:`.teams`: what a published campaign shows its teams.
"""

from evaluation.selectors.ratings import (
    PSEUDONYM_HEX_DIGITS,
    RATING_EXPORT_COLUMNS,
    SCORING_COLUMNS,
    ClipDetail,
    Coverage,
    RatingDetail,
    campaign_tasks,
    coverage,
    current_submission_ids,
    drilldown,
    entrant_teams,
    rated_set,
    rater_pseudonym,
    ratings_frame,
    scored_ratings,
)

__all__ = [
    "ClipDetail",
    "Coverage",
    "PSEUDONYM_HEX_DIGITS",
    "RATING_EXPORT_COLUMNS",
    "RatingDetail",
    "SCORING_COLUMNS",
    "campaign_tasks",
    "coverage",
    "current_submission_ids",
    "drilldown",
    "entrant_teams",
    "rated_set",
    "rater_pseudonym",
    "ratings_frame",
    "scored_ratings",
]
from evaluation.selectors.leaderboard import (  # noqa: E402
    CampaignComparison,
    CampaignLeaderboard,
    ScoringInputs,
    ScoringParameters,
    ScoringRequestError,
    StandingRow,
    TaskCell,
    campaign_comparison,
    campaign_leaderboard,
    campaign_task_score,
    input_hash_of,
    scoring_inputs,
    standing_rows,
)

__all__ += [
    "CampaignComparison",
    "CampaignLeaderboard",
    "ScoringInputs",
    "ScoringParameters",
    "ScoringRequestError",
    "StandingRow",
    "TaskCell",
    "campaign_comparison",
    "campaign_leaderboard",
    "campaign_task_score",
    "input_hash_of",
    "scoring_inputs",
    "standing_rows",
]
from evaluation.selectors.judge_leaderboard import (  # noqa: E402
    JudgeLeaderboard,
    TeamRankComparison,
    judge_leaderboard,
)

__all__ += ["JudgeLeaderboard", "TeamRankComparison", "judge_leaderboard"]
from evaluation.selectors.agreement import (  # noqa: E402
    AgreementRequestError,
    CampaignAgreement,
    campaign_agreement,
    pair_review,
)

__all__ += ["AgreementRequestError", "CampaignAgreement", "campaign_agreement", "pair_review"]
