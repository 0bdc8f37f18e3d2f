"""Reads for the people page and API: who has which role in a campaign, and their links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from annotate.models import Campaign, Invitation, Team

User = get_user_model()


@dataclass(frozen=True)
class Person:
    username: str
    email: str
    is_active: bool
    is_organizer: bool
    is_administrator: bool
    on_roster: bool
    team: str
    last_login: dt.datetime | None
    invitation: str  # none, pending, expired, used
    invitation_expires_at: dt.datetime | None

    @property
    def roles(self) -> list[str]:
        roles = ["organizer"] if self.is_organizer else []
        if self.on_roster:
            roles.append("annotator")
        if self.team:
            roles.append("team")
        return roles


def invitation_status(invitation: Invitation | None, *, now: dt.datetime) -> str:
    if invitation is None:
        return "none"
    if invitation.used_at is not None:
        return "used"
    if invitation.expires_at <= now:
        return "expired"
    return "pending"


def latest_invitation(*, user) -> Invitation | None:
    return Invitation.objects.filter(user=user).order_by("-created_at", "-pk").first()


def campaign_people(*, campaign: Campaign, now: dt.datetime | None = None) -> list[Person]:
    """Every account, with its roles in this campaign; organizers first, then by name."""
    now = now or timezone.now()
    roster = set(campaign.annotators.values_list("pk", flat=True))
    teams = dict(
        Team.members.through.objects.filter(team__campaign=campaign).values_list(
            "user_id", "team__name"
        )
    )
    latest: dict[int, Invitation] = {}
    for invitation in Invitation.objects.order_by("user_id", "-created_at", "-pk"):
        latest.setdefault(invitation.user_id, invitation)
    people = []
    for user in User.objects.order_by("-is_staff", "username"):
        invitation = latest.get(user.pk)
        people.append(
            Person(
                username=user.username,
                email=user.email,
                is_active=user.is_active,
                is_organizer=user.is_staff,
                is_administrator=user.is_superuser,
                on_roster=user.pk in roster,
                team=teams.get(user.pk, ""),
                last_login=user.last_login,
                invitation=invitation_status(invitation, now=now),
                invitation_expires_at=invitation.expires_at if invitation else None,
            )
        )
    return people
