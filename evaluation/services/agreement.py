"""Agreement reports of a campaign: ORM rows -> plain DataFrames -> the pure core, cached.

The report is exactly what ``manage.py agreement`` writes for the same ratings,
verdicts and rated set (``--episodes``), seed and number of resamples, so an analyst
can recompute any figure on the page offline from the exports.

Bootstrapping a full campaign takes seconds, so a report is cached under the
campaign, the judge run, the bootstrap settings and a hash of the data it was
computed from: a new rating or verdict changes the hash, and the next request
computes a fresh report instead of serving a stale one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from dataclasses import dataclass

import pandas as pd
from django.core.cache import cache

from annotate.models import Campaign, Clip
from evaluation import judge_selectors, selectors
from evaluation.models import JudgeRun, Verdict
from evaluation.scoring.agreement import agreement_report
from evaluation.scoring.agreement_judge import human_consensus
from evaluation.scoring.protocol import ScoringInputError

DEFAULT_RESAMPLES = 1000
# Enough for stable 95% intervals; the cap keeps one request from holding a worker
# for minutes.
MAX_RESAMPLES = 20_000
CACHE_SECONDS = 24 * 60 * 60
STAT_FIELDS = ("value", "ci_low", "ci_high", "n", "reason")
VERDICT_COLUMNS = ("task", "team", "episode", "score")
# Bumped whenever the report's shape or the hashed form changes, so a cache entry
# written by older code is never served.
_CACHE_FORM_VERSION = 1


class AgreementRequestError(ScoringInputError):
    """An agreement report that cannot be produced; the message says what is wrong."""


@dataclass(frozen=True)
class AgreementInputs:
    """What the pure core needs: ratings, the run's verdicts (or None) and the rated set."""

    ratings: pd.DataFrame  # task, team, episode, rater, score
    verdicts: pd.DataFrame | None  # task, team, episode, score
    rated_set: dict[str, list[str]]
    run: JudgeRun | None


@dataclass(frozen=True)
class CampaignAgreement:
    campaign_slug: str
    run_id: int | None
    judge: str | None  # name@version of the run's judge
    n_boot: int
    seed: int
    data_hash: str
    report: dict[str, object]
    from_cache: bool
    seconds: float  # time the computation took (when it was computed)


def default_judge_run(*, campaign: Campaign) -> JudgeRun | None:
    """The newest completed judge run of the campaign, of any judge."""
    runs = judge_selectors.latest_runs_per_judge(campaign=campaign)
    return runs[0] if runs else None


def completed_runs(*, campaign: Campaign) -> list[JudgeRun]:
    """Completed runs of the campaign, newest first: the ones a report can compare."""
    return [
        run
        for run in judge_selectors.judge_runs(campaign=campaign)
        if run.status == JudgeRun.Status.DONE
    ]


def judge_run_of(*, campaign: Campaign, run_id: int | None) -> JudgeRun | None:
    """The run ``run_id`` of ``campaign`` (checked), or the default run when None."""
    if run_id is None:
        return default_judge_run(campaign=campaign)
    run = JudgeRun.objects.select_related("judge").filter(pk=run_id, campaign=campaign).first()
    if run is None:
        raise AgreementRequestError(
            f"judge run {run_id} does not exist in campaign {campaign.slug!r}"
        )
    if run.status != JudgeRun.Status.DONE:
        raise AgreementRequestError(
            f"judge run {run_id} is {run.status}, not done: its verdicts are incomplete"
        )
    return run


def run_verdicts(*, campaign: Campaign, run: JudgeRun) -> pd.DataFrame:
    """The run's scored verdicts on the teams' current clips: task, team, episode, score.

    A verdict on a clip a team has since replaced judged another video than the one
    the humans rated, so it is left out (the clip counts as unjudged).
    """
    rows = list(
        Verdict.objects.filter(
            run=run,
            score__isnull=False,
            error="",
            clip__submission__in=selectors.current_submission_ids(campaign=campaign),
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


def agreement_inputs(*, campaign: Campaign, run: JudgeRun | None) -> AgreementInputs:
    """Scored ratings (raters as pseudonyms), the run's verdicts and the rated set."""
    return AgreementInputs(
        ratings=selectors.ratings_frame(campaign=campaign, detailed=False),
        verdicts=run_verdicts(campaign=campaign, run=run) if run is not None else None,
        rated_set=selectors.rated_set(campaign=campaign),
        run=run,
    )


def _canonical_csv(frame: pd.DataFrame, keys: list[str]) -> str:
    canonical = frame.loc[:, [*keys, "score"]].astype({key: str for key in keys})
    return canonical.sort_values(keys, kind="stable").to_csv(
        header=False, index=False, lineterminator="\n"
    )


def data_hash_of(*, inputs: AgreementInputs) -> str:
    """sha256 of the inputs in a canonical form: row order and comments do not count."""
    digest = hashlib.sha256()
    head = {
        "form": _CACHE_FORM_VERSION,
        "rated_set": inputs.rated_set,
        "run": inputs.run.pk if inputs.run is not None else None,
    }
    digest.update(json.dumps(head, sort_keys=True).encode())
    digest.update(b"\nratings\n")
    digest.update(_canonical_csv(inputs.ratings, ["task", "team", "episode", "rater"]).encode())
    if inputs.verdicts is not None:
        digest.update(b"\nverdicts\n")
        digest.update(_canonical_csv(inputs.verdicts, ["task", "team", "episode"]).encode())
    return digest.hexdigest()


def _cache_key(
    *, campaign: Campaign, run: JudgeRun | None, n_boot: int, seed: int, data_hash: str
) -> str:
    run_part = run.pk if run is not None else "humans"
    return f"refscore:agreement:v{_CACHE_FORM_VERSION}:{campaign.pk}:{run_part}:{n_boot}:{seed}:{data_hash}"


def _checked_resamples(n_boot: int) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or not 0 <= n_boot <= MAX_RESAMPLES:
        raise AgreementRequestError(
            f"the number of bootstrap resamples must be an integer from 0 to {MAX_RESAMPLES}, "
            f"not {n_boot!r}"
        )
    return n_boot


def campaign_agreement(
    *,
    campaign: Campaign,
    run: JudgeRun | None,
    n_boot: int = DEFAULT_RESAMPLES,
    seed: int | None = None,
    compute: bool = True,
) -> CampaignAgreement | None:
    """The agreement report of ``campaign`` (humans, and ``run``'s judge against them).

    ``seed`` defaults to the campaign's seed. From the cache when the same data was
    reported on with the same settings; otherwise computed and cached, unless
    ``compute`` is false, in which case None says that the report is not ready.
    """
    n_boot = _checked_resamples(n_boot)
    seed = campaign.seed if seed is None else seed
    inputs = agreement_inputs(campaign=campaign, run=run)
    if inputs.ratings.empty:
        raise AgreementRequestError(
            f"campaign {campaign.slug!r} has no ratings yet: there is nothing to compare"
        )
    if inputs.verdicts is not None and inputs.verdicts.empty:
        raise AgreementRequestError(
            f"judge run {run.pk} has no verdict on a current clip: there is nothing to compare"
        )
    data_hash = data_hash_of(inputs=inputs)
    key = _cache_key(campaign=campaign, run=run, n_boot=n_boot, seed=seed, data_hash=data_hash)
    common = {
        "campaign_slug": campaign.slug,
        "run_id": run.pk if run is not None else None,
        "judge": str(run.judge) if run is not None else None,
        "n_boot": n_boot,
        "seed": seed,
        "data_hash": data_hash,
    }
    cached = cache.get(key)
    if cached is not None:
        return CampaignAgreement(
            **common, report=cached["report"], from_cache=True, seconds=cached["seconds"]
        )
    if not compute:
        return None
    started = time.perf_counter()
    report = agreement_report(
        ratings=inputs.ratings,
        verdicts=inputs.verdicts,
        rated_set=inputs.rated_set,
        n_boot=n_boot,
        seed=seed,
    )
    seconds = time.perf_counter() - started
    cache.set(key, {"report": report, "seconds": seconds}, CACHE_SECONDS)
    return CampaignAgreement(**common, report=report, from_cache=False, seconds=seconds)


# --- exports --------------------------------------------------------------------------


def report_json(*, report: dict[str, object]) -> bytes:
    """The report as ``manage.py agreement --output report.json`` writes it."""
    return (json.dumps(report, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _is_stat(value: object) -> bool:
    return isinstance(value, dict) and "value" in value and "n" in value


def stat_rows(*, report: dict[str, object]) -> list[dict[str, object]]:
    """One row per statistic: key, value, ci_low, ci_high, n, reason.

    Top-level statistics keep their dotted key; per-task ones become
    ``per_task.<task>.<key>``. Counts, tables and lists are not statistics and are
    left to the JSON export.
    """
    rows = []

    def add(prefix: str, entries: dict[str, object]) -> None:
        for key, value in entries.items():
            if _is_stat(value):
                rows.append({"key": prefix + key, **{f: value.get(f) for f in STAT_FIELDS}})

    add("", report)
    for task, entries in (report.get("per_task") or {}).items():
        add(f"per_task.{task}.", entries)
    return rows


def report_csv(*, report: dict[str, object]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["key", *STAT_FIELDS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(stat_rows(report=report))
    return buffer.getvalue().encode("utf-8")


# --- the clips behind the rows -------------------------------------------------------------


def current_clip_ids(*, campaign: Campaign, keys: list[tuple[str, str, str]]) -> dict:
    """``{(task, team, episode): clip id}`` of the teams' current clips, in one query."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = Clip.objects.filter(
        submission__in=selectors.current_submission_ids(campaign=campaign),
        episode__task__key__in={task for task, _, _ in wanted},
    ).values_list("episode__task__key", "submission__team__name", "episode__key", "pk")
    return {
        (task, team, episode): pk
        for task, team, episode, pk in rows
        if (task, team, episode) in wanted
    }


@dataclass(frozen=True)
class PairRating:
    rater: str  # a pseudonym, as in the exports
    score: int
    final_state: bool
    clean: bool | None
    motion: bool | None
    comment: str
    revision: int


@dataclass(frozen=True)
class PairReview:
    clip: Clip
    ratings: list[PairRating]
    consensus: int | None  # median of the ratings, halves rounded up; None when unrated
    verdict: Verdict | None


def pair_review(*, campaign: Campaign, clip_id: int, run: JudgeRun | None) -> PairReview:
    """One clip of ``campaign`` with its reference, its human ratings and ``run``'s verdict."""
    clip = (
        Clip.objects.select_related(
            "asset", "episode__reference", "episode__task", "submission__team"
        )
        .filter(pk=clip_id, submission__team__campaign=campaign)
        .first()
    )
    if clip is None:
        raise AgreementRequestError(f"clip {clip_id} does not exist in campaign {campaign.slug!r}")
    ratings = [
        PairRating(
            rater=selectors.rater_pseudonym(user_id=user_id, campaign_slug=campaign.slug),
            score=score,
            final_state=final_state,
            clean=clean,
            motion=motion,
            comment=comment,
            revision=revision,
        )
        for user_id, score, final_state, clean, motion, comment, revision in clip.ratings.order_by(
            "pk"
        ).values_list(
            "annotator_id", "score", "final_state", "clean", "motion", "comment", "revision"
        )
    ]
    verdict = Verdict.objects.filter(run=run, clip=clip).first() if run is not None else None
    return PairReview(
        clip=clip,
        ratings=ratings,
        consensus=human_consensus([r.score for r in ratings]) if ratings else None,
        verdict=verdict,
    )
