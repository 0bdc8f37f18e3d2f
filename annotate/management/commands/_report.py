from __future__ import annotations

from collections.abc import Callable

from django.core.management.base import CommandError

from annotate.management.commands._progress import progress_bar
from annotate.notice_text import text
from annotate.services import ImportRefused, ImportReport


def write_report(command, report: ImportReport) -> None:
    style = command.style
    if report.written:
        command.stdout.write(style.SUCCESS(f"accepted {len(report.accepted)}"))
    else:
        command.stdout.write(
            style.ERROR(f"nothing was written ({len(report.accepted)} file(s) would be accepted)")
        )
    if report.written and report.submission_version:
        command.stdout.write(f"submission version {report.submission_version}")
    if report.written and report.dropped:
        state = (
            "waits for confirmation (submission_confirm); the earlier version is still rated"
            if report.awaiting_confirmation
            else "is rated; the dropped episodes count 0"
        )
        command.stdout.write(
            style.WARNING(
                f"this version drops {len(report.dropped)} episode(s) of the rated one and "
                f"{state}: {', '.join(report.dropped)}"
            )
        )
    for key, note in report.replaced:
        command.stdout.write(style.WARNING(f"replaced {key}: {text(note)}"))
    for name, reason in report.rejected:
        command.stdout.write(style.ERROR(f"rejected {name}: {text(reason)}"))
    for name, reason in report.skipped:
        command.stdout.write(style.WARNING(f"skipped  {name}: {text(reason)}"))


def run_import(command, service: Callable[..., ImportReport], *, verbosity: int, **kwargs) -> None:
    """Run one import service with a progress bar; every failure is a CommandError, no traceback."""
    with progress_bar("probing", disable=verbosity == 0) as progress:
        try:
            report = service(progress=progress, **kwargs)
        except ImportRefused as exc:
            if exc.report:
                write_report(command, exc.report)
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # the services wrote nothing: say what stopped them
            raise CommandError(
                f"the import stopped: {type(exc).__name__}: {exc}; nothing was written"
            ) from exc
    write_report(command, report)
