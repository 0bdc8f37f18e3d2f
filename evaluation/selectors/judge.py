"""Reads about judges: versions, runs, verdicts, and verdicts as plain data for the scoring core.

Like :mod:`evaluation.selectors.ratings`, every read runs a fixed number of queries whatever
the size of the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from uuid import UUID

import pandas as pd
from django.conf import settings
from django.db.models import Count, Q, QuerySet

from annotate.models import Campaign, Clip, MediaAsset, Rating
from annotate.selectors import current_clips
from evaluation.models import JudgeRun, JudgeVersion, Verdict
from evaluation.selectors.ratings import current_submission_ids

RATING_COLUMNS = ("task", "team", "episode", "rater", "score")
VERDICT_COLUMNS = ("task", "team", "episode", "score")
FINISHED_STATUSES = (JudgeRun.Status.DONE, JudgeRun.Status.FAILED, JudgeRun.Status.CANCELLED)


def judge_rater_label(*, judge: JudgeVersion) -> str:
    """How a judge appears as a rater beside the humans: ``judge:<name>@<version>``."""
    return f"judge:{judge.name}@{judge.version}"


def asset_path(*, asset: MediaAsset) -> Path:
    """The file a judge reads: the stored original (exactly what was submitted), else the derivative."""
    return Path(settings.MEDIA_ROOT) / (asset.original or asset.playable)


def media_by_token(*, token: UUID) -> tuple[MediaAsset, Clip | None] | None:
    """The media a token names, and the clip when it is a clip's token (its episode, with
    the reference, comes along); None when no clip or media asset has it."""
    clip = Clip.objects.select_related("asset", "episode__reference").filter(token=token).first()
    if clip is not None:
        return clip.asset, clip
    asset = MediaAsset.objects.filter(token=token).first()
    return None if asset is None else (asset, None)


def judge_run_clip_ids(*, campaign: Campaign) -> list[int]:
    """The clips a new run covers: each team's current clip of every episode in the rated set."""
    return list(
        current_clips(campaign=campaign)
        .filter(episode__in_rated_set=True)
        .order_by("episode__task__number", "episode__number", "submission__team__name")
        .values_list("pk", flat=True)
    )


def judge_run_clips(*, clip_ids: Iterable[int]) -> list[Clip]:
    """Clips with what a judge needs (their asset and their episode's reference), in id order."""
    return list(
        Clip.objects.filter(pk__in=list(clip_ids))
        .select_related("asset", "episode__reference")
        .order_by("pk")
    )


def judged_clip_ids(*, run: JudgeRun, clip_ids: Iterable[int] | None = None) -> set[int]:
    """Clips of ``run`` that already carry a verdict (judged, or found unjudgeable)."""
    verdicts = Verdict.objects.filter(run=run)
    if clip_ids is not None:
        verdicts = verdicts.filter(clip_id__in=list(clip_ids))
    return set(verdicts.values_list("clip_id", flat=True))


def judge_runs(*, campaign: Campaign) -> QuerySet[JudgeRun]:
    """Runs of a campaign, newest first, with their failed-verdict counts."""
    return (
        JudgeRun.objects.filter(campaign=campaign)
        .select_related("judge", "created_by")
        .annotate(n_failed=Count("verdicts", filter=~Q(verdicts__error="")))
        .order_by("-created_at", "-pk")
    )


def judge_versions(*, names: Iterable[str] | None = None) -> QuerySet[JudgeVersion]:
    versions = JudgeVersion.objects.all()
    if names is not None:
        versions = versions.filter(name__in=list(names))
    return versions.select_related("calibrated_on").order_by("name", "-created_at")


def latest_completed_run(*, campaign: Campaign, judge_name: str) -> JudgeRun | None:
    """The newest finished-without-error run of any version of the judge ``judge_name``."""
    return (
        JudgeRun.objects.filter(
            campaign=campaign, judge__name=judge_name, status=JudgeRun.Status.DONE
        )
        .select_related("judge")
        .order_by("-finished_at", "-pk")
        .first()
    )


def judge_run_progress(*, run: JudgeRun) -> dict:
    """What the progress bar polls."""
    failed = Verdict.objects.filter(run=run).exclude(error="").count()
    return {
        "id": run.pk,
        "judge": str(run.judge),
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "failed": failed,
        "percent": round(100.0 * run.done / run.total, 1) if run.total else 100.0,
        "error": run.error,
        "finished": run.status in FINISHED_STATUSES,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def run_verdicts(*, run: JudgeRun) -> pd.DataFrame:
    """The run's scored verdicts on the teams' current clips: task, team, episode, score.

    The one reader of a run's verdicts as scores: the judge-based ranking and the
    agreement report both read them here. A verdict on a clip its team has since
    replaced judged another video than the one the leaderboard scores, so it is left
    out (the clip counts as unjudged), as ratings of replaced clips are; so are clips
    the judge could not judge.
    """
    rows = list(
        Verdict.objects.filter(
            run=run,
            score__isnull=False,
            error="",
            clip__submission__in=current_submission_ids(campaign=run.campaign),
        )
        .order_by(
            "clip__episode__task__number", "clip__submission__team__name", "clip__episode__number"
        )
        .values_list(
            "clip__episode__task__key",
            "clip__submission__team__name",
            "clip__episode__key",
            "score",
        )
    )
    frame = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
    frame["score"] = frame["score"].astype("int64")
    return frame


def judge_ratings_frame(*, run: JudgeRun) -> pd.DataFrame:
    """The run's verdicts as "ratings" for the scoring core: task, team, episode, rater, score.

    One row per judged current clip (:func:`run_verdicts`), the rater being
    :func:`judge_rater_label`. Clips without a verdict have no row, so (like an
    unrated clip) they count 0 in the protocol's ground-truth denominator.
    """
    frame = run_verdicts(run=run)
    frame.insert(3, "rater", judge_rater_label(judge=run.judge))
    return frame.loc[:, list(RATING_COLUMNS)]


@dataclass(frozen=True)
class ClipJudgeScore:
    run_id: int
    judge: str  # name@version
    score: int | None  # None when the clip could not be judged
    expected_score: float | None
    confidence: float | None
    error: str


def latest_runs_per_judge(*, campaign: Campaign) -> list[JudgeRun]:
    """For each judge version, its newest completed run on the campaign."""
    newest: dict[int, JudgeRun] = {}
    for run in (
        JudgeRun.objects.filter(campaign=campaign, status=JudgeRun.Status.DONE)
        .select_related("judge")
        .order_by("-finished_at", "-pk")
    ):
        newest.setdefault(run.judge_id, run)
    return list(newest.values())


def judge_scores_by_clip(
    *,
    campaign: Campaign,
    clip_ids: Iterable[int] | None = None,
    runs: Iterable[JudgeRun] | None = None,
) -> dict[int, list[ClipJudgeScore]]:
    """Judge scores per clip id, for the leaderboard drill-down (organizers only).

    ``runs`` defaults to the newest completed run of each judge version
    (:func:`latest_runs_per_judge`).
    """
    chosen = list(runs) if runs is not None else latest_runs_per_judge(campaign=campaign)
    labels = {run.pk: str(run.judge) for run in chosen}
    verdicts = Verdict.objects.filter(run_id__in=list(labels), run__campaign=campaign)
    if clip_ids is not None:
        verdicts = verdicts.filter(clip_id__in=list(clip_ids))
    scores: dict[int, list[ClipJudgeScore]] = {}
    for clip_id, run_id, score, expected, confidence, error in verdicts.order_by(
        "run_id"
    ).values_list("clip_id", "run_id", "score", "expected_score", "confidence", "error"):
        scores.setdefault(clip_id, []).append(
            ClipJudgeScore(
                run_id=run_id,
                judge=labels[run_id],
                score=None if error else score,
                expected_score=None if error else expected,
                confidence=None if error else confidence,
                error=error,
            )
        )
    return scores


def calibration_dataset(*, run: JudgeRun) -> pd.DataFrame:
    """One row per clip of ``run`` that the judge scored and humans rated.

    Columns: ``clip_id``, ``team``, ``verdict_score``, ``human`` (the median of the
    clip's ratings, possibly x.5), then one column per stored verdict feature.
    """
    verdicts = list(
        Verdict.objects.filter(run=run, error="", score__isnull=False)
        .order_by("clip_id")
        .values_list("clip_id", "clip__submission__team__name", "score", "features")
    )
    ratings: dict[int, list[int]] = {}
    for clip_id, score in Rating.objects.filter(
        clip_id__in=[row[0] for row in verdicts]
    ).values_list("clip_id", "score"):
        ratings.setdefault(clip_id, []).append(score)
    rows = [
        {
            "clip_id": clip_id,
            "team": team,
            "verdict_score": score,
            "human": float(median(ratings[clip_id])),
            **(features or {}),
        }
        for clip_id, team, score, features in verdicts
        if clip_id in ratings
    ]
    return pd.DataFrame(rows)
