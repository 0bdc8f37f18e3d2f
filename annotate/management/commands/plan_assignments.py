from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotate.models import Campaign
from annotate.notice_text import text
from annotate.selectors.assignments import plan_summary
from annotate.services import AssignmentError, assignment_plan_apply, assignment_plan_preview


class Command(BaseCommand):
    help = (
        "Plan who rates which clip and store the new assignments (only what is missing; "
        "running it twice adds nothing). --dry-run prints the plan and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("--dry-run", action="store_true", help="print the plan only")
        parser.add_argument(
            "--annotators",
            default="",
            help="comma-separated usernames to put on the roster before planning",
        )

    def handle(self, *args, campaign, dry_run, annotators, **options):
        try:
            campaign_obj = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"no campaign {campaign!r}") from exc
        users = _users([name.strip() for name in annotators.split(",") if name.strip()])
        try:
            plan = assignment_plan_preview(campaign=campaign_obj, with_annotators=users)
        except AssignmentError as exc:
            raise CommandError(str(exc)) from exc
        self._write_summary(plan_summary(plan=plan))
        if dry_run:
            self.stdout.write("dry run: nothing stored")
            return
        try:
            result = assignment_plan_apply(campaign=campaign_obj, with_annotators=users)
        except AssignmentError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"stored {result.created} new assignments"))

    def _write_summary(self, summary) -> None:
        self.stdout.write(f"{summary.new_rows} new assignments, load spread {summary.load_spread}")
        self.stdout.write(f"{'annotator':<24} {'stored':>6} {'new':>6} {'total':>6}")
        for load in summary.loads:
            self.stdout.write(
                f"{load.annotator:<24} {load.existing:>6} {load.new:>6} {load.total:>6}"
            )
        for cell in summary.cells:
            self.stdout.write(
                f"{cell.team} / {cell.task}: {len(cell.raters)} raters, "
                f"{cell.clips} clips, {cell.ratings} ratings"
            )
        for warning in summary.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {text(warning)}"))


def _users(names: list[str]) -> list:
    found = {user.username: user for user in get_user_model().objects.filter(username__in=names)}
    missing = [name for name in names if name not in found]
    if missing:
        raise CommandError(f"no such user: {', '.join(missing)}")
    return [found[name] for name in names]
