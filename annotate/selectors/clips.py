"""Reads for the organizer's clip browser: the rated submissions' clips with their rating status,
and the files of those submissions that were rejected at import."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import django_filters
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from annotate.models import Assignment, Campaign, Clip, Rating, Task, Team
from annotate.selectors import current_clips, current_submissions


class ClipStatus:
    UNRATED = "unrated"
    PARTLY = "partly"
    FULLY = "fully"
    REJECTED = "rejected"

    # Labels in the reader's language (lazy: read when a page is drawn); values stay English.
    choices = (
        (UNRATED, pgettext_lazy("clip status", "unrated")),
        (PARTLY, pgettext_lazy("clip status", "partly rated")),
        (FULLY, pgettext_lazy("clip status", "fully rated")),
        (REJECTED, pgettext_lazy("clip status", "rejected at import")),
    )


_TASK_IN_PATH = re.compile(r"(?:^|/)(task\d+)/")


@dataclass(frozen=True)
class RejectedFile:
    """A file of a rated submission that was not imported: its episode counts 0 for the team."""

    team: Team
    version: int
    file: str
    reason: object  # a notice as stored (annotate.notice_text says it), or text
    task_key: str  # "" when the path names no task

    status = ClipStatus.REJECTED


def _with_status(clips: QuerySet[Clip]) -> QuerySet[Clip]:
    """Each clip with its assignments, its ratings and its status.

    Fully rated: every assignment of the clip that scores it is done. Ratings are counted
    from the assignments' status, the one place that says a rating is in. Gold rows
    (annotate/services/quality.py) score no team: counted apart (``n_gold``,
    ``n_gold_rated``), never in the status.
    """
    scoring = Q(assignments__gold=False)
    gold = Q(assignments__gold=True)
    done = Q(assignments__status=Assignment.Status.DONE)
    return clips.annotate(
        n_assigned=Count("assignments", filter=scoring, distinct=True),
        n_rated=Count("assignments", filter=scoring & done, distinct=True),
        n_gold=Count("assignments", filter=gold, distinct=True),
        n_gold_rated=Count("assignments", filter=gold & done, distinct=True),
    ).annotate(
        status=Case(
            When(n_rated=0, then=Value(ClipStatus.UNRATED)),
            When(n_rated__gte=F("n_assigned"), then=Value(ClipStatus.FULLY)),
            default=Value(ClipStatus.PARTLY),
            output_field=CharField(),
        )
    )


class ClipFilter(django_filters.FilterSet):
    """GET parameters of the clip browser: task, team, status."""

    task = django_filters.ModelChoiceFilter(
        field_name="episode__task",
        queryset=Task.objects.none(),
        label=_("Task"),
        empty_label=_("all tasks"),
    )
    team = django_filters.ModelChoiceFilter(
        field_name="submission__team",
        queryset=Team.objects.none(),
        label=_("Team"),
        empty_label=_("all teams"),
    )
    status = django_filters.ChoiceFilter(
        choices=ClipStatus.choices,
        method="filter_status",
        label=_("Status"),
        empty_label=_("any status"),
    )

    class Meta:
        model = Clip
        fields = ["task", "team", "status"]

    def __init__(self, data=None, *, campaign: Campaign, **kwargs):
        super().__init__(data, queryset=_with_status(current_clips(campaign=campaign)), **kwargs)
        self.filters["task"].queryset = Task.objects.filter(campaign=campaign).order_by("number")
        self.filters["team"].queryset = Team.objects.filter(campaign=campaign).order_by("name")

    def filter_status(self, queryset: QuerySet[Clip], name: str, value: str) -> QuerySet[Clip]:
        if value == ClipStatus.REJECTED:
            return queryset.none()  # rejected files are not clips: listed beside them
        return queryset.filter(status=value) if value else queryset


def rejected_files(
    *, campaign: Campaign, task: Task | None = None, team: Team | None = None
) -> list[RejectedFile]:
    """The files rejected from each team's rated submission, with the reasons."""
    submissions = current_submissions(campaign=campaign).order_by("team__name")
    if team is not None:
        submissions = submissions.filter(team=team)
    found = []
    for submission in submissions:
        for entry in submission.report.get("rejected") or []:
            name = str(entry.get("file", ""))
            match = _TASK_IN_PATH.search(name)
            task_key = match.group(1) if match else ""
            if task is not None and task_key != task.key:
                continue
            found.append(
                RejectedFile(
                    team=submission.team,
                    version=submission.version,
                    file=name,
                    reason=entry.get("reason", ""),
                    task_key=task_key,
                )
            )
    return found


class Rows(Sequence):
    """The clips (a query, sliced in the database) followed by the rejected files, as one
    sequence that Django's Paginator can page through."""

    def __init__(self, clips: QuerySet[Clip], rejected: list[RejectedFile]):
        self.clips, self.rejected = clips, rejected
        self._n_clips: int | None = None

    @property
    def n_clips(self) -> int:
        if self._n_clips is None:
            self._n_clips = self.clips.count()
        return self._n_clips

    def __len__(self) -> int:
        return self.n_clips + len(self.rejected)

    def count(self) -> int:  # type: ignore[override]  # what Paginator asks for
        return len(self)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(len(self))
        rows: list = list(self.clips[start:stop]) if start < self.n_clips else []
        rows += self.rejected[max(0, start - self.n_clips) : max(0, stop - self.n_clips)]
        return rows


def clip_browser_rows(*, campaign: Campaign, params) -> tuple[ClipFilter, Rows]:
    """The filter (its form shows the choices) and the rows it selects, clips first."""
    chosen = ClipFilter(params, campaign=campaign)
    if not chosen.is_valid():
        return chosen, Rows(Clip.objects.none(), [])
    clips = chosen.qs.select_related(
        "episode__task", "episode__reference", "submission__team", "asset"
    )
    clips = clips.order_by("episode__task__number", "episode__number", "submission__team__name")
    status = chosen.form.cleaned_data.get("status")
    rejected = []
    if status in ("", None, ClipStatus.REJECTED):
        data = chosen.form.cleaned_data
        rejected = rejected_files(campaign=campaign, task=data.get("task"), team=data.get("team"))
    return chosen, Rows(clips, rejected)


@dataclass(frozen=True)
class ClipReview:
    clip: Clip
    status: str
    n_assigned: int  # assignments that score the clip (gold rows left out)
    n_rated: int
    ratings: tuple[Rating, ...]  # each with ``gold``: a gold check, which never counts
    n_gold: int = 0
    n_gold_rated: int = 0


def clip_review(*, campaign: Campaign, clip_id: int) -> ClipReview:
    """One clip of the campaign with its ratings; Clip.DoesNotExist if it is not one of them."""
    clip = (
        _with_status(Clip.objects.filter(submission__team__campaign=campaign))
        .select_related("episode__task", "episode__reference", "submission__team", "asset")
        .get(pk=clip_id)
    )
    ratings = tuple(
        Rating.objects.filter(clip=clip)
        .annotate(gold=F("assignment__gold"))
        .select_related("annotator")
        .order_by("gold", "annotator__username")
    )
    return ClipReview(
        clip=clip,
        status=clip.status,
        n_assigned=clip.n_assigned,
        n_rated=clip.n_rated,
        ratings=ratings,
        n_gold=clip.n_gold,
        n_gold_rated=clip.n_gold_rated,
    )
