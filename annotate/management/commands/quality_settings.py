"""Set a campaign's practice pass mark and gold rate, and print where everyone stands."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands.campaign_create import _problems
from annotate.models import Campaign, PracticePassMode
from annotate.notice_text import text
from annotate.selectors import quality as selectors
from annotate.services.quality import gold_plan_apply, quality_settings_update


class Command(BaseCommand):
    help = (
        "Set the practice pass mark (--pass-count N, 0: all; --pass-mode exact|within_one) "
        "and the gold rate (--gold-every N: one gold clip per N real clips, 0: none); "
        "--apply-gold brings the queues to the rate now. Prints the settings and who passed."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--pass-count", type=int)
        parser.add_argument("--pass-mode", choices=PracticePassMode.values)
        parser.add_argument("--gold-every", type=int)
        parser.add_argument("--apply-gold", action="store_true")

    def handle(self, *args, slug, pass_count, pass_mode, gold_every, apply_gold, **options):
        try:
            campaign = Campaign.objects.get(slug=slug)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {slug!r}") from exc
        try:
            campaign = quality_settings_update(
                campaign=campaign,
                practice_pass_count=pass_count,
                practice_pass_mode=pass_mode,
                gold_every=gold_every,
            )
        except ValidationError as exc:
            raise CommandError(_problems(exc)) from exc
        n_practice = selectors.practice_examples(campaign=campaign).count()
        n_gold = selectors.gold_examples(campaign=campaign).count()
        mark = min(campaign.practice_pass_count or n_practice, n_practice)
        self.stdout.write(
            f"practice: {n_practice} examples, pass mark {mark} of {n_practice} "
            f"({campaign.practice_pass_mode}); gold: {n_gold} clips, "
            + (f"one per {campaign.gold_every} real clips" if campaign.gold_every else "off")
        )
        if apply_gold:
            result = gold_plan_apply(campaign=campaign)
            self.stdout.write(f"gold rows: {result.added} added, {result.removed} taken back")
            for warning in result.warnings:
                self.stdout.write(self.style.WARNING(text(warning)))
        for row in selectors.qualification_overview(campaign=campaign):
            self.stdout.write(f"  {row.username}: {row.status.value.replace('_', ' ')}")
