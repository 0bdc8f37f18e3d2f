"""``manage.py rater_report``: each rater's reliability and flags, from the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.models import Campaign
from evaluation.selectors import reliability

WRITERS = {".json": reliability.rater_report_json, ".csv": reliability.rater_report_csv}


class Command(BaseCommand):
    help = (
        "Each rater of a campaign: clips rated, quadratic-weighted kappa and exact agreement "
        "with the leave-that-rater-out consensus, bias, gold accuracy, server-measured time "
        "per clip against the clip's length, straight-lining, and the flags they trip. "
        "Written as JSON (with the thresholds) or CSV, chosen by the extension."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("--output", required=True, help="raters.json or raters.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        write = WRITERS.get(output.suffix.lower())
        if write is None:
            raise CommandError(f"output {output.name!r} must end in .json or .csv")
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"no campaign {options['campaign']!r}")
        report = reliability.rater_report(campaign=campaign)
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(write(report))
        except OSError as error:
            raise CommandError(f"cannot write {output}: {error.strerror or error}") from error
        flagged = ", ".join(
            f"{row.reliability.rater} ({', '.join(row.reliability.flags)})"
            for row in report.flagged
        )
        self.stdout.write(
            f"{len(report.rows)} raters, {len(report.flagged)} flagged"
            + (f": {flagged}" if flagged else "")
            + f". Wrote {output}."
        )
