"""``manage.py export``: a campaign's rankings, ratings or rated set as CSV, JSON or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.models import Campaign
from evaluation import exports, selectors
from evaluation.scoring import MAX_RESAMPLES, ScoringInputError


class Command(BaseCommand):
    help = (
        "Export a campaign's rankings, ratings (raters as pseudonyms) or episodes (the rated "
        "set) as CSV, JSON or XLSX, to --output or to standard output. Prints the input hash. "
        "ratings.csv and episodes.csv are what `manage.py rank` reads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("--what", choices=exports.EXPORT_KINDS, default="rankings")
        parser.add_argument("--format", choices=exports.EXPORT_FORMATS, default="csv")
        parser.add_argument("--output", help="file to write; standard output when left out")
        parser.add_argument(
            "--bootstrap",
            type=int,
            default=1000,
            help=f"bootstrap resamples (rankings), at most {MAX_RESAMPLES}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=options["campaign"])
        except Campaign.DoesNotExist:
            raise CommandError(f"no campaign {options['campaign']!r}") from None
        output = options["output"]
        if output is None and options["format"] == "xlsx":
            raise CommandError("an XLSX export is binary: give --output PATH")
        try:
            parameters = selectors.ScoringParameters.for_campaign(
                campaign=campaign, n_boot=options["bootstrap"]
            )
            file = exports.campaign_export(
                campaign=campaign,
                what=options["what"],
                fmt=options["format"],
                parameters=parameters,
            )
        except ScoringInputError as error:
            raise CommandError(str(error)) from error
        if output is None:
            self.stdout.write(file.content.decode("utf-8"), ending="")
            # stdout is the file itself: the hash goes beside it.
            self.stderr.write(f"input hash {file.input_hash}")
            return
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.content)
        self.stdout.write(
            f"Wrote {path} ({options['what']}, {options['format']}, {len(file.content)} bytes); "
            f"input hash {file.input_hash}"
        )
