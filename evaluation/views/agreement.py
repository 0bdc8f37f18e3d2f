"""Organizer pages of agreement: the report, its figures and exports, and the pair review."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from annotate.access import organizer_required
from annotate.forms import form_problems
from annotate.models import Campaign
from annotate.selectors.marks import ClipMark, clip_marks, marks_config
from annotate.views.rating import media_info
from annotate.words import word
from evaluation import exports, figures
from evaluation.models import JudgeRun
from evaluation.scoring import ScoringInputError
from evaluation.selectors import agreement as agreement_selectors
from evaluation.selectors import judge as judge_selectors
from evaluation.selectors.ratings import rater_pseudonym

HUMANS_ONLY = "humans"
DISAGREEMENTS_SHOWN = 25
CONTENT_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
}
# Labels in the reader's language; the keys (as in the report's JSON and exports) stay.
RATER_STATS = {
    "krippendorff_alpha_ordinal": gettext_lazy("Krippendorff's alpha (ordinal)"),
    "krippendorff_alpha_interval": gettext_lazy("Krippendorff's alpha (interval)"),
    "fleiss_kappa": gettext_lazy("Fleiss' kappa"),
    "pairwise_qwk": gettext_lazy("Pairwise QWK (mean over rater pairs)"),
    "exact": gettext_lazy("Exact agreement"),
    "within1": gettext_lazy("Within-1 agreement"),
}
VIDEO_STATS = {
    "qwk": gettext_lazy("Quadratic-weighted kappa"),
    "spearman": gettext_lazy("Spearman's rho"),
    "kendall_tau_b": gettext_lazy("Kendall's tau-b"),
    "exact": gettext_lazy("Exact agreement"),
    "within1": gettext_lazy("Within-1 agreement"),
    "mae": gettext_lazy("Mean absolute error (points)"),
    "outcome_agreement": gettext_lazy("Outcome agreement (pass = 2 or 3)"),
    "krippendorff_alpha_ordinal_humans": gettext_lazy("Alpha (ordinal), humans alone"),
    "krippendorff_alpha_ordinal_with_judge": gettext_lazy("Alpha (ordinal), humans + judge"),
    "krippendorff_alpha_ordinal_delta": gettext_lazy("Alpha change when the judge joins"),
}
TEAM_STATS = {
    "pearson": gettext_lazy("Pearson's r of final scores"),
    "spearman": gettext_lazy("Spearman's rho of final scores"),
    "kendall_tau": gettext_lazy("Kendall's tau-b of final scores (ranking)"),
    "mmrv": gettext_lazy("MMRV (mean maximum rank violation)"),
    "top1_agree": gettext_lazy("Top-1 agreement"),
    "top3_agree": gettext_lazy("Top-3 agreement"),
}
TEAM_TASK_STATS = {
    "pearson": gettext_lazy("Pearson's r of S(team, task)"),
    "spearman": gettext_lazy("Spearman's rho of S(team, task)"),
    "kendall_tau": gettext_lazy("Kendall's tau-b of S(team, task)"),
}
PER_TASK_TEAM_STATS = {"pearson": "Pearson", "spearman": "Spearman", "kendall_tau": "Kendall"}


class AgreementQueryForm(forms.Form):
    # A judge run id, or HUMANS_ONLY for the humans alone.
    run = forms.CharField(required=False, label=gettext_lazy("Judge run"))
    boot = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=agreement_selectors.MAX_RESAMPLES,
        label=gettext_lazy("Bootstrap resamples"),
    )
    compute = forms.BooleanField(required=False, label=gettext_lazy("Compute now"))
    # What the report can put back to show its effect (quality review).
    with_excluded = forms.BooleanField(required=False, label=gettext_lazy("With excluded raters"))
    with_gold = forms.BooleanField(required=False, label=gettext_lazy("With gold checks"))

    def clean_run(self) -> str:
        value = self.cleaned_data["run"].strip()
        if value not in ("", HUMANS_ONLY) and not value.isdigit():
            raise forms.ValidationError(
                _("run must be a judge run id or %(humans)r") % {"humans": HUMANS_ONLY}
            )
        return value


@dataclass(frozen=True)
class Query:
    run: JudgeRun | None
    n_boot: int
    compute: bool
    with_excluded: bool = False
    with_gold: bool = False

    def params(self) -> dict[str, str | int]:
        # The run is always pinned, so that the figures and exports linked from a page
        # describe that page even if a newer run completes in between.
        params: dict[str, str | int] = {
            "run": self.run.pk if self.run else HUMANS_ONLY,
            "boot": self.n_boot,
        }
        params.update({key: 1 for key, value in self.options().items() if value})
        return params

    def options(self) -> dict[str, bool]:
        return {"with_excluded": self.with_excluded, "with_gold": self.with_gold}

    def querystring(self) -> str:
        return urlencode(self.params())


class BadQuery(Exception):
    """A query string the agreement pages cannot serve; the message says why."""


def _query(request: HttpRequest, campaign: Campaign) -> Query:
    form = AgreementQueryForm(request.GET)
    if not form.is_valid():
        raise BadQuery(form_problems(form))
    data = form.cleaned_data
    try:
        if data["run"] == HUMANS_ONLY:
            run = None
        else:
            run = agreement_selectors.judge_run_of(
                campaign=campaign, run_id=int(data["run"]) if data["run"] else None
            )
    except ScoringInputError as exc:
        raise BadQuery(str(exc)) from exc
    n_boot = data["boot"] if data["boot"] is not None else agreement_selectors.DEFAULT_RESAMPLES
    return Query(
        run=run,
        n_boot=n_boot,
        compute=data["compute"],
        with_excluded=data["with_excluded"],
        with_gold=data["with_gold"],
    )


@dataclass(frozen=True)
class StatRow:
    key: str
    label: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    reason: str | None


def _stat_row(*, key: str, label: str, stat: object) -> StatRow:
    if not isinstance(stat, dict):
        return StatRow(key, label, None, None, None, None, word("not computed", "stat reason"))
    return StatRow(
        key=key,
        label=label,
        value=stat.get("value"),
        ci_low=stat.get("ci_low"),
        ci_high=stat.get("ci_high"),
        n=stat.get("n"),
        # The reason as the reader says it; the report's JSON keeps evaluation.scoring's words.
        reason=word(stat["reason"], "stat reason") if stat.get("reason") else None,
    )


def _rows(entries: dict, prefix: str, labels: dict[str, str]) -> list[StatRow]:
    return [
        _stat_row(key=f"{prefix}.{key}", label=label, stat=entries.get(f"{prefix}.{key}"))
        for key, label in labels.items()
    ]


@dataclass(frozen=True)
class TaskRows:
    task: str
    raters: list[StatRow]
    video: list[StatRow]
    team: list[StatRow]


@dataclass(frozen=True)
class Disagreement:
    task: str
    team: str
    episode: str
    ratings: list[int]
    consensus: int
    judge: int
    abs_diff: int
    review_url: str | None


def _disagreements(
    *, campaign: Campaign, report: dict, query: Query, limit: int
) -> list[Disagreement]:
    # The core lists clips by |consensus - judge|, agreeing ones last: keep disagreements.
    records = [r for r in report.get("largest_disagreements") or [] if r["abs_diff"] > 0][:limit]
    keys = [(str(r["task"]), str(r["team"]), str(r["episode"])) for r in records]
    clip_ids = agreement_selectors.current_clip_ids(campaign=campaign, keys=keys)
    rows = []
    for record, key in zip(records, keys, strict=True):
        clip_id = clip_ids.get(key)
        rows.append(
            Disagreement(
                task=key[0],
                team=key[1],
                episode=key[2],
                ratings=list(record["ratings"]),
                consensus=int(record["consensus"]),
                judge=int(record["judge"]),
                abs_diff=int(record["abs_diff"]),
                review_url=(
                    reverse("agreement-pair", args=[campaign.slug, clip_id])
                    + f"?run={query.run.pk}"
                    if clip_id is not None and query.run is not None
                    else None
                ),
            )
        )
    return rows


def _report_context(
    *, campaign: Campaign, result: agreement_selectors.CampaignAgreement, query: Query
) -> dict:
    report = result.report
    per_task = report.get("per_task") or {}
    has_judge = result.run_id is not None
    querystring = query.querystring()
    figure_links = [
        {
            "name": name,
            "caption": figures.FIGURES[name][0],
            **{
                fmt: reverse("agreement-figure", args=[campaign.slug, name, fmt])
                + "?"
                + querystring
                for fmt in figures.FIGURE_FORMATS
            },
        }
        for name in figures.available_figures(report=report)
    ]
    return {
        "report": report,
        "meta": report.get("meta", {}),
        "rater_rows": _rows(report, "raters", RATER_STATS),
        "video_rows": _rows(report, "video", VIDEO_STATS) if has_judge else [],
        "team_rows": _rows(report, "team", TEAM_STATS) if has_judge else [],
        "team_task_rows": _rows(report, "team_task", TEAM_TASK_STATS) if has_judge else [],
        "task_rows": [
            TaskRows(
                task=task,
                raters=_rows(entries, "raters", RATER_STATS),
                video=_rows(entries, "video", VIDEO_STATS) if has_judge else [],
                team=_rows(entries, "team", PER_TASK_TEAM_STATS) if has_judge else [],
            )
            for task, entries in per_task.items()
        ],
        "rater_labels": list(RATER_STATS.values()),
        "video_labels": list(VIDEO_STATS.values()),
        "per_task_team_labels": list(PER_TASK_TEAM_STATS.values()),
        "video_counts": {
            key: report.get(f"video.{key}")
            for key in ("n_clips", "n_missing_verdicts", "n_unrated_verdicts")
        },
        "confusion": [
            {"human": human, "counts": counts}
            for human, counts in enumerate(report.get("video.confusion") or [])
        ],
        "teams": report.get("teams") or [],
        "rank_changes": report.get("rank_changes") or [],
        "disagreements": _disagreements(
            campaign=campaign, report=report, query=query, limit=DISAGREEMENTS_SHOWN
        ),
        "figures": figure_links,
        "per_rater": report.get("per_rater") or [],
        "exports": {
            fmt: reverse("agreement-export", args=[campaign.slug, fmt]) + "?" + querystring
            for fmt in ("json", "csv")
        },
    }


@organizer_required
@require_GET
def agreement(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    context: dict = {
        "campaign": campaign,
        "runs": agreement_selectors.completed_runs(campaign=campaign),
        "humans_only": HUMANS_ONLY,
        "error": "",
        "result": None,
        "query": None,
    }
    try:
        query = _query(request, campaign)
        context["query"] = query
        # A first visit only shows a note; the bootstrap runs on the follow-up request
        # while the browser keeps that note on screen.
        result = agreement_selectors.campaign_agreement(
            campaign=campaign,
            run=query.run,
            n_boot=query.n_boot,
            compute=query.compute,
            **query.options(),
        )
    except (BadQuery, ScoringInputError) as exc:
        context["error"] = str(exc)
        return render(request, "evaluation/agreement.html", context, status=400)
    if result is None:
        context["compute_url"] = (
            reverse("agreement", args=[slug]) + "?" + urlencode({**query.params(), "compute": 1})
        )
        return render(request, "evaluation/agreement.html", context)
    context["result"] = result
    context.update(_report_context(campaign=campaign, result=result, query=query))
    return render(request, "evaluation/agreement.html", context)


def _computed(request: HttpRequest, campaign: Campaign) -> agreement_selectors.CampaignAgreement:
    try:
        query = _query(request, campaign)
        result = agreement_selectors.campaign_agreement(
            campaign=campaign, run=query.run, n_boot=query.n_boot, **query.options()
        )
    except (BadQuery, ScoringInputError) as exc:
        raise Http404(str(exc)) from exc
    assert result is not None  # computed on demand
    return result


@organizer_required
@require_GET
def agreement_figure(request: HttpRequest, slug: str, name: str, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    if fmt not in figures.FIGURE_FORMATS or name not in figures.FIGURES:
        raise Http404(f"no figure {name}.{fmt}")
    result = _computed(request, campaign)
    try:
        content = figures.agreement_figure(report=result.report, name=name, fmt=fmt)
    except figures.FigureError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'inline; filename="{slug}-agreement-{name}.{fmt}"'
    return response


@organizer_required
@require_GET
def agreement_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    if fmt not in ("json", "csv"):
        raise Http404(f"no export format {fmt!r}")
    result = _computed(request, campaign)
    render_file = exports.report_json if fmt == "json" else exports.report_csv
    response = HttpResponse(render_file(report=result.report), content_type=CONTENT_TYPES[fmt])
    run_part = f"run{result.run_id}" if result.run_id is not None else HUMANS_ONLY
    response["Content-Disposition"] = f'attachment; filename="{slug}-agreement-{run_part}.{fmt}"'
    return response


@organizer_required
@require_GET
def pair_review(request: HttpRequest, slug: str, clip_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        query = _query(request, campaign)
        review = agreement_selectors.pair_review(campaign=campaign, clip_id=clip_id, run=query.run)
    except (BadQuery, ScoringInputError) as exc:
        raise Http404(str(exc)) from exc
    clip = review.clip
    marks = clip_marks(clip=clip)
    other_judges = [
        score
        for score in judge_selectors.judge_scores_by_clip(
            campaign=campaign, clip_ids=[clip.pk]
        ).get(clip.pk, [])
        if query.run is None or score.run_id != query.run.pk
    ]
    context = {
        "campaign": campaign,
        "review": review,
        "clip": clip,
        "run": query.run,
        "other_judges": other_judges,
        "back_url": reverse("agreement", args=[slug]) + "?" + query.querystring(),
        "config": {
            "reference": media_info(clip.episode.reference),
            "generated": media_info(clip.asset),
            # Every rater's break points, as ticks on the player's bar, by pseudonym.
            "marks": marks_config(marks, who=lambda mark: _pseudonym(mark, slug)),
        },
        "marks": [(_pseudonym(mark, slug), mark) for mark in marks],
    }
    return render(request, "evaluation/pair_review.html", context)


def _pseudonym(mark: ClipMark, slug: str) -> str:
    return rater_pseudonym(user_id=mark.annotator_id, campaign_slug=slug)
