"""Judge versions, judge runs in chunks, calibration on human ratings, and judge-based rankings.

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

import inspect
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from scipy.stats import kendalltau

from annotate.models import Campaign
from evaluation import judge_selectors, selectors
from evaluation.judges import Judge, JudgeError, JudgeVerdict, Pair, build_judge, judge_config
from evaluation.models import JudgeRun, JudgeVersion, Verdict
from evaluation.scoring import Leaderboard, ScoringInputError, leaderboard

MAX_CHUNK_SIZE = 1000
MAX_ERROR_CHARS = 4000
# Per-pair allowance behind a chunk's time limit: generous, because a `command`
# judge may run a large model; a chunk that still overruns fails the run (resumable).
DEFAULT_SECONDS_PER_PAIR = 300
MIN_CHUNK_SECONDS = 600


class JudgingError(Exception):
    """A judging request that cannot be served; the message says what is wrong."""


class _StandDown(Exception):
    """Raised from the progress callback to stop judging a chunk of a cancelled or superseded run."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------
# Judge versions


def _settings_entry(name: str) -> dict[str, Any]:
    try:
        return judge_config(name)
    except JudgeError as exc:
        raise JudgingError(str(exc)) from exc


def _build(*, name: str, options: Mapping[str, Any]) -> Judge:
    config = _settings_entry(name)
    try:
        return build_judge(
            name=name, backend=config["BACKEND"], options={**config["OPTIONS"], **options}
        )
    except JudgeError as exc:
        raise JudgingError(str(exc)) from exc


def judge_version_for(*, name: str, version: str | None = None) -> JudgeVersion:
    """The stored version ``name@version``, or (no ``version``) the settings entry as configured now.

    The settings entry's row is created on first use, so every run points at the
    exact configuration that judged it.
    """
    if version:
        found = JudgeVersion.objects.filter(name=name, version=version).first()
        if found is None:
            known = ", ".join(
                JudgeVersion.objects.filter(name=name).values_list("version", flat=True)
            )
            raise JudgingError(
                f"judge {name!r} has no stored version {version!r}; stored: {known or 'none'}"
            )
        return found
    judge = _build(name=name, options={})
    row, _ = JudgeVersion.objects.get_or_create(
        name=name, version=judge.version, defaults={"options": {}}
    )
    return row


def judge_build(*, judge_version: JudgeVersion) -> Judge:
    """Rebuild a stored version: the settings OPTIONS overridden by the row's options.

    Refuses when the settings have changed so that the rebuilt judge would answer
    differently than the stored version did (its version string would differ).
    """
    judge = _build(name=judge_version.name, options=judge_version.options)
    if judge.version != judge_version.version:
        raise JudgingError(
            f"judge {judge_version} can no longer be rebuilt: with the current settings it is "
            f"{judge_version.name}@{judge.version}; start a new run with the current version"
        )
    return judge


# ---------------------------------------------------------------------------
# Runs


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
        raise JudgingError(f"chunk size must be an integer, not {chunk_size!r}")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise JudgingError(f"chunk size must lie in 1..{MAX_CHUNK_SIZE}, not {chunk_size}")
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
            f"campaign {campaign.slug!r} has no current clip in its rated set: nothing to judge"
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
            f"judge run {run.pk} is {run.status}: only a queued or running run can be cancelled"
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
            f"judge run {locked.pk} is {locked.status}: only a cancelled or failed run can be resumed"
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


# ---------------------------------------------------------------------------
# Calibration


@dataclass(frozen=True)
class CalibrationOutcome:
    judge_version: JudgeVersion  # the new, calibrated version
    run: JudgeRun  # whose verdict features were fitted
    pairs: int
    groups: int
    folds: int
    calibrated: dict[str, float]  # held-out exact, within_one, quadratic_kappa
    uncalibrated: dict[str, float]
    majority: dict[str, float]

    @property
    def improves(self) -> bool:
        """Whether the calibration beats the uncalibrated judge held out (by quadratic kappa)."""
        return self.calibrated["quadratic_kappa"] > self.uncalibrated["quadratic_kappa"]


def _takes_calibration(backend: str) -> bool:
    try:
        backend_class = import_string(backend)
    except ImportError:
        return False
    return "calibration" in inspect.signature(backend_class).parameters


FEATURE_EXCLUDED_COLUMNS = ("clip_id", "team", "verdict_score", "human")


def judge_calibrate(
    *, campaign: Campaign, judge_name: str, seed: int = 0, l2: float | None = None
) -> CalibrationOutcome:
    """Fit the judge's features to human consensus scores and store the result as a new version.

    Uses the latest completed run of ``judge_name`` on ``campaign`` and the clips that
    humans rated (consensus: the median of a clip's ratings, halves rounded up).
    Held-out figures come from cross-validation that leaves each team out of the fit
    that scores it.
    """
    from evaluation.judges.calibration import (
        CalibrationError,
        cross_validate,
        fit_calibration,
        usable_feature_names,
    )

    config = _settings_entry(judge_name)
    if not _takes_calibration(config["BACKEND"]):
        raise JudgingError(f"judge {judge_name!r} ({config['BACKEND']}) takes no calibration")
    run = judge_selectors.latest_completed_run(campaign=campaign, judge_name=judge_name)
    if run is None:
        raise JudgingError(
            f"judge {judge_name!r} has no completed run on campaign {campaign.slug!r}: run it first"
        )
    data = judge_selectors.calibration_dataset(run=run)
    if data.empty:
        raise JudgingError(f"no clip of judge run {run.pk} is both judged and rated by humans")
    features = data.drop(columns=list(FEATURE_EXCLUDED_COLUMNS)).apply(
        lambda column: column.astype("float64")
    )
    uncalibrated = (
        features["tree_score"] if "tree_score" in features.columns else data["verdict_score"]
    ).to_numpy(dtype=np.float64)
    try:
        figures = cross_validate(
            features=features,
            scores=data["human"].to_numpy(),
            groups=data["team"].to_numpy(),
            seed=seed,
            l2=l2,
            uncalibrated_scores=uncalibrated,
        )
        model = fit_calibration(
            features=features,
            scores=data["human"].to_numpy(),
            groups=data["team"].to_numpy(),
            seed=seed,
            l2=l2,
            feature_names=usable_feature_names(features),
        )
    except CalibrationError as exc:
        raise JudgingError(f"cannot calibrate judge {judge_name!r} on run {run.pk}: {exc}") from exc
    base_options = {key: value for key, value in run.judge.options.items() if key != "calibration"}
    options = {**base_options, "calibration": model.to_dict()}
    version = _build(name=judge_name, options=options).version
    metrics = {**figures, "run": run.pk, "seed": seed, "l2": model.l2}
    calibrated, _ = JudgeVersion.objects.update_or_create(
        name=judge_name,
        version=version,
        defaults={"options": options, "calibrated_on": campaign, "metrics": metrics},
    )
    return CalibrationOutcome(
        judge_version=calibrated,
        run=run,
        pairs=figures["pairs"],
        groups=figures["groups"],
        folds=figures["folds"],
        calibrated=figures["calibrated"],
        uncalibrated=figures["uncalibrated"],
        majority=figures["majority"],
    )


# ---------------------------------------------------------------------------
# Judge-based rankings beside the human ones


@dataclass(frozen=True)
class TeamRankComparison:
    team: str
    judge_rank: int
    judge_score: float
    judge_ci_low: float
    judge_ci_high: float
    human_rank: int | None  # None when humans have not rated the campaign yet
    human_score: float | None

    @property
    def rank_shift(self) -> int | None:
        """Positive when the judge ranks the team better than humans do."""
        return None if self.human_rank is None else self.human_rank - self.judge_rank


@dataclass(frozen=True)
class JudgeLeaderboard:
    run_id: int
    rater: str
    board: Leaderboard
    human_board: Leaderboard | None
    rows: list[TeamRankComparison] = field(default_factory=list)
    kendall_tau: float | None = None  # of the final scores, judge vs humans
    n_judged: int = 0
    n_human_ratings: int = 0


def judge_leaderboard(
    *, run: JudgeRun, n_boot: int = 1000, seed: int | None = None, with_humans: bool = True
) -> JudgeLeaderboard:
    """The ranking the judge's verdicts give, by the same scoring core as the humans'.

    Each judged clip counts as one rating by ``judge:<name>@<version>``; clips the
    judge could not judge count 0, as unrated clips do. Only episodes of the
    current rated set are scored, so both rankings rest on the same episodes.
    """
    campaign = run.campaign
    seed = campaign.seed if seed is None else seed
    rated_set = selectors.rated_set(campaign=campaign)
    tasks = selectors.campaign_tasks(campaign=campaign)
    teams = selectors.entrant_teams(campaign=campaign)
    frame = judge_selectors.judge_ratings_frame(run=run)
    in_rated_set = [
        episode in rated_set.get(task, ())
        for task, episode in zip(frame["task"], frame["episode"], strict=True)
    ]
    frame = frame.loc[np.asarray(in_rated_set, dtype=bool)].reset_index(drop=True)
    teams = sorted(set(teams) | set(frame["team"]))
    if not tasks or not teams:
        raise JudgingError(f"campaign {campaign.slug!r} has no task or no team to rank")
    try:
        board = leaderboard(
            ratings=frame,
            rated_set=rated_set,
            tasks=tasks,
            teams=teams,
            n_boot=n_boot,
            seed=seed,
        )
    except ScoringInputError as exc:
        raise JudgingError(f"cannot rank teams by judge run {run.pk}: {exc}") from exc
    human_board = None
    n_human_ratings = 0
    if with_humans:
        human_ratings = selectors.ratings_frame(campaign=campaign, detailed=False)
        n_human_ratings = len(human_ratings)
        if n_human_ratings:
            human_board = leaderboard(
                ratings=human_ratings,
                rated_set=rated_set,
                tasks=tasks,
                teams=teams,
                n_boot=n_boot,
                seed=seed,
            )
    rows = []
    for standing in board.teams:
        human = human_board.standing(standing.team) if human_board else None
        rows.append(
            TeamRankComparison(
                team=standing.team,
                judge_rank=standing.rank,
                judge_score=standing.final_score,
                judge_ci_low=standing.ci_low,
                judge_ci_high=standing.ci_high,
                human_rank=human.rank if human else None,
                human_score=human.final_score if human else None,
            )
        )
    tau = None
    if human_board is not None and len(rows) >= 3:
        statistic = kendalltau(
            [row.judge_score for row in rows], [row.human_score for row in rows]
        ).statistic
        tau = None if np.isnan(statistic) else float(statistic)
    return JudgeLeaderboard(
        run_id=run.pk,
        rater=judge_selectors.judge_rater_label(judge=run.judge),
        board=board,
        human_board=human_board,
        rows=rows,
        kendall_tau=tau,
        n_judged=len(frame),
        n_human_ratings=n_human_ratings,
    )


# ---------------------------------------------------------------------------
# One pair, synchronously


def judge_pair(
    *, judge_version: JudgeVersion, reference: Path, generated: Path, pair_id: str = "pair"
) -> JudgeVerdict:
    """Judge one (reference, generated) pair of files now, in this process."""
    judge = judge_build(judge_version=judge_version)
    for role, path in (("reference", reference), ("generated", generated)):
        if not Path(path).is_file():
            raise JudgingError(f"the {role} file {path} does not exist")
    try:
        (verdict,) = judge.judge([Pair(pair_id=pair_id, reference=reference, generated=generated)])
    except JudgeError as exc:
        raise JudgingError(f"judge {judge_version}: {exc}") from exc
    return verdict


def judge_uploaded_pair(
    *, judge_version: JudgeVersion, reference: Any, generated: Any
) -> JudgeVerdict:
    """Judge two uploaded files (Django ``UploadedFile``s), removed again afterwards."""
    with tempfile.TemporaryDirectory(prefix="judge-pair-") as folder:
        paths = []
        for role, upload in (("reference", reference), ("generated", generated)):
            suffix = Path(getattr(upload, "name", "") or "clip.mp4").suffix.lower() or ".mp4"
            path = Path(folder) / f"{role}{suffix}"
            with path.open("wb") as out:
                for piece in upload.chunks():
                    out.write(piece)
            paths.append(path)
        return judge_pair(judge_version=judge_version, reference=paths[0], generated=paths[1])
