from django.urls import path

from annotate.views import assignments as assignment_views
from annotate.views import campaigns as campaign_views
from annotate.views import clips as clip_views
from annotate.views import imports as import_views
from annotate.views import people as people_views
from annotate.views import problems as problem_views
from annotate.views import quality as quality_views
from annotate.views import queue as queue_views
from annotate.views import rating as rating_views
from annotate.views import teams as team_views
from annotate.views import tokens as token_views

urlpatterns = [
    path("queue/", queue_views.queue, name="queue"),
    path("rate/next", rating_views.rate_next, name="rate-next"),
    path("rate/<int:assignment_id>/", rating_views.rate, name="rate"),
    path("rate/<int:assignment_id>/submit", rating_views.rate_submit, name="rate-submit"),
    path("rate/<int:assignment_id>/problem", rating_views.rate_problem, name="rate-problem"),
    path("", campaign_views.home, name="home"),
    path("organize/", campaign_views.campaign_list, name="campaign-list"),
    # Before organize/<slug>/; campaign_create refuses the slug "new".
    path("organize/new/", campaign_views.campaign_create, name="campaign-create"),
    # Before organize/<slug>/, which would otherwise take "tokens" for a campaign.
    path("organize/tokens/", token_views.tokens, name="tokens"),
    path("organize/tokens/issue", token_views.token_issue, name="token-issue"),
    path("organize/tokens/revoke", token_views.token_revoke, name="token-revoke"),
    path("organize/<slug:slug>/", campaign_views.campaign_detail, name="campaign-detail"),
    path("organize/<slug:slug>/import", import_views.import_upload, name="import-upload"),
    path("organize/<slug:slug>/people/", people_views.people_page, name="people"),
    path(
        "organize/<slug:slug>/problems/<int:report_id>/resolve",
        problem_views.problem_resolve_view,
        name="problem-resolve",
    ),
    path(
        "organize/<slug:slug>/problems/<int:report_id>/reopen",
        problem_views.problem_reopen_view,
        name="problem-reopen",
    ),
    path("organize/<slug:slug>/people/import", people_views.people_import, name="people-import"),
    path("organize/<slug:slug>/people/invite", people_views.person_invite, name="person-invite"),
    path(
        "organize/<slug:slug>/people/<str:username>/reset",
        people_views.person_reset,
        name="person-reset",
    ),
    path(
        "organize/<slug:slug>/people/<str:username>/active",
        people_views.person_active,
        name="person-active",
    ),
    path(
        "organize/<slug:slug>/people/<str:username>/team",
        people_views.person_team,
        name="person-team",
    ),
    path(
        "organize/<slug:slug>/people/<str:username>/annotator",
        people_views.person_roster,
        name="person-roster",
    ),
    # The link of an invitation or a password reset; open to anyone holding it.
    path(
        "accounts/invitation/<uidb64>/<token>/",
        people_views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path(
        "organize/<slug:slug>/submissions/<int:submission_id>/confirm",
        import_views.submission_confirm,
        name="submission-confirm",
    ),
    path(
        "organize/<slug:slug>/settings/",
        campaign_views.campaign_settings,
        name="campaign-settings",
    ),
    path("organize/<slug:slug>/state", campaign_views.campaign_state, name="campaign-state"),
    path("organize/<slug:slug>/tasks/", campaign_views.tasks, name="tasks"),
    path("organize/<slug:slug>/tasks/add", campaign_views.task_add, name="task-add"),
    path("organize/<slug:slug>/tasks/upload", campaign_views.tasks_upload, name="tasks-upload"),
    path(
        "organize/<slug:slug>/tasks/<int:number>/edit",
        campaign_views.task_edit,
        name="task-edit",
    ),
    path(
        "organize/<slug:slug>/guideline/",
        campaign_views.guideline_edit,
        name="guideline-edit",
    ),
    path("campaigns/<slug:slug>/guideline/", campaign_views.guideline, name="guideline"),
    # Quality control (annotate/views/quality.py): the annotator's practice round, and the
    # organizer's examples, pass mark, gold rate and qualifications.
    path("campaigns/<slug:slug>/practice/", quality_views.practice, name="practice"),
    path(
        "campaigns/<slug:slug>/practice/start",
        quality_views.practice_start,
        name="practice-start",
    ),
    path(
        "campaigns/<slug:slug>/practice/<int:step>/",
        quality_views.practice_step,
        name="practice-step",
    ),
    path(
        "campaigns/<slug:slug>/practice/<int:step>/answer",
        quality_views.practice_answer,
        name="practice-answer",
    ),
    path("organize/<slug:slug>/quality/", quality_views.quality, name="quality"),
    path(
        "organize/<slug:slug>/quality/settings",
        quality_views.quality_settings,
        name="quality-settings",
    ),
    path(
        "organize/<slug:slug>/quality/examples/mark",
        quality_views.example_mark,
        name="quality-example-mark",
    ),
    path(
        "organize/<slug:slug>/quality/examples/upload",
        quality_views.examples_upload,
        name="quality-examples-upload",
    ),
    path(
        "organize/<slug:slug>/quality/examples/<int:clip_id>/unmark",
        quality_views.example_unmark,
        name="quality-example-unmark",
    ),
    path(
        "organize/<slug:slug>/quality/qualifications/<str:username>/reset",
        quality_views.qualification_reset,
        name="qualification-reset",
    ),
    path("organize/<slug:slug>/quality/gold/apply", quality_views.gold_apply, name="gold-apply"),
    # A team member's own pages (annotate/views/teams.py); results are in evaluation.
    path("teams/<slug:slug>/", team_views.team_portal, name="team-portal"),
    path("teams/<slug:slug>/upload", team_views.team_upload, name="team-upload"),
    path(
        "teams/<slug:slug>/uploads/<int:job_id>.json",
        team_views.team_upload_progress,
        name="team-upload-progress",
    ),
    path("teams/<slug:slug>/final", team_views.team_final, name="team-final"),
    path("organize/<slug:slug>/teams/", team_views.teams_page, name="teams"),
    path(
        "organize/<slug:slug>/teams/<int:team_id>/final",
        team_views.team_final_set,
        name="team-final-set",
    ),
    path(
        "organize/<slug:slug>/teams/window",
        team_views.submission_window,
        name="submission-window",
    ),
    path("organize/<slug:slug>/clips/", clip_views.clip_browser, name="clip-browser"),
    path("organize/<slug:slug>/clips/<int:clip_id>/", clip_views.clip_review, name="clip-review"),
    path(
        "organize/<slug:slug>/imports/<int:job_id>/",
        import_views.import_detail,
        name="import-detail",
    ),
    path(
        "organize/imports/<int:job_id>.json", import_views.import_progress, name="import-progress"
    ),
    path("organize/<slug:slug>/assignments/", assignment_views.assignments, name="assignments"),
    path(
        "organize/<slug:slug>/assignments/apply",
        assignment_views.plan_apply,
        name="assignment-apply",
    ),
    path(
        "organize/<slug:slug>/assignments/annotators/add",
        assignment_views.annotator_add,
        name="assignment-annotator-add",
    ),
    path(
        "organize/<slug:slug>/assignments/annotators/remove",
        assignment_views.annotator_remove,
        name="assignment-annotator-remove",
    ),
    path(
        "organize/<slug:slug>/assignments/move",
        assignment_views.move_pending,
        name="assignment-move",
    ),
    path(
        "organize/<slug:slug>/assignments/reclaim",
        assignment_views.reclaim,
        name="assignment-reclaim",
    ),
]
