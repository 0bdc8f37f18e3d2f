from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotate.services import api_token_issue, api_token_revoke


class Command(BaseCommand):
    help = (
        "Issue (or rotate) or revoke a user's API token for scripts. "
        "`issue` prints the new key once; the old key stops working."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["issue", "revoke"])
        parser.add_argument("username")

    def handle(self, *args, action, username, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user {username!r}") from exc
        # by=None: whoever runs manage.py already has the server's shell.
        if action == "issue":
            self.stdout.write(api_token_issue(user=user, by=None))
        elif api_token_revoke(user=user, by=None):
            self.stdout.write(self.style.SUCCESS(f"token of {username} revoked"))
        else:
            self.stdout.write(f"{username} had no token")
