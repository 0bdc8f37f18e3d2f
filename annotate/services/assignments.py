"""Assignment planning in the database: rated set, roster, plan, moves and reclaims.

The pure planner (`annotate.planner`) decides; these services feed it database rows
and store what it returns. Identifiers given to the planner: annotators by username,
teams by name, tasks by key, clips by primary key (as text).

A *cell* is one team's rated submission for one task. The caps (at most
`raters_per_cell` distinct raters per cell, at most `max_clips_per_rater` clips per
rater per cell, one row per annotator x clip) hold under concurrent requests:

- every planning write locks the campaign row first (`SELECT ... FOR NO KEY UPDATE`),
  so two plans of one campaign are computed one after the other, each on committed rows;
- on PostgreSQL a trigger (migration 0002) refuses any row over the caps, whoever
  writes it, and takes the same lock;
- the unique constraint on (annotator, clip) refuses duplicates everywhere.

Reclaim rule: an assignment `in_progress` whose `started_at` is older than the
campaign's `reclaim_after_minutes` (or that has no `started_at`) and that has no saved
rating goes back to `pending` for the same annotator, with `started_at` cleared. The
annotator's next request takes it again; an organizer may instead move it to another
annotator, since moves take pending work only. Done work is never moved or reclaimed.

Warnings of a plan, and the reasons a clip stays put in a move, are notices
(``annotate.notice``), said in the reader's language where they are shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate import planner
from annotate.models import Assignment, Campaign, Clip, Episode, MediaAsset, Task, Team
from annotate.notice import Notice, code
from annotate.selectors import current_clips
from annotate.selectors.problems import held_clip_ids

User = get_user_model()
# Longer than any campaign; beyond it a cutoff would overflow the date type.
MAX_RECLAIM_MINUTES = 100 * 366 * 24 * 60

# A plan's warnings besides the planner's own.
ROSTER_LEFT_OUT = code("plan.roster_left_out")  # user
MEDIA_NOT_READY = code("plan.media_not_ready")  # n
ROSTER_EMPTY = code("plan.roster_empty")


class AssignmentError(Exception):
    """A planning request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class TaskRatedSet:
    task: str
    episodes: int
    rated: tuple[str, ...]
    kept: bool  # True: the task already has assignments, so its rated set was left as it was


@dataclass(frozen=True)
class RatedSetResult:
    tasks: tuple[TaskRatedSet, ...]
    changed: int  # episodes whose in_rated_set flag was written with a new value


@dataclass(frozen=True)
class AssignmentApplyResult:
    created: int
    warnings: tuple[Notice, ...]
    gold_added: int = 0  # gold rows inserted blind (annotate/services/quality.py), not in `created`


@dataclass(frozen=True)
class AssignmentMoveResult:
    moved: int
    blocked: tuple[planner.BlockedMove, ...]


@dataclass(frozen=True)
class AssignmentReclaimResult:
    reclaimed: int
    cutoff: dt.datetime
    by_annotator: dict[str, int]


# --- rated set -------------------------------------------------------------------------


def rated_set_seed(*, campaign_seed: int, task_key: str) -> int:
    """The seed for one task's rated set: stable across runs, different between tasks."""
    digest = hashlib.sha256(f"rated-set:{campaign_seed}:{task_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _rated_sets(*, campaign: Campaign) -> tuple[dict[int, set[int]], list[TaskRatedSet]]:
    """Episode ids chosen per task id, without writing; tasks with assignments keep theirs."""
    capacity = campaign.raters_per_cell * campaign.max_clips_per_rater
    assigned_tasks = set(
        Assignment.objects.filter(campaign=campaign).values_list(
            "clip__episode__task_id", flat=True
        )
    )
    chosen: dict[int, set[int]] = {}
    report: list[TaskRatedSet] = []
    for task in Task.objects.filter(campaign=campaign).order_by("number"):
        episodes = list(task.episodes.values_list("pk", "key", "in_rated_set"))
        if task.pk in assigned_tasks:
            # Re-drawing a task that is being rated would orphan the work already done.
            keys = {pk for pk, _, rated in episodes if rated}
            kept = True
        else:
            picked = set(
                planner.choose_rated_set(
                    episodes=[key for _, key, _ in episodes],
                    capacity=capacity,
                    seed=rated_set_seed(campaign_seed=campaign.seed, task_key=task.key),
                )
            )
            keys = {pk for pk, key, _ in episodes if key in picked}
            kept = False
        chosen[task.pk] = keys
        names = tuple(
            sorted((key for pk, key, _ in episodes if pk in keys), key=planner.natural_key)
        )
        report.append(TaskRatedSet(task.key, len(episodes), names, kept))
    return chosen, report


@transaction.atomic
def rated_set_update(*, campaign: Campaign) -> RatedSetResult:
    """Mark Episode.in_rated_set per task: the same episodes for every team."""
    _lock(campaign)
    chosen, report = _rated_sets(campaign=campaign)
    return RatedSetResult(tasks=tuple(report), changed=_write_rated_sets(campaign, chosen))


def _write_rated_sets(campaign: Campaign, chosen: dict[int, set[int]]) -> int:
    all_chosen = set().union(*chosen.values()) if chosen else set()
    episodes = Episode.objects.filter(task__campaign=campaign)
    now_in = episodes.filter(pk__in=all_chosen, in_rated_set=False).update(in_rated_set=True)
    now_out = (
        episodes.exclude(pk__in=all_chosen).filter(in_rated_set=True).update(in_rated_set=False)
    )
    return now_in + now_out


# --- roster ----------------------------------------------------------------------------


def _check_annotator(user) -> None:
    if not user.is_active:
        raise AssignmentError(_("user %(user)r is inactive") % {"user": user.username})
    if user.is_staff:
        raise AssignmentError(
            _("user %(user)r is staff: organizers do not rate") % {"user": user.username}
        )


@transaction.atomic
def assignment_annotator_add(*, campaign: Campaign, user) -> AssignmentApplyResult:
    """Put a user on the roster; once the campaign is planned, plan only what is missing.

    Before the first plan is applied this only adds to the roster, so that adding
    annotators one by one does not hand all the work to the first few.
    """
    campaign = _lock(campaign)
    _check_annotator(user)
    campaign.annotators.add(user)
    if not Assignment.objects.filter(campaign=campaign).exists():
        return AssignmentApplyResult(created=0, warnings=())
    return _apply(campaign)


@transaction.atomic
def assignment_annotator_remove(*, campaign: Campaign, user) -> None:
    """Take a user off the roster; refused while they hold open work (move it first)."""
    campaign = _lock(campaign)
    open_work = Assignment.objects.filter(
        campaign=campaign, annotator=user, clip__in=current_clips(campaign=campaign)
    ).exclude(status=Assignment.Status.DONE)
    # Gold rows are checks of this annotator, never moved: the unopened ones go with them.
    if open_work.filter(gold=False).exists():
        raise AssignmentError(
            _(
                "%(user)r still holds %(n)s open assignments: reclaim and move them to "
                "another annotator first"
            )
            % {"user": user.username, "n": open_work.filter(gold=False).count()}
        )
    open_work.filter(gold=True, status=Assignment.Status.PENDING, rating__isnull=True).delete()
    campaign.annotators.remove(user)


# --- planning --------------------------------------------------------------------------


def assignment_plan_preview(*, campaign: Campaign, with_annotators: Sequence = ()) -> planner.Plan:
    """The plan that applying would store now, written nowhere.

    `with_annotators` are users counted as on the roster for this preview.
    """
    for user in with_annotators:
        _check_annotator(user)
    chosen, _ = _rated_sets(campaign=campaign)
    return _plan(campaign, chosen_rated=chosen, extra_users=with_annotators)


@transaction.atomic
def assignment_plan_apply(
    *, campaign: Campaign, with_annotators: Sequence = ()
) -> AssignmentApplyResult:
    """Write the rated set, add `with_annotators` to the roster, store the new rows.

    Idempotent: applying again with nothing changed adds no row.
    """
    campaign = _lock(campaign)
    for user in with_annotators:
        _check_annotator(user)
    campaign.annotators.add(*with_annotators)
    return _apply(campaign)


def _apply(campaign: Campaign) -> AssignmentApplyResult:
    chosen, _ = _rated_sets(campaign=campaign)
    _write_rated_sets(campaign, chosen)
    plan = _plan(campaign, chosen_rated=chosen, extra_users=())
    users = {
        user.username: user
        for user in User.objects.filter(username__in={row.annotator for row in plan.assignments})
    }
    rows = [
        Assignment(
            campaign=campaign,
            annotator=users[row.annotator],
            clip_id=int(row.clip),
            order_key=order_key(
                seed=campaign.seed, annotator_id=users[row.annotator].pk, clip_id=int(row.clip)
            ),
        )
        for row in plan.assignments
    ]
    Assignment.objects.bulk_create(rows)
    # Imported here: quality builds on this module (order_key).
    from annotate.services.quality import gold_rows_update

    gold = gold_rows_update(campaign=campaign)
    return AssignmentApplyResult(
        created=len(rows), warnings=plan.warnings + gold.warnings, gold_added=gold.added
    )


def order_key(*, seed: int, annotator_id: int, clip_id: int) -> int:
    """A seeded pseudo-random position in the annotator's queue.

    A keyed hash rather than a shuffle: rows added later (a new team, a move) fall into
    place without renumbering the queue, and the order never depends on when rows were
    stored. The result fits PostgreSQL's integer.
    """
    digest = hashlib.blake2b(f"{seed}:{annotator_id}:{clip_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") >> 1


def _roster(campaign: Campaign, extra_users: Iterable) -> tuple[list, list[Notice]]:
    users = {user.pk: user for user in campaign.annotators.all()}
    users.update({user.pk: user for user in extra_users})
    eligible, warnings = [], []
    for user in sorted(users.values(), key=lambda user: user.username):
        if user.is_active and not user.is_staff:
            eligible.append(user)
        else:
            warnings.append(Notice(ROSTER_LEFT_OUT, {"user": user.username}))
    return eligible, warnings


def _media_ready(clip: Clip) -> bool:
    ready = MediaAsset.Status.READY
    return clip.asset.status == ready and clip.episode.reference.status == ready


def _plan(
    campaign: Campaign, *, chosen_rated: dict[int, set[int]], extra_users: Iterable
) -> planner.Plan:
    users, roster_warnings = _roster(campaign, extra_users)
    memberships: dict[int, set[str]] = {user.pk: set() for user in users}
    for user_id, team_name in Team.members.through.objects.filter(
        team__campaign=campaign, user__in=users
    ).values_list("user_id", "team__name"):
        memberships[user_id].add(team_name)
    annotators = [
        planner.Annotator(user.username, frozenset(memberships[user.pk])) for user in users
    ]

    rated_episodes = set().union(*chosen_rated.values()) if chosen_rated else set()
    clips = current_clips(campaign=campaign)
    cells: dict[tuple[str, str], list[str]] = {}
    unready = 0
    for clip in clips.select_related("episode__reference"):
        if clip.episode_id in rated_episodes:
            if not _media_ready(clip):
                unready += 1  # never handed out before both its videos can be served
                continue
            key = (clip.submission.team.name, clip.episode.task.key)
            cells.setdefault(key, []).append(str(clip.pk))
    if unready:
        roster_warnings.append(Notice(MEDIA_NOT_READY, {"n": unready}))

    # Rows on the rated submissions only: a cell is one submission's clips of one task,
    # as in the database guard. Rows on clips outside the rated set still count. An extra
    # rater asked for by adjudication is not one of the cell's raters (the planner would
    # top them up to a full share of the cell); their clip is simply never planned again.
    extra_rows = [
        (username, str(clip_id))
        for username, clip_id in Assignment.objects.filter(
            campaign=campaign, clip__in=clips, extra_rater=True
        ).values_list("annotator__username", "clip_id")
    ]
    # Gold rows (checks inserted blind, annotate/services/quality.py) score no team: not
    # the cell's, but one row per annotator and clip, so their clips are not planned to them.
    gold_rows = [
        (username, str(clip_id))
        for username, clip_id in Assignment.objects.filter(
            campaign=campaign, clip__in=clips, gold=True
        ).values_list("annotator__username", "clip_id")
    ]
    # A pair reported as broken goes to no one new until the organizer resolves the report
    # (annotate/services/problems.py): a plan made after a fix adds what it lacks.
    held = held_clip_ids().filter(clip__in=clips).values_list("clip_id", flat=True)
    held_rows = [(annotator.id, str(clip_id)) for clip_id in held for annotator in annotators]
    existing = [
        planner.PlannedAssignment(annotator=username, clip=str(clip_id), team=team, task=task)
        for username, clip_id, team, task in Assignment.objects.filter(
            campaign=campaign, clip__in=clips, extra_rater=False, gold=False
        ).values_list(
            "annotator__username",
            "clip_id",
            "clip__submission__team__name",
            "clip__episode__task__key",
        )
    ]
    try:
        plan = planner.plan_assignments(
            annotators=annotators,
            cells=[planner.Cell(team, task, tuple(ids)) for (team, task), ids in cells.items()],
            raters_per_cell=campaign.raters_per_cell,
            max_clips_per_rater=campaign.max_clips_per_rater,
            seed=campaign.seed,
            existing=existing,
            unavailable=gold_rows + extra_rows + held_rows,
        )
    except planner.PlanError as exc:
        raise AssignmentError(str(exc)) from exc
    if not annotators:
        roster_warnings.append(Notice(ROSTER_EMPTY))
    return replace(plan, warnings=tuple(roster_warnings) + plan.warnings)


# --- moves and reclaims ----------------------------------------------------------------


@transaction.atomic
def assignment_move_pending(*, campaign: Campaign, from_user, to_user) -> AssignmentMoveResult:
    """Move `from_user`'s pending clips to `to_user` where the rules allow; done work stays.

    `to_user` must be on the roster. A clip stays put when `to_user` belongs to its team,
    already rates it, or would go over the per-cell cap; each such clip is reported.
    """
    campaign = _lock(campaign)
    _check_annotator(to_user)
    if to_user.pk == from_user.pk:
        raise AssignmentError(
            _("cannot reassign from %(user)r to the same annotator") % {"user": from_user.username}
        )
    if not campaign.annotators.filter(pk=to_user.pk).exists():
        raise AssignmentError(
            _("%(user)r is not on the roster: add them first") % {"user": to_user.username}
        )
    clips = current_clips(campaign=campaign)
    rows = list(
        Assignment.objects.filter(campaign=campaign, clip__in=clips).values_list(
            "annotator__username",
            "clip_id",
            "clip__submission__team__name",
            "clip__episode__task__key",
        )
    )
    pending = list(
        Assignment.objects.select_for_update()
        .filter(
            campaign=campaign,
            annotator=from_user,
            clip__in=clips,
            status=Assignment.Status.PENDING,
            gold=False,  # a gold row checks its annotator: never moved
        )
        .order_by("pk")
    )
    to_teams = frozenset(campaign.teams.filter(members=to_user).values_list("name", flat=True))
    try:
        decision = planner.reassign_pending(
            assignments=[
                planner.PlannedAssignment(annotator=name, clip=str(clip), team=team, task=task)
                for name, clip, team, task in rows
            ],
            pending_clips=[str(row.clip_id) for row in pending],
            from_annotator=from_user.username,
            to_annotator=planner.Annotator(to_user.username, to_teams),
            max_clips_per_rater=campaign.max_clips_per_rater,
        )
    except planner.PlanError as exc:
        raise AssignmentError(str(exc)) from exc
    by_clip = {str(row.clip_id): row for row in pending}
    for move in decision.moves:
        row = by_clip[move.clip]
        row.annotator = to_user
        row.order_key = order_key(seed=campaign.seed, annotator_id=to_user.pk, clip_id=row.clip_id)
        row.save(update_fields=["annotator", "order_key"])
    return AssignmentMoveResult(moved=len(decision.moves), blocked=decision.blocked)


@transaction.atomic
def assignment_reclaim_stale(
    *, campaign: Campaign, now: dt.datetime | None = None, minutes: int | None = None
) -> AssignmentReclaimResult:
    """Put abandoned in-progress work back to pending (the rule is in the module docstring).

    `minutes` overrides the campaign's `reclaim_after_minutes` for this call.
    """
    if minutes is not None and not 0 <= minutes <= MAX_RECLAIM_MINUTES:
        raise AssignmentError(
            _("minutes must be between 0 and %(max)s, got %(minutes)s")
            % {"max": MAX_RECLAIM_MINUTES, "minutes": minutes}
        )
    cutoff = (now or timezone.now()) - dt.timedelta(
        minutes=campaign.reclaim_after_minutes if minutes is None else minutes
    )
    stale = Assignment.objects.filter(
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True),
        campaign=campaign,
        status=Assignment.Status.IN_PROGRESS,
        rating__isnull=True,
    )
    by_annotator: dict[str, int] = {}
    for username in stale.values_list("annotator__username", flat=True):
        by_annotator[username] = by_annotator.get(username, 0) + 1
    # One UPDATE with the staleness test in its WHERE: a rating saved meanwhile turns the
    # row to done, and PostgreSQL re-checks the condition on the locked row, skipping it.
    reclaimed = (
        Assignment.objects.filter(
            pk__in=list(stale.values_list("pk", flat=True)),
            status=Assignment.Status.IN_PROGRESS,
        )
        .filter(Q(started_at__lt=cutoff) | Q(started_at__isnull=True))
        .update(status=Assignment.Status.PENDING, started_at=None)
    )
    return AssignmentReclaimResult(
        reclaimed=reclaimed, cutoff=cutoff, by_annotator=dict(sorted(by_annotator.items()))
    )


def _lock(campaign: Campaign) -> Campaign:
    """Re-read the campaign under a row lock that serialises its planning writes."""
    return Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)


__all__ = [
    "AssignmentApplyResult",
    "AssignmentError",
    "AssignmentMoveResult",
    "AssignmentReclaimResult",
    "RatedSetResult",
    "TaskRatedSet",
    "assignment_annotator_add",
    "assignment_annotator_remove",
    "assignment_move_pending",
    "assignment_plan_apply",
    "assignment_plan_preview",
    "assignment_reclaim_stale",
    "order_key",
    "rated_set_seed",
    "rated_set_update",
]
