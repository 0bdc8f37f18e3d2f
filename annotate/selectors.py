"""Reads of the annotate app."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

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


def user_may_see_asset(*, user, asset: MediaAsset) -> bool:
    """Organizers see everything; an annotator only the clips of their assignments and their references."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    mine = Assignment.objects.filter(annotator=user)
    return mine.filter(Q(clip__asset=asset) | Q(clip__episode__reference=asset)).exists()


def rating_of(*, assignment: Assignment) -> Rating | None:
    """The assignment's rating, if it has one.

    Ordered by key on purpose: the model's default ordering would join five tables to
    sort one row.
    """
    return Rating.objects.filter(assignment=assignment).order_by("pk").first()


def current_submissions(*, campaign: Campaign | None = None) -> QuerySet[Submission]:
    """The newest submission of each team: the one that is rated (of every campaign by default).

    A subquery, not a list: used inside other filters it costs no round trip of its own.
    """
    newer = Submission.objects.filter(team=OuterRef("team"), version__gt=OuterRef("version"))
    newest = Submission.objects.filter(~Exists(newer))
    if campaign is not None:
        newest = newest.filter(team__campaign=campaign)
    return newest.select_related("team")


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
        "imports": ImportJob.objects.filter(campaign=campaign)[:20],
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
