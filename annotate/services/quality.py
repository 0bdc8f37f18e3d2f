"""Quality control before and during the work: practice with a pass mark, and gold clips.

**Practice.** Organizers mark clips of the campaign as practice examples, each with its
true score and a short explanation ("the banana deforms on the way -> 2"). Before any
real clip, an annotator rates the practice set; after each answer the page shows the
true score and why. An attempt passes when at least `practice_pass_count` answers are
right (0: all), right meaning the exact score or, in mode `within_one`, one point off at
most. Until then nothing is handed out, opened or stored for them in that campaign
(annotate/services/ratings.py asks annotate/selectors/quality.py). The planner still
plans them: holding their share back would unbalance the plan for every late starter,
and work of someone who never passes can be moved as usual. A failed attempt stays
failed until an organizer allows a retry (`qualification_reset`), which keeps the
attempt and its answers. Without practice examples nothing is asked (as before).

**Gold.** Clips marked gold (known score, no explanation needed) go blind into the
annotators' queues, one per `gold_every` clips of real work (annotate/planner.py
`plan_gold`), as ordinary assignment rows flagged `gold`: same URLs, page, JSON and
random ids as any other. A gold rating never counts for a team (evaluation/selectors/
ratings.py leaves them out); `gold_accuracy` measures the annotators with them. Gold
rows count neither towards the per-cell cap of `max_clips_per_rater` nor towards a
cell's raters: they score no team. A gold clip reported as broken (an open report, or
one resolved `excluded`: annotate/selectors/problems.py) is put into no queue: its rows
leave the queues at once, like any reported pair's, and the next gold pass takes back
those still unopened and puts another gold clip in their place; the pass says which
gold clips it skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from annotate import planner
from annotate.models import (
    Assignment,
    Campaign,
    Clip,
    MediaAsset,
    PracticeAnswer,
    PracticeAttempt,
    PracticePassMode,
    QualityExample,
    Team,
)
from annotate.notice import Notice
from annotate.selectors import current_clips
from annotate.selectors import quality as quality_selectors
from annotate.selectors.problems import clip_hold_status
from annotate.services.assignments import order_key
from annotate.words import word

User = get_user_model()

EXPLANATION_MAX = 2000
# A pass mark or a rate beyond these is a typing error, not a campaign.
PASS_COUNT_MAX = 1000
GOLD_EVERY_MAX = 1000
EXAMPLES_CSV_MAX_ROWS = 10_000


class QualityRefused(ValidationError):
    """A quality-control request that cannot be carried out; the message says why, in the
    reader's language."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _lock(campaign: Campaign) -> Campaign:
    """The campaign row under the lock that serialises its planning writes (as assignments do)."""
    return Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)


# --- settings ---------------------------------------------------------------------------


def _bounded(name: str, value: object, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise QualityRefused(
            {
                name: _("a whole number from 0 to %(high)s, not %(value)r")
                % {"high": high, "value": value}
            }
        )
    return value


@transaction.atomic
def quality_settings_update(
    *,
    campaign: Campaign,
    practice_pass_count: int | None = None,
    practice_pass_mode: str | None = None,
    gold_every: int | None = None,
) -> Campaign:
    """Set the pass mark (a count and a mode) and the gold rate; None leaves one as it is.

    A new gold rate takes effect when gold is next applied (`gold_plan_apply`, or applying
    the assignment plan).
    """
    campaign = _lock(campaign)
    changed = []
    if practice_pass_count is not None:
        campaign.practice_pass_count = _bounded(
            "practice_pass_count", practice_pass_count, PASS_COUNT_MAX
        )
        changed.append("practice_pass_count")
    if practice_pass_mode is not None:
        if practice_pass_mode not in PracticePassMode.values:
            raise QualityRefused(
                {
                    "practice_pass_mode": _("%(value)r is not one of %(values)s")
                    % {"value": practice_pass_mode, "values": ", ".join(PracticePassMode.values)}
                }
            )
        campaign.practice_pass_mode = practice_pass_mode
        changed.append("practice_pass_mode")
    if gold_every is not None:
        campaign.gold_every = _bounded("gold_every", gold_every, GOLD_EVERY_MAX)
        changed.append("gold_every")
    if changed:
        campaign.save(update_fields=changed)
    return campaign


# --- examples ---------------------------------------------------------------------------


def _clip_of(campaign: Campaign, clip_id: object) -> Clip:
    try:
        clip_id = int(clip_id)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise QualityRefused({"clip": _("%(clip)r is not a clip id") % {"clip": clip_id}}) from exc
    clip = (
        Clip.objects.select_related("asset", "episode__reference")
        .filter(pk=clip_id, submission__team__campaign=campaign)
        .first()
    )
    if clip is None:
        raise QualityRefused(
            {
                "clip": _("no clip %(clip)s in %(campaign)s")
                % {"clip": clip_id, "campaign": campaign.slug}
            }
        )
    return clip


def _score(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
        raise QualityRefused({"score": _("0, 1, 2 or 3, not %(value)r") % {"value": value}})
    return value


def _drop_unopened_gold(*, campaign: Campaign, clip_id: int) -> int:
    """Gold rows of a clip that stopped being gold and that nobody has opened: taken back."""
    deleted, _ = Assignment.objects.filter(
        campaign=campaign,
        clip_id=clip_id,
        gold=True,
        status=Assignment.Status.PENDING,
        rating__isnull=True,
    ).delete()
    return deleted


@transaction.atomic
def quality_example_mark(
    *,
    campaign: Campaign,
    clip_id: int,
    kind: str,
    score: int,
    explanation: str = "",
    by=None,
    now: dt.datetime | None = None,
) -> QualityExample:
    """Mark a clip of the campaign as a practice or gold example, or change its marking.

    A practice example needs its explanation: it is what the annotator learns from. A
    gold clip must be of a team's rated version (only those are handed out). Both need
    their videos ready. A gold clip made practice has its unopened gold rows taken back:
    its answer is about to be shown.
    """
    if kind not in QualityExample.Kind.values:
        raise QualityRefused({"kind": _("%(kind)r is not one of practice, gold") % {"kind": kind}})
    score = _score(score)
    explanation = (explanation or "").strip()
    if len(explanation) > EXPLANATION_MAX:
        raise QualityRefused(
            {
                "explanation": _("at most %(limit)s characters, not %(length)s")
                % {"limit": EXPLANATION_MAX, "length": len(explanation)}
            }
        )
    if kind == QualityExample.Kind.PRACTICE and not explanation:
        raise QualityRefused(
            {
                "explanation": _(
                    "a practice example needs its explanation: it is shown after the answer"
                )
            }
        )
    clip = _clip_of(campaign, clip_id)
    ready = MediaAsset.Status.READY
    if clip.asset.status != ready or clip.episode.reference.status != ready:
        raise QualityRefused(
            {
                "clip": _("clip %(clip)s's videos are not ready: it cannot be shown yet")
                % {"clip": clip.pk}
            }
        )
    if (
        kind == QualityExample.Kind.GOLD
        and not current_clips(campaign=campaign).filter(pk=clip.pk).exists()
    ):
        raise QualityRefused(
            {
                "clip": _(
                    "clip %(clip)s belongs to a version that is not its team's rated one: "
                    "it is never handed out, so it cannot be gold"
                )
                % {"clip": clip.pk}
            }
        )
    now = _now(now)
    example, created = QualityExample.objects.select_for_update().get_or_create(
        campaign=campaign,
        clip=clip,
        defaults={
            "kind": kind,
            "score": score,
            "explanation": explanation,
            "created_by": by,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not created:
        was_gold = example.kind == QualityExample.Kind.GOLD
        example.kind, example.score, example.explanation = kind, score, explanation
        example.updated_at = now
        example.save(update_fields=["kind", "score", "explanation", "updated_at"])
        if was_gold and kind != QualityExample.Kind.GOLD:
            _drop_unopened_gold(campaign=campaign, clip_id=clip.pk)
    return example


@transaction.atomic
def quality_example_unmark(*, campaign: Campaign, clip_id: int) -> int:
    """The clip is an example no more; returns the unopened gold rows taken back.

    Answers and gold ratings already given stay (an answer keeps the score and
    explanation it was shown with); gold ratings of the clip stay out of team scores.
    """
    clip = _clip_of(campaign, clip_id)
    example = QualityExample.objects.filter(campaign=campaign, clip=clip).first()
    if example is None:
        raise QualityRefused(
            {"clip": _("clip %(clip)s is not a practice or gold example") % {"clip": clip.pk}}
        )
    removed = 0
    if example.kind == QualityExample.Kind.GOLD:
        removed = _drop_unopened_gold(campaign=campaign, clip_id=clip.pk)
    example.delete()
    return removed


@dataclass(frozen=True)
class ExamplesImportResult:
    created: tuple[int, ...]  # clip ids newly marked
    updated: tuple[int, ...]  # clip ids whose marking changed or stayed


class ExamplesCsvError(QualityRefused):
    def __init__(self, message: str, *, line: int, column: str | None = None):
        where = {"line": line, "column": column, "message": message}
        if column:
            super().__init__(_("line %(line)s, column %(column)s: %(message)s") % where)
        else:
            super().__init__(_("line %(line)s: %(message)s") % where)


# Lazy: refusals say it in the reader's language (the organizer's page writes it out
# with its column names as code).
EXAMPLES_CSV_HELP = gettext_lazy(
    "columns kind,score,explanation and either clip (its id) or task,episode,team "
    "(the team's rated clip of that episode)"
)


def _examples_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ExamplesCsvError(
                _("the file is empty: it needs a header with %(columns)s")
                % {"columns": EXAMPLES_CSV_HELP},
                line=1,
            )
        names = [name.strip().lower() for name in header]
        needed = {"kind", "score", "explanation"}
        by_id = "clip" in names
        if not needed <= set(names) or not (by_id or {"task", "episode", "team"} <= set(names)):
            raise ExamplesCsvError(
                _("the header needs %(columns)s") % {"columns": EXAMPLES_CSV_HELP}, line=1
            )
        if len(set(names)) != len(names):
            raise ExamplesCsvError(_("a column appears twice in the header"), line=1)
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                raise ExamplesCsvError(
                    _("%(n)s columns expected, %(found)s found")
                    % {"n": len(names), "found": len(cells)},
                    line=reader.line_num,
                )
            rows.append((reader.line_num, dict(zip(names, cells, strict=True))))
            if len(rows) > EXAMPLES_CSV_MAX_ROWS:
                raise ExamplesCsvError(
                    _("at most %(max)s examples per file") % {"max": EXAMPLES_CSV_MAX_ROWS},
                    line=reader.line_num,
                )
    except csv.Error as exc:
        raise ExamplesCsvError(
            _("not valid CSV (%(error)s)") % {"error": exc}, line=reader.line_num
        ) from exc
    return rows


def _clip_by_names(campaign: Campaign, row: dict[str, str], line: int) -> int:
    task, episode, team = (row[name].strip() for name in ("task", "episode", "team"))
    task_key = task if task.startswith("task") else f"task{task}"
    episode_key = episode if episode.startswith("episode_") else f"episode_{episode}"
    if not Team.objects.filter(campaign=campaign, name=team).exists():
        raise ExamplesCsvError(
            _("no team %(team)r in %(campaign)s") % {"team": team, "campaign": campaign.slug},
            line=line,
            column="team",
        )
    clip = (
        current_clips(campaign=campaign)
        .filter(
            submission__team__name=team,
            episode__task__key=task_key,
            episode__key=episode_key,
        )
        .first()
    )
    if clip is None:
        raise ExamplesCsvError(
            _("team %(team)r has no rated clip of %(episode)s")
            % {"team": team, "episode": f"{task_key}/{episode_key}"},
            line=line,
            column="episode",
        )
    return clip.pk


@transaction.atomic
def examples_import(*, campaign: Campaign, data: bytes, by=None) -> ExamplesImportResult:
    """Mark examples from a CSV, all or nothing; a bad row names its line and column.

    Columns: kind,score,explanation and either clip (its id) or task,episode,team. A clip
    given twice in one file is refused: which line should win is not for us to guess.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ExamplesCsvError(_("the file is not UTF-8 text"), line=line) from exc
    existing = set(
        QualityExample.objects.filter(campaign=campaign).values_list("clip_id", flat=True)
    )
    seen: dict[int, int] = {}
    created, updated = [], []
    for line, row in _examples_rows(text):
        if "clip" in row:
            clip_id: object = row["clip"].strip()
        else:
            clip_id = _clip_by_names(campaign, row, line)
        try:
            score: object = int(row["score"].strip())
        except ValueError:
            score = row["score"].strip()
        try:
            example = quality_example_mark(
                campaign=campaign,
                clip_id=clip_id,  # type: ignore[arg-type]
                kind=row["kind"].strip().lower(),
                score=score,  # type: ignore[arg-type]
                explanation=row["explanation"],
                by=by,
            )
        except QualityRefused as exc:
            column, messages = next(iter(getattr(exc, "error_dict", {None: exc}).items()))
            text = " ".join(ValidationError(messages).messages)
            raise ExamplesCsvError(text, line=line, column=column) from exc
        if example.clip_id in seen:
            raise ExamplesCsvError(
                _("clip %(clip)s also appears on line %(line)s")
                % {"clip": example.clip_id, "line": seen[example.clip_id]},
                line=line,
                column="clip" if "clip" in row else "episode",
            )
        seen[example.clip_id] = line
        (updated if example.clip_id in existing else created).append(example.clip_id)
    return ExamplesImportResult(created=tuple(created), updated=tuple(updated))


# --- practice ---------------------------------------------------------------------------


def _check_may_practise(campaign: Campaign, user) -> None:
    if not quality_selectors.takes_part(campaign=campaign, user=user):
        raise QualityRefused(
            _("you do not rate in this campaign: its practice round is not for you")
        )
    if campaign.state not in quality_selectors.PRACTICE_STATES:
        raise QualityRefused(
            _("the campaign is %(state)s: there is no practice round now")
            % {"state": word(campaign.state)}
        )


@transaction.atomic
def practice_start(*, campaign: Campaign, user, now: dt.datetime | None = None) -> PracticeAttempt:
    """Begin the practice round; the current attempt, if there is one, is returned as it is.

    The set (in task, then episode order) and the pass mark are fixed now: the annotator
    is judged on what the page told them at the start.
    """
    campaign = Campaign.objects.get(pk=campaign.pk)  # the pass mark as stored now
    _check_may_practise(campaign, user)
    current = quality_selectors.current_attempt(campaign=campaign, user=user)
    if current is not None:
        return current
    ids = list(quality_selectors.practice_examples(campaign=campaign).values_list("pk", flat=True))
    if not ids:
        raise QualityRefused(_("this campaign has no practice example: nothing to practise"))
    mark = campaign.practice_pass_count or len(ids)
    try:
        with transaction.atomic():
            return PracticeAttempt.objects.create(
                campaign=campaign,
                annotator=user,
                examples=ids,
                pass_count=min(mark, len(ids)),
                pass_mode=campaign.practice_pass_mode,
                started_at=_now(now),
            )
    except IntegrityError:
        # Started at the same moment in another tab: that attempt is the one.
        return quality_selectors.current_attempt(campaign=campaign, user=user)


@dataclass(frozen=True)
class PracticeFeedback:
    """What the annotator is told after an answer."""

    step: int
    total: int
    score: int  # their answer
    true_score: int
    explanation: str
    right: bool  # by the attempt's pass mode
    finished: bool
    passed: bool | None  # None until the attempt is finished
    right_so_far: int
    needed: int


def _feedback(attempt: PracticeAttempt, answer: PracticeAnswer) -> PracticeFeedback:
    answers = list(attempt.answers.all())
    result = quality_selectors.practice_score(attempt=attempt, answers=answers)
    return PracticeFeedback(
        step=answer.step,
        total=len(attempt.examples),
        score=answer.score,
        true_score=answer.true_score,
        explanation=answer.explanation,
        right=quality_selectors.answer_is_right(
            score=answer.score, true_score=answer.true_score, mode=attempt.pass_mode
        ),
        finished=attempt.finished_at is not None,
        passed=attempt.passed,
        right_so_far=result.right,
        needed=result.needed,
    )


@transaction.atomic
def practice_answer(
    *, campaign: Campaign, user, step: int, score: int, now: dt.datetime | None = None
) -> PracticeFeedback:
    """Answer one practice example; the feedback carries its true score and explanation.

    Steps are answered in order. The same answer sent again (a reload, a double click)
    returns the same feedback; a different one for a step already answered is refused.
    The last answer finishes the attempt, passed or not.
    """
    _check_may_practise(campaign, user)
    score = _score(score)
    attempt = (
        PracticeAttempt.objects.select_for_update()
        .filter(campaign=campaign, annotator=user, reset_at__isnull=True)
        .first()
    )
    if attempt is None:
        raise QualityRefused(_("start the practice round first"))
    steps = quality_selectors.attempt_steps(attempt=attempt)
    if not isinstance(step, int) or not 1 <= step <= len(steps):
        raise QualityRefused(
            {"step": _("a step from 1 to %(n)s, not %(step)r") % {"n": len(steps), "step": step}}
        )
    given = steps[step - 1].answer
    if given is not None:
        if given.score == score:
            return _feedback(attempt, given)
        raise QualityRefused(
            _("example %(step)s is answered already (with %(score)s)")
            % {"step": step, "score": given.score}
        )
    if attempt.finished_at is not None:
        raise QualityRefused(_("this practice round is over"))
    expected = quality_selectors.next_step(steps=steps)
    if expected is None or expected.step != step or expected.example is None:
        refusal = (
            _("example %(step)s is not the one to answer now: answer example %(next)s first")
            if expected
            else _("example %(step)s is not the one to answer now: nothing is left")
        )
        raise QualityRefused(refusal % {"step": step, "next": expected and expected.step})
    now = _now(now)
    example = expected.example
    answer = PracticeAnswer.objects.create(
        attempt=attempt,
        example=example,
        clip_id=example.clip_id,
        step=step,
        score=score,
        true_score=example.score,
        explanation=example.explanation,
        answered_at=now,
    )
    remaining = [s for s in steps if s.step != step and s.answer is None and s.example is not None]
    if not remaining:
        answers = list(attempt.answers.all())
        attempt.finished_at = now
        attempt.passed = quality_selectors.practice_score(attempt=attempt, answers=answers).passed
        attempt.save(update_fields=["finished_at", "passed"])
    return _feedback(attempt, answer)


@transaction.atomic
def qualification_reset(
    *, campaign: Campaign, user, by=None, now: dt.datetime | None = None
) -> PracticeAttempt:
    """Let the annotator take the practice round again: their current attempt is closed.

    Kept with its answers, as every attempt is. Until they pass the new one, no real clip
    of the campaign is handed out to them (also when the closed attempt had passed).
    """
    attempt = (
        PracticeAttempt.objects.select_for_update()
        .filter(campaign=campaign, annotator=user, reset_at__isnull=True)
        .first()
    )
    if attempt is None:
        raise QualityRefused(
            _("%(user)s has no practice attempt in %(campaign)s: nothing to reset")
            % {"user": user.get_username(), "campaign": campaign.slug}
        )
    attempt.reset_at = _now(now)
    attempt.reset_by = by
    attempt.save(update_fields=["reset_at", "reset_by"])
    return attempt


# --- gold -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldApplyResult:
    added: int
    removed: int
    # The planner's notices (annotate.notice), and text already in the reader's language.
    warnings: tuple[Notice, ...]


@transaction.atomic
def gold_plan_apply(*, campaign: Campaign) -> GoldApplyResult:
    """Bring every queue to its share of gold clips now (applying the plan does it too)."""
    return gold_rows_update(campaign=_lock(campaign))


def gold_rows_update(*, campaign: Campaign) -> GoldApplyResult:
    """Add and take back gold rows as `planner.plan_gold` says; the caller holds the lock.

    Annotators are those holding work on the rated versions, active and not staff
    (inactive people's rows are left alone). A row is taken back only while pending and
    unrated: a clip someone has opened stays in their queue.
    """
    clips = current_clips(campaign=campaign)
    people = User.objects.filter(is_active=True, is_staff=False)
    work = [
        planner.PlannedAssignment(annotator=name, clip=str(clip), team=team, task=task)
        for name, clip, team, task in Assignment.objects.filter(
            campaign=campaign, clip__in=clips, gold=False, annotator__in=people
        ).values_list(
            "annotator__username",
            "clip_id",
            "clip__submission__team__name",
            "clip__episode__task__key",
        )
    ]
    held_rows = list(
        Assignment.objects.filter(campaign=campaign, gold=True, annotator__in=people).values_list(
            "pk", "annotator__username", "clip_id", "status", "rating"
        )
    )
    held = [
        planner.GoldHeld(
            annotator=name,
            clip=str(clip),
            removable=status == Assignment.Status.PENDING and rating is None,
        )
        for _, name, clip, status, rating in held_rows
    ]
    names = {row.annotator for row in work} | {row.annotator for row in held}
    users = {user.get_username(): user for user in people.filter(username__in=names)}
    teams: dict[int, set[str]] = {user.pk: set() for user in users.values()}
    for user_id, team in Team.members.through.objects.filter(
        team__campaign=campaign, user__in=users.values()
    ).values_list("user_id", "team__name"):
        teams[user_id].add(team)
    ready = MediaAsset.Status.READY
    gold_clips = []
    warnings: list[Notice] = []
    for clip, team, task, episode, hold in (
        QualityExample.objects.filter(
            campaign=campaign,
            kind=QualityExample.Kind.GOLD,
            clip__in=clips,
            clip__asset__status=ready,
            clip__episode__reference__status=ready,
        )
        .annotate(hold=clip_hold_status("clip_id"))
        .order_by("clip_id")
        .values_list(
            "clip_id",
            "clip__submission__team__name",
            "clip__episode__task__key",
            "clip__episode__key",
            "hold",
        )
    ):
        if hold is None:
            gold_clips.append(planner.GoldClip(clip=str(clip), team=team, task=task))
        else:
            warnings.append(
                quality_selectors.gold_held_notice(
                    clip=clip, task=task, episode=episode, team=team, hold=hold
                )
            )
    plan = planner.plan_gold(
        annotators=[
            planner.Annotator(name, frozenset(teams[user.pk])) for name, user in users.items()
        ],
        work=work,
        held=held,
        gold_clips=gold_clips,
        gold_every=campaign.gold_every,
        seed=campaign.seed,
    )
    by_pair = {(name, str(clip)): pk for pk, name, clip, _, _ in held_rows}
    removed = 0
    if plan.remove:
        removed, _ = Assignment.objects.filter(
            pk__in=[by_pair[(row.annotator, row.clip)] for row in plan.remove],
            status=Assignment.Status.PENDING,
            rating__isnull=True,
        ).delete()
    rows = [
        Assignment(
            campaign=campaign,
            annotator=users[row.annotator],
            clip_id=int(row.clip),
            gold=True,
            order_key=order_key(
                seed=campaign.seed, annotator_id=users[row.annotator].pk, clip_id=int(row.clip)
            ),
        )
        for row in plan.add
    ]
    Assignment.objects.bulk_create(rows)
    return GoldApplyResult(
        added=len(rows), removed=removed, warnings=tuple(warnings) + plan.warnings
    )


__all__ = [
    "EXAMPLES_CSV_HELP",
    "ExamplesCsvError",
    "ExamplesImportResult",
    "GoldApplyResult",
    "PracticeFeedback",
    "QualityRefused",
    "examples_import",
    "gold_plan_apply",
    "gold_rows_update",
    "practice_answer",
    "practice_start",
    "qualification_reset",
    "quality_example_mark",
    "quality_example_unmark",
    "quality_settings_update",
]
