"""``manage.py rank``: rankings from a ratings export, offline, without the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.scoring import MAX_RESAMPLES, ScoringInputError, rank_files


class Command(BaseCommand):
    help = (
        "Rank teams from a ratings CSV (the app's export or any file with columns "
        "task, team, episode, rater, score) and write rankings as CSV or JSON, "
        "chosen by the output extension, with the columns of the app's rankings export. "
        "Does not touch the database."
    )
    # Only files are read, so neither system checks nor migrations matter here.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ratings", required=True, help="ratings CSV")
        parser.add_argument(
            "--episodes",
            help="episodes CSV (task, episode): the rated set; without it, the rated episodes",
        )
        parser.add_argument("--output", required=True, help="rankings.csv or rankings.json")
        parser.add_argument(
            "--bootstrap",
            type=int,
            default=1000,
            help=f"bootstrap resamples, at most {MAX_RESAMPLES}",
        )
        parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
        parser.add_argument(
            "--confidence", type=float, default=0.95, help="interval confidence level"
        )
        parser.add_argument(
            "--raters-per-cell",
            type=int,
            help="ratings each clip gets, for the n_total and n_missing columns "
            "(the campaign's setting; default: the most ratings any clip carries)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            board = rank_files(
                ratings_path=options["ratings"],
                episodes_path=options["episodes"],
                output_path=options["output"],
                n_boot=options["bootstrap"],
                seed=options["seed"],
                confidence=options["confidence"],
                raters_per_cell=options["raters_per_cell"],
            )
        except ScoringInputError as error:
            raise CommandError(str(error)) from error
        leader = board.teams[0]
        self.stdout.write(
            f"Ranked {len(board.teams)} teams over {len(board.tasks)} tasks "
            f"({board.n_boot} bootstrap resamples); first: {leader.team} "
            f"{leader.final_score:.4f}. Wrote {options['output']}."
        )
