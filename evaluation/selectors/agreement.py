"""Agreement reports of a campaign: ORM rows -> plain DataFrames -> the pure core, cached.

The report rests on the leaderboard's inputs (the scored ratings, the rated set, the
campaign's tasks and teams), with the raters' own scores where an organizer decided
one (:func:`agreement_inputs`), and on the run's verdicts on
current clips (:func:`run_verdicts`, the reader the judge-based ranking uses too), so
its team-level figures are those of the judge run page. For the same ratings,
verdicts and rated set it is what ``manage.py agreement`` writes offline with the same
seed and resamples, as long as every team with a submission has a scored rating (the
offline files do not name a team nobody rated; here it counts 0 on both sides, as on
the leaderboard).

Bootstrapping a full campaign takes seconds, so a report is cached under the
campaign and the input hash of everything it was computed from (ratings, verdicts,
rated set, tasks, teams, the run, resamples and seed): a new rating or verdict
changes the hash, and the next request computes a fresh report instead of serving a
stale one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
from django.core.cache import cache
from django.utils.translation import gettext as _

from annotate.models import Campaign, Clip
from annotate.words import word
from evaluation.models import JudgeRun, Verdict
from evaluation.scoring.agreement import agreement_report
from evaluation.scoring.agreement_judge import human_consensus
from evaluation.scoring.input_hash import input_hash
from evaluation.scoring.protocol import ScoringInputError
from evaluation.selectors.judge import judge_runs, latest_runs_per_judge, run_verdicts
from evaluation.selectors.leaderboard import ScoringInputs
from evaluation.selectors.ratings import (
    campaign_tasks,
    current_submission_ids,
    entrant_teams,
    rated_set,
    rater_pseudonym,
    ratings_frame,
)
from evaluation.selectors.reliability import exclusion_notes

DEFAULT_RESAMPLES = 1000
# Enough for stable 95% intervals; the cap keeps one request from holding a worker
# for minutes.
MAX_RESAMPLES = 20_000
CACHE_SECONDS = 24 * 60 * 60
# Bumped whenever the report's shape changes, so a cache entry written by older code
# is never served.
_REPORT_FORM_VERSION = 3


class AgreementRequestError(ScoringInputError):
    """An agreement report that cannot be produced; the message says what is wrong."""


@dataclass(frozen=True)
class AgreementInputs:
    """What the pure core needs: the leaderboard's inputs and the run's verdicts (or None)."""

    scoring: ScoringInputs
    verdicts: pd.DataFrame | None  # task, team, episode, score
    run: JudgeRun | None


@dataclass(frozen=True)
class CampaignAgreement:
    campaign_slug: str
    run_id: int | None
    judge: str | None  # name@version of the run's judge
    n_boot: int
    seed: int
    data_hash: str  # the input hash of the report's inputs and settings
    report: dict[str, object]
    from_cache: bool
    seconds: float  # time the computation took (when it was computed)
    # Which ratings the report rests on (quality review); the report itself is what the
    # offline command writes for the same ratings, so these stay beside it.
    with_excluded: bool = False
    with_gold: bool = False
    excluded_raters: tuple[str, ...] = ()  # active exclusions, by pseudonym


def default_judge_run(*, campaign: Campaign) -> JudgeRun | None:
    """The newest completed judge run of the campaign, of any judge."""
    runs = latest_runs_per_judge(campaign=campaign)
    return runs[0] if runs else None


def completed_runs(*, campaign: Campaign) -> list[JudgeRun]:
    """Completed runs of the campaign, newest first: the ones a report can compare."""
    return [run for run in judge_runs(campaign=campaign) if run.status == JudgeRun.Status.DONE]


def judge_run_of(*, campaign: Campaign, run_id: int | None) -> JudgeRun | None:
    """The run ``run_id`` of ``campaign`` (checked), or the default run when None."""
    if run_id is None:
        return default_judge_run(campaign=campaign)
    run = JudgeRun.objects.select_related("judge").filter(pk=run_id, campaign=campaign).first()
    if run is None:
        raise AgreementRequestError(
            _("judge run %(run)s does not exist in campaign %(campaign)r")
            % {"run": run_id, "campaign": campaign.slug}
        )
    if run.status != JudgeRun.Status.DONE:
        raise AgreementRequestError(
            _("judge run %(run)s is %(status)s, not done: its verdicts are incomplete")
            % {"run": run_id, "status": word(run.status)}
        )
    return run


def agreement_inputs(
    *,
    campaign: Campaign,
    run: JudgeRun | None,
    with_excluded: bool = False,
    with_gold: bool = False,
) -> AgreementInputs:
    """Scored ratings (raters as pseudonyms), the rated set, tasks, teams and the run's verdicts.

    The raters' own scores, never adjudicated ones (a decision would make its clip's
    raters agree by fiat). Excluded raters are left out and gold checks too, unless
    ``with_excluded`` or ``with_gold`` puts them back, to show what they change.
    """
    ratings = ratings_frame(
        campaign=campaign,
        detailed=False,
        adjudicated=False,
        with_excluded=with_excluded,
        with_gold=with_gold,
    )
    return AgreementInputs(
        scoring=ScoringInputs(
            ratings=ratings,
            rated_set=rated_set(campaign=campaign),
            tasks=campaign_tasks(campaign=campaign),
            teams=entrant_teams(campaign=campaign),
        ),
        verdicts=run_verdicts(run=run) if run is not None else None,
        run=run,
    )


def data_hash_of(
    *, inputs: AgreementInputs, n_boot: int, seed: int, options: dict | None = None
) -> str:
    """The input hash (:mod:`evaluation.scoring.input_hash`) of a report's inputs and settings.

    ``options`` (with_excluded, with_gold) are hashed only when set, so that the hash of
    a default report stays what it was before they existed.
    """
    return input_hash(
        ratings=inputs.scoring.ratings,
        rated_set=inputs.scoring.rated_set,
        tasks=inputs.scoring.tasks,
        teams=inputs.scoring.teams,
        parameters={
            "judge_run": inputs.run.pk if inputs.run is not None else None,
            "n_boot": n_boot,
            "seed": seed,
            **{key: value for key, value in (options or {}).items() if value},
        },
        verdicts=inputs.verdicts,
    )


def _checked_resamples(n_boot: int) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or not 0 <= n_boot <= MAX_RESAMPLES:
        raise AgreementRequestError(
            _("the number of bootstrap resamples must be an integer from 0 to %(max)s, not %(n)r")
            % {"max": MAX_RESAMPLES, "n": n_boot}
        )
    return n_boot


def campaign_agreement(
    *,
    campaign: Campaign,
    run: JudgeRun | None,
    n_boot: int = DEFAULT_RESAMPLES,
    seed: int | None = None,
    compute: bool = True,
    with_excluded: bool = False,
    with_gold: bool = False,
) -> CampaignAgreement | None:
    """The agreement report of ``campaign`` (humans, and ``run``'s judge against them).

    ``with_excluded`` and ``with_gold`` put excluded raters and gold checks back in (see
    :func:`agreement_inputs`); the result says which ratings the report rests on.

    ``seed`` defaults to the campaign's seed. From the cache when the same data was
    reported on with the same settings; otherwise computed and cached, unless
    ``compute`` is false, in which case None says that the report is not ready.
    """
    n_boot = _checked_resamples(n_boot)
    seed = campaign.seed if seed is None else seed
    options = {"with_excluded": with_excluded, "with_gold": with_gold}
    inputs = agreement_inputs(campaign=campaign, run=run, **options)
    if inputs.scoring.ratings.empty:
        raise AgreementRequestError(
            _("campaign %(campaign)r has no ratings yet: there is nothing to compare")
            % {"campaign": campaign.slug}
        )
    if run is not None and inputs.verdicts is not None and inputs.verdicts.empty:
        raise AgreementRequestError(
            _("judge run %(run)s has no verdict on a current clip: there is nothing to compare")
            % {"run": run.pk}
        )
    data_hash = data_hash_of(inputs=inputs, n_boot=n_boot, seed=seed, options=options)
    key = f"refscore:agreement:v{_REPORT_FORM_VERSION}:{campaign.pk}:{data_hash}"
    common = {
        "campaign_slug": campaign.slug,
        "run_id": run.pk if run is not None else None,
        "judge": str(run.judge) if run is not None else None,
        "n_boot": n_boot,
        "seed": seed,
        "data_hash": data_hash,
        **options,
        "excluded_raters": tuple(
            note.rater for note in exclusion_notes(campaign=campaign, active_only=True)
        ),
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
        ratings=inputs.scoring.ratings,
        verdicts=inputs.verdicts,
        rated_set=inputs.scoring.rated_set,
        tasks=inputs.scoring.tasks,
        teams=inputs.scoring.teams,
        n_boot=n_boot,
        seed=seed,
    )
    seconds = time.perf_counter() - started
    cache.set(key, {"report": report, "seconds": seconds}, CACHE_SECONDS)
    return CampaignAgreement(**common, report=report, from_cache=False, seconds=seconds)


# --- the clips behind the rows -------------------------------------------------------------


def current_clip_ids(*, campaign: Campaign, keys: list[tuple[str, str, str]]) -> dict:
    """``{(task, team, episode): clip id}`` of the teams' current clips, in one query."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = Clip.objects.filter(
        submission__in=current_submission_ids(campaign=campaign),
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
        raise AgreementRequestError(
            _("clip %(clip)s does not exist in campaign %(campaign)r")
            % {"clip": clip_id, "campaign": campaign.slug}
        )
    ratings = [
        PairRating(
            rater=rater_pseudonym(user_id=user_id, campaign_slug=campaign.slug),
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
