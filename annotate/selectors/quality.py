"""Reads for quality control: practice examples, qualification, gold clips, gold accuracy.

The gate that keeps real work from an annotator who has not passed a campaign's practice
round reads `practice_pending_campaigns`; annotate/services/ratings.py asks it before
handing out, opening or storing anything, so the pages and the API refuse alike.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from annotate.models import (
    Assignment,
    Campaign,
    MediaAsset,
    PracticeAnswer,
    PracticeAttempt,
    QualityExample,
    Rating,
)
from annotate.notice import Notice, code
from annotate.planner import gold_quota, natural_key
from annotate.selectors.problems import clip_hold_status
from annotate.selectors.submissions import current_clips

User = get_user_model()

# Practice is asked for while a campaign is being set up or rated; once locked, no clip is
# handed out anyway and past ratings stay readable.
PRACTICE_STATES = (Campaign.State.DRAFT, Campaign.State.OPEN)


class QualificationStatus(StrEnum):
    NOT_REQUIRED = "not_required"  # the campaign has no practice example
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    PASSED = "passed"
    FAILED = "failed"  # locked until an organizer allows a retry


# The API's choices (and the OpenAPI schema's enum of them).
QUALIFICATION_STATUSES = [status.value for status in QualificationStatus]


def _examples(campaign: Campaign, kind: str) -> QuerySet[QualityExample]:
    return (
        QualityExample.objects.filter(campaign=campaign, kind=kind)
        .select_related(
            "clip__asset",
            "clip__episode__task",
            "clip__episode__reference",
            "clip__submission__team",
        )
        .order_by("clip__episode__task__number", "clip__episode__number", "pk")
    )


def practice_examples(*, campaign: Campaign) -> QuerySet[QualityExample]:
    """The practice set, in the order an attempt shows it: by task, then episode."""
    return _examples(campaign, QualityExample.Kind.PRACTICE)


def gold_examples(*, campaign: Campaign) -> QuerySet[QualityExample]:
    return _examples(campaign, QualityExample.Kind.GOLD)


def practice_required(*, campaign: Campaign) -> bool:
    """A campaign with practice examples asks for a passed practice round before real work."""
    return QualityExample.objects.filter(
        campaign=campaign, kind=QualityExample.Kind.PRACTICE
    ).exists()


def current_attempt(*, campaign: Campaign, user) -> PracticeAttempt | None:
    """The attempt that counts: the one not reset (at most one, by a constraint)."""
    return (
        PracticeAttempt.objects.filter(campaign=campaign, annotator=user, reset_at__isnull=True)
        .order_by("-pk")
        .first()
    )


def takes_part(*, campaign: Campaign, user) -> bool:
    """On the campaign's roster, or holding work in it: the people the practice round is for."""
    if not user.is_authenticated or user.is_staff:
        return False
    return (
        campaign.annotators.filter(pk=user.pk).exists()
        or Assignment.objects.filter(campaign=campaign, annotator=user).exists()
    )


def practice_pending_campaigns(*, user) -> QuerySet[Campaign]:
    """Campaigns that hold the user's real work back until they pass the practice round.

    Those in draft or open with practice examples, where the user is on the roster or
    holds work, and has no current passed attempt. A subquery: used in a filter, it costs
    no round trip of its own.
    """
    if not user.is_authenticated or user.is_staff:
        return Campaign.objects.none()
    has_practice = Exists(
        QualityExample.objects.filter(campaign=OuterRef("pk"), kind=QualityExample.Kind.PRACTICE)
    )
    on_roster = Exists(
        Campaign.annotators.through.objects.filter(campaign_id=OuterRef("pk"), user_id=user.pk)
    )
    holds_work = Exists(Assignment.objects.filter(campaign=OuterRef("pk"), annotator=user))
    passed = Exists(
        PracticeAttempt.objects.filter(
            campaign=OuterRef("pk"), annotator=user, reset_at__isnull=True, passed=True
        )
    )
    return Campaign.objects.filter(
        has_practice, on_roster | holds_work, ~passed, state__in=PRACTICE_STATES
    )


def practice_asset_visible(*, user, asset: MediaAsset) -> bool:
    """A practice pair's videos are for the people of its campaign (what the practice page plays)."""
    if not user.is_authenticated:
        return False
    examples = QualityExample.objects.filter(kind=QualityExample.Kind.PRACTICE).filter(
        Q(clip__asset=asset) | Q(clip__episode__reference=asset)
    )
    return examples.filter(
        Q(campaign__annotators=user) | Q(campaign__assignments__annotator=user)
    ).exists()


@dataclass(frozen=True)
class PracticeScore:
    """How an attempt stands against its pass mark."""

    answered: int
    right: int
    needed: int  # right answers needed: the mark, or every answer when fewer were given
    mode: str

    @property
    def passed(self) -> bool:
        return self.right >= self.needed


def answer_is_right(*, score: int, true_score: int, mode: str) -> bool:
    if mode == PracticeAttempt.Mode.WITHIN_ONE:
        return abs(score - true_score) <= 1
    return score == true_score


def practice_score(*, attempt: PracticeAttempt, answers: list[PracticeAnswer]) -> PracticeScore:
    right = sum(
        answer_is_right(score=a.score, true_score=a.true_score, mode=attempt.pass_mode)
        for a in answers
    )
    # An example removed during the attempt is never asked: the mark cannot exceed the
    # answers actually given.
    needed = min(attempt.pass_count, len(answers)) if answers else attempt.pass_count
    return PracticeScore(answered=len(answers), right=right, needed=needed, mode=attempt.pass_mode)


@dataclass(frozen=True)
class PracticeStep:
    """One example of an attempt: its place, the example, and the answer once given."""

    step: int  # from 1
    total: int
    example: QualityExample | None  # None: removed by the organizers since
    answer: PracticeAnswer | None


def attempt_steps(*, attempt: PracticeAttempt) -> list[PracticeStep]:
    """Every step of the attempt, in order, with its example and answer."""
    ids = list(attempt.examples)
    examples = {
        example.pk: example
        for example in QualityExample.objects.filter(pk__in=ids).select_related(
            "clip__asset", "clip__episode__task", "clip__episode__reference"
        )
    }
    answers = {answer.step: answer for answer in attempt.answers.all()}
    return [
        PracticeStep(
            step=index,
            total=len(ids),
            example=examples.get(example_id),
            answer=answers.get(index),
        )
        for index, example_id in enumerate(ids, start=1)
    ]


def next_step(*, steps: list[PracticeStep]) -> PracticeStep | None:
    """The first step still to answer (a removed example is skipped); None when done."""
    return next((step for step in steps if step.answer is None and step.example is not None), None)


@dataclass(frozen=True)
class Qualification:
    status: QualificationStatus
    attempt: PracticeAttempt | None
    score: PracticeScore | None = None


def qualification_of(*, campaign: Campaign, user) -> Qualification:
    """Where the user stands with the campaign's practice round."""
    attempt = current_attempt(campaign=campaign, user=user)
    if attempt is None:
        status = (
            QualificationStatus.NOT_STARTED
            if practice_required(campaign=campaign)
            else QualificationStatus.NOT_REQUIRED
        )
        return Qualification(status=status, attempt=None)
    score = practice_score(attempt=attempt, answers=list(attempt.answers.all()))
    if attempt.passed is None:
        status = QualificationStatus.IN_PROGRESS
    else:
        status = QualificationStatus.PASSED if attempt.passed else QualificationStatus.FAILED
    if status != QualificationStatus.PASSED and not practice_required(campaign=campaign):
        # Every practice example was removed: nothing is asked for any more.
        status = QualificationStatus.NOT_REQUIRED
    return Qualification(status=status, attempt=attempt, score=score)


@dataclass(frozen=True)
class AttemptRecord:
    attempt: PracticeAttempt
    answers: list[PracticeAnswer]
    score: PracticeScore


@dataclass(frozen=True)
class QualificationRow:
    """One person of the campaign and their practice attempts, newest first."""

    user_id: int
    username: str
    status: QualificationStatus
    on_roster: bool
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def current(self) -> AttemptRecord | None:
        first = self.attempts[0] if self.attempts else None
        return first if first is not None and first.attempt.reset_at is None else None


def qualification_overview(*, campaign: Campaign) -> list[QualificationRow]:
    """Everyone on the roster, holding work or having practised: status and every attempt."""
    required = practice_required(campaign=campaign)
    roster = set(campaign.annotators.values_list("pk", flat=True))
    people = (
        roster
        | set(Assignment.objects.filter(campaign=campaign).values_list("annotator_id", flat=True))
        | set(
            PracticeAttempt.objects.filter(campaign=campaign).values_list("annotator_id", flat=True)
        )
    )
    attempts: dict[int, list[AttemptRecord]] = defaultdict(list)
    answers: dict[int, list[PracticeAnswer]] = defaultdict(list)
    for answer in PracticeAnswer.objects.filter(attempt__campaign=campaign).order_by(
        "attempt", "step"
    ):
        answers[answer.attempt_id].append(answer)
    for attempt in PracticeAttempt.objects.filter(campaign=campaign).order_by("-started_at", "-pk"):
        mine = answers[attempt.pk]
        attempts[attempt.annotator_id].append(
            AttemptRecord(attempt, mine, practice_score(attempt=attempt, answers=mine))
        )
    rows = []
    users = User.objects.filter(pk__in=people, is_staff=False).order_by("username")
    for user in users:
        history = attempts[user.pk]
        current = history[0].attempt if history and history[0].attempt.reset_at is None else None
        if current is not None and current.passed:
            status = QualificationStatus.PASSED
        elif not required:
            status = QualificationStatus.NOT_REQUIRED
        elif current is None:
            status = QualificationStatus.NOT_STARTED
        elif current.passed is None:
            status = QualificationStatus.IN_PROGRESS
        else:
            status = QualificationStatus.FAILED
        rows.append(
            QualificationRow(
                user_id=user.pk,
                username=user.get_username(),
                status=status,
                on_roster=user.pk in roster,
                attempts=history,
            )
        )
    return rows


# --- gold ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldAccuracy:
    """An annotator's ratings of gold clips given blind in their queue: counts out of ``n``."""

    n: int
    exact: int
    within_one: int

    @property
    def exact_share(self) -> float | None:
        return self.exact / self.n if self.n else None

    @property
    def within_one_share(self) -> float | None:
        return self.within_one / self.n if self.n else None


def gold_accuracy(*, campaign: Campaign) -> dict[int, GoldAccuracy]:
    """Per annotator id: gold ratings (``n``), exactly right, and at most one point off.

    Only ratings given on gold rows (``Assignment.gold``) count: those are the blind
    checks. A team's clip that became gold after regular raters rated it is not used
    against them: they rated it as work, and the organizer may have chosen it as gold
    from their very ratings. A gold example removed since no longer counts; one whose
    score was corrected counts with the corrected score. One query.
    """
    truth = QualityExample.objects.filter(
        campaign=campaign, kind=QualityExample.Kind.GOLD, clip=OuterRef("clip")
    ).values("score")[:1]
    rows = (
        Rating.objects.filter(assignment__campaign=campaign, assignment__gold=True)
        .annotate(true_score=truth)
        .filter(true_score__isnull=False)
        .values_list("annotator_id", "score", "true_score")
    )
    n: Counter[int] = Counter()
    exact: Counter[int] = Counter()
    within: Counter[int] = Counter()
    for annotator_id, score, true_score in rows:
        n[annotator_id] += 1
        exact[annotator_id] += score == true_score
        within[annotator_id] += abs(score - true_score) <= 1
    return {
        annotator_id: GoldAccuracy(
            n=n[annotator_id], exact=exact[annotator_id], within_one=within[annotator_id]
        )
        for annotator_id in sorted(n)
    }


@dataclass(frozen=True)
class GoldLoad:
    """One annotator's queue: real work, gold rows held, and the gold the rate asks for."""

    username: str
    work: int
    gold: int
    gold_rated: int
    quota: int


def gold_loads(*, campaign: Campaign) -> list[GoldLoad]:
    """Per annotator holding work in the campaign (on the rated submissions)."""
    rows = Assignment.objects.filter(
        campaign=campaign, clip__in=current_clips(campaign=campaign)
    ).values_list("annotator__username", "gold", "status")
    work: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    rated: Counter[str] = Counter()
    for username, is_gold, status in rows:
        if is_gold:
            gold[username] += 1
            rated[username] += status == Assignment.Status.DONE
        else:
            work[username] += 1
    return [
        GoldLoad(
            username=name,
            work=work[name],
            gold=gold[name],
            gold_rated=rated[name],
            quota=gold_quota(work=work[name], gold_every=campaign.gold_every),
        )
        for name in sorted(work.keys() | gold.keys(), key=natural_key)
    ]


@dataclass(frozen=True)
class ExampleRow:
    """One example for the organizer: the clip (named in full), the truth, how it went."""

    example: QualityExample
    answers: int  # practice answers given to it (current and earlier attempts)
    answers_right: int  # of which exactly right
    gold_rows: int  # queues it sits in as gold
    gold_ratings: int  # gold ratings given to it
    # A gold clip reported as broken: "open" (the report waits) or "excluded"; no queue
    # receives it then (annotate/services/quality.py, gold_rows_update). None otherwise.
    reported: str | None = None

    @property
    def held_notice(self) -> Notice | None:
        if self.reported is None:
            return None
        clip = self.example.clip
        return gold_held_notice(
            clip=clip.pk,
            task=clip.episode.task.key,
            episode=clip.episode.key,
            team=clip.submission.team.name,
            hold=self.reported,
        )


GOLD_HELD_EXCLUDED = code("gold.held_excluded")  # clip, task, episode, team
GOLD_HELD_REPORTED = code("gold.held_reported")  # clip, task, episode, team


def gold_held_notice(*, clip: int, task: str, episode: str, team: str, hold: str) -> Notice:
    """What the organizer reads about a gold clip that no queue receives: it was reported
    (`hold` "open") or excluded after a report ("excluded")."""
    where = {"clip": clip, "task": task, "episode": episode, "team": team}
    return Notice(GOLD_HELD_EXCLUDED if hold == "excluded" else GOLD_HELD_REPORTED, where)


def examples_overview(*, campaign: Campaign) -> list[ExampleRow]:
    """Practice examples, then gold ones, each with its answers or gold ratings so far."""
    answered: Counter[int] = Counter()
    right: Counter[int] = Counter()
    for example_id, score, true_score in PracticeAnswer.objects.filter(
        example__campaign=campaign
    ).values_list("example_id", "score", "true_score"):
        answered[example_id] += 1
        right[example_id] += score == true_score
    rows_on: Counter[int] = Counter()
    rated_on: Counter[int] = Counter()
    for clip_id, status in Assignment.objects.filter(campaign=campaign, gold=True).values_list(
        "clip_id", "status"
    ):
        rows_on[clip_id] += 1
        rated_on[clip_id] += status == Assignment.Status.DONE
    return [
        ExampleRow(
            example=example,
            answers=answered[example.pk],
            answers_right=right[example.pk],
            gold_rows=rows_on[example.clip_id] if example.kind == QualityExample.Kind.GOLD else 0,
            gold_ratings=rated_on[example.clip_id]
            if example.kind == QualityExample.Kind.GOLD
            else 0,
            reported=getattr(example, "hold", None),
        )
        for examples in (
            practice_examples(campaign=campaign),
            gold_examples(campaign=campaign).annotate(hold=clip_hold_status("clip_id")),
        )
        for example in examples
    ]
