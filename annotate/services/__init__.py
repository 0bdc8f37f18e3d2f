"""Writes of the annotate app, one module per area; views, commands and tasks call these."""

from annotate.services.demo import demo_campaign_create
from annotate.services.imports import (
    ImportRefused,
    ImportReport,
    campaign_create,
    import_job_create,
    import_job_run,
    media_asset_prepare,
    reference_import,
    submission_import,
)

__all__ = [
    "demo_campaign_create",
    "ImportRefused",
    "ImportReport",
    "campaign_create",
    "import_job_create",
    "import_job_run",
    "media_asset_prepare",
    "reference_import",
    "submission_import",
]
from annotate.services.ratings import (  # noqa: E402
    FULL_WATCH_MIN,
    CampaignQueue,
    QueuePosition,
    RatingRefused,
    RubricAnswers,
    TaskProgress,
    annotator_queue,
    assignment_next,
    assignment_open,
    assignment_position,
    assignment_upcoming,
    assignments_current,
    rating_revise,
    rating_submit,
    rubric_resolve,
)

__all__ += [
    "FULL_WATCH_MIN",
    "CampaignQueue",
    "QueuePosition",
    "RatingRefused",
    "RubricAnswers",
    "TaskProgress",
    "annotator_queue",
    "assignment_next",
    "assignment_open",
    "assignment_position",
    "assignment_upcoming",
    "assignments_current",
    "rating_revise",
    "rating_submit",
    "rubric_resolve",
]
from annotate.services.assignments import (  # noqa: E402
    AssignmentApplyResult,
    AssignmentError,
    AssignmentMoveResult,
    AssignmentReclaimResult,
    RatedSetResult,
    assignment_annotator_add,
    assignment_annotator_remove,
    assignment_move_pending,
    assignment_plan_apply,
    assignment_plan_preview,
    assignment_reclaim_stale,
    rated_set_update,
)

__all__ += [
    "AssignmentApplyResult",
    "AssignmentError",
    "AssignmentMoveResult",
    "AssignmentReclaimResult",
    "RatedSetResult",
    "assignment_annotator_add",
    "assignment_annotator_remove",
    "assignment_move_pending",
    "assignment_plan_apply",
    "assignment_plan_preview",
    "assignment_reclaim_stale",
    "rated_set_update",
]
from annotate.services.tokens import api_token_issue, api_token_revoke  # noqa: E402

__all__ += ["api_token_issue", "api_token_revoke"]
