"""Judge runs on a small real campaign, with Celery in eager mode (no broker)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import ClassVar

import av
import numpy as np
import pytest
from django.db import transaction
from scipy.stats import kendalltau

from annotate.models import Assignment, Clip
from demo import truth as demo_truth
from evaluation import selectors, services
from evaluation.judges import Judge, JudgeError, JudgeVerdict, Pair, rubric_tree
from evaluation.models import JudgeRun, JudgeVersion, Verdict
from evaluation.scoring import RANK_DECIMALS
from evaluation.selectors import judge as judge_selectors
from evaluation.services.judge_runs import judge_run_chunk
from tests.factories import AssignmentFactory, RatingFactory, UserFactory


def _first_frame_mean(path) -> float:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return float(frame.to_ndarray(format="gray").mean())
    raise ValueError(f"{path} has no frame")


class CountingJudge(Judge):
    """A small real backend: compares the first frames' brightness and records each pair it judges."""

    calls: ClassVar[list[str]] = []
    cancel_after_pairs: ClassVar[int | None] = None

    def __init__(self, *, name: str = "counting", tolerance: float = 2.0) -> None:
        super().__init__(name=name, options={"tolerance": tolerance})
        self.tolerance = tolerance

    def judge(self, pairs: Sequence[Pair], *, progress=None) -> list[JudgeVerdict]:
        verdicts = []
        for pair in pairs:
            type(self).calls.append(pair.pair_id)
            try:
                gap = abs(_first_frame_mean(pair.reference) - _first_frame_mean(pair.generated))
            except (av.error.FFmpegError, ValueError) as exc:
                verdicts.append(JudgeVerdict.failed(pair_id=pair.pair_id, error=str(exc)))
            else:
                similar = 1.0 if gap <= self.tolerance else 0.0
                tree = rubric_tree(final_state=similar, clean=similar, motion=0.0)
                verdicts.append(
                    JudgeVerdict(
                        pair_id=pair.pair_id,
                        score=tree.score,
                        expected_score=tree.expected_score,
                        final_state=similar,
                        clean=similar,
                        motion=0.0,
                        confidence=tree.confidence,
                        features={"first_frame_gap": gap},
                    )
                )
            self._maybe_cancel()
            if progress is not None:
                progress(1)
        return verdicts

    def _maybe_cancel(self) -> None:
        # Stands in for an organizer pressing "Cancel" in another request mid-run.
        if len(type(self).calls) == type(self).cancel_after_pairs:
            JudgeRun.objects.filter(status=JudgeRun.Status.RUNNING).update(
                status=JudgeRun.Status.CANCELLED
            )


COUNTING = {"BACKEND": f"{__name__}.CountingJudge", "OPTIONS": {}}


@pytest.fixture
def counting_judge(settings):
    settings.JUDGES = {**settings.JUDGES, "counting": COUNTING}
    CountingJudge.calls = []
    CountingJudge.cancel_after_pairs = None
    return CountingJudge


def _clip_ids(campaign) -> list[int]:
    return judge_selectors.judge_run_clip_ids(campaign=campaign)


def test_a_run_judges_every_current_clip_of_the_rated_set_once(demo_campaign, counting_judge):
    version = services.judge_version_for(name="counting")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version, chunk_size=4)
    run.refresh_from_db()
    clip_ids = _clip_ids(demo_campaign)
    # 2 tasks x 3 episodes x 3 teams, less the clips the demo leaves out or breaks on purpose.
    assert 10 <= len(clip_ids) <= 18
    assert run.status == JudgeRun.Status.DONE
    assert (run.done, run.total) == (len(clip_ids), len(clip_ids))
    assert run.started_at and run.finished_at
    assert sorted(run.verdicts.values_list("clip_id", flat=True)) == sorted(clip_ids)
    tokens = {
        str(token) for token in Clip.objects.filter(pk__in=clip_ids).values_list("token", flat=True)
    }
    assert sorted(counting_judge.calls) == sorted(tokens)
    verdict = run.verdicts.first()
    assert verdict.score in (0, 1, 2, 3) and "first_frame_gap" in verdict.features
    progress = judge_selectors.judge_run_progress(run=run)
    assert progress["finished"] and progress["percent"] == 100.0 and progress["failed"] == 0


def test_the_settings_entry_is_one_version_row_reused_by_runs(
    demo_campaign, counting_judge, settings
):
    first = services.judge_version_for(name="counting")
    assert services.judge_version_for(name="counting") == first
    settings.JUDGES = {**settings.JUDGES, "counting": {**COUNTING, "OPTIONS": {"tolerance": 9.0}}}
    changed = services.judge_version_for(name="counting")
    assert changed != first and changed.version != first.version
    # The old row now rebuilds differently: a run of it is refused rather than mixed.
    with pytest.raises(services.JudgingError, match="can no longer be rebuilt"):
        services.judge_run_create(campaign=demo_campaign, judge_version=first)


def test_resume_judges_only_the_clips_without_a_verdict(demo_campaign, counting_judge):
    version = services.judge_version_for(name="counting")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version, chunk_size=4)
    run.refresh_from_db()
    kept = list(run.verdicts.order_by("clip_id").values_list("clip_id", flat=True)[:5])
    Verdict.objects.filter(run=run).exclude(clip_id__in=kept).delete()
    JudgeRun.objects.filter(pk=run.pk).update(status=JudgeRun.Status.FAILED, done=5)
    counting_judge.calls.clear()

    services.judge_run_resume(run=run)

    run.refresh_from_db()
    n = run.total
    assert run.status == JudgeRun.Status.DONE and run.done == n and run.dispatch == 2
    assert len(counting_judge.calls) == n - 5
    kept_tokens = {str(t) for t in Clip.objects.filter(pk__in=kept).values_list("token", flat=True)}
    assert kept_tokens.isdisjoint(counting_judge.calls)
    assert run.verdicts.count() == n


def test_a_redelivered_chunk_skips_what_is_stored_and_counts_nothing_twice(
    demo_campaign, counting_judge
):
    version = services.judge_version_for(name="counting")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version, chunk_size=4)
    run.refresh_from_db()
    counting_judge.calls.clear()
    JudgeRun.objects.filter(pk=run.pk).update(status=JudgeRun.Status.RUNNING)

    outcome = judge_run_chunk(run_id=run.pk, dispatch=run.dispatch, clip_ids=run.clip_ids[:4])

    assert (outcome.stored, outcome.skipped) == (0, 4)
    assert counting_judge.calls == []
    run.refresh_from_db()
    assert run.done == run.total == run.verdicts.count()


def test_cancel_before_the_start_stops_every_chunk(demo_campaign, counting_judge):
    version = services.judge_version_for(name="counting")
    with transaction.atomic():  # the run is queued when this commits, after the cancel
        run = services.judge_run_create(campaign=demo_campaign, judge_version=version)
        services.judge_run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.CANCELLED
    assert counting_judge.calls == [] and run.verdicts.count() == 0
    with pytest.raises(services.JudgingError, match="only a queued or running run"):
        services.judge_run_cancel(run=run)


def test_cancel_mid_run_stops_between_pairs_and_resume_finishes(demo_campaign, counting_judge):
    version = services.judge_version_for(name="counting")
    counting_judge.cancel_after_pairs = 6

    run = services.judge_run_create(campaign=demo_campaign, judge_version=version, chunk_size=4)

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.CANCELLED
    # The first chunk was stored; the second stopped after its second pair, storing nothing.
    assert run.verdicts.count() == 4 and run.done == 4
    assert len(counting_judge.calls) == 6
    with pytest.raises(services.JudgingError, match="only a queued or running run"):
        services.judge_run_cancel(run=run)

    counting_judge.cancel_after_pairs = None
    services.judge_run_resume(run=run, chunk_size=5)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and run.chunk_size == 5
    assert run.verdicts.count() == run.done == run.total
    assert len(counting_judge.calls) == 6 + run.total - 4


def test_a_stale_chunk_of_an_earlier_dispatch_stands_down(demo_campaign, counting_judge):
    version = services.judge_version_for(name="counting")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version, chunk_size=4)
    run.refresh_from_db()
    Verdict.objects.filter(run=run).delete()
    JudgeRun.objects.filter(pk=run.pk).update(status=JudgeRun.Status.RUNNING, dispatch=7)
    outcome = judge_run_chunk(run_id=run.pk, dispatch=1, clip_ids=run.clip_ids[:4])
    assert outcome.stood_down == "superseded" and outcome.stored == 0


def test_an_unreadable_clip_gets_an_error_verdict_and_the_run_completes(
    demo_campaign, counting_judge, settings
):
    from pathlib import Path

    clip = Clip.objects.get(pk=_clip_ids(demo_campaign)[0])
    (Path(settings.MEDIA_ROOT) / clip.asset.original).write_bytes(b"not a video")
    version = services.judge_version_for(name="counting")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and run.done == run.total
    broken = run.verdicts.get(clip=clip)
    assert broken.score is None and broken.expected_score is None and broken.error
    assert judge_selectors.judge_run_progress(run=run)["failed"] == 1
    # Not judged: no "rating" by the judge for that clip.
    frame = judge_selectors.judge_ratings_frame(run=run)
    assert len(frame) == run.total - 1


def test_refusals_name_what_is_wrong(demo_campaign, counting_judge):
    version = services.judge_version_for(name="counting")
    with pytest.raises(services.JudgingError, match="chunk size"):
        services.judge_run_create(campaign=demo_campaign, judge_version=version, chunk_size=0)
    with pytest.raises(services.JudgingError, match="unknown judge 'nope'"):
        services.judge_version_for(name="nope")
    with pytest.raises(services.JudgingError, match="no stored version 'v9'"):
        services.judge_version_for(name="counting", version="v9")
    Clip.objects.filter(submission__team__campaign=demo_campaign).delete()
    with pytest.raises(services.JudgingError, match="nothing to judge"):
        services.judge_run_create(campaign=demo_campaign, judge_version=version)


def test_the_baseline_judges_the_demo_campaign_end_to_end(demo_campaign):
    version = services.judge_version_for(name="baseline")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version, chunk_size=6)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and run.done == run.total, run.error
    verdicts = list(run.verdicts.select_related("clip__episode__task", "clip__submission__team"))
    assert all(not v.error and v.score is not None for v in verdicts)
    demo = demo_truth.load(demo_campaign)
    truth = np.array([demo.category(v.clip) for v in verdicts])
    scores = np.array([v.score for v in verdicts])
    # Far better than chance (0.25) on the demo footage, as the judge's own acceptance test says.
    assert np.mean(truth == scores) >= 0.5
    board = selectors.judge_leaderboard(run=run, n_boot=50)
    assert board.rater == f"judge:baseline@{version.version}"
    assert len(board.rows) == 3 and board.human_board is None
    assert sorted(row.judge_rank for row in board.rows)[0] == 1


def rate_like_humans(*, campaign, seed: int = 0, noise: float = 0.15) -> int:
    """Synthetic human ratings on the campaign's planned assignments: the clip's true
    category, off by one with probability ``noise``."""
    rng = np.random.default_rng(seed)
    demo = demo_truth.load(campaign)
    assignments = Assignment.objects.filter(campaign=campaign).select_related(
        "clip__episode__task", "clip__submission__team"
    )
    if not assignments.exists():  # a campaign without a plan: three raters on every clip
        users = [UserFactory(username=f"rater{k}") for k in range(3)]
        for clip in Clip.objects.filter(submission__team__campaign=campaign):
            for user in users:
                AssignmentFactory(campaign=campaign, annotator=user, clip=clip)
    count = 0
    for assignment in assignments.order_by("pk"):
        score = demo.category(assignment.clip)
        if rng.random() < noise:
            score = int(np.clip(score + rng.choice([-1, 1]), 0, 3))
        RatingFactory(assignment=assignment, score=score)
        count += 1
    assignments.update(status=Assignment.Status.DONE)
    return count


def test_judge_and_human_rankings_side_by_side(demo_campaign, counting_judge):
    n_ratings = rate_like_humans(campaign=demo_campaign)
    version = services.judge_version_for(name="counting")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version)
    run.refresh_from_db()
    board = selectors.judge_leaderboard(run=run, n_boot=100)
    human = selectors.campaign_leaderboard(campaign=demo_campaign).board
    assert board.n_human_ratings == n_ratings >= 2 * run.total
    assert board.n_judged == run.total
    for row in board.rows:
        assert row.human_rank == human.standing(row.team).rank
        assert row.human_score == pytest.approx(human.standing(row.team).final_score)
        assert row.rank_shift == row.human_rank - row.judge_rank
    # The judge's final score is the protocol's mean over tasks of its per-clip scores.
    frame = judge_selectors.judge_ratings_frame(run=run)
    for row in board.rows:
        per_task = frame[frame.team == row.team].groupby("task")["score"].sum() / 3
        assert row.judge_score == pytest.approx(
            per_task.reindex(["task1", "task2"], fill_value=0).mean()
        )
    # Kendall's tau-b of the final scores as the ranking compares them, by scipy.
    human_scores = np.round([row.human_score for row in board.rows], RANK_DECIMALS)
    judge_scores = np.round([row.judge_score for row in board.rows], RANK_DECIMALS)
    assert board.kendall_tau == pytest.approx(kendalltau(human_scores, judge_scores).statistic)


def test_calibration_stores_a_new_version_and_reports_held_out_figures(demo_campaign):
    rate_like_humans(campaign=demo_campaign, seed=3)
    with pytest.raises(services.JudgingError, match="no completed run"):
        services.judge_calibrate(campaign=demo_campaign, judge_name="baseline")
    plain = services.judge_version_for(name="baseline")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=plain)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE, run.error

    outcome = services.judge_calibrate(campaign=demo_campaign, judge_name="baseline", seed=0)

    calibrated = outcome.judge_version
    assert calibrated.name == "baseline" and calibrated.version != plain.version
    assert calibrated.calibrated_on == demo_campaign
    assert calibrated.options["calibration"]["model"] == "rubric_heads"
    assert calibrated.metrics["run"] == run.pk
    assert (outcome.pairs, outcome.groups, outcome.folds) == (run.total, 3, 3)
    for figures in (outcome.calibrated, outcome.uncalibrated):
        assert set(figures) == {"exact", "within_one", "quadratic_kappa"}
        assert 0.0 <= figures["exact"] <= figures["within_one"] <= 1.0
    print(
        "held-out exact/within-1/kappa: calibrated",
        outcome.calibrated,
        "uncalibrated",
        outcome.uncalibrated,
    )
    # The calibrated version is a real judge: a run of it completes with its own scores.
    second = services.judge_run_create(campaign=demo_campaign, judge_version=calibrated)
    second.refresh_from_db()
    assert second.status == JudgeRun.Status.DONE and second.done == second.total == run.total
    assert JudgeVersion.objects.filter(name="baseline").count() == 2


def test_calibration_refuses_a_judge_without_calibration(demo_campaign, counting_judge):
    with pytest.raises(services.JudgingError, match="takes no calibration"):
        services.judge_calibrate(campaign=demo_campaign, judge_name="counting")


class CrashingJudge(Judge):
    """A backend with a bug: it crashes on every batch."""

    def __init__(self, *, name: str = "crashing") -> None:
        super().__init__(name=name, options={})

    def judge(self, pairs: Sequence[Pair], *, progress=None) -> list[JudgeVerdict]:
        raise RuntimeError("backend bug")


class MisconfiguredJudge(CrashingJudge):
    def judge(self, pairs: Sequence[Pair], *, progress=None) -> list[JudgeVerdict]:
        raise JudgeError("the judge program exited with status 2")


@pytest.mark.parametrize(
    ("backend", "expected_error"),
    [
        ("CrashingJudge", "RuntimeError: backend bug"),
        ("MisconfiguredJudge", "exited with status 2"),
    ],
)
def test_a_failing_backend_fails_the_run_with_the_reason(
    demo_campaign, settings, backend, expected_error
):
    settings.JUDGES = {**settings.JUDGES, "broken": {"BACKEND": f"{__name__}.{backend}"}}
    version = services.judge_version_for(name="broken")
    with contextlib.suppress(RuntimeError):  # eager mode hands a task's crash to the caller
        services.judge_run_create(campaign=demo_campaign, judge_version=version)
    run = JudgeRun.objects.get(judge=version)
    assert run.status == JudgeRun.Status.FAILED and expected_error in run.error
    assert run.verdicts.count() == 0 and run.finished_at is not None


def test_judge_scores_per_clip_for_the_drilldown(demo_campaign, counting_judge, settings):
    from pathlib import Path

    clip_ids = _clip_ids(demo_campaign)
    broken = Clip.objects.get(pk=clip_ids[0])
    (Path(settings.MEDIA_ROOT) / broken.asset.original).write_bytes(b"not a video")
    version = services.judge_version_for(name="counting")
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version)
    scores = judge_selectors.judge_scores_by_clip(campaign=demo_campaign, clip_ids=clip_ids[:3])
    assert set(scores) == set(clip_ids[:3])
    (first,) = scores[broken.pk]
    assert first.run_id == run.pk and first.judge == str(version)
    assert first.score is None and first.error
    (second,) = scores[clip_ids[1]]
    assert second.score == run.verdicts.get(clip_id=clip_ids[1]).score is not None
