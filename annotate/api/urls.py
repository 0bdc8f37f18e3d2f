from django.urls import path

from annotate.api import annotator, campaigns, views
from annotate.api import assignments as assignment_api
from annotate.api import people as people_api
from annotate.api import problems as problem_api
from annotate.api import quality as quality_api
from annotate.api import teams as team_api
from annotate.api import tokens as token_api

urlpatterns = [
    path("me/queue/", annotator.MyQueueApi.as_view(), name="api-my-queue"),
    path("me/next/", annotator.AssignmentNextApi.as_view(), name="api-my-next"),
    path(
        "me/assignments/<int:assignment_id>/rating/",
        annotator.AssignmentRatingApi.as_view(),
        name="api-my-rating",
    ),
    path(
        "me/assignments/<int:assignment_id>/problem/",
        annotator.AssignmentProblemApi.as_view(),
        name="api-my-problem",
    ),
    path("me/ratings/", annotator.MyRatingsApi.as_view(), name="api-my-ratings"),
    path(
        "campaigns/<slug:slug>/problems/",
        problem_api.ProblemReportsApi.as_view(),
        name="api-problems",
    ),
    path(
        "campaigns/<slug:slug>/problems/<int:report_id>/resolve/",
        problem_api.ProblemResolveApi.as_view(),
        name="api-problem-resolve",
    ),
    path(
        "campaigns/<slug:slug>/problems/<int:report_id>/reopen/",
        problem_api.ProblemReopenApi.as_view(),
        name="api-problem-reopen",
    ),
    path("campaigns/", campaigns.CampaignListApi.as_view(), name="api-campaigns"),
    path("campaigns/<slug:slug>/", campaigns.CampaignDetailApi.as_view(), name="api-campaign"),
    path(
        "campaigns/<slug:slug>/state/",
        campaigns.CampaignStateApi.as_view(),
        name="api-campaign-state",
    ),
    path("campaigns/<slug:slug>/tasks/", campaigns.TaskListApi.as_view(), name="api-tasks"),
    path(
        "campaigns/<slug:slug>/tasks/import/",
        campaigns.TasksImportApi.as_view(),
        name="api-tasks-import",
    ),
    path(
        "campaigns/<slug:slug>/tasks/<int:number>/",
        campaigns.TaskDetailApi.as_view(),
        name="api-task",
    ),
    path(
        "campaigns/<slug:slug>/guideline/",
        campaigns.GuidelineApi.as_view(),
        name="api-guideline",
    ),
    path(
        "campaigns/<slug:slug>/imports/", views.ImportCreateApi.as_view(), name="api-import-create"
    ),
    path("imports/<int:job_id>/", views.ImportDetailApi.as_view(), name="api-import-detail"),
    path(
        "campaigns/<slug:slug>/submissions/<int:submission_id>/confirm/",
        views.SubmissionConfirmApi.as_view(),
        name="api-submission-confirm",
    ),
    path(
        "campaigns/<slug:slug>/submissions/",
        team_api.TeamSubmissionsApi.as_view(),
        name="api-team-submissions",
    ),
    path(
        "campaigns/<slug:slug>/submissions/uploads/<int:job_id>/",
        team_api.TeamUploadApi.as_view(),
        name="api-team-upload",
    ),
    path(
        "campaigns/<slug:slug>/submissions/final/",
        team_api.TeamFinalApi.as_view(),
        name="api-team-final",
    ),
    path(
        "campaigns/<slug:slug>/teams/<int:team_id>/final/",
        team_api.TeamFinalOrganizerApi.as_view(),
        name="api-team-final-organizer",
    ),
    path(
        "campaigns/<slug:slug>/submission-window/",
        team_api.SubmissionWindowApi.as_view(),
        name="api-submission-window",
    ),
    path(
        "campaigns/<slug:slug>/assignments/preview/",
        assignment_api.AssignmentPlanPreviewApi.as_view(),
        name="api-assignment-preview",
    ),
    path(
        "campaigns/<slug:slug>/assignments/apply/",
        assignment_api.AssignmentPlanApplyApi.as_view(),
        name="api-assignment-apply",
    ),
    path(
        "campaigns/<slug:slug>/assignments/move/",
        assignment_api.AssignmentMoveApi.as_view(),
        name="api-assignment-move",
    ),
    path(
        "campaigns/<slug:slug>/assignments/reclaim/",
        assignment_api.AssignmentReclaimApi.as_view(),
        name="api-assignment-reclaim",
    ),
    path(
        "campaigns/<slug:slug>/assignments/progress/",
        assignment_api.AssignmentProgressApi.as_view(),
        name="api-assignment-progress",
    ),
    path(
        "campaigns/<slug:slug>/annotators/",
        assignment_api.CampaignAnnotatorAddApi.as_view(),
        name="api-annotator-add",
    ),
    path(
        "campaigns/<slug:slug>/annotators/<str:username>/",
        assignment_api.CampaignAnnotatorRemoveApi.as_view(),
        name="api-annotator-remove",
    ),
    path("campaigns/<slug:slug>/people/", people_api.PeopleApi.as_view(), name="api-people"),
    path(
        "campaigns/<slug:slug>/people/import/",
        people_api.PeopleImportApi.as_view(),
        name="api-people-import",
    ),
    path(
        "campaigns/<slug:slug>/people/<str:username>/team/",
        people_api.PersonTeamApi.as_view(),
        name="api-person-team",
    ),
    path(
        "people/<str:username>/password-reset/",
        people_api.PersonPasswordResetApi.as_view(),
        name="api-person-password-reset",
    ),
    path(
        "people/<str:username>/active/",
        people_api.PersonActiveApi.as_view(),
        name="api-person-active",
    ),
    # Quality control (annotate/api/quality.py).
    path(
        "campaigns/<slug:slug>/quality/settings/",
        quality_api.QualitySettingsApi.as_view(),
        name="api-quality-settings",
    ),
    path(
        "campaigns/<slug:slug>/quality/examples/",
        quality_api.QualityExamplesApi.as_view(),
        name="api-quality-examples",
    ),
    path(
        "campaigns/<slug:slug>/quality/examples/import/",
        quality_api.QualityExamplesImportApi.as_view(),
        name="api-quality-examples-import",
    ),
    path(
        "campaigns/<slug:slug>/quality/examples/<int:clip_id>/",
        quality_api.QualityExampleApi.as_view(),
        name="api-quality-example",
    ),
    path(
        "campaigns/<slug:slug>/quality/qualifications/",
        quality_api.QualificationsApi.as_view(),
        name="api-qualifications",
    ),
    path(
        "campaigns/<slug:slug>/quality/qualifications/<str:username>/reset/",
        quality_api.QualificationResetApi.as_view(),
        name="api-qualification-reset",
    ),
    path(
        "campaigns/<slug:slug>/quality/gold/apply/",
        quality_api.GoldApplyApi.as_view(),
        name="api-gold-apply",
    ),
    path(
        "campaigns/<slug:slug>/quality/gold-accuracy/",
        quality_api.GoldAccuracyApi.as_view(),
        name="api-gold-accuracy",
    ),
    path(
        "campaigns/<slug:slug>/practice/",
        quality_api.PracticeApi.as_view(),
        name="api-practice",
    ),
    path(
        "campaigns/<slug:slug>/practice/start/",
        quality_api.PracticeStartApi.as_view(),
        name="api-practice-start",
    ),
    path(
        "campaigns/<slug:slug>/practice/answers/",
        quality_api.PracticeAnswerApi.as_view(),
        name="api-practice-answer",
    ),
    path("tokens/", token_api.ApiTokenIssueApi.as_view(), name="api-token-issue"),
    path("tokens/<str:username>/", token_api.ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
]
