"""The organizer's API token page: list holders, issue or rotate, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from annotate import services
from annotate.access import organizer_required
from annotate.selectors import tokens as token_selectors

User = get_user_model()


def _page(request: HttpRequest, **extra) -> HttpResponse:
    context = {"holders": token_selectors.api_token_holders(), **extra}
    return render(request, "annotate/tokens.html", context)


@organizer_required
@require_GET
def tokens(request: HttpRequest) -> HttpResponse:
    return _page(request)


@organizer_required
@require_POST
@never_cache
def token_issue(request: HttpRequest) -> HttpResponse:
    user = get_object_or_404(User, username=request.POST.get("username", ""), is_active=True)
    key = services.api_token_issue(user=user, by=request.user)
    # Rendered, not redirected: the key is shown once and never stored in the session.
    return _page(request, issued={"username": user.username, "key": key})


@organizer_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    user = get_object_or_404(User, username=request.POST.get("username", ""))
    if services.api_token_revoke(user=user, by=request.user):
        messages.success(request, _("Token of %(user)s revoked.") % {"user": user.username})
    else:
        messages.info(request, _("%(user)s had no token.") % {"user": user.username})
    return redirect("tokens")
