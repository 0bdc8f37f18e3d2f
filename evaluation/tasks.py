"""Celery tasks of the judge: they take ids, call one service, and own retries and time limits.

Both tasks are routed to the ``judge`` queue (``CELERY_TASK_ROUTES``). Acknowledgement
is late and a task whose worker dies is rejected back to the queue, so a chunk lost
with its worker is judged again by the next one; chunks are idempotent (see
:mod:`evaluation.services.judge_runs`).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from evaluation.services import judge_runs

_cpu_threads_limited = False


def _limit_cpu_threads() -> None:
    """On a CPU-only worker, one torch thread per process is several times faster under load.

    torch's intra-op threads gain nothing on the judge's small tensors and compete
    with the decoding threads and the other worker processes.
    """
    global _cpu_threads_limited
    if _cpu_threads_limited:
        return
    _cpu_threads_limited = True
    try:
        import torch
    except ImportError:
        return
    if not torch.cuda.is_available():
        torch.set_num_threads(int(getattr(settings, "JUDGE_CPU_THREADS", 1)))


class JudgeRunTask(Task):
    """Marks the run failed when a task gives up, so a run never stays "running" for ever."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        run_id, dispatch = args[0], args[1]
        judge_runs.judge_run_fail(
            run_id=run_id, dispatch=dispatch, error=f"{type(exc).__name__}: {exc}"
        )


RETRIED = (OperationalError, InterfaceError)


@shared_task(
    base=JudgeRunTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRIED,
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def judge_run_start(run_id: int, dispatch: int) -> int:
    """Queue the chunks of a run; returns how many were queued."""
    return len(judge_runs.judge_run_plan(run_id=run_id, dispatch=dispatch))


@shared_task(
    bind=True,
    base=JudgeRunTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRIED,
    retry_backoff=True,
    max_retries=3,
)
def judge_run_chunk(self: Task, run_id: int, dispatch: int, clip_ids: list[int]) -> dict:
    """Judge one chunk; its time limits are set per run when it is queued."""
    if not self.request.is_eager:
        _limit_cpu_threads()
    try:
        outcome = judge_runs.judge_run_chunk(run_id=run_id, dispatch=dispatch, clip_ids=clip_ids)
    except SoftTimeLimitExceeded:
        judge_runs.judge_run_fail(
            run_id=run_id,
            dispatch=dispatch,
            error=f"a chunk of {len(clip_ids)} clips ran past its time limit; "
            "resume the run with a smaller chunk size or raise JUDGE_SECONDS_PER_PAIR",
        )
        return {"run_id": run_id, "stood_down": "time limit"}
    except RETRIED:
        raise  # retried by Celery; `on_failure` records the reason once retries run out
    except Exception as exc:
        # A backend bug: the run fails with the reason at once (also in eager mode,
        # where `on_failure` is not called); the traceback stays in the worker's log.
        judge_runs.judge_run_fail(
            run_id=run_id, dispatch=dispatch, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    return outcome.as_dict()
