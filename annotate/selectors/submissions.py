"""Reads of the annotate app."""

from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from annotate.models import (
    Assignment,
    Campaign,
    Clip,
    ImportJob,
    MediaAsset,
    Rating,
    Submission,
    Team,
)
from annotate.selectors.imports import import_history, import_of_submission


def user_may_see_asset(*, user, asset: MediaAsset) -> bool:
    """Organizers see everything; an annotator only the clips of their assignments and their references."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    mine = Assignment.objects.filter(annotator=user)
    if mine.filter(Q(clip__asset=asset) | Q(clip__episode__reference=asset)).exists():
        return True
    # The practice pairs of their campaigns too. Imported here: quality reads this module.
    from annotate.selectors.quality import practice_asset_visible

    return practice_asset_visible(user=user, asset=asset)


def rating_of(*, assignment: Assignment) -> Rating | None:
    """The assignment's rating, if it has one.

    Ordered by key on purpose: the model's default ordering would join five tables to
    sort one row.
    """
    return Rating.objects.filter(assignment=assignment).order_by("pk").first()


def current_submissions(*, campaign: Campaign | None = None) -> QuerySet[Submission]:
    """The rated submission of each team (of every campaign by default): the version the
    team chose as final (``Team.final_submission``), else its newest confirmed one. A
    version awaiting the organizer's confirmation is not rated yet.

    Every read of "the team's submission" (scores, planner, exports) goes through here.
    A subquery, not a list: used inside other filters it costs no round trip of its own.
    """
    confirmed = Submission.objects.filter(awaiting_confirmation=False)
    newer = confirmed.filter(team=OuterRef("team"), version__gt=OuterRef("version"))
    has_choice = Exists(confirmed.filter(pk=OuterRef("team__final_submission")))
    newest = confirmed.filter(Q(pk=F("team__final_submission")) | (~has_choice & ~Exists(newer)))
    if campaign is not None:
        newest = newest.filter(team__campaign=campaign)
    return newest.select_related("team")


def submissions_awaiting_confirmation(*, campaign: Campaign) -> QuerySet[Submission]:
    """Versions that would drop episodes of the rated one and can still become current."""
    newer = Submission.objects.filter(
        team=OuterRef("team"), version__gt=OuterRef("version"), awaiting_confirmation=False
    )
    return (
        Submission.objects.filter(team__campaign=campaign, awaiting_confirmation=True)
        .filter(~Exists(newer))
        .select_related("team")
        .order_by("team__name", "version")
    )


def current_clips(*, campaign: Campaign) -> QuerySet[Clip]:
    return Clip.objects.filter(
        submission__in=current_submissions(campaign=campaign)
    ).select_related("episode__task", "submission__team", "asset")


def campaign_overview(*, campaign: Campaign) -> dict:
    tasks = list(campaign.tasks.annotate(n_episodes=Count("episodes")).order_by("number"))
    teams = []
    for submission in current_submissions(campaign=campaign).order_by("team__name"):
        teams.append(
            {
                "team": submission.team,
                "version": submission.version,
                "n_clips": submission.clips.count(),
                "n_rejected": len(submission.report.get("rejected", [])),
                "rejected": submission.report.get("rejected", []),
                "import_job": import_of_submission(submission=submission),
                "created_at": submission.created_at,
            }
        )
    return {
        "tasks": tasks,
        "n_episodes": sum(task.n_episodes for task in tasks),
        "teams": teams,
        "teams_without_submission": Team.objects.filter(
            campaign=campaign, submissions__isnull=True
        ),
        "awaiting_confirmation": submissions_awaiting_confirmation(campaign=campaign),
        "imports": import_history(campaign=campaign),
        "assets_pending": MediaAsset.objects.filter(status=MediaAsset.Status.PENDING).count(),
        "assets_failed": MediaAsset.objects.filter(status=MediaAsset.Status.FAILED).count(),
    }


def import_job_progress(*, job: ImportJob) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "error": job.error,
        "report": job.report,
    }
