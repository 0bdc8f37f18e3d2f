from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands._report import run_import
from annotate.models import Campaign, ImportJob
from annotate.services import import_recorded


class Command(BaseCommand):
    help = (
        "Import a team's clips from a folder or zip laid out as [<split>/]task<K>/episode_<N>.mp4 "
        "(a new version). A version lacking episodes of the rated one waits for confirmation "
        "unless --allow-drop."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("team", help="team name (created if new)")
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--strict", action="store_true", help="write nothing if any file is rejected"
        )
        parser.add_argument(
            "--allow-drop",
            action="store_true",
            help="rate the new version at once even if it lacks episodes of the rated one",
        )

    def handle(self, *args, campaign, team, path, strict, allow_drop, **options):
        try:
            campaign_obj = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {campaign!r}") from exc
        run_import(
            self,
            import_recorded,
            verbosity=options["verbosity"],
            kind=ImportJob.Kind.SUBMISSION,
            origin=ImportJob.Origin.COMMAND,
            campaign=campaign_obj,
            team_name=team,
            path=path,
            strict=strict,
            allow_drop=allow_drop,
        )
