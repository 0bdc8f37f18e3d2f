from django.urls import path

from evaluation.api import agreement as agreement_api
from evaluation.api import judging as judging_api
from evaluation.api import raters as raters_api
from evaluation.api import team_results as team_results_api
from evaluation.api import views as scoring_api

urlpatterns = [
    path(
        "campaigns/<slug:slug>/results/",
        team_results_api.TeamResultsApi.as_view(),
        name="api-team-results",
    ),
    path(
        "campaigns/<slug:slug>/judge/pair/",
        team_results_api.TeamJudgePairApi.as_view(),
        name="api-team-judge-pair",
    ),
    path(
        "campaigns/<slug:slug>/rankings/",
        scoring_api.RankingsApi.as_view(),
        name="api-rankings",
    ),
    path(
        "campaigns/<slug:slug>/exports/",
        scoring_api.ExportApi.as_view(),
        name="api-exports",
    ),
    path(
        "campaigns/<slug:slug>/compare/",
        scoring_api.CompareApi.as_view(),
        name="api-compare",
    ),
    path(
        "campaigns/<slug:slug>/judge-runs/",
        judging_api.JudgeRunListCreateApi.as_view(),
        name="api-judge-runs",
    ),
    path("judge-runs/<int:run_id>/", judging_api.JudgeRunDetailApi.as_view(), name="api-judge-run"),
    path(
        "judge-runs/<int:run_id>/cancel/",
        judging_api.JudgeRunCancelApi.as_view(),
        name="api-judge-run-cancel",
    ),
    path(
        "judge-runs/<int:run_id>/resume/",
        judging_api.JudgeRunResumeApi.as_view(),
        name="api-judge-run-resume",
    ),
    path(
        "judge-runs/<int:run_id>/ranking/",
        judging_api.JudgeRunRankingApi.as_view(),
        name="api-judge-run-ranking",
    ),
    path(
        "campaigns/<slug:slug>/judge-calibrations/",
        judging_api.JudgeCalibrateApi.as_view(),
        name="api-judge-calibrate",
    ),
    path("judge/pair/", judging_api.JudgePairApi.as_view(), name="api-judge-pair"),
    path(
        "campaigns/<slug:slug>/agreement/",
        agreement_api.AgreementReportApi.as_view(),
        name="api-agreement",
    ),
    path(
        "campaigns/<slug:slug>/agreement/figures/<str:name>.<str:fmt>",
        agreement_api.AgreementFigureApi.as_view(),
        name="api-agreement-figure",
    ),
    # Quality review: rater reliability, exclusions, adjudication.
    path("campaigns/<slug:slug>/raters/", raters_api.RaterReportApi.as_view(), name="api-raters"),
    path(
        "campaigns/<slug:slug>/raters/thresholds/",
        raters_api.ThresholdsApi.as_view(),
        name="api-raters-thresholds",
    ),
    path(
        "campaigns/<slug:slug>/raters/exclusions/",
        raters_api.ExclusionsApi.as_view(),
        name="api-rater-exclusions",
    ),
    path(
        "campaigns/<slug:slug>/raters/exclusions/<int:exclusion_id>/lift/",
        raters_api.ExclusionLiftApi.as_view(),
        name="api-rater-exclusion-lift",
    ),
    path(
        "campaigns/<slug:slug>/adjudication/",
        raters_api.AdjudicationQueueApi.as_view(),
        name="api-adjudication",
    ),
    path(
        "campaigns/<slug:slug>/adjudication/actions/",
        raters_api.AdjudicationActionsApi.as_view(),
        name="api-adjudication-actions",
    ),
    path(
        "campaigns/<slug:slug>/adjudication/<int:clip_id>/extra-rater/",
        raters_api.ExtraRaterApi.as_view(),
        name="api-adjudication-extra-rater",
    ),
    path(
        "campaigns/<slug:slug>/adjudication/<int:clip_id>/decision/",
        raters_api.DecisionApi.as_view(),
        name="api-adjudication-decision",
    ),
    path(
        "campaigns/<slug:slug>/adjudication/<int:clip_id>/withdrawal/",
        raters_api.WithdrawalApi.as_view(),
        name="api-adjudication-withdrawal",
    ),
]
