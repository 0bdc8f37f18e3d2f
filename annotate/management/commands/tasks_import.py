from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands.campaign_create import _problems
from annotate.models import Campaign
from annotate.services import tasks_import


class Command(BaseCommand):
    help = (
        "Create or update a campaign's tasks from a CSV with the header task,title,instruction, "
        "optionally with the Chinese texts in title_zh_hans,instruction_zh_hans (task: K or "
        "task<K>). A bad row names its line and column, and nothing is written."
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
            result = tasks_import(campaign=campaign, data=data)
        except ValidationError as exc:
            raise CommandError(f"{csv}: {_problems(exc)}; nothing was imported") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.created)} tasks created, {len(result.updated)} updated"
            )
        )
