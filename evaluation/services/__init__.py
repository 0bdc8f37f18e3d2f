"""Writes and ORM-to-core translation of the evaluation app, one module per area.

Views, API views, commands and tasks call these; others add their modules below.
"""

from evaluation.services.scoring import (
    EXPORT_FORMATS,
    EXPORT_KINDS,
    CampaignLeaderboard,
    ExportFile,
    ExportSummary,
    ScoringParameters,
    ScoringRequestError,
    campaign_comparison,
    campaign_export,
    campaign_export_summary,
    campaign_leaderboard,
    input_hash_of,
    leaderboard_figure,
)

__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_KINDS",
    "CampaignLeaderboard",
    "ExportFile",
    "ExportSummary",
    "ScoringParameters",
    "ScoringRequestError",
    "campaign_comparison",
    "campaign_export",
    "campaign_export_summary",
    "campaign_leaderboard",
    "input_hash_of",
    "leaderboard_figure",
]
from evaluation.services.judging import (  # noqa: E402
    CalibrationOutcome,
    ChunkOutcome,
    JudgeLeaderboard,
    JudgingError,
    TeamRankComparison,
    judge_build,
    judge_calibrate,
    judge_leaderboard,
    judge_pair,
    judge_run_cancel,
    judge_run_create,
    judge_run_resume,
    judge_uploaded_pair,
    judge_version_for,
)

__all__ += [
    "CalibrationOutcome",
    "ChunkOutcome",
    "JudgeLeaderboard",
    "JudgingError",
    "TeamRankComparison",
    "judge_build",
    "judge_calibrate",
    "judge_leaderboard",
    "judge_pair",
    "judge_run_cancel",
    "judge_run_create",
    "judge_run_resume",
    "judge_uploaded_pair",
    "judge_version_for",
]
from evaluation.services.agreement import (  # noqa: E402
    AgreementRequestError,
    CampaignAgreement,
    campaign_agreement,
    pair_review,
    report_csv,
    report_json,
)

__all__ += [
    "AgreementRequestError",
    "CampaignAgreement",
    "campaign_agreement",
    "pair_review",
    "report_csv",
    "report_json",
]
