"""A team's results page and download, and the leaderboard of a published campaign.

Teams see their own results only once the campaign is published; the leaderboard page
opens to anyone when the organizers made it public, else to the campaign's teams.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotate.access import own_team
from annotate.models import Campaign
from annotate.selectors.teams import team_of
from evaluation.scoring import ScoringInputError
from evaluation.selectors import teams as results


@login_required
@require_GET
def team_results_page(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, team = own_team(request, slug)
    context: dict = {"campaign": campaign, "team": team, "results": None, "error": ""}
    if results.results_released(campaign=campaign):
        try:
            context["results"] = results.team_results(campaign=campaign, team=team)
        except ScoringInputError as exc:
            context["error"] = str(exc)
    return render(request, "evaluation/team_results.html", context)


@login_required
@require_GET
def team_results_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    campaign, team = own_team(request, slug)
    if fmt not in ("csv", "json") or not results.results_released(campaign=campaign):
        raise Http404("no such download")
    found = results.team_results(campaign=campaign, team=team)
    if fmt == "csv":
        body, content_type = results.team_results_csv(results=found), "text/csv"
    else:
        body = json.dumps(results.team_results_dict(results=found), indent=2).encode()
        content_type = "application/json"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-results.{fmt}"'
    return response


def leaderboard_visible(*, campaign: Campaign, user) -> bool:
    """Published, and public or read by one of its teams (or an organizer)."""
    if not results.results_released(campaign=campaign):
        return False
    if campaign.leaderboard_public or (user.is_active and user.is_staff):
        return True
    return team_of(campaign=campaign, user=user) is not None


@require_GET
def public_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    if not leaderboard_visible(campaign=campaign, user=request.user):
        raise Http404("no published leaderboard here")
    context: dict = {"campaign": campaign, "rows": [], "error": ""}
    try:
        context["rows"], context["confidence"] = results.published_standings(campaign=campaign)
    except ScoringInputError as exc:
        context["error"] = str(exc)
    return render(request, "evaluation/public_leaderboard.html", context)
