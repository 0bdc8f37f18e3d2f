from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotate.models import Submission
from annotate.services import ImportRefused, submission_confirm


class Command(BaseCommand):
    help = (
        "Make a team's submission version that drops episodes of the rated one the rated "
        "version (the dropped episodes then count 0)."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("team", help="team name")
        parser.add_argument("version", type=int)

    def handle(self, *args, campaign, team, version, **options):
        try:
            submission = Submission.objects.get(
                team__campaign__slug=campaign, team__name=team, version=version
            )
        except Submission.DoesNotExist as exc:
            raise CommandError(f"no version {version} of team {team!r} in {campaign!r}") from exc
        try:
            submission_confirm(submission=submission)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        dropped = submission.report.get("dropped", [])
        self.stdout.write(
            self.style.SUCCESS(
                f"{team} v{version} is now the rated version; dropped: {', '.join(dropped) or 'none'}"
            )
        )
