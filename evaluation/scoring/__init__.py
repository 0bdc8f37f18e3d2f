"""Pure scoring core of the 0-3 protocol: no Django import anywhere in this package.

Public API:

- point scores (:mod:`.protocol`): :func:`point_scores`, :func:`clip_scores`,
  :func:`prepare_ratings`, :func:`competition_ranks`, :func:`natural_key`;
- intervals, rank probabilities and the release gate (:mod:`.bootstrap`):
  :func:`leaderboard`, :func:`paired_comparison`;
- files (:mod:`.tables`): :func:`read_ratings`, :func:`read_episodes`,
  :func:`read_verdicts`, :func:`rated_set_from`, :func:`write_rankings`,
  :func:`rank_files`;
- agreement (:mod:`.agreement`): :func:`agreement_report`, :func:`agreement_files`.
"""

from __future__ import annotations

from evaluation.scoring.agreement import Stat, agreement_files, agreement_report
from evaluation.scoring.bootstrap import (
    BootstrapReplicates,
    Leaderboard,
    PairedComparison,
    RatingCounts,
    TaskScore,
    TeamStanding,
    bootstrap_replicates,
    leaderboard,
    leaderboard_of,
    paired_comparison,
    percentile_interval,
    rank_distribution,
)
from evaluation.scoring.protocol import (
    RANK_DECIMALS,
    SCORE_MAX,
    SCORE_MIN,
    PointScores,
    PreparedRatings,
    RatedSet,
    ScoringInputError,
    TaskCube,
    clip_scores,
    competition_ranks,
    natural_key,
    natural_sorted,
    point_scores,
    point_scores_of,
    prepare_ratings,
    validate_ratings,
)
from evaluation.scoring.tables import (
    TableError,
    check_output_path,
    rank_files,
    rated_set_from,
    read_episodes,
    read_ratings,
    read_verdicts,
    write_rankings,
)

__all__ = [
    "Stat",
    "agreement_files",
    "agreement_report",
    "RANK_DECIMALS",
    "SCORE_MAX",
    "SCORE_MIN",
    "BootstrapReplicates",
    "Leaderboard",
    "PairedComparison",
    "PointScores",
    "PreparedRatings",
    "RatedSet",
    "RatingCounts",
    "ScoringInputError",
    "TableError",
    "TaskCube",
    "TaskScore",
    "TeamStanding",
    "bootstrap_replicates",
    "check_output_path",
    "clip_scores",
    "competition_ranks",
    "leaderboard",
    "leaderboard_of",
    "natural_key",
    "natural_sorted",
    "paired_comparison",
    "percentile_interval",
    "point_scores",
    "point_scores_of",
    "prepare_ratings",
    "rank_distribution",
    "rank_files",
    "rated_set_from",
    "read_episodes",
    "read_ratings",
    "read_verdicts",
    "validate_ratings",
    "write_rankings",
]
