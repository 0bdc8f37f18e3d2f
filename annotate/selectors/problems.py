"""Reads of problem reports: which clips are held back, and the organizer's list of reports.

A clip is *held* while one of its reports is open (waiting for the organizer) or was
resolved ``excluded``: nobody is handed it, it takes no rating, and the planner and
adjudication give it to no one new. A report resolved ``fixed`` holds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from annotate.models import Campaign, ProblemReport

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


def problem_reports(*, campaign: Campaign, status: str | None = None) -> list[ProblemItem]:
    """The campaign's reports, open ones first, then newest first; two queries."""
    rows = ProblemReport.objects.filter(campaign=campaign).select_related(
        "clip__episode__task", "clip__submission__team", "reporter", "resolved_by"
    )
    if status:
        rows = rows.filter(status=status)
    reports = list(rows.order_by("-created_at", "-pk"))
    per_clip: dict[int, int] = {}
    for clip_id in ProblemReport.objects.filter(campaign=campaign).values_list(
        "clip_id", flat=True
    ):
        per_clip[clip_id] = per_clip.get(clip_id, 0) + 1
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
        )
        for report in reports
    ]
    return sorted(items, key=lambda item: item.status != ProblemReport.Status.OPEN)


__all__ = [
    "HOLDING",
    "ProblemItem",
    "clip_hold",
    "clip_hold_status",
    "clip_is_held",
    "held_clip_ids",
    "problem_reports",
]
