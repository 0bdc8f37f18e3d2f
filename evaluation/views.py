"""Organizer pages of scoring: the leaderboard, the drill-down to clips, the exports."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotate.access import organizer_required
from annotate.models import Campaign, Task, Team
from evaluation import selectors, services
from evaluation.scoring import DISPLAY_DECIMALS, SCORE_MAX, ScoringInputError, protocol_counts
from evaluation.services.scoring import CONTENT_TYPES, INPUT_HASH_HEADER

EXPORT_LABELS = {
    "rankings": "Rankings: rank, team, final score, interval, rank probability, coverage, "
    "per-task scores with N3/N2/N1/N0, missing and N_total",
    "ratings": "Ratings: one row per rating, raters as pseudonyms",
    "episodes": "Episodes: the rated set, for an offline re-ranking",
}


def _percent(value: float) -> float:
    return round(100.0 * min(max(value, 0.0), SCORE_MAX) / SCORE_MAX, 2)


@dataclass(frozen=True)
class TaskCell:
    task: str
    score: float
    ci_low: float
    ci_high: float
    n3: int
    n2: int
    n1: int
    n0: int
    n_missing: int  # ratings counting 0: episodes not submitted, rejected or not rated yet
    n_total: int  # the protocol's denominator, in ratings
    reproduces_score: bool  # (3·N3 + 2·N2 + N1) / N_total == score
    n_ratings: int
    n_expected_ratings: int  # the team's submitted clips in E(task) x raters per cell


@dataclass(frozen=True)
class StandingRow:
    rank: int
    team: str
    team_id: int | None
    final_score: float
    ci_low: float
    ci_high: float
    rank_probability: float
    n_ratings: int
    n_total: int
    coverage_percent: float  # n_ratings of n_total, as in the rankings export
    bar_left: float  # the interval drawn on a 0-3 scale, in percent of the width
    bar_width: float
    marker: float
    tasks: list[TaskCell]


def _standing_rows(result: services.CampaignLeaderboard, team_ids: dict[str, int]) -> list:
    rows = []
    for standing in result.board.teams:
        cells = []
        for task in result.board.tasks:
            score = standing.tasks[task]
            counts = protocol_counts(score, raters_per_cell=result.raters_per_cell)
            cell = result.cell_coverage(team=standing.team, task=task)
            cells.append(
                TaskCell(
                    task=task,
                    score=score.score,
                    ci_low=score.ci_low,
                    ci_high=score.ci_high,
                    n3=counts.n3,
                    n2=counts.n2,
                    n1=counts.n1,
                    n0=counts.n0,
                    n_missing=counts.n_missing,
                    n_total=counts.n_total,
                    reproduces_score=abs(counts.score - score.score) < 1e-9,
                    n_ratings=counts.n_ratings,
                    n_expected_ratings=cell.n_expected,
                )
            )
        n_ratings = sum(cell.n_ratings for cell in cells)
        n_total = sum(cell.n_total for cell in cells)
        rows.append(
            StandingRow(
                rank=standing.rank,
                team=standing.team,
                team_id=team_ids.get(standing.team),
                final_score=standing.final_score,
                ci_low=standing.ci_low,
                ci_high=standing.ci_high,
                rank_probability=standing.rank_probability,
                n_ratings=n_ratings,
                n_total=n_total,
                coverage_percent=round(100.0 * n_ratings / n_total, 1) if n_total else 0.0,
                bar_left=_percent(standing.ci_low),
                bar_width=round(_percent(standing.ci_high) - _percent(standing.ci_low), 2),
                marker=_percent(standing.final_score),
                tasks=cells,
            )
        )
    return rows


class ComparisonForm(forms.Form):
    candidate = forms.ChoiceField()
    incumbent = forms.ChoiceField()
    margin = forms.FloatField(min_value=0.0, max_value=float(SCORE_MAX), initial=0.0)

    def __init__(self, *args, teams: list[str], **kwargs) -> None:
        """``teams`` best first: the form opens on the first against the second."""
        super().__init__(*args, **kwargs)
        choices = [(team, team) for team in teams]
        self.fields["candidate"].choices = choices
        self.fields["incumbent"].choices = choices
        if len(teams) >= 2:
            self.fields["candidate"].initial = teams[0]
            self.fields["incumbent"].initial = teams[1]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("candidate") and data.get("candidate") == data.get("incumbent"):
            raise forms.ValidationError("Choose two different teams.")
        return data


@organizer_required
@require_GET
def leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    context: dict = {"campaign": campaign, "result": None, "rows": [], "error": ""}
    try:
        result = services.campaign_leaderboard(campaign=campaign)
    except ScoringInputError as exc:
        context["error"] = str(exc)
        return render(request, "evaluation/leaderboard.html", context)
    team_ids = dict(Team.objects.filter(campaign=campaign).values_list("name", "pk"))
    teams = [standing.team for standing in result.board.teams]
    # The gate runs only when asked for: the form is submitted with GET (a read).
    asked = "candidate" in request.GET
    form = ComparisonForm(request.GET if asked else None, teams=teams)
    comparison = None
    if asked and form.is_valid():
        try:
            comparison = services.campaign_comparison(
                campaign=campaign,
                candidate=form.cleaned_data["candidate"],
                incumbent=form.cleaned_data["incumbent"],
                margin=form.cleaned_data["margin"],
            )
        except ScoringInputError as exc:
            form.add_error(None, str(exc))
    context.update(
        result=result,
        rows=_standing_rows(result, team_ids),
        tasks=result.board.tasks,
        form=form,
        comparison=comparison.comparison if comparison else None,
        # 1 - confidence, the level the one-sided p must fall below for a pass
        gate_alpha=round(1.0 - comparison.parameters.confidence, 6) if comparison else None,
    )
    return render(request, "evaluation/leaderboard.html", context)


@organizer_required
@require_GET
def leaderboard_figure(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    if fmt not in services.scoring.FIGURE_FORMATS:
        raise Http404(f"no figure format {fmt!r}")
    try:
        result = services.campaign_leaderboard(campaign=campaign)
    except ScoringInputError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(
        services.leaderboard_figure(board=result.board, fmt=fmt), content_type=CONTENT_TYPES[fmt]
    )
    response[INPUT_HASH_HEADER] = result.input_hash
    return response


@organizer_required
@require_GET
def drilldown(request: HttpRequest, slug: str, team_id: int, task_key: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    team = get_object_or_404(Team, campaign=campaign, pk=team_id)
    task = get_object_or_404(Task, campaign=campaign, key=task_key)
    clips = selectors.drilldown(campaign=campaign, team=team, task=task)
    scores = [clip.clip_score or 0.0 for clip in clips]
    context = {
        "campaign": campaign,
        "team": team,
        "task": task,
        "clips": clips,
        # S(team, task) over E(task), unrated or missing clips counting 0.
        "task_score": sum(scores) / len(scores) if scores else 0.0,
    }
    return render(request, "evaluation/drilldown.html", context)


@organizer_required
@require_GET
def exports(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    summary = services.campaign_export_summary(campaign=campaign)
    context = {
        "campaign": campaign,
        "kinds": [(what, EXPORT_LABELS[what]) for what in services.EXPORT_KINDS],
        "formats": services.EXPORT_FORMATS,
        "parameters": summary.parameters,
        "n_ratings": summary.n_ratings,
        "input_hash": summary.input_hash,
        "decimals": DISPLAY_DECIMALS,
    }
    return render(request, "evaluation/exports.html", context)


def export_response(file: services.ExportFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response[INPUT_HASH_HEADER] = file.input_hash
    return response


@organizer_required
@require_GET
def export_download(request: HttpRequest, slug: str, what: str, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        file = services.campaign_export(campaign=campaign, what=what, fmt=fmt)
    except ScoringInputError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return export_response(file)
