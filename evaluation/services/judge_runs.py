"""Judge runs in chunks: launch, plan, judge a chunk, fail, cancel and resume.

A run is a snapshot of the clips to judge (each team's current clip of every episode
in the rated set). It is judged by Celery tasks on the ``judge`` queue: a coordinator
(:func:`judge_run_plan`) splits the clips that still lack a verdict into chunks and
queues one task per chunk (:func:`judge_run_chunk`). A chunk skips clips judged
meanwhile and stores its verdicts in one transaction under a lock on the run row, so
a redelivered or duplicated chunk never stores a clip twice and ``done`` stays exact.

Every start or resume bumps ``run.dispatch``; chunks carry the dispatch that queued
them and stand down when it is no longer current or the run was cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate.models import Campaign
from annotate.words import word
from evaluation.judges import JudgeError, JudgeVerdict, Pair
from evaluation.models import JudgeRun, JudgeVersion, Verdict
from evaluation.selectors import judge as judge_selectors
from evaluation.services.judges import JudgingError, judge_build

MAX_CHUNK_SIZE = 1000
MAX_ERROR_CHARS = 4000
# Per-pair allowance behind a chunk's time limit: generous, because a `command`
# judge may run a large model; a chunk that still overruns fails the run (resumable).
DEFAULT_SECONDS_PER_PAIR = 300
MIN_CHUNK_SECONDS = 600


class _StandDown(Exception):
    """Raised from the progress callback to stop judging a chunk of a cancelled or superseded run."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _queue_start(run: JudgeRun) -> None:
    from evaluation.tasks import judge_run_start

    run_id, dispatch = run.pk, run.dispatch
    transaction.on_commit(lambda: judge_run_start.delay(run_id, dispatch))


def chunk_time_limit(*, chunk_size: int) -> int:
    """Seconds a chunk may take before it is stopped (the soft limit)."""
    per_pair = int(getattr(settings, "JUDGE_SECONDS_PER_PAIR", DEFAULT_SECONDS_PER_PAIR))
    return max(MIN_CHUNK_SECONDS, chunk_size * per_pair)


def _checked_chunk_size(chunk_size: Any) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise JudgingError(
            _("chunk size must be an integer, not %(value)r") % {"value": chunk_size}
        )
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise JudgingError(
            _("chunk size must lie in 1..%(max)s, not %(value)s")
            % {"max": MAX_CHUNK_SIZE, "value": chunk_size}
        )
    return chunk_size


@transaction.atomic
def judge_run_create(
    *,
    campaign: Campaign,
    judge_version: JudgeVersion,
    chunk_size: int = 8,
    user: Any = None,
) -> JudgeRun:
    """Snapshot the clips to judge and queue the run (it starts once this transaction commits)."""
    chunk_size = _checked_chunk_size(chunk_size)
    judge_build(judge_version=judge_version)  # refuse now rather than in a worker
    clip_ids = judge_selectors.judge_run_clip_ids(campaign=campaign)
    if not clip_ids:
        raise JudgingError(
            _("campaign %(campaign)r has no current clip in its rated set: nothing to judge")
            % {"campaign": campaign.slug}
        )
    run = JudgeRun.objects.create(
        campaign=campaign,
        judge=judge_version,
        chunk_size=chunk_size,
        clip_ids=clip_ids,
        total=len(clip_ids),
        dispatch=1,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    _queue_start(run)
    return run


def _stand_down_reason(*, status: str, current_dispatch: int, dispatch: int) -> str | None:
    if current_dispatch != dispatch:
        return "superseded"
    if status == JudgeRun.Status.CANCELLED:
        return "cancelled"
    if status not in (JudgeRun.Status.QUEUED, JudgeRun.Status.RUNNING):
        return status
    return None


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def judge_run_plan(*, run_id: int, dispatch: int) -> list[list[int]]:
    """The coordinator: mark the run running and queue one chunk task per chunk of unjudged clips."""
    from evaluation.tasks import judge_run_chunk

    with transaction.atomic():
        run = JudgeRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or _stand_down_reason(
            status=run.status, current_dispatch=run.dispatch, dispatch=dispatch
        ):
            return []
        judged = judge_selectors.judged_clip_ids(run=run)
        missing = [clip_id for clip_id in run.clip_ids if clip_id not in judged]
        now = timezone.now()
        run.started_at = run.started_at or now
        run.done = len(run.clip_ids) - len(missing)
        if not missing:
            run.status, run.finished_at = JudgeRun.Status.DONE, now
            run.save(update_fields=["status", "started_at", "finished_at", "done"])
            return []
        run.status = JudgeRun.Status.RUNNING
        run.save(update_fields=["status", "started_at", "done"])
        chunks = _chunks(missing, run.chunk_size)
        limit = chunk_time_limit(chunk_size=run.chunk_size)
        for chunk in chunks:
            transaction.on_commit(
                lambda chunk=chunk: judge_run_chunk.apply_async(
                    args=[run_id, dispatch, chunk],
                    soft_time_limit=limit,
                    time_limit=limit + 60,
                )
            )
    return chunks


@dataclass(frozen=True)
class ChunkOutcome:
    run_id: int
    stored: int = 0  # new verdicts, unjudgeable clips included
    failed: int = 0  # of those, clips the judge could not judge
    skipped: int = 0  # clips that already had a verdict
    vanished: int = 0  # clips deleted since the run was created
    stood_down: str | None = None  # "cancelled", "superseded", ... when the chunk did nothing

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "stored": self.stored,
            "failed": self.failed,
            "skipped": self.skipped,
            "vanished": self.vanished,
            "stood_down": self.stood_down,
        }


def _current_state(run_id: int) -> tuple[str, int] | None:
    row = JudgeRun.objects.filter(pk=run_id).values_list("status", "dispatch").first()
    return (row[0], row[1]) if row else None


def _verdict_row(*, run_id: int, clip_id: int, verdict: JudgeVerdict) -> Verdict:
    if not verdict.ok:
        # The numbers of a failed verdict mean nothing: keep only the reason.
        return Verdict(run_id=run_id, clip_id=clip_id, error=verdict.error or "not judged")
    return Verdict(
        run_id=run_id,
        clip_id=clip_id,
        score=verdict.score,
        expected_score=verdict.expected_score,
        final_state=verdict.final_state,
        clean=verdict.clean,
        motion=verdict.motion,
        confidence=verdict.confidence,
        features=dict(verdict.features),
    )


def judge_run_chunk(*, run_id: int, dispatch: int, clip_ids: list[int]) -> ChunkOutcome:
    """Judge the clips of one chunk that still lack a verdict and store their verdicts."""
    state = _current_state(run_id)
    if state is None:
        return ChunkOutcome(run_id=run_id, stood_down="deleted")
    reason = _stand_down_reason(status=state[0], current_dispatch=state[1], dispatch=dispatch)
    if reason:
        return ChunkOutcome(run_id=run_id, stood_down=reason)
    run = JudgeRun.objects.select_related("judge").get(pk=run_id)
    judged = judge_selectors.judged_clip_ids(run=run, clip_ids=clip_ids)
    todo = [clip_id for clip_id in clip_ids if clip_id not in judged]
    clips = judge_selectors.judge_run_clips(clip_ids=todo)
    vanished = sorted(set(todo) - {clip.pk for clip in clips})
    verdicts: list[JudgeVerdict] = []
    if clips:
        try:
            judge = judge_build(judge_version=run.judge)
        except JudgingError as exc:
            judge_run_fail(run_id=run_id, dispatch=dispatch, error=str(exc))
            return ChunkOutcome(run_id=run_id, stood_down="failed")
        pairs = [
            Pair(
                pair_id=str(clip.token),
                reference=judge_selectors.asset_path(asset=clip.episode.reference),
                generated=judge_selectors.asset_path(asset=clip.asset),
            )
            for clip in clips
        ]

        def stop_if_called_off(_: int) -> None:
            state = _current_state(run_id)
            reason = (
                "deleted"
                if state is None
                else _stand_down_reason(
                    status=state[0], current_dispatch=state[1], dispatch=dispatch
                )
            )
            if reason:
                raise _StandDown(reason)

        try:
            verdicts = judge.judge(pairs, progress=stop_if_called_off)
        except _StandDown as stop:
            return ChunkOutcome(run_id=run_id, stood_down=stop.reason)
        except JudgeError as exc:
            judge_run_fail(run_id=run_id, dispatch=dispatch, error=f"judge {run.judge}: {exc}")
            return ChunkOutcome(run_id=run_id, stood_down="failed")
        returned = [verdict.pair_id for verdict in verdicts]
        if returned != [pair.pair_id for pair in pairs]:
            judge_run_fail(
                run_id=run_id,
                dispatch=dispatch,
                error=f"judge {run.judge} returned {len(returned)} verdicts for {len(pairs)} "
                "pairs, or not in order",
            )
            return ChunkOutcome(run_id=run_id, stood_down="failed")
    return _store_chunk(
        run_id=run_id,
        clips_and_verdicts=list(zip([clip.pk for clip in clips], verdicts, strict=True)),
        vanished=vanished,
        skipped=len(judged),
    )


@transaction.atomic
def _store_chunk(
    *,
    run_id: int,
    clips_and_verdicts: list[tuple[int, JudgeVerdict]],
    vanished: list[int],
    skipped: int,
) -> ChunkOutcome:
    # The lock serializes the chunks of one run, so the check below and the
    # counter update see every verdict stored before them.
    run = JudgeRun.objects.select_for_update().get(pk=run_id)
    already = judge_selectors.judged_clip_ids(
        run=run, clip_ids=[clip_id for clip_id, _ in clips_and_verdicts]
    )
    rows = [
        _verdict_row(run_id=run_id, clip_id=clip_id, verdict=verdict)
        for clip_id, verdict in clips_and_verdicts
        if clip_id not in already
    ]
    Verdict.objects.bulk_create(rows)
    changes: dict[str, Any] = {"done": F("done") + len(rows)}
    if vanished:
        kept = [clip_id for clip_id in run.clip_ids if clip_id not in set(vanished)]
        changes.update(clip_ids=kept, total=len(kept))
    JudgeRun.objects.filter(pk=run_id).update(**changes)
    JudgeRun.objects.filter(pk=run_id, status=JudgeRun.Status.RUNNING, done__gte=F("total")).update(
        status=JudgeRun.Status.DONE, finished_at=timezone.now()
    )
    return ChunkOutcome(
        run_id=run_id,
        stored=len(rows),
        failed=sum(1 for row in rows if row.error),
        skipped=skipped + len(clips_and_verdicts) - len(rows),
        vanished=len(vanished),
    )


def judge_run_fail(*, run_id: int, dispatch: int, error: str) -> None:
    """Mark a queued or running run failed (a later resume redoes only what is missing)."""
    JudgeRun.objects.filter(
        pk=run_id,
        dispatch=dispatch,
        status__in=[JudgeRun.Status.QUEUED, JudgeRun.Status.RUNNING],
    ).update(
        status=JudgeRun.Status.FAILED,
        error=error[:MAX_ERROR_CHARS],
        finished_at=timezone.now(),
    )


def judge_run_cancel(*, run: JudgeRun) -> JudgeRun:
    """Stop a run: its chunks stand down before they start and between pairs."""
    cancelled = JudgeRun.objects.filter(
        pk=run.pk, status__in=[JudgeRun.Status.QUEUED, JudgeRun.Status.RUNNING]
    ).update(status=JudgeRun.Status.CANCELLED, finished_at=timezone.now())
    run.refresh_from_db()
    if not cancelled:
        raise JudgingError(
            _("judge run %(run)s is %(status)s: only a queued or running run can be cancelled")
            % {"run": run.pk, "status": word(run.status)}
        )
    return run


@transaction.atomic
def judge_run_resume(*, run: JudgeRun, chunk_size: int | None = None) -> JudgeRun:
    """Queue a cancelled or failed run again; only clips without a verdict are judged.

    ``chunk_size`` replaces the run's (smaller chunks when one ran past its time limit).
    """
    locked = JudgeRun.objects.select_for_update().select_related("judge").get(pk=run.pk)
    if locked.status not in (JudgeRun.Status.CANCELLED, JudgeRun.Status.FAILED):
        raise JudgingError(
            _("judge run %(run)s is %(status)s: only a cancelled or failed run can be resumed")
            % {"run": locked.pk, "status": word(locked.status)}
        )
    judge_build(judge_version=locked.judge)
    if chunk_size is not None:
        locked.chunk_size = _checked_chunk_size(chunk_size)
    locked.status = JudgeRun.Status.QUEUED
    locked.error = ""
    locked.finished_at = None
    locked.dispatch += 1
    locked.done = Verdict.objects.filter(run=locked).count()
    locked.save(update_fields=["status", "error", "finished_at", "dispatch", "done", "chunk_size"])
    _queue_start(locked)
    run.refresh_from_db()
    return run
