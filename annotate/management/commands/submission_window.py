from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from annotate.models import Campaign
from annotate.services.team_portal import submission_window_set


def _moment(text: str) -> dt.datetime | None:
    if text in ("", "none"):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{text!r} is not an ISO date and time (2026-06-01T23:59Z)") from exc
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Set when teams may upload (--opens, --closes: ISO times, 'none' for no bound) and "
        "what they see once published (--public or --teams-only leaderboard; "
        "--teams-may-judge or --no-teams-judge)."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("--opens", default="none")
        parser.add_argument("--closes", default="none")
        board = parser.add_mutually_exclusive_group()
        board.add_argument("--public", dest="public", action="store_true", default=None)
        board.add_argument("--teams-only", dest="public", action="store_false")
        judge = parser.add_mutually_exclusive_group()
        judge.add_argument("--teams-may-judge", dest="judge", action="store_true", default=None)
        judge.add_argument("--no-teams-judge", dest="judge", action="store_false")

    def handle(self, *args, campaign, opens, closes, public, judge, **options):
        try:
            found = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {campaign!r}") from exc
        try:
            found = submission_window_set(
                campaign=found,
                opens_at=_moment(opens),
                closes_at=_moment(closes),
                leaderboard_public=public,
                teams_may_judge=judge,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{found.slug}: submissions from {found.submissions_open_at or 'now'} "
                f"until {found.submissions_close_at or 'no deadline'}; leaderboard "
                f"{'public' if found.leaderboard_public else 'teams only'}; judge for teams "
                f"{'on' if found.teams_may_judge else 'off'}"
            )
        )
