from __future__ import annotations

from annotate.services import ImportReport


def write_report(command, report: ImportReport) -> None:
    style = command.style
    command.stdout.write(style.SUCCESS(f"accepted {len(report.accepted)}"))
    if report.submission_version:
        command.stdout.write(f"submission version {report.submission_version}")
    for name, reason in report.rejected:
        command.stdout.write(style.ERROR(f"rejected {name}: {reason}"))
    for name, reason in report.skipped:
        command.stdout.write(style.WARNING(f"skipped  {name}: {reason}"))
