"""``manage.py rater_exclude``: exclude a rater's ratings from a campaign's results, or lift it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from annotate.models import Campaign, RaterExclusion
from annotate.services import review
from evaluation.selectors import reliability


def _moment(text: str) -> dt.datetime:
    """An ISO date or date-time; a date means its start, in the server's time zone."""
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(f"--since {text!r} is not a date (YYYY-MM-DD) or an ISO date-time")
        moment = dt.datetime.combine(day, dt.time())
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = (
        "Leave a rater's ratings out of a campaign's leaderboard, exports and agreement "
        "report (all of them, or those last changed from --since), with a reason; nothing "
        "is deleted. With --lift, count them again. Both are recorded (who, when, why)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("rater", help="the rater's username or export pseudonym")
        parser.add_argument("--reason", required=True, help="why (recorded)")
        parser.add_argument("--since", help="only ratings last changed from this date or moment")
        parser.add_argument("--lift", action="store_true", help="lift the active exclusion")
        parser.add_argument("--by", help="the organizer's username, recorded as who did it")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"no campaign {options['campaign']!r}")
        user = reliability.rater_user(campaign=campaign, name=options["rater"])
        if user is None:
            raise CommandError(
                f"nobody with work in campaign {campaign.slug!r} is named {options['rater']!r}"
            )
        by = None
        if options["by"]:
            by = get_user_model().objects.filter(username=options["by"], is_staff=True).first()
            if by is None:
                raise CommandError(f"--by {options['by']!r} is not an organizer")
        pseudonym = reliability.rater_pseudonym(user_id=user.pk, campaign_slug=campaign.slug)
        try:
            if options["lift"]:
                if options["since"]:
                    raise CommandError("--since belongs to an exclusion, not to a lift")
                active = RaterExclusion.objects.filter(
                    campaign=campaign, annotator=user, lifted_at__isnull=True
                ).first()
                if active is None:
                    raise CommandError(f"{user.username!r} is not excluded")
                review.rater_exclusion_lift(exclusion=active, reason=options["reason"], by=by)
                self.stdout.write(f"Lifted the exclusion of {user.username} ({pseudonym}).")
                return
            since = _moment(options["since"]) if options["since"] else None
            review.rater_exclude(
                campaign=campaign, annotator=user, reason=options["reason"], since=since, by=by
            )
        except review.ReviewRefused as error:
            raise CommandError(str(error)) from error
        scope = f"from {since.isoformat()}" if since else "all ratings"
        self.stdout.write(f"Excluded {user.username} ({pseudonym}), {scope}.")
