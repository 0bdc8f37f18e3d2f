from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.services import campaign_create


def _problems(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create a campaign, in draft, with the protocol's guideline for its annotators."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--raters", type=int, default=3, help="Raters per team and task.")
        parser.add_argument("--cap", type=int, default=10, help="At most this many clips each.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--no-full-watch",
            action="store_true",
            help="Allow scoring before both clips have played to the end.",
        )

    def handle(self, *args, slug, name, description, raters, cap, seed, no_full_watch, **options):
        try:
            campaign = campaign_create(
                slug=slug,
                name=name,
                description=description,
                raters_per_cell=raters,
                max_clips_per_rater=cap,
                seed=seed,
                require_full_watch=not no_full_watch,
            )
        except ValidationError as exc:
            raise CommandError(_problems(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"campaign {campaign.slug} created in draft: {raters} raters per cell, "
                f"at most {cap} clips each, seed {seed}"
            )
        )
