from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.management.commands.campaign_create import _problems
from annotate.models import Campaign
from annotate.services import campaign_state_change


class Command(BaseCommand):
    help = (
        "Move a campaign: draft -> open -> locked -> published. Re-opening a locked "
        "campaign or withdrawing a publication needs --reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("state", choices=Campaign.State.values)
        parser.add_argument("--reason", default="", help="Recorded with the change.")

    def handle(self, *args, slug, state, reason, **options):
        try:
            campaign = Campaign.objects.get(slug=slug)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {slug!r}") from exc
        try:
            # by=None: whoever runs manage.py already has the server's shell.
            change = campaign_state_change(
                campaign=campaign, to_state=state, reason=reason, by=None
            )
        except ValidationError as exc:
            raise CommandError(_problems(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{slug}: {change.from_state} -> {change.to_state}"))
