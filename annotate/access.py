"""Who may open an organizer page, and a team's own pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from annotate.models import Campaign, Team
from annotate.selectors.teams import team_of

View = Callable[..., HttpResponseBase]


def organizer_required(view: View) -> View:
    """Guard an organizer page: organizers (active staff) only.

    Anonymous users are sent to the app's login page; a signed-in annotator gets a 403
    with the app's own page (templates/403.html) rather than the admin site's login form,
    which would only ask them to sign in again as someone else.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied(_("This page is for organizers."))
        return view(request, *args, **kwargs)

    return login_required(guarded)


def own_team(request: HttpRequest, slug: str) -> tuple[Campaign, Team]:
    """The campaign and the signed-in user's team in it: 404 without the campaign, 403 for
    anyone in no team of it (organizers included: a team's pages are the team's)."""
    campaign = get_object_or_404(Campaign, slug=slug)
    team = team_of(campaign=campaign, user=request.user)
    if team is None:
        raise PermissionDenied(_("This page is for the members of a team of this campaign."))
    return campaign, team
