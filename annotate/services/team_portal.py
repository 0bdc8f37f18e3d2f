"""Writes of a team's own portal: its uploads, its choice of final version, and the window.

A team's upload goes through the organizers' ingest (``import_job_create``, run on a
worker); this module only decides whether the team may send it now.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate.models import Campaign, ImportJob, Submission, Team
from annotate.selectors.teams import submission_window_refusal, team_of
from annotate.services.imports import import_job_create
from annotate.words import word


class TeamPortalRefused(Exception):
    """A team's request refused as a whole, with the reason; nothing was written."""


def team_submission_upload(
    *,
    campaign: Campaign,
    user,
    upload: Path,
    origin: str = ImportJob.Origin.PAGE,
    now: dt.datetime | None = None,
) -> ImportJob:
    """Queue the import of a team member's archive as a new version of their team.

    Refused (and the archive removed) when the user is in no team of the campaign or the
    submission window is not open; a version that drops episodes of the rated one waits
    for the organizer's confirmation, as any import does.
    """
    team = team_of(campaign=campaign, user=user)
    refusal = (
        _("You are in no team of this campaign.")
        if team is None
        else submission_window_refusal(campaign=campaign, now=now)
    )
    if refusal:
        Path(upload).unlink(missing_ok=True)
        raise TeamPortalRefused(refusal)
    return import_job_create(
        campaign=campaign,
        kind=ImportJob.Kind.SUBMISSION,
        upload=Path(upload),
        team_name=team.name,
        user=user,
        origin=origin,
    )


@transaction.atomic
def team_final_choose(
    *, team: Team, version: int | None, user, now: dt.datetime | None = None
) -> Team:
    """Make one of the team's versions the one rated; ``None`` goes back to the newest.

    A member of the team may choose before the window closes. An organizer may choose for
    the team at any time while the campaign takes submissions (draft or open), also after
    the window closed: a file a team sent late, or a version an organizer imported, is
    rated only when someone chooses it, never silently. Never a version awaiting the
    organizer's confirmation (one that drops episodes of the rated version). Who chose is
    recorded and shown to the team.
    """
    now = now or timezone.now()
    team = Team.objects.select_for_update().select_related("campaign").get(pk=team.pk)
    if user.is_staff:
        if team.campaign.state not in (Campaign.State.DRAFT, Campaign.State.OPEN):
            raise TeamPortalRefused(
                _("The campaign is %(state)s: the rated versions are frozen.")
                % {"state": word(team.campaign.state)}
            )
    elif not team.members.filter(pk=user.pk).exists():
        raise TeamPortalRefused(_("You are not a member of this team."))
    else:
        refusal = submission_window_refusal(campaign=team.campaign, now=now)
        if refusal:
            raise TeamPortalRefused(refusal)
    submission = None
    if version is not None:
        submission = Submission.objects.filter(team=team, version=version).first()
        if submission is None:
            raise TeamPortalRefused(
                _("Team %(team)s has no version %(version)s.")
                % {"team": team.name, "version": version}
            )
        if submission.awaiting_confirmation:
            raise TeamPortalRefused(
                _(
                    "Version %(version)s lacks episodes of the rated version and waits for the "
                    "organizers' confirmation; it cannot be chosen until they confirm it."
                )
                % {"version": version}
            )
    team.final_submission = submission
    chosen = submission is not None
    team.final_chosen_at = now if chosen else None
    team.final_chosen_by = user if chosen else None
    team.save(update_fields=["final_submission", "final_chosen_at", "final_chosen_by"])
    return team


@transaction.atomic
def submission_window_set(
    *,
    campaign: Campaign,
    opens_at: dt.datetime | None,
    closes_at: dt.datetime | None,
    leaderboard_public: bool | None = None,
    teams_may_judge: bool | None = None,
) -> Campaign:
    """Set when teams may upload, and what they may see; ``None`` for a bound means none."""
    if opens_at and closes_at and closes_at <= opens_at:
        raise ValidationError({"closes_at": _("The window must close after it opens.")})
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign.submissions_open_at, campaign.submissions_close_at = opens_at, closes_at
    fields = ["submissions_open_at", "submissions_close_at"]
    if leaderboard_public is not None:
        campaign.leaderboard_public = leaderboard_public
        fields.append("leaderboard_public")
    if teams_may_judge is not None:
        campaign.teams_may_judge = teams_may_judge
        fields.append("teams_may_judge")
    campaign.save(update_fields=fields)
    return campaign
