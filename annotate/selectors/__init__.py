"""Reads of the annotate app, one module per area; views, API views and services call these."""

from annotate.selectors.submissions import (
    campaign_overview,
    current_clips,
    current_submissions,
    import_job_progress,
    rating_of,
    submissions_awaiting_confirmation,
    user_may_see_asset,
)

__all__ = [
    "campaign_overview",
    "current_clips",
    "current_submissions",
    "import_job_progress",
    "rating_of",
    "submissions_awaiting_confirmation",
    "user_may_see_asset",
]
