from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands._progress import progress_bar
from annotate.management.commands._report import write_report
from annotate.models import Campaign
from annotate.services import ImportRefused, submission_import


class Command(BaseCommand):
    help = "Import a team's clips from a folder or zip laid out as [<split>/]task<K>/episode_<N>.mp4 (a new version)."

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("team", help="team name (created if new)")
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--strict", action="store_true", help="write nothing if any file is rejected"
        )

    def handle(self, *args, campaign, team, path, strict, **options):
        try:
            campaign_obj = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {campaign!r}") from exc
        with progress_bar("probing", disable=options["verbosity"] == 0) as progress:
            try:
                report = submission_import(
                    campaign=campaign_obj,
                    team_name=team,
                    path=path,
                    strict=strict,
                    progress=progress,
                )
            except ImportRefused as exc:
                if exc.report:
                    write_report(self, exc.report)
                raise CommandError(str(exc)) from exc
        write_report(self, report)
