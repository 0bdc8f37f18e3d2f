from django.urls import path

from annotate import assignment_views, queue_views, rating_views, token_views, views

urlpatterns = [
    path("queue/", queue_views.queue, name="queue"),
    path("rate/next", rating_views.rate_next, name="rate-next"),
    path("rate/<int:assignment_id>/", rating_views.rate, name="rate"),
    path("rate/<int:assignment_id>/submit", rating_views.rate_submit, name="rate-submit"),
    path("", views.home, name="home"),
    path("organize/", views.campaign_list, name="campaign-list"),
    # Before organize/<slug>/, which would otherwise take "tokens" for a campaign.
    path("organize/tokens/", token_views.tokens, name="tokens"),
    path("organize/tokens/issue", token_views.token_issue, name="token-issue"),
    path("organize/tokens/revoke", token_views.token_revoke, name="token-revoke"),
    path("organize/<slug:slug>/", views.campaign_detail, name="campaign-detail"),
    path("organize/<slug:slug>/import", views.import_upload, name="import-upload"),
    path("organize/<slug:slug>/clips/", views.clip_browser, name="clip-browser"),
    path("organize/imports/<int:job_id>.json", views.import_progress, name="import-progress"),
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
