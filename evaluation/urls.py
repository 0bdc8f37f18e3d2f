from django.urls import path

from evaluation.views import agreement as agreement_views
from evaluation.views import exports as export_views
from evaluation.views import judge as judge_views
from evaluation.views import leaderboard as scoring_views
from evaluation.views import raters as rater_views
from evaluation.views import teams as team_views

urlpatterns = [
    # A team's own results, once published; the leaderboard of a published campaign.
    path("teams/<slug:slug>/results/", team_views.team_results_page, name="team-results"),
    path(
        "teams/<slug:slug>/results.<str:fmt>",
        team_views.team_results_download,
        name="team-results-download",
    ),
    path("leaderboard/<slug:slug>/", team_views.public_leaderboard, name="public-leaderboard"),
    path("organize/<slug:slug>/leaderboard/", scoring_views.leaderboard, name="leaderboard"),
    path(
        "organize/<slug:slug>/leaderboard/figure.<str:fmt>",
        scoring_views.leaderboard_figure,
        name="leaderboard-figure",
    ),
    path(
        "organize/<slug:slug>/leaderboard/<int:team_id>/<str:task_key>/",
        scoring_views.drilldown,
        name="leaderboard-drilldown",
    ),
    path("organize/<slug:slug>/exports/", export_views.exports, name="exports"),
    path(
        "organize/<slug:slug>/exports/<str:what>.<str:fmt>",
        export_views.export_download,
        name="export-download",
    ),
    path("organize/<slug:slug>/judge/", judge_views.judge_runs, name="judge-runs"),
    path("organize/<slug:slug>/judge/runs", judge_views.judge_run_launch, name="judge-run-launch"),
    path(
        "organize/<slug:slug>/judge/calibrate",
        judge_views.judge_calibrate,
        name="judge-calibrate",
    ),
    path("organize/<slug:slug>/judge/runs/<int:run_id>/", judge_views.judge_run, name="judge-run"),
    path(
        "organize/<slug:slug>/judge/runs/<int:run_id>.json",
        judge_views.judge_run_progress,
        name="judge-run-progress",
    ),
    path(
        "organize/<slug:slug>/judge/runs/<int:run_id>/cancel",
        judge_views.judge_run_cancel,
        name="judge-run-cancel",
    ),
    path(
        "organize/<slug:slug>/judge/runs/<int:run_id>/resume",
        judge_views.judge_run_resume,
        name="judge-run-resume",
    ),
    path("organize/<slug:slug>/agreement/", agreement_views.agreement, name="agreement"),
    path(
        "organize/<slug:slug>/agreement/figure/<str:name>.<str:fmt>",
        agreement_views.agreement_figure,
        name="agreement-figure",
    ),
    path(
        "organize/<slug:slug>/agreement/report.<str:fmt>",
        agreement_views.agreement_export,
        name="agreement-export",
    ),
    path(
        "organize/<slug:slug>/agreement/pair/<int:clip_id>/",
        agreement_views.pair_review,
        name="agreement-pair",
    ),
    # Quality review: rater reliability, exclusions, adjudication.
    path("organize/<slug:slug>/raters/", rater_views.raters, name="raters"),
    path(
        "organize/<slug:slug>/raters/report.<str:fmt>",
        rater_views.raters_report,
        name="raters-report",
    ),
    path(
        "organize/<slug:slug>/raters/figure.<str:fmt>",
        rater_views.raters_figure,
        name="raters-figure",
    ),
    path(
        "organize/<slug:slug>/raters/thresholds",
        rater_views.raters_thresholds,
        name="raters-thresholds",
    ),
    path("organize/<slug:slug>/raters/exclude", rater_views.rater_exclude, name="rater-exclude"),
    path(
        "organize/<slug:slug>/raters/exclusions/<int:exclusion_id>/lift",
        rater_views.rater_exclusion_lift,
        name="rater-exclusion-lift",
    ),
    path("organize/<slug:slug>/adjudication/", rater_views.adjudication, name="adjudication"),
    path(
        "organize/<slug:slug>/adjudication/actions.<str:fmt>",
        rater_views.adjudication_actions,
        name="adjudication-actions",
    ),
    path(
        "organize/<slug:slug>/adjudication/<int:clip_id>/extra-rater",
        rater_views.adjudication_extra_rater,
        name="adjudication-extra-rater",
    ),
    path(
        "organize/<slug:slug>/adjudication/<int:clip_id>/decide",
        rater_views.adjudication_decide,
        name="adjudication-decide",
    ),
    path(
        "organize/<slug:slug>/adjudication/<int:clip_id>/withdraw",
        rater_views.adjudication_withdraw,
        name="adjudication-withdraw",
    ),
]
