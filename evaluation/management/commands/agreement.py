"""``manage.py agreement``: agreement report from exported files, without the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.scoring.agreement import agreement_files
from evaluation.scoring.protocol import ScoringInputError


class Command(BaseCommand):
    help = (
        "Agreement of human raters among themselves and, with --judge, of a judge with "
        "the humans (clip, task and team level), with bootstrap intervals, written as "
        "JSON. Reads CSV files only; does not touch the database."
    )
    # Only files are read, so neither system checks nor migrations matter here.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ratings", required=True, help="ratings CSV (task, team, episode, rater, score)"
        )
        parser.add_argument("--judge", help="judge verdicts CSV (task, team, episode, score)")
        parser.add_argument(
            "--episodes",
            help="episodes CSV (task, episode): the rated set; without it, the rated episodes",
        )
        parser.add_argument("--output", required=True, help="report.json")
        parser.add_argument(
            "--bootstrap", type=int, default=1000, help="bootstrap resamples (0: no intervals)"
        )
        parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["bootstrap"] < 0:
            raise CommandError(f"--bootstrap must be 0 or more, got {options['bootstrap']}")
        try:
            report = agreement_files(
                ratings_path=options["ratings"],
                verdicts_path=options["judge"],
                episodes_path=options["episodes"],
                output_path=options["output"],
                n_boot=options["bootstrap"],
                seed=options["seed"],
            )
        except ScoringInputError as error:
            raise CommandError(str(error)) from error
        alpha = report["raters.krippendorff_alpha_ordinal"]
        summary = f"raters alpha (ordinal) {_number(alpha)}"
        if "video.qwk" in report:
            summary += f", judge QWK {_number(report['video.qwk'])}"
            summary += f", team Kendall tau {_number(report['team.kendall_tau'])}"
        self.stdout.write(f"{summary}. Wrote {options['output']}.")


def _number(stat: object) -> str:
    value = stat.get("value") if isinstance(stat, dict) else None
    return "undefined" if value is None else f"{value:.3f}"
