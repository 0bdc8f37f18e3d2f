from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands._progress import progress_bar
from annotate.management.commands._report import write_report
from annotate.models import Campaign
from annotate.services import ImportRefused, reference_import


class Command(BaseCommand):
    help = (
        "Import reference episodes from a folder or zip laid out as task<K>/episode_<N>.mp4, "
        "task<K>/episode_<N>/<camera>.mp4 or task<K>/videos/<camera>/episode_<N>.mp4."
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
        with progress_bar("probing", disable=options["verbosity"] == 0) as progress:
            try:
                report = reference_import(
                    campaign=campaign_obj, path=path, strict=strict, progress=progress
                )
            except ImportRefused as exc:
                if exc.report:
                    write_report(self, exc.report)
                raise CommandError(str(exc)) from exc
        write_report(self, report)
