"""``manage.py problem_reports``: list a campaign's problem reports, or resolve one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.models import Campaign, ProblemReport
from annotate.selectors.problems import problem_reports
from annotate.services.problems import RESOLUTIONS, ProblemRefused, problem_resolve


class Command(BaseCommand):
    help = (
        "List the pairs annotators reported as broken (open ones first), or resolve one "
        "with --resolve ID --as fixed (handed out again) or --as excluded (left out of "
        "rating, with a --note saying why). Resolving closes every open report of the clip."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument(
            "--status", choices=ProblemReport.Status.values, help="list only these reports"
        )
        parser.add_argument("--resolve", type=int, metavar="ID", help="the report to resolve")
        parser.add_argument("--as", dest="resolution", choices=RESOLUTIONS, help="how")
        parser.add_argument("--note", default="", help="why (recorded; needed to exclude)")
        parser.add_argument("--by", help="the organizer's username, recorded as who did it")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"no campaign {options['campaign']!r}")
        if options["resolve"] is None:
            if options["resolution"]:
                raise CommandError("--as needs --resolve ID")
            self._list(campaign, options["status"])
            return
        if not options["resolution"]:
            raise CommandError("--resolve needs --as fixed or --as excluded")
        by = None
        if options["by"]:
            by = get_user_model().objects.filter(username=options["by"], is_staff=True).first()
            if by is None:
                raise CommandError(f"--by {options['by']!r} is not an organizer")
        try:
            resolved = problem_resolve(
                campaign=campaign,
                report_id=options["resolve"],
                resolution=options["resolution"],
                note=options["note"],
                by=by,
            )
        except ProblemRefused as error:
            raise CommandError(" ".join(error.messages)) from error
        ids = ", ".join(f"#{report.pk}" for report in resolved)
        self.stdout.write(f"Resolved as {options['resolution']}: {ids}.")

    def _list(self, campaign: Campaign, status: str | None) -> None:
        items = problem_reports(campaign=campaign, status=status)
        if not items:
            self.stdout.write("No problem report.")
            return
        for item in items:
            words = f" - {item.text}" if item.text else ""
            self.stdout.write(
                f"#{item.id} {item.status:8} {item.task}/{item.episode} {item.team} "
                f"({item.source_name}) by {item.reporter} at {item.created_at:%Y-%m-%d %H:%M}: "
                f"{item.reason}{words}"
            )
