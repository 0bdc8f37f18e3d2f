from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotate.models import Campaign
from annotate.services import AssignmentError, assignment_reclaim_stale


class Command(BaseCommand):
    help = (
        "Return in-progress assignments idle longer than the campaign's reclaim timeout "
        "(or --minutes) and without a saved rating to pending. Safe to run from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("--minutes", type=int, default=None, help="override the timeout")

    def handle(self, *args, campaign, minutes, **options):
        try:
            campaign_obj = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {campaign!r}") from exc
        try:
            result = assignment_reclaim_stale(campaign=campaign_obj, minutes=minutes)
        except AssignmentError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"reclaimed {result.reclaimed} assignments idle since before "
                f"{result.cutoff:%Y-%m-%d %H:%M:%S} UTC"
            )
        )
        for username, count in result.by_annotator.items():
            self.stdout.write(f"  {username}: {count}")
