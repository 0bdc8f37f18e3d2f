from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotate.models import Campaign, Team
from annotate.services.team_portal import TeamPortalRefused, team_final_choose


class Command(BaseCommand):
    help = (
        "Choose a team's rated version as an organizer (also after the submission window "
        "closed, while the campaign is draft or open): a version number, or 'newest'."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("team", help="team name")
        parser.add_argument("version", help="a version number, or 'newest'")
        parser.add_argument(
            "--as", dest="organizer", required=True, help="the organizer's username, recorded"
        )

    def handle(self, *args, campaign, team, version, organizer, **options):
        found = Team.objects.filter(campaign__slug=campaign, name=team).first()
        if found is None:
            if not Campaign.objects.filter(slug=campaign).exists():
                raise CommandError(f"no campaign {campaign!r}")
            raise CommandError(f"no team {team!r} in campaign {campaign!r}")
        user = get_user_model().objects.filter(username=organizer, is_staff=True).first()
        if user is None:
            raise CommandError(f"no organizer {organizer!r}")
        if version != "newest" and not version.isdigit():
            raise CommandError(f"{version!r} is neither a version number nor 'newest'")
        try:
            found = team_final_choose(
                team=found, version=None if version == "newest" else int(version), user=user
            )
        except TeamPortalRefused as exc:
            raise CommandError(str(exc)) from exc
        chosen = found.final_submission
        self.stdout.write(
            f"{found.name}: version {chosen.version} counts"
            if chosen
            else f"{found.name}: the newest version counts"
        )
