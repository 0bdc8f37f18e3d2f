"""``manage.py agreement_report``: a campaign's agreement report, from the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.models import Campaign
from evaluation import exports
from evaluation.scoring import ScoringInputError
from evaluation.selectors import agreement as agreement_selectors

WRITERS = {".json": exports.report_json, ".csv": exports.report_csv}


class Command(BaseCommand):
    help = (
        "Agreement of a campaign's human raters among themselves and, by default, of its "
        "newest completed judge run with them; written as JSON (the shape of "
        "`manage.py agreement`) or CSV (one row per statistic), chosen by the extension."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        judge = parser.add_mutually_exclusive_group()
        judge.add_argument(
            "--judge-run", type=int, help="judge run id (default: the newest completed run)"
        )
        judge.add_argument("--humans-only", action="store_true", help="leave the judge out")
        parser.add_argument("--output", required=True, help="report.json or report.csv")
        parser.add_argument(
            "--bootstrap",
            type=int,
            default=agreement_selectors.DEFAULT_RESAMPLES,
            help="bootstrap resamples (0: no intervals)",
        )
        parser.add_argument("--seed", type=int, help="bootstrap seed (default: the campaign's)")
        parser.add_argument(
            "--with-excluded", action="store_true", help="put excluded raters' ratings back in"
        )
        parser.add_argument(
            "--with-gold", action="store_true", help="put the gold checks' ratings in"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        write = WRITERS.get(output.suffix.lower())
        if write is None:
            raise CommandError(f"output {output.name!r} must end in .json or .csv")
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"no campaign {options['campaign']!r}")
        try:
            run = (
                None
                if options["humans_only"]
                else agreement_selectors.judge_run_of(
                    campaign=campaign, run_id=options["judge_run"]
                )
            )
            result = agreement_selectors.campaign_agreement(
                campaign=campaign,
                run=run,
                n_boot=options["bootstrap"],
                seed=options["seed"],
                with_excluded=options["with_excluded"],
                with_gold=options["with_gold"],
            )
        except ScoringInputError as error:
            raise CommandError(str(error)) from error
        assert result is not None  # computed on demand
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(write(report=result.report))
        judged = f" against judge {result.judge} (run {result.run_id})" if result.judge else ""
        self.stdout.write(
            f"Agreement of {campaign.slug}{judged}, {result.n_boot} resamples, "
            f"seed {result.seed}. Wrote {output}."
        )
