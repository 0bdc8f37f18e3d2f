from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands._report import run_import
from annotate.models import Campaign, ImportJob
from annotate.services import import_recorded


class Command(BaseCommand):
    help = (
        "Import reference episodes from a folder or zip laid out as task<K>/episode_<N>.mp4, "
        "task<K>/episode_<N>/<camera>.mp4 or task<K>/videos/<camera>/episode_<N>.mp4. "
        "The file of an episode that has ratings is never replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--strict", action="store_true", help="write nothing if any file is rejected"
        )

    def handle(self, *args, campaign, path, strict, **options):
        try:
            campaign_obj = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {campaign!r}") from exc
        run_import(
            self,
            import_recorded,
            verbosity=options["verbosity"],
            kind=ImportJob.Kind.REFERENCE,
            origin=ImportJob.Origin.COMMAND,
            campaign=campaign_obj,
            path=path,
            strict=strict,
        )
