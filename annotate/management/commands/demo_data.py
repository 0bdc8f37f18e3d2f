from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotate.models import Campaign
from demo.campaign import (
    DemoWorkdirServed,
    demo_accounts,
    demo_campaign_create,
    demo_campaign_delete,
    demo_ratings_simulate,
)

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
KEPT = (
    "The demo campaign {slug!r} exists, kept with its ratings: "
    "`make demo-reset` (or demo_data --reset) starts over."
)


class Command(BaseCommand):
    help = (
        "Render a synthetic demo campaign (8 tasks, 4 teams), import it and create demo "
        "accounts. A demo campaign made before is kept unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--slug", default="demo")
        parser.add_argument("--tasks", type=int, default=8)
        parser.add_argument("--episodes", type=int, default=6, help="reference episodes per task")
        parser.add_argument(
            "--workdir", type=Path, default=None, help="where the footage is rendered"
        )
        parser.add_argument(
            "--no-ratings",
            action="store_true",
            help="leave every queue empty of simulated human ratings",
        )
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--reset",
            action="store_true",
            help="replace an existing demo campaign, its ratings and judge runs with a new one",
        )
        action.add_argument(
            "--delete",
            action="store_true",
            help="only delete the demo campaign, its ratings and judge runs",
        )
        action.add_argument(
            "--exists",
            action="store_true",
            help="only answer, by the exit status, whether the demo campaign exists (0: yes)",
        )
        action.add_argument(
            "--accounts",
            action="store_true",
            help="only print the demo accounts, as a table",
        )
        parser.add_argument("--url", default="", help="with --accounts: where the accounts log in")

    def handle(self, *args, slug, exists, accounts, delete, reset, url, **options):
        if exists:
            sys.exit(0 if Campaign.objects.filter(slug=slug).exists() else 1)
        if accounts:
            self._print_accounts(slug=slug, url=url)
        elif delete:
            ratings = demo_campaign_delete(slug=slug)
            self.stdout.write(f"Deleted the demo campaign {slug!r} and its {ratings} ratings.")
        elif not reset and Campaign.objects.filter(slug=slug).exists():
            self.stdout.write(self.style.WARNING(KEPT.format(slug=slug)))
        else:
            self._create(slug=slug, reset=reset, **options)

    def _create(self, *, slug, reset, seed, tasks, episodes, workdir, no_ratings, **options):
        started = time.perf_counter()
        if not SLUG_RE.match(slug):
            raise CommandError(f"--slug must be letters, digits, '-' or '_', got {slug!r}")
        # One folder per slug: a second demo campaign must not overwrite the first one's truth.
        default = "demo-footage" if slug == "demo" else f"demo-footage-{slug}"
        workdir = workdir or Path(settings.VAR_DIR) / default
        try:
            result = demo_campaign_create(
                workdir=workdir,
                slug=slug,
                seed=seed,
                n_tasks=tasks,
                episodes_per_task=episodes,
                replace=reset,
                log=lambda message: self.stdout.write(f"· {message}"),
            )
        except DemoWorkdirServed as exc:
            raise CommandError(str(exc)) from None
        if not no_ratings:
            rated = demo_ratings_simulate(campaign=result.campaign, seed=seed)
            self.stdout.write(
                f"· simulated {rated} human ratings; annotator1's queue is left to you"
            )
        rejected = sum(len(report.rejected) for report in result.submissions.values())
        skipped = sum(len(report.skipped) for report in result.submissions.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo campaign '{result.campaign.slug}' ready in {time.perf_counter() - started:.0f} s: "
                f"{len(result.reference.accepted)} reference episodes, {len(result.submissions)} teams, "
                f"{rejected} clips rejected and {skipped} files skipped on purpose."
            )
        )

    def _print_accounts(self, *, slug: str, url: str) -> None:
        accounts = demo_accounts(slug=slug)
        if not accounts:
            raise CommandError("No demo accounts yet: run demo_data first.")
        header = ("role", "username", "password", "clips to rate")
        rows = [
            (a.role, a.username, a.password, "-" if a.to_rate is None else str(a.to_rate))
            for a in accounts
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(cells) -> str:
            return (
                "  "
                + "  ".join(
                    cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
                ).rstrip()
            )

        where = f"log in at {url}" if url else "log in with one of these"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts ({where}):"))
        self.stdout.write(line(header))
        self.stdout.write(line("-" * width for width in widths))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write("")
