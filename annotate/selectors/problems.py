"""Reads of problem reports: which clips are held back, and the organizer's list of reports.

A clip is *held* while one of its reports is open (waiting for the organizer) or was
resolved ``excluded``: nobody is handed it, it takes no rating, and the planner and
adjudication give it to no one new. A report resolved ``fixed`` holds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from annotate.models import Campaign, ProblemReport, ProblemReportEvent

HOLDING = (ProblemReport.Status.OPEN, ProblemReport.Status.EXCLUDED)


def held_clip_ids() -> QuerySet:
    """Ids of the held clips, as a subquery (no query of its own)."""
    return ProblemReport.objects.filter(status__in=HOLDING).order_by().values("clip_id")


def clip_hold_status(clip: str = "clip_id") -> Subquery:
    """What :func:`clip_hold` says, as an annotation on rows whose clip ``clip`` names:
    read with the row, it costs no query of its own ("excluded" sorts before "open")."""
    holding = ProblemReport.objects.filter(clip_id=OuterRef(clip), status__in=HOLDING)
    return Subquery(holding.order_by("status").values("status")[:1])


def clip_is_held(clip: str = "clip_id") -> Exists:
    """True on a row whose clip (``clip`` names it in the outer query) is held."""
    return Exists(ProblemReport.objects.filter(clip_id=OuterRef(clip), status__in=HOLDING))


def clip_hold(*, clip_id: int) -> str | None:
    """Why a clip is held: ``"excluded"``, ``"open"``, or None when it is not held."""
    statuses = set(
        ProblemReport.objects.filter(clip_id=clip_id, status__in=HOLDING).values_list(
            "status", flat=True
        )
    )
    if ProblemReport.Status.EXCLUDED in statuses:
        return ProblemReport.Status.EXCLUDED
    return ProblemReport.Status.OPEN if statuses else None


@dataclass(frozen=True)
class ProblemEvent:
    """One step of a report's history: resolved (fixed, excluded) or reopened."""

    kind: str
    by: str
    at: dt.datetime
    note: str


@dataclass(frozen=True)
class ProblemItem:
    """One report as the organizer's pages and API show it (team and file named)."""

    id: int
    clip_id: int
    task: str
    team: str
    episode: str
    source_name: str
    reporter: str
    reason: str
    reason_name: str
    text: str
    status: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str
    resolution_note: str
    clip_reports: int  # reports of the same clip, this one included
    history: tuple[ProblemEvent, ...] = ()  # oldest first
    # Closed by the pair's latest resolution, and the pair has no open report: the
    # organizer may reopen it (annotate.services.problems.problem_reopen).
    reopenable: bool = False


def problem_reports(*, campaign: Campaign, status: str | None = None) -> list[ProblemItem]:
    """The campaign's reports, open ones first, then newest first; three queries."""
    rows = ProblemReport.objects.filter(campaign=campaign).select_related(
        "clip__episode__task", "clip__submission__team", "reporter", "resolved_by"
    )
    if status:
        rows = rows.filter(status=status)
    reports = list(rows.order_by("-created_at", "-pk"))
    per_clip: dict[int, int] = {}
    open_clips: set[int] = set()
    newest: dict[int, tuple[dt.datetime, int, str]] = {}  # per clip: its latest resolution
    for pk, clip_id, report_status, resolved_at in ProblemReport.objects.filter(
        campaign=campaign
    ).values_list("pk", "clip_id", "status", "resolved_at"):
        per_clip[clip_id] = per_clip.get(clip_id, 0) + 1
        if report_status == ProblemReport.Status.OPEN:
            open_clips.add(clip_id)
        elif clip_id not in newest or (resolved_at, pk) > newest[clip_id][:2]:
            newest[clip_id] = (resolved_at, pk, report_status)
    latest = {clip_id: (at, status) for clip_id, (at, _, status) in newest.items()}
    history: dict[int, list[ProblemEvent]] = {}
    for event in (
        ProblemReportEvent.objects.filter(report__in=[report.pk for report in reports])
        .select_related("by")
        .order_by("at", "pk")
    ):
        history.setdefault(event.report_id, []).append(
            ProblemEvent(
                kind=event.kind,
                by=event.by.get_username() if event.by else "",
                at=event.at,
                note=event.note,
            )
        )
    reasons = dict(ProblemReport.Reason.choices)
    items = [
        ProblemItem(
            id=report.pk,
            clip_id=report.clip_id,
            task=report.clip.episode.task.key,
            team=report.clip.submission.team.name,
            episode=report.clip.episode.key,
            source_name=report.clip.source_name,
            reporter=report.reporter.get_username(),
            reason=report.reason,
            reason_name=str(reasons.get(report.reason, report.reason)),
            text=report.text,
            status=report.status,
            created_at=report.created_at,
            resolved_at=report.resolved_at,
            resolved_by=report.resolved_by.get_username() if report.resolved_by else "",
            resolution_note=report.resolution_note,
            clip_reports=per_clip.get(report.clip_id, 1),
            history=tuple(history.get(report.pk, ())),
            reopenable=report.status != ProblemReport.Status.OPEN
            and report.clip_id not in open_clips
            and latest.get(report.clip_id) == (report.resolved_at, report.status),
        )
        for report in reports
    ]
    return sorted(items, key=lambda item: item.status != ProblemReport.Status.OPEN)


__all__ = [
    "HOLDING",
    "ProblemEvent",
    "ProblemItem",
    "clip_hold",
    "clip_hold_status",
    "clip_is_held",
    "held_clip_ids",
    "problem_reports",
]
