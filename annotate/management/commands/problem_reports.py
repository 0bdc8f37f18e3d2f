"""``manage.py problem_reports``: list a campaign's problem reports, resolve one, or reopen
a resolution."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.models import Campaign, ProblemReport
from annotate.selectors.problems import problem_reports
from annotate.services.problems import (
    RESOLUTIONS,
    ProblemRefused,
    problem_reopen,
    problem_resolve,
)


class Command(BaseCommand):
    help = (
        "List the pairs annotators reported as broken (open ones first), or resolve one "
        "with --resolve ID --as fixed (handed out again) or --as excluded (left out of "
        "rating, with a --note saying why). Resolving closes every open report of the clip. "
        "--reopen ID --note WHY opens the pair's latest resolution again: the pair is out "
        "of rating until it is resolved anew."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument(
            "--status", choices=ProblemReport.Status.values, help="list only these reports"
        )
        parser.add_argument("--resolve", type=int, metavar="ID", help="the report to resolve")
        parser.add_argument("--as", dest="resolution", choices=RESOLUTIONS, help="how")
        parser.add_argument(
            "--reopen", type=int, metavar="ID", help="a resolved report to open again"
        )
        parser.add_argument(
            "--note",
            "--reason",
            dest="note",
            default="",
            help="why (recorded; needed to exclude and to reopen)",
        )
        parser.add_argument("--by", help="the organizer's username, recorded as who did it")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"no campaign {options['campaign']!r}")
        if options["resolve"] is not None and options["reopen"] is not None:
            raise CommandError("--resolve and --reopen do not go together")
        if options["resolve"] is None:
            if options["resolution"]:
                raise CommandError("--as needs --resolve ID")
            if options["reopen"] is not None:
                self._reopen(campaign, options)
                return
            self._list(campaign, options["status"])
            return
        if not options["resolution"]:
            raise CommandError("--resolve needs --as fixed or --as excluded")
        by = self._by(options)
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

    @staticmethod
    def _by(options: dict[str, Any]):
        if not options["by"]:
            return None
        by = get_user_model().objects.filter(username=options["by"], is_staff=True).first()
        if by is None:
            raise CommandError(f"--by {options['by']!r} is not an organizer")
        return by

    def _reopen(self, campaign: Campaign, options: dict[str, Any]) -> None:
        try:
            reopened = problem_reopen(
                campaign=campaign,
                report_id=options["reopen"],
                reason=options["note"],
                by=self._by(options),
            )
        except ProblemRefused as error:
            raise CommandError(" ".join(error.messages)) from error
        ids = ", ".join(f"#{report.pk}" for report in reopened)
        self.stdout.write(f"Reopened: {ids}; the pair is out of rating until it is resolved.")

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
            for event in item.history:
                note = f": {event.note}" if event.note else ""
                self.stdout.write(
                    f"    {event.kind} by {event.by or '(command)'} at {event.at:%Y-%m-%d %H:%M}"
                    f"{note}"
                )
