"""Launch (or resume) a judge run on a campaign; --wait follows it to the end."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotate.models import Campaign
from evaluation import services
from evaluation.models import JudgeRun
from evaluation.selectors import judge as judge_selectors
from evaluation.services.judge_runs import MAX_CHUNK_SIZE


class Command(BaseCommand):
    help = (
        "Judge each team's current clip of every episode in the campaign's rated set, as "
        "Celery tasks on the `judge` queue (synchronously when no broker is configured)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version` names a judge version here, not the program's: let ours replace Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("--judge", default="baseline", help="a name from settings.JUDGES")
        parser.add_argument(
            "--version",
            default="",
            help="a stored version (e.g. calibrated); default: as configured",
        )
        parser.add_argument("--chunk-size", type=int, default=8, help=f"1..{MAX_CHUNK_SIZE}")
        parser.add_argument(
            "--resume", type=int, metavar="RUN_ID", help="resume a cancelled or failed run instead"
        )
        parser.add_argument("--wait", action="store_true", help="follow the run until it ends")
        parser.add_argument("--poll", type=float, default=2.0, help="seconds between checks")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=options["campaign"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {options['campaign']!r}") from exc
        try:
            if options["resume"]:
                run = JudgeRun.objects.filter(pk=options["resume"], campaign=campaign).first()
                if run is None:
                    raise CommandError(
                        f"campaign {campaign.slug!r} has no judge run {options['resume']}"
                    )
                run = services.judge_run_resume(run=run)
            else:
                run = services.judge_run_create(
                    campaign=campaign,
                    judge_version=services.judge_version_for(
                        name=options["judge"], version=options["version"] or None
                    ),
                    chunk_size=options["chunk_size"],
                )
        except services.JudgingError as exc:
            raise CommandError(str(exc)) from exc
        run.refresh_from_db()
        self.stdout.write(f"judge run {run.pk}: {run.judge} on {run.total} clips ({run.status})")
        if options["wait"]:
            run = self._follow(run, poll=options["poll"], quiet=options["verbosity"] < 1)
        progress = judge_selectors.judge_run_progress(run=run)
        self.stdout.write(
            f"judge run {run.pk} {progress['status']}: {progress['done']}/{progress['total']} "
            f"clips, {progress['failed']} could not be judged"
            + (f"; error: {progress['error']}" if progress["error"] else "")
        )
        if options["wait"] and run.status != JudgeRun.Status.DONE:
            raise CommandError(f"judge run {run.pk} ended {run.status}")

    def _follow(self, run: JudgeRun, *, poll: float, quiet: bool) -> JudgeRun:
        with tqdm(total=run.total, unit="clip", disable=quiet) as bar:
            while True:
                run.refresh_from_db()
                bar.total = run.total
                bar.n = run.done
                bar.refresh()
                if run.status in judge_selectors.FINISHED_STATUSES:
                    return run
                time.sleep(poll)
