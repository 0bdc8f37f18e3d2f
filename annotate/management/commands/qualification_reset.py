"""Let an annotator take a campaign's practice round again."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands.campaign_create import _problems
from annotate.models import Campaign
from annotate.services.quality import qualification_reset


class Command(BaseCommand):
    help = (
        "Allow USER another try at the practice round of SLUG: their current attempt is "
        "closed and kept, and no real clip is handed out to them until they pass again."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("username")

    def handle(self, *args, slug, username, **options):
        try:
            campaign = Campaign.objects.get(slug=slug)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {slug!r}") from exc
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc
        try:
            attempt = qualification_reset(campaign=campaign, user=user)
        except ValidationError as exc:
            raise CommandError(_problems(exc)) from exc
        outcome = {True: "passed", False: "not passed", None: "unfinished"}[attempt.passed]
        self.stdout.write(
            self.style.SUCCESS(
                f"{username} may take the practice round of {slug} again "
                f"(the closed attempt: {outcome}, started {attempt.started_at:%Y-%m-%d %H:%M})"
            )
        )
