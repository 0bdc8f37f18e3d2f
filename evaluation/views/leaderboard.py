"""Organizer pages of scoring: the leaderboard, its figure, the drill-down to clips."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from annotate.access import organizer_required
from annotate.models import Campaign, Task, Team
from evaluation import figures, selectors
from evaluation.exports import CONTENT_TYPES, INPUT_HASH_HEADER
from evaluation.scoring import SCORE_MAX, ScoringInputError
from evaluation.selectors.reliability import exclusion_effect


class ComparisonForm(forms.Form):
    candidate = forms.ChoiceField(label=gettext_lazy("Candidate"))
    incumbent = forms.ChoiceField(label=gettext_lazy("Incumbent"))
    margin = forms.FloatField(
        min_value=0.0,
        max_value=float(SCORE_MAX),
        initial=0.0,
        label=gettext_lazy("Margin (points on the 0-3 scale)"),
    )

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
            raise forms.ValidationError(_("Choose two different teams."))
        return data


@organizer_required
@require_GET
def leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    context: dict = {"campaign": campaign, "result": None, "rows": [], "error": ""}
    try:
        result = selectors.campaign_leaderboard(campaign=campaign)
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
            comparison = selectors.campaign_comparison(
                campaign=campaign,
                candidate=form.cleaned_data["candidate"],
                incumbent=form.cleaned_data["incumbent"],
                margin=form.cleaned_data["margin"],
            )
        except ScoringInputError as exc:
            form.add_error(None, str(exc))
    context.update(
        result=result,
        rows=selectors.standing_rows(result, team_ids=team_ids),
        tasks=result.board.tasks,
        form=form,
        comparison=comparison.comparison if comparison else None,
        # 1 - confidence, the level the one-sided p must fall below for a pass
        gate_alpha=round(1.0 - comparison.parameters.confidence, 6) if comparison else None,
        # Excluded raters: a banner, and the scores with them beside the scores without.
        effect=exclusion_effect(campaign=campaign),
    )
    return render(request, "evaluation/leaderboard.html", context)


@organizer_required
@require_GET
def leaderboard_figure(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    if fmt not in figures.FIGURE_FORMATS:
        raise Http404(f"no figure format {fmt!r}")
    try:
        result = selectors.campaign_leaderboard(campaign=campaign)
    except ScoringInputError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(
        figures.leaderboard_figure(board=result.board, fmt=fmt), content_type=CONTENT_TYPES[fmt]
    )
    response[INPUT_HASH_HEADER] = result.input_hash
    return response


@organizer_required
@require_GET
def drilldown(request: HttpRequest, slug: str, team_id: int, task_key: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    team = get_object_or_404(Team, campaign=campaign, pk=team_id)
    task = get_object_or_404(Task, campaign=campaign, key=task_key)
    context = {
        "campaign": campaign,
        "team": team,
        "task": task,
        "clips": selectors.drilldown(campaign=campaign, team=team, task=task),
        # S(team, task) over E(task), unrated or missing clips counting 0: the leaderboard's.
        "task_score": selectors.campaign_task_score(campaign=campaign, team=team, task=task.key),
    }
    return render(request, "evaluation/drilldown.html", context)
