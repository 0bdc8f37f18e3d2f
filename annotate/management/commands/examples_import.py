"""Mark a campaign's practice and gold examples from a CSV, as organizers script them."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands.campaign_create import _problems
from annotate.models import Campaign
from annotate.services.quality import EXAMPLES_CSV_HELP, examples_import


class Command(BaseCommand):
    help = (
        f"Mark practice and gold examples from a CSV with {EXAMPLES_CSV_HELP}; kind is "
        "practice or gold, score 0-3, and a practice example needs its explanation. A bad "
        "row names its line and column, and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("csv", type=Path)

    def handle(self, *args, slug, csv, **options):
        try:
            campaign = Campaign.objects.get(slug=slug)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {slug!r}") from exc
        try:
            data = csv.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {csv}: {exc.strerror}") from exc
        try:
            result = examples_import(campaign=campaign, data=data)
        except ValidationError as exc:
            raise CommandError(f"{csv}: {_problems(exc)}; nothing was imported") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.created)} examples marked, {len(result.updated)} updated"
            )
        )
