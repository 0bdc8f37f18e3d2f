"""Reads for the organizer's assignment page, API and commands.

Progress counts the work of the protocol only: the cells' raters and adjudication's
extra raters. Gold rows (checks with a known score, inserted blind: annotate/services/
quality.py) score no team, so they are counted apart (``AssignmentProgress.gold``,
``RosterEntry.gold``) and never in the progress towards raters per cell x clips.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from annotate.models import Assignment, Campaign
from annotate.notice import Notice
from annotate.planner import Plan
from annotate.selectors import current_clips

User = get_user_model()


@dataclass(frozen=True)
class ProgressRow:
    label: str
    done: int
    in_progress: int
    total: int

    @property
    def pending(self) -> int:
        return self.total - self.done - self.in_progress

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class AssignmentProgress:
    overall: ProgressRow
    by_team: tuple[ProgressRow, ...]
    by_task: tuple[ProgressRow, ...]
    by_annotator: tuple[ProgressRow, ...]
    # Gold checks, apart: overall and per annotator (who rates them).
    gold: ProgressRow = ProgressRow("gold", 0, 0, 0)
    gold_by_annotator: tuple[ProgressRow, ...] = ()


@dataclass(frozen=True)
class RosterEntry:
    username: str
    on_roster: bool
    progress: ProgressRow  # the protocol's work, gold left out
    gold: ProgressRow = ProgressRow("gold", 0, 0, 0)  # their gold checks


@dataclass(frozen=True)
class PlannedLoad:
    annotator: str
    existing: int
    new: int

    @property
    def total(self) -> int:
        return self.existing + self.new


@dataclass(frozen=True)
class PlannedCell:
    team: str
    task: str
    raters: tuple[str, ...]
    new_raters: tuple[str, ...]
    clips: int  # distinct clips with at least one rater
    ratings: int  # planned ratings in the cell


@dataclass(frozen=True)
class PlanSummary:
    new_rows: int
    loads: tuple[PlannedLoad, ...]
    cells: tuple[PlannedCell, ...]
    warnings: tuple[Notice, ...]  # said where shown (annotate.notice_text)

    @property
    def load_spread(self) -> int:
        """max - min clips per annotator over the whole plan."""
        totals = [load.total for load in self.loads]
        return max(totals) - min(totals) if totals else 0


def plan_summary(*, plan: Plan) -> PlanSummary:
    """What an organizer checks before applying: loads, raters per cell, warnings."""
    existing = Counter(row.annotator for row in plan.existing)
    new = Counter(row.annotator for row in plan.assignments)
    loads = tuple(
        PlannedLoad(annotator=name, existing=existing[name], new=new[name])
        for name in sorted(existing.keys() | new.keys())
    )
    old_raters: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in plan.existing:
        old_raters[row.cell].add(row.annotator)
    clips: dict[tuple[str, str], set[str]] = defaultdict(set)
    ratings: Counter[tuple[str, str]] = Counter()
    for row in plan.all_assignments:
        clips[row.cell].add(row.clip)
        ratings[row.cell] += 1
    cells = tuple(
        PlannedCell(
            team=team,
            task=task,
            raters=tuple(sorted(raters)),
            new_raters=tuple(sorted(raters - old_raters[(team, task)])),
            clips=len(clips[(team, task)]),
            ratings=ratings[(team, task)],
        )
        for (team, task), raters in plan.cell_raters().items()
    )
    return PlanSummary(
        new_rows=len(plan.assignments), loads=loads, cells=cells, warnings=plan.warnings
    )


def _current_assignments(campaign: Campaign) -> QuerySet[Assignment]:
    return Assignment.objects.filter(campaign=campaign, clip__in=current_clips(campaign=campaign))


_COUNTS = {
    "n_total": Count("pk"),
    "n_done": Count("pk", filter=Q(status=Assignment.Status.DONE)),
    "n_in_progress": Count("pk", filter=Q(status=Assignment.Status.IN_PROGRESS)),
}


def _rows(queryset: QuerySet[Assignment], field: str, order: str) -> tuple[ProgressRow, ...]:
    grouped = queryset.values(field).annotate(**_COUNTS).order_by(order)
    return tuple(
        ProgressRow(str(row[field]), row["n_done"], row["n_in_progress"], row["n_total"])
        for row in grouped
    )


def assignment_progress(*, campaign: Campaign) -> AssignmentProgress:
    """Done of assigned, per team, task and annotator, on the rated submissions; gold apart."""
    current = _current_assignments(campaign)
    assignments, gold = current.filter(gold=False), current.filter(gold=True)
    totals = assignments.aggregate(**_COUNTS)
    gold_totals = gold.aggregate(**_COUNTS)
    return AssignmentProgress(
        overall=ProgressRow("all", totals["n_done"], totals["n_in_progress"], totals["n_total"]),
        by_team=_rows(assignments, "clip__submission__team__name", "clip__submission__team__name"),
        by_task=_rows(assignments, "clip__episode__task__key", "clip__episode__task__number"),
        by_annotator=_rows(assignments, "annotator__username", "annotator__username"),
        gold=ProgressRow(
            "gold", gold_totals["n_done"], gold_totals["n_in_progress"], gold_totals["n_total"]
        ),
        gold_by_annotator=_rows(gold, "annotator__username", "annotator__username"),
    )


def campaign_roster(*, campaign: Campaign) -> tuple[RosterEntry, ...]:
    """Roster members, and anyone else holding work in the campaign, with their progress
    (the protocol's work) and their gold checks apart."""
    on_roster = set(campaign.annotators.values_list("username", flat=True))
    overall = assignment_progress(campaign=campaign)
    progress = {row.label: row for row in overall.by_annotator}
    gold = {row.label: row for row in overall.gold_by_annotator}
    names = sorted(on_roster | progress.keys() | gold.keys())
    return tuple(
        RosterEntry(
            username=name,
            on_roster=name in on_roster,
            progress=progress.get(name, ProgressRow(name, 0, 0, 0)),
            gold=gold.get(name, ProgressRow(name, 0, 0, 0)),
        )
        for name in names
    )


def annotator_candidates(*, campaign: Campaign) -> QuerySet:
    """Active non-staff users not yet on the roster."""
    return (
        User.objects.filter(is_active=True, is_staff=False)
        .exclude(pk__in=campaign.annotators.values("pk"))
        .order_by("username")
    )
