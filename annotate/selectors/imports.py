"""Reads of the import history: every import of a campaign, whatever started it, and its files."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from annotate.models import Campaign, ImportJob, Submission


@dataclass(frozen=True)
class FileNote:
    """One file (or episode) of an import and what became of it."""

    name: str
    reason: object = ""  # a notice as stored (annotate.notice_text says it), or text


@dataclass(frozen=True)
class ImportSummary:
    job: ImportJob
    origin: str  # as people read it: page, API, command, demo
    by: str
    accepted: int
    skipped: int
    rejected: int


@dataclass(frozen=True)
class ImportDetail:
    summary: ImportSummary
    accepted: tuple[FileNote, ...]
    skipped: tuple[FileNote, ...]
    rejected: tuple[FileNote, ...]
    replaced: tuple[FileNote, ...]
    dropped: tuple[str, ...]


def _notes(entries: list, name_key: str = "file", reason_key: str = "reason") -> tuple:
    return tuple(
        FileNote(name=str(entry.get(name_key, "")), reason=entry.get(reason_key, ""))
        for entry in entries or []
        if isinstance(entry, dict)
    )


def _summary(job: ImportJob) -> ImportSummary:
    report = job.report or {}
    origin = job.origin
    return ImportSummary(
        job=job,
        origin=ImportJob.Origin(origin).label if origin in ImportJob.Origin.values else "",
        by=job.created_by.get_username() if job.created_by else "",
        accepted=len(report.get("accepted") or []),
        skipped=len(report.get("skipped") or []),
        rejected=len(report.get("rejected") or []),
    )


def _jobs(campaign: Campaign) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(campaign=campaign).select_related("created_by")


def import_history(*, campaign: Campaign) -> tuple[ImportSummary, ...]:
    """Every import of the campaign, newest first."""
    return tuple(_summary(job) for job in _jobs(campaign).order_by("-created_at", "-pk"))


def import_detail(*, campaign: Campaign, job_id: int) -> ImportDetail:
    """One import with its files: accepted, skipped and rejected with the reasons.

    Raises ImportJob.DoesNotExist for an import of another campaign.
    """
    job = _jobs(campaign).get(pk=job_id)
    report = job.report or {}
    return ImportDetail(
        summary=_summary(job),
        accepted=tuple(FileNote(name=str(key)) for key in report.get("accepted") or []),
        skipped=_notes(report.get("skipped")),
        rejected=_notes(report.get("rejected")),
        replaced=_notes(report.get("replaced"), "episode", "note"),
        dropped=tuple(str(key) for key in report.get("dropped") or []),
    )


def import_of_submission(*, submission: Submission) -> ImportJob | None:
    """The import that made this submission version, when it was recorded."""
    return (
        ImportJob.objects.filter(
            campaign_id=submission.team.campaign_id,
            kind=ImportJob.Kind.SUBMISSION,
            team_name=submission.team.name,
            status=ImportJob.Status.DONE,
            report__submission_version=submission.version,
        )
        .order_by("-pk")
        .first()
    )
