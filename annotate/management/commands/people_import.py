from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotate.models import Campaign
from annotate.services import PeopleError, people_import


class Command(BaseCommand):
    help = (
        "Create and invite the people of a CSV with the header username,email,role,team, "
        "in one transaction: a bad line is named with its column and nothing is written. "
        "Roles: 'organizer' (staff: organizes every campaign, never rates, in no team; "
        "team must be empty), 'annotator' (on the campaign's roster; with a team, also a "
        "member of it, so the planner never gives them that team's clips), 'team' (a member "
        "of the team, which is required; does not rate). A person is in at most one team "
        "per campaign; a team the campaign lacks is created. An existing account is given "
        "the row's role (an import never promotes one to organizer); a new account is "
        "invited: its one-time link to set a password is printed, and mailed when EMAIL_URL "
        "is set. Links point at SITE_URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("csv", type=Path, help="the people file (UTF-8)")
        parser.add_argument("--dry-run", action="store_true", help="check the file only")

    def handle(self, *args, campaign, csv, dry_run, **options):
        try:
            campaign_obj = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {campaign!r}") from exc
        try:
            text = csv.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {csv}: {exc}") from exc
        try:
            # by=None: whoever runs manage.py already has the server's shell.
            result = people_import(
                campaign=campaign_obj,
                csv_text=text,
                by=None,
                base_url=settings.SITE_URL,
                dry_run=dry_run,
            )
        except PeopleError as exc:
            for problem in exc.problems:
                self.stderr.write(self.style.ERROR(str(problem)))
            raise CommandError(
                f"nothing imported: {len(exc.problems)} problem(s) in {csv}"
            ) from exc
        new = sum(person.created for person in result.people)
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(result.people)} people ({new} new, "
                f"{len(result.people) - new} existing)"
            )
        )
        if result.teams_created:
            made = "would create" if dry_run else "created"
            self.stdout.write(f"{made} teams: {', '.join(result.teams_created)}")
        links = [person.link for person in result.people if person.link]
        if links:
            width = max(len("username"), *(len(link.username) for link in links))
            self.stdout.write(f"{'username':<{width}}  {'mailed':<6}  {'expires (UTC)':<16}  link")
            for link in links:
                mailed = "yes" if link.emailed else "no"
                self.stdout.write(
                    f"{link.username:<{width}}  {mailed:<6}  "
                    f"{link.expires_at:%Y-%m-%d %H:%M}  {link.url}"
                )
        if dry_run:
            self.stdout.write("dry run: nothing written")
