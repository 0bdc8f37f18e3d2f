"""The organizer's assignment page: roster, plan preview and apply, moves, reclaims, progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from annotate import services
from annotate.access import organizer_required
from annotate.models import Campaign
from annotate.notice_text import text
from annotate.selectors import assignments as assignment_selectors

User = get_user_model()


@organizer_required
@require_GET
def assignments(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        plan = services.assignment_plan_preview(campaign=campaign)
        summary, plan_error = assignment_selectors.plan_summary(plan=plan), ""
    except services.AssignmentError as exc:
        summary, plan_error = None, str(exc)
    roster = assignment_selectors.campaign_roster(campaign=campaign)
    roster_names = [entry.username for entry in roster if entry.on_roster]
    holders = [entry.username for entry in roster if entry.progress.pending]
    context = {
        "campaign": campaign,
        "roster": roster,
        "roster_names": roster_names,
        "holders": holders,
        # Two different people by default: moving work to its own holder moves nothing.
        "move_to": next((name for name in roster_names if holders[:1] != [name]), ""),
        "candidates": assignment_selectors.annotator_candidates(campaign=campaign),
        "summary": summary,
        "plan_error": plan_error,
        "progress": assignment_selectors.assignment_progress(campaign=campaign),
    }
    return render(request, "annotate/assignments.html", context)


def _user_from(request: HttpRequest, field: str):
    return get_object_or_404(User, username=request.POST.get(field, ""))


def _done(request: HttpRequest, slug: str) -> HttpResponse:
    return redirect("assignments", slug=slug)


@organizer_required
@require_POST
def plan_apply(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        result = services.assignment_plan_apply(campaign=campaign)
    except services.AssignmentError as exc:
        messages.error(request, str(exc))
        return _done(request, slug)
    messages.success(request, _("Plan applied: %(n)s new assignments.") % {"n": result.created})
    for warning in result.warnings:
        messages.warning(request, text(warning))
    return _done(request, slug)


@organizer_required
@require_POST
def annotator_add(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    user = _user_from(request, "username")
    try:
        result = services.assignment_annotator_add(campaign=campaign, user=user)
    except services.AssignmentError as exc:
        messages.error(request, str(exc))
        return _done(request, slug)
    messages.success(
        request,
        _("%(user)s added to the roster; %(n)s new assignments.")
        % {"user": user.username, "n": result.created},
    )
    return _done(request, slug)


@organizer_required
@require_POST
def annotator_remove(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    user = _user_from(request, "username")
    try:
        services.assignment_annotator_remove(campaign=campaign, user=user)
    except services.AssignmentError as exc:
        messages.error(request, str(exc))
        return _done(request, slug)
    messages.success(request, _("%(user)s removed from the roster.") % {"user": user.username})
    return _done(request, slug)


@organizer_required
@require_POST
def move_pending(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    from_user, to_user = _user_from(request, "from_annotator"), _user_from(request, "to_annotator")
    try:
        result = services.assignment_move_pending(
            campaign=campaign, from_user=from_user, to_user=to_user
        )
    except services.AssignmentError as exc:
        messages.error(request, str(exc))
        return _done(request, slug)
    messages.success(
        request,
        _("Moved %(n)s pending clips from %(from)s to %(to)s.")
        % {"n": result.moved, "from": from_user.username, "to": to_user.username},
    )
    if result.blocked:
        reasons = sorted({text(blocked.reason) for blocked in result.blocked})
        messages.warning(
            request,
            _("%(n)s stayed: %(reasons)s")
            % {"n": len(result.blocked), "reasons": "; ".join(reasons)},
        )
    return _done(request, slug)


@organizer_required
@require_POST
def reclaim(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    raw = request.POST.get("minutes", "").strip()
    if raw and not raw.isdigit():
        messages.error(request, _("minutes must be a whole number, not %(raw)r") % {"raw": raw})
        return _done(request, slug)
    result = services.assignment_reclaim_stale(campaign=campaign, minutes=int(raw) if raw else None)
    messages.success(
        request,
        _("Reclaimed %(n)s assignments idle since before %(cutoff)s UTC.")
        % {"n": result.reclaimed, "cutoff": f"{result.cutoff:%Y-%m-%d %H:%M}"},
    )
    return _done(request, slug)
