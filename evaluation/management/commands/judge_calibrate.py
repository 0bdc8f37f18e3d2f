"""Calibrate a judge on a campaign's human ratings and store it as a new judge version."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.models import Campaign
from evaluation import services
from evaluation.services.judge_calibration import L2_MAX, L2_MIN


class Command(BaseCommand):
    help = (
        "Fit the judge's verdict features (its latest completed run on the campaign) to the "
        "human consensus per clip, held out by team, and store the calibrated version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("--judge", default="baseline", help="a name from settings.JUDGES")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--l2",
            type=float,
            default=None,
            help=f"fix the penalty strength, {L2_MIN:g} to {L2_MAX:g} (as on the judge page and "
            "in the API); by default it is chosen by cross-validation over teams",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=options["campaign"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {options['campaign']!r}") from exc
        try:
            outcome = services.judge_calibrate(
                campaign=campaign,
                judge_name=options["judge"],
                seed=options["seed"],
                l2=options["l2"],
            )
        except services.JudgingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"calibrated {outcome.judge_version} on {outcome.pairs} clips of judge run "
            f"{outcome.run.pk} ({outcome.groups} teams, {outcome.folds} folds held out by team, "
            f"penalty {outcome.judge_version.metrics['l2']:g})"
        )
        self.stdout.write(f"{'':14}{'exact':>8}{'within 1':>10}{'quad. kappa':>13}")
        for label, figures in (
            ("calibrated", outcome.calibrated),
            ("uncalibrated", outcome.uncalibrated),
            ("majority", outcome.majority),
        ):
            self.stdout.write(
                f"{label:14}{figures['exact']:8.3f}{figures['within_one']:10.3f}"
                f"{figures['quadratic_kappa']:13.3f}"
            )
        if not outcome.improves:
            self.stdout.write(
                "the calibrated judge does not beat the uncalibrated one on held-out teams: "
                "more rated clips (or teams) are needed before it is worth running"
            )
        self.stdout.write(
            f"run it with: manage.py judge_run {campaign.slug} --judge {outcome.judge_version.name} "
            f"--version {outcome.judge_version.version}"
        )
