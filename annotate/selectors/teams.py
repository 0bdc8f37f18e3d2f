"""Reads for a team's own pages: its team, its versions and its uploads' reports.

Nothing here names an annotator or shows a rating: a team sees its files and what became
of them, and its results only through evaluation once the campaign is published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate import ingest
from annotate.models import Campaign, Episode, ImportJob, Submission, Team
from annotate.selectors import current_submissions
from annotate.words import word


def team_of(*, campaign: Campaign, user) -> Team | None:
    """The user's team in this campaign, or None (a person is in at most one team of it)."""
    if not (user.is_authenticated and user.is_active):
        return None
    return Team.objects.filter(campaign=campaign, members=user).order_by("pk").first()


def submission_window_refusal(*, campaign: Campaign, now: dt.datetime | None = None) -> str:
    """Why a team may not upload or choose its final version now; empty when it may."""
    now = now or timezone.now()
    if campaign.state not in (Campaign.State.DRAFT, Campaign.State.OPEN):
        return _("The campaign is %(state)s: submissions are closed.") % {
            "state": word(campaign.state)
        }
    if campaign.submissions_open_at and now < campaign.submissions_open_at:
        return _("Submissions open at %(when)s.") % {
            "when": f"{campaign.submissions_open_at:%Y-%m-%d %H:%M %Z}"
        }
    if campaign.submissions_close_at and now >= campaign.submissions_close_at:
        return _(
            "The submission window closed at %(when)s; uploads and changes of the final "
            "version are no longer accepted."
        ) % {"when": f"{campaign.submissions_close_at:%Y-%m-%d %H:%M %Z}"}
    return ""


@dataclass(frozen=True)
class TeamVersion:
    submission: Submission
    version: int
    created_at: dt.datetime
    n_clips: int
    n_rejected: int
    awaiting_confirmation: bool
    is_rated: bool  # the version that counts now
    is_chosen: bool  # the team chose it explicitly


def team_versions(*, team: Team) -> list[TeamVersion]:
    """The team's versions, newest first, with which one counts and whether it was chosen."""
    rated = current_submissions().filter(team=team).values_list("pk", flat=True).first()
    rows = team.submissions.annotate(n_clips=Count("clips")).order_by("-version")
    return [
        TeamVersion(
            submission=row,
            version=row.version,
            created_at=row.created_at,
            n_clips=row.n_clips,
            n_rejected=len((row.report or {}).get("rejected", [])),
            awaiting_confirmation=row.awaiting_confirmation,
            is_rated=row.pk == rated,
            is_chosen=row.pk == team.final_submission_id,
        )
        for row in rows
    ]


def team_uploads(*, team: Team) -> QuerySet[ImportJob]:
    """Every import of the team's files (its own uploads and the organizers'), newest first."""
    return ImportJob.objects.filter(
        campaign_id=team.campaign_id, kind=ImportJob.Kind.SUBMISSION, team_name=team.name
    ).order_by("-created_at", "-pk")


def team_upload(*, team: Team, job_id: int) -> ImportJob | None:
    return team_uploads(team=team).filter(pk=job_id).first()


def team_upload_report(*, job: ImportJob) -> dict:
    """What became of each file of one upload, as the team reads it.

    ``missing`` lists the campaign's ground-truth episodes the upload did not bring in:
    each counts 0 wherever it is rated.
    """
    report = job.report or {}
    accepted = list(report.get("accepted", []))
    episodes = Episode.objects.filter(task__campaign_id=job.campaign_id).values_list(
        "task__key", "key"
    )
    missing = []
    if job.status == ImportJob.Status.DONE:
        given = set(accepted)
        missing = sorted(
            (f"{task}/{episode}" for task, episode in episodes if f"{task}/{episode}" not in given),
            key=ingest.natural_key,
        )
    return {
        "id": job.pk,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "version": report.get("submission_version"),
        "accepted": accepted,
        "skipped": list(report.get("skipped", [])),
        "rejected": list(report.get("rejected", [])),
        "missing": missing,
        "dropped": list(report.get("dropped", [])),
        "final_kept": report.get("final_kept"),
        "awaiting_confirmation": bool(report.get("awaiting_confirmation", False)),
    }


@dataclass(frozen=True)
class TeamOverview:
    team: Team
    n_members: int
    versions: list[TeamVersion]

    @property
    def rated(self) -> TeamVersion | None:
        return next((row for row in self.versions if row.is_rated), None)


def teams_overview(*, campaign: Campaign) -> list[TeamOverview]:
    """Each team of the campaign with its members count and versions, for the organizers."""
    teams = Team.objects.filter(campaign=campaign).annotate(n_members=Count("members"))
    return [
        TeamOverview(team=team, n_members=team.n_members, versions=team_versions(team=team))
        for team in teams.order_by("name")
    ]
