from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from annotate.services.demo import demo_campaign_create, demo_ratings_simulate


class Command(BaseCommand):
    help = (
        "Render a synthetic demo campaign (8 tasks, 4 teams), import it and create demo accounts."
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

    def handle(self, *args, seed, slug, tasks, episodes, workdir, no_ratings, **options):
        started = time.perf_counter()
        workdir = workdir or Path(settings.VAR_DIR) / "demo-footage"
        result = demo_campaign_create(
            workdir=workdir,
            slug=slug,
            seed=seed,
            n_tasks=tasks,
            episodes_per_task=episodes,
            log=lambda message: self.stdout.write(f"· {message}"),
        )
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
        self.stdout.write("Accounts (username / password):")
        for role, username, password in result.credentials:
            self.stdout.write(f"  {role:<10} {username:<12} {password}")
