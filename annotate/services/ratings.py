"""The annotator's work: take the next clip, rate it, revise the rating.

The rubric is a decision tree (DESIGN.md, "The protocol, made exact"): the final-state
question is always asked, then either the clean question (state matches) or the
arm-motion question (state differs). A score and a full set of answers are two views of
the same judgement, so either one determines the other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate.marks import MarksInvalid, marks_clean
from annotate.models import Assignment, Campaign, MediaAsset, Rating, RatingRevision
from annotate.rubric import (
    ANSWERS_BY_SCORE,
    RubricAnswers,
    follow_up_question,
    rubric_score,
)
from annotate.selectors import current_submissions, rating_of
from annotate.selectors.problems import (
    clip_hold,
    clip_hold_status,
    clip_is_held,
    held_clip_ids,
)
from annotate.selectors.quality import practice_pending_campaigns
from annotate.words import word

# Both clips must have been played over this fraction of their length before a first
# rating is accepted: "to the end once", with room for the last frame or two that a
# browser's played ranges can miss.
FULL_WATCH_MIN = 0.95


class RatingRefused(ValidationError):
    """A rating or an assignment request that cannot be accepted; the message says why, in
    the reader's language."""


def rubric_resolve(
    *,
    score: int | None,
    final_state: bool | None = None,
    clean: bool | None = None,
    motion: bool | None = None,
) -> RubricAnswers:
    """The score and the answers on its branch of the tree, checked against each other.

    An answer to a question that the tree does not ask on the chosen branch is dropped:
    the page may keep it from an earlier choice, and it says nothing about this score.
    """
    if score is not None and score not in ANSWERS_BY_SCORE:
        raise RatingRefused(_("score must be 0, 1, 2 or 3, not %(score)r") % {"score": score})
    if score is None:
        if final_state is None:
            raise RatingRefused(_("give a score or answer whether the final state matches"))
        try:
            score = rubric_score(final_state=final_state, clean=clean, motion=motion)
        except ValueError as exc:
            question = follow_up_question(final_state)
            raise RatingRefused(
                _("give a score or answer the %(question)s question") % {"question": question}
            ) from exc
    expected = ANSWERS_BY_SCORE[score]
    given = {"final_state": final_state, "clean": clean, "motion": motion}
    for question, answer in expected.asked().items():
        if given[question] is not None and given[question] != answer:
            raise RatingRefused(
                _(
                    "score %(score)s needs %(question)s=%(answer)s, but the answer given is %(given)s"
                )
                % {"score": score, "question": question, "answer": answer, "given": given[question]}
            )
    return expected


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _fraction(value: float, name: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise RatingRefused(
            _("%(name)s is a fraction of the clip and must lie in [0, 1], not %(value)s")
            % {"name": name, "value": value}
        )
    return value


def _check_may_rate(*, assignment: Assignment, user) -> None:
    if assignment.annotator_id != user.pk:
        raise RatingRefused(_("this clip is not assigned to you"))
    campaign = assignment.campaign
    if not campaign.accepts_ratings:
        if campaign.state == Campaign.State.DRAFT:
            raise RatingRefused(_("the campaign is not open yet: ratings are not accepted"))
        raise RatingRefused(
            _("the campaign is %(state)s: ratings can no longer be given or changed")
            % {"state": word(campaign.state)}
        )
    _check_practised(campaign=campaign, user=user)
    _check_clip_is_rated(assignment=assignment)
    _check_not_held(assignment=assignment)


def _check_not_held(*, assignment: Assignment) -> None:
    """A pair reported as broken takes no rating until the organizer hands it out again.

    Read from the row's ``clip_hold`` annotation where the caller read the assignment
    with it (:func:`annotate.selectors.problems.clip_hold_status`), else asked.
    """
    if hasattr(assignment, "clip_hold"):
        hold = assignment.clip_hold
    else:
        hold = clip_hold(clip_id=assignment.clip_id)
    if hold == "excluded":
        raise RatingRefused(
            _("this pair was reported as broken and the organizer left it out of rating")
        )
    if hold is not None:
        raise RatingRefused(
            _(
                "this pair was reported as broken and waits for the organizer: "
                "it cannot be rated for now"
            )
        )


def _check_practised(*, campaign: Campaign, user) -> None:
    """No real clip before the campaign's practice round is passed (annotate/services/quality.py)."""
    if practice_pending_campaigns(user=user).filter(pk=campaign.pk).exists():
        raise RatingRefused(
            _(
                "the practice round of %(campaign)s comes first: its clips are handed out "
                "once you have passed it"
            )
            % {"campaign": campaign.name}
        )


def _taking_ratings(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """Work of campaigns that take ratings: the queryset twin of Campaign.accepts_ratings."""
    return assignments.filter(campaign__state=Campaign.State.OPEN)


def _check_clip_is_rated(*, assignment: Assignment) -> None:
    """A clip of a version that a newer one replaced is no longer rated: its ratings would not count."""
    if not current_submissions().filter(clips=assignment.clip_id).exists():
        raise RatingRefused(
            _(
                "this clip belongs to a submission version that a newer one has replaced: "
                "it is no longer rated"
            )
        )


def _server_seconds(assignment: Assignment, now: dt.datetime) -> float | None:
    """Seconds since the clip was first opened, as the server saw it; None if it never was."""
    if assignment.started_at is None:
        return None
    return max(0.0, (now - assignment.started_at).total_seconds())


def _locked_assignment(assignment: Assignment) -> Assignment:
    """The assignment row re-read under a row lock, so two submissions run one after the other."""
    locked = Assignment.objects.select_for_update().select_related("campaign")
    return locked.annotate(clip_hold=clip_hold_status()).get(pk=assignment.pk)


def assignments_current(*, user, campaign: Campaign | None = None) -> QuerySet[Assignment]:
    """The user's assignments on the newest submission of each team (older versions are not rated)."""
    current = current_submissions(campaign=campaign)
    return Assignment.objects.filter(annotator=user, clip__submission__in=current)


def _playable(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """Work that can be handed out: both videos ready, the pair not reported as broken."""
    ready = MediaAsset.Status.READY
    return assignments.filter(
        clip__asset__status=ready, clip__episode__reference__status=ready
    ).exclude(clip_id__in=held_clip_ids())


def assignment_upcoming(
    *, user, campaign: Campaign | None = None, exclude: Assignment | None = None
) -> Assignment | None:
    """The clip that assignment_next would open, without taking it (for preloading)."""
    open_work = _playable(
        _taking_ratings(assignments_current(user=user, campaign=campaign))
    ).exclude(status=Assignment.Status.DONE)
    if exclude is not None:
        open_work = open_work.exclude(pk=exclude.pk)
    # In-progress work sorts first, as in assignment_next: "in_progress" < "pending".
    ordered = open_work.order_by("status", "order_key", "pk")
    return ordered.select_related("clip__asset", "clip__episode__reference").first()


@transaction.atomic
def assignment_next(
    *, user, campaign: Campaign | None = None, now: dt.datetime | None = None
) -> Assignment | None:
    """Resume the clip in progress, else take the next pending one in the annotator's order.

    Only campaigns that take ratings hand out work: nothing is started elsewhere.
    """
    open_work = _playable(_taking_ratings(assignments_current(user=user, campaign=campaign)))
    open_work = open_work.exclude(campaign__in=practice_pending_campaigns(user=user))
    for status in (Assignment.Status.IN_PROGRESS, Assignment.Status.PENDING):
        candidates = open_work.filter(status=status).order_by("order_key", "pk")
        if connection.features.has_select_for_update_skip_locked:
            # Two tabs of the same annotator asking at once get different clips.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        assignment = candidates.select_related("campaign").first()
        if assignment is not None:
            if assignment.status == Assignment.Status.PENDING:
                assignment.status = Assignment.Status.IN_PROGRESS
                assignment.started_at = _now(now)
                assignment.save(update_fields=["status", "started_at"])
            return assignment
    # Rather than "nothing left": the practice round that holds the work back.
    held_back = practice_pending_campaigns(user=user).filter(state=Campaign.State.OPEN)
    if campaign is not None:
        held_back = held_back.filter(pk=campaign.pk)
    if (first := held_back.order_by("created_at", "pk").first()) is not None:
        _check_practised(campaign=first, user=user)
    return None


def assignment_open(*, assignment: Assignment, user, now: dt.datetime | None = None) -> Assignment:
    """Open one of the user's own clips directly (from the queue or a bookmark).

    A pending assignment becomes in progress, in the given object too. One conditional
    UPDATE, so two tabs opening the same clip at once start it once, with no lock.
    """
    if assignment.annotator_id != user.pk:
        raise RatingRefused(_("this clip is not assigned to you"))
    _check_practised(campaign=assignment.campaign, user=user)
    _check_clip_is_rated(assignment=assignment)
    ready = MediaAsset.Status.READY
    clip = assignment.clip  # the page reads it with its asset and reference: no query here
    if clip.asset.status != ready or clip.episode.reference.status != ready:
        # Only a ready, clean copy is ever served: an unready clip has nothing to show.
        raise RatingRefused(
            _(
                "this clip's video is not ready yet (still being prepared, or its preparation "
                "failed): it cannot be rated for now"
            )
        )
    if assignment.status != Assignment.Status.DONE:
        _check_not_held(assignment=assignment)  # a rated one is still shown, as it was rated
    if not assignment.campaign.accepts_ratings:
        return assignment  # shown as it is: a campaign that takes no rating starts no work
    if assignment.status == Assignment.Status.PENDING:
        started_at = _now(now)
        pending = Assignment.objects.filter(pk=assignment.pk, status=Assignment.Status.PENDING)
        if pending.update(status=Assignment.Status.IN_PROGRESS, started_at=started_at):
            assignment.status, assignment.started_at = Assignment.Status.IN_PROGRESS, started_at
        else:  # opened (or finished) elsewhere since it was read
            assignment.refresh_from_db(fields=["status", "started_at"])
    return assignment


def _keep_revision(rating: Rating, now: dt.datetime, *, server_time_s: float | None) -> None:
    RatingRevision.objects.create(
        server_time_s=server_time_s,
        rating=rating,
        revision=rating.revision,
        score=rating.score,
        final_state=rating.final_state,
        clean=rating.clean,
        motion=rating.motion,
        comment=rating.comment,
        marks=rating.marks,
        created_at=now,
    )


def _same_judgement(
    rating: Rating, answers: RubricAnswers, comment: str, marks: list[dict[str, object]]
) -> bool:
    return (
        rating.score,
        rating.final_state,
        rating.clean,
        rating.motion,
        rating.comment,
        rating.marks,
    ) == (answers.score, answers.final_state, answers.clean, answers.motion, comment, marks)


def _marks(raw: object, assignment: Assignment) -> list[dict[str, object]]:
    """The marks checked against the generated clip's length (annotate/marks.py).

    Without a mark the length is not read: most ratings cost no query for it.
    """
    if not raw and isinstance(raw, list | tuple | type(None)):
        return []
    duration = MediaAsset.objects.filter(clips=assignment.clip_id).values_list(
        "duration_s", flat=True
    )
    try:
        return marks_clean(raw, duration_s=duration.get())
    except MarksInvalid as exc:
        raise RatingRefused(str(exc)) from exc


IDEMPOTENCY_KEY_MAX = 100


def _key(idempotency_key: str | None) -> str | None:
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise RatingRefused(
            _("an idempotency key has at most %(max)s characters") % {"max": IDEMPOTENCY_KEY_MAX}
        )
    return key or None


def rating_replayed(*, assignment: Assignment, user, idempotency_key: str | None) -> Rating | None:
    """The rating that a request with this key already stored for this clip, if any.

    Keys are per user; one that stored a rating of another clip is refused. Entry points
    ask first, so that a retry is answered from the stored rating whatever its body says.
    """
    key = _key(idempotency_key)
    if key is None:
        return None
    stored = Rating.objects.filter(annotator=user, idempotency_key=key).order_by("pk").first()
    if stored is not None and stored.assignment_id != assignment.pk:
        raise RatingRefused(_("this idempotency key was already used for another clip"))
    return stored


class RatingOutcome(StrEnum):
    """What a save did, which the page tells the annotator."""

    CREATED = "created"  # the clip's first rating was stored
    REPLAYED = "replayed"  # stored before, by this key or with this very judgement: no write
    REVISED = "revised"  # a new revision; the earlier one stays in the history
    UNCHANGED = "unchanged"  # a revision that changed no answer: only the work time adds up


@dataclass(frozen=True)
class RatingSaved:
    rating: Rating
    outcome: RatingOutcome


@transaction.atomic
def rating_save(
    *,
    assignment: Assignment,
    user,
    score: int | None,
    final_state: bool | None = None,
    clean: bool | None = None,
    motion: bool | None = None,
    comment: str | None = None,
    marks: list | None = None,
    time_on_page_s: float = 0,
    watched_reference: float = 0,
    watched_generated: float = 0,
    idempotency_key: str | None = None,
    revise: bool | None = None,
    keep_judgement: bool = False,
    now: dt.datetime | None = None,
) -> RatingSaved:
    """Store the annotator's rating of a clip: the first one, or a revision of it.

    ``revise`` says what the caller asks for: None lets the clip decide (a rated clip is
    revised, as the rating page does); False asks for the first rating (sending the same
    judgement again returns it unchanged, a different one is refused); True asks for a
    revision of an existing rating.

    A request retried with the ``idempotency_key`` that created a rating returns that
    rating as it is, whatever the retry's body says: no second rating, no revision.

    ``keep_judgement``: a revision that gives no score and no answer (a comment alone)
    keeps the stored judgement instead of being refused as incomplete. ``comment=None``
    keeps the comment of a revised rating (a first rating then has none); so does
    ``marks=None`` its break-point marks (annotate/marks.py: checked against the
    generated clip's length, refused with the reason).
    """
    now = _now(now)
    idempotency_key = _key(idempotency_key)
    if assignment.annotator_id != user.pk:
        raise RatingRefused(_("this clip is not assigned to you"))
    # Under the assignment's row lock, so a retry racing its original waits for it and
    # then finds the rating it stored.
    assignment = _locked_assignment(assignment)
    stored = rating_replayed(assignment=assignment, user=user, idempotency_key=idempotency_key)
    if stored is not None:
        return RatingSaved(stored, RatingOutcome.REPLAYED)
    _check_may_rate(assignment=assignment, user=user)
    existing = rating_of(assignment=assignment)
    if revise is None:
        revise = existing is not None
    if revise:
        if existing is None:
            raise RatingRefused(_("this clip has no rating yet: submit one first"))
        unanswered = all(answer is None for answer in (final_state, clean, motion))
        if keep_judgement and score is None and unanswered:
            score = existing.score
        answers = rubric_resolve(score=score, final_state=final_state, clean=clean, motion=motion)
        return _revision_store(
            assignment=assignment,
            rating=existing,
            answers=answers,
            comment=existing.comment if comment is None else comment.strip(),
            marks=existing.marks if marks is None else _marks(marks, assignment),
            time_on_page_s=time_on_page_s,
            watched_reference=watched_reference,
            watched_generated=watched_generated,
            now=now,
        )
    answers = rubric_resolve(score=score, final_state=final_state, clean=clean, motion=motion)
    comment = (comment or "").strip()
    checked_marks = _marks(marks, assignment)
    if existing is not None:
        if _same_judgement(existing, answers, comment, checked_marks):
            return RatingSaved(existing, RatingOutcome.REPLAYED)  # a double click, a retry
        raise RatingRefused(_("this clip is already rated: revise the rating instead"))
    rating = _first_rating_store(
        assignment=assignment,
        user=user,
        answers=answers,
        comment=comment,
        marks=checked_marks,
        time_on_page_s=time_on_page_s,
        watched_reference=watched_reference,
        watched_generated=watched_generated,
        idempotency_key=idempotency_key,
        now=now,
    )
    return RatingSaved(rating, RatingOutcome.CREATED)


def _first_rating_store(
    *,
    assignment: Assignment,
    user,
    answers: RubricAnswers,
    comment: str,
    marks: list[dict[str, object]],
    time_on_page_s: float,
    watched_reference: float,
    watched_generated: float,
    idempotency_key: str | None,
    now: dt.datetime,
) -> Rating:
    watched_reference = _fraction(watched_reference, "watched_reference")
    watched_generated = _fraction(watched_generated, "watched_generated")
    if assignment.campaign.require_full_watch and min(watched_reference, watched_generated) < (
        FULL_WATCH_MIN
    ):
        raise RatingRefused(
            _(
                "both clips must be played to the end before rating (reference %(reference)s, "
                "generated %(generated)s watched)"
            )
            % {
                "reference": f"{watched_reference:.0%}",
                "generated": f"{watched_generated:.0%}",
            }
        )
    if time_on_page_s < 0:
        raise RatingRefused(
            _("time_on_page_s cannot be negative, not %(value)s") % {"value": time_on_page_s}
        )
    rating = Rating.objects.create(
        assignment=assignment,
        clip_id=assignment.clip_id,
        annotator=user,
        score=answers.score,
        final_state=answers.final_state,
        clean=answers.clean,
        motion=answers.motion,
        comment=comment,
        marks=marks,
        time_on_page_s=float(time_on_page_s),
        server_time_s=_server_seconds(assignment, now),
        watched_reference=watched_reference,
        watched_generated=watched_generated,
        revision=1,
        created_at=now,
        updated_at=now,
        idempotency_key=idempotency_key,
    )
    _keep_revision(rating, now, server_time_s=rating.server_time_s)
    assignment.status = Assignment.Status.DONE
    assignment.completed_at = now
    assignment.save(update_fields=["status", "completed_at"])
    return rating


def _revision_store(
    *,
    assignment: Assignment,
    rating: Rating,
    answers: RubricAnswers,
    comment: str,
    marks: list[dict[str, object]],
    time_on_page_s: float,
    watched_reference: float,
    watched_generated: float,
    now: dt.datetime,
) -> RatingSaved:
    """Time on the page adds up over visits and the watched fractions keep their maximum,
    so they describe all the work on the clip, even when the judgement stays."""
    if time_on_page_s < 0:
        raise RatingRefused(
            _("time_on_page_s cannot be negative, not %(value)s") % {"value": time_on_page_s}
        )
    rating.time_on_page_s += float(time_on_page_s)
    rating.watched_reference = max(
        rating.watched_reference, _fraction(watched_reference, "watched_reference")
    )
    rating.watched_generated = max(
        rating.watched_generated, _fraction(watched_generated, "watched_generated")
    )
    if _same_judgement(rating, answers, comment, marks):
        rating.save(update_fields=["time_on_page_s", "watched_reference", "watched_generated"])
        return RatingSaved(rating, RatingOutcome.UNCHANGED)
    rating.score, rating.final_state = answers.score, answers.final_state
    rating.clean, rating.motion, rating.comment = answers.clean, answers.motion, comment
    rating.marks = marks
    rating.revision += 1
    rating.updated_at = now
    rating.save()
    _keep_revision(rating, now, server_time_s=_server_seconds(assignment, now))
    return RatingSaved(rating, RatingOutcome.REVISED)


def rating_submit(
    *,
    assignment: Assignment,
    user,
    score: int | None,
    final_state: bool | None = None,
    clean: bool | None = None,
    motion: bool | None = None,
    comment: str = "",
    marks: list | None = None,
    time_on_page_s: float = 0,
    watched_reference: float = 0,
    watched_generated: float = 0,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Rating:
    """The first rating of an assignment; sending the same rating again returns it unchanged.

    A request retried with the ``idempotency_key`` that created a rating returns that
    rating as it is, whatever the retry's body says: no second rating, no revision.
    """
    return rating_save(
        assignment=assignment,
        user=user,
        score=score,
        final_state=final_state,
        clean=clean,
        motion=motion,
        comment=comment,
        marks=marks,
        time_on_page_s=time_on_page_s,
        watched_reference=watched_reference,
        watched_generated=watched_generated,
        idempotency_key=idempotency_key,
        revise=False,
        now=now,
    ).rating


def rating_revise(
    *,
    assignment: Assignment,
    user,
    score: int | None,
    final_state: bool | None = None,
    clean: bool | None = None,
    motion: bool | None = None,
    comment: str | None = None,
    marks: list | None = None,
    time_on_page_s: float = 0,
    watched_reference: float = 0,
    watched_generated: float = 0,
    now: dt.datetime | None = None,
) -> Rating:
    """Change a rating while the campaign is open; the previous version stays in its history.

    ``comment=None`` keeps the comment. Time on the page adds up over visits and the
    watched fractions keep their maximum, so they describe all the work on the clip.
    """
    return rating_save(
        assignment=assignment,
        user=user,
        score=score,
        final_state=final_state,
        clean=clean,
        motion=motion,
        comment=comment,
        marks=marks,
        time_on_page_s=time_on_page_s,
        watched_reference=watched_reference,
        watched_generated=watched_generated,
        revise=True,
        now=now,
    ).rating


@dataclass(frozen=True)
class TaskProgress:
    """One task of one campaign in an annotator's queue; no team is named."""

    campaign_slug: str
    campaign_name: str
    task_number: int
    task_title: str
    task_instruction: str
    done: int
    total: int
    held: int = 0  # not rated, reported as broken: with the organizer, not handed out

    @property
    def remaining(self) -> int:
        return self.total - self.done


@dataclass(frozen=True)
class CampaignQueue:
    slug: str
    name: str
    state: str
    accepts_ratings: bool
    tasks: list[TaskProgress]
    has_open_work: bool

    @property
    def done(self) -> int:
        return sum(task.done for task in self.tasks)

    @property
    def total(self) -> int:
        return sum(task.total for task in self.tasks)

    @property
    def held(self) -> int:
        return sum(task.held for task in self.tasks)


def annotator_queue(*, user) -> list[CampaignQueue]:
    """The annotator's progress per campaign and task (a read, kept beside the writes it mirrors)."""
    rows = (
        assignments_current(user=user)
        .select_related("campaign", "clip__episode__task")
        .annotate(held=clip_is_held())  # reported as broken: with the organizer
        .order_by("campaign__created_at", "clip__episode__task__number")
    )
    campaigns: dict[int, dict] = {}
    for assignment in rows:
        campaign, task = assignment.campaign, assignment.clip.episode.task
        entry = campaigns.setdefault(campaign.pk, {"campaign": campaign, "tasks": {}})
        counts = entry["tasks"].setdefault(task.pk, [task, 0, 0, 0])
        done = assignment.status == Assignment.Status.DONE
        counts[1] += done
        counts[2] += 1
        counts[3] += not done and assignment.held
    queues = []
    for entry in campaigns.values():
        campaign = entry["campaign"]
        tasks = [
            TaskProgress(
                campaign_slug=campaign.slug,
                campaign_name=campaign.name,
                task_number=task.number,
                task_title=task.localized_title,  # in the reader's language
                task_instruction=task.localized_instruction,
                done=done,
                total=total,
                held=held_here,
            )
            for task, done, total, held_here in entry["tasks"].values()
        ]
        queues.append(
            CampaignQueue(
                slug=campaign.slug,
                name=campaign.name,
                state=campaign.state,
                accepts_ratings=campaign.accepts_ratings,
                tasks=tasks,
                has_open_work=assignment_upcoming(user=user, campaign=campaign) is not None,
            )
        )
    return queues


@dataclass(frozen=True)
class QueuePosition:
    """Where an assignment sits in its task: "clip 4 of 10 in Task 3"."""

    task_number: int
    position: int
    total: int
    done: int


def assignment_position(*, assignment: Assignment) -> QueuePosition:
    """The assignment's place among the annotator's clips of the same task, in queue order."""
    task = assignment.clip.episode.task
    same_task = (
        assignments_current(user=assignment.annotator, campaign=assignment.campaign)
        .filter(clip__episode__task=task)
        .order_by("order_key", "pk")
        .values_list("pk", "status")
    )
    ids = [pk for pk, _ in same_task]
    done = sum(status == Assignment.Status.DONE for _, status in same_task)
    position = ids.index(assignment.pk) + 1 if assignment.pk in ids else 0
    return QueuePosition(task_number=task.number, position=position, total=len(ids), done=done)
