from __future__ import annotations

from django.core.management.base import BaseCommand

from annotate.management.commands._progress import progress_bar
from annotate.notice_text import text
from annotate.services import media_assets_prepare


class Command(BaseCommand):
    help = (
        "Make the clean copies served to annotators for every asset that has none (stored "
        "before an upgrade, or whose preparation failed); --all remakes every one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="remake every asset's copies")

    def handle(self, *args, **options):
        with progress_bar("preparing media", disable=options["verbosity"] < 1) as progress:
            result = media_assets_prepare(everything=options["all"], progress=progress)
        self.stdout.write(self.style.SUCCESS(f"ready {result.ready}, failed {len(result.failed)}"))
        for sha256, reason in result.failed:
            self.stdout.write(f"failed {sha256[:12]}: {text(reason)}")
