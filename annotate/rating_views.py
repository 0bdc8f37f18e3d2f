"""The rating page: the reference and the generated clip in sync, the rubric, the score."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotate import services
from annotate.models import Assignment, Campaign, MediaAsset
from annotate.selectors import rating_of


class RatingForm(forms.Form):
    # Read like the API reads it: "3", " 3 " and "3.0" are 3; "3.5" and "4" are refused.
    score = forms.IntegerField(required=False, min_value=0, max_value=3)
    final_state = forms.NullBooleanField(required=False)
    clean = forms.NullBooleanField(required=False)
    motion = forms.NullBooleanField(required=False)
    comment = forms.CharField(required=False, max_length=5000)
    time_on_page_s = forms.FloatField(required=False, min_value=0)
    watched_reference = forms.FloatField(required=False, min_value=0, max_value=1)
    watched_generated = forms.FloatField(required=False, min_value=0, max_value=1)
    idempotency_key = forms.CharField(required=False, max_length=100)


def media_info(asset: MediaAsset) -> dict:
    """What the player needs about one clip, under its opaque URL and nothing else."""
    return {
        "video": reverse("media", kwargs={"token": asset.token, "kind": "video"}),
        "poster": reverse("media", kwargs={"token": asset.token, "kind": "poster"})
        if asset.poster
        else "",
        "fps": asset.fps,
        "frame_count": asset.frame_count,
        "duration_s": asset.duration_s,
        "width": asset.width,
        "height": asset.height,
    }


def _own_assignment(request: HttpRequest, assignment_id: int) -> Assignment:
    # Someone else's assignment is a 404, not a 403: its existence is not confirmed.
    return get_object_or_404(
        Assignment.objects.select_related(
            "annotator",
            "campaign",
            "clip__asset",
            "clip__episode__reference",
            "clip__episode__task",
        ),
        pk=assignment_id,
        annotator=request.user,
    )


def _wants_json(request: HttpRequest) -> bool:
    # The rating page's own script asks so, to swap in the next pair without a navigation.
    return request.headers.get("Accept", "").startswith("application/json")


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect; for the page's script, the same place as JSON, which it then loads."""
    if _wants_json(request):
        return JsonResponse({"location": url})
    return redirect(url)


def _go_next(
    request: HttpRequest, campaign: Campaign, done: int | None = None, *, swap: bool = True
) -> HttpResponse:
    suffix = f"?done={done}" if done else ""
    following = services.assignment_next(user=request.user, campaign=campaign)
    if following is None:
        messages.success(
            request, f"{campaign.name}: every clip assigned to you is rated. Thank you!"
        )
        return _go(request, reverse("queue") + suffix)
    url = reverse("rate", args=[following.pk]) + suffix
    if swap and _wants_json(request):
        page = _next_pair(request, following.pk, done=done)
        if page is not None:
            return JsonResponse({"location": url, "page": page})
    return _go(request, url)


def _next_pair(request: HttpRequest, assignment_id: int, *, done: int | None) -> dict | None:
    """What the open rating page needs to show the next clip in place of the one just rated.

    The same data the page renders, and no more; None where the page itself must be
    loaded (the clip was rated before, the campaign takes no rating, it cannot be opened).
    """
    try:
        assignment = services.assignment_open(
            assignment=_own_assignment(request, assignment_id), user=request.user
        )
    except services.RatingRefused:
        return None  # the page says why, as it does when opened directly
    context = _page_context(request, assignment, done=done)
    if context["rating"] is not None or context["config"]["locked"]:
        return None
    task, position = context["task"], context["position"]
    return {
        "config": context["config"],
        "action": reverse("rate-submit", args=[assignment.pk]),
        "idempotency_key": context["idempotency_key"],
        "task": {"number": task.number, "title": task.title, "instruction": task.instruction},
        "position": {
            "position": position.position,
            "total": position.total,
            "done": position.done,
        },
    }


@login_required
@require_POST
def rate_next(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("campaign", "")
    campaign = get_object_or_404(Campaign, slug=slug) if slug else None
    following = services.assignment_next(user=request.user, campaign=campaign)
    if following is None:
        messages.info(request, "No clip is waiting for you.")
        return redirect("queue")
    return redirect("rate", assignment_id=following.pk)


@login_required
@require_GET
def rate(request: HttpRequest, assignment_id: int) -> HttpResponse:
    try:
        assignment = services.assignment_open(
            assignment=_own_assignment(request, assignment_id), user=request.user
        )
    except services.RatingRefused as exc:
        messages.error(request, " ".join(exc.messages).capitalize() + ".")
        return redirect("queue")
    context = _page_context(request, assignment, done=request.GET.get("done", ""))
    return render(request, "annotate/rate.html", context)


def _page_context(request: HttpRequest, assignment: Assignment, *, done: int | str | None) -> dict:
    rating = rating_of(assignment=assignment)
    upcoming = services.assignment_upcoming(
        user=request.user, campaign=assignment.campaign, exclude=assignment
    )
    campaign = assignment.campaign
    following = (
        {
            "reference": media_info(upcoming.clip.episode.reference),
            "generated": media_info(upcoming.clip.asset),
        }
        if upcoming
        else None
    )
    config = {
        "assignment": assignment.pk,
        "reference": media_info(assignment.clip.episode.reference),
        "generated": media_info(assignment.clip.asset),
        "require_full_watch": campaign.require_full_watch and rating is None,
        "full_watch_min": services.FULL_WATCH_MIN,
        # The player's lock: no rating while the campaign does not take any.
        "locked": not campaign.accepts_ratings,
        "rated": rating is not None,
        "cleared_draft": str(done or ""),
        # Preloaded below the page, and put on stage as soon as this clip is submitted.
        "upcoming": following,
    }
    return {
        "assignment": assignment,
        "campaign": campaign,
        "task": assignment.clip.episode.task,
        "position": services.assignment_position(assignment=assignment),
        "rating": rating,
        "config": config,
        "upcoming": following,
        "score_choices": [3, 2, 1, 0],
        # One key per rendered form: the browser resubmitting it stores one rating.
        "idempotency_key": uuid.uuid4().hex,
    }


@login_required
@require_POST
def rate_submit(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = _own_assignment(request, assignment_id)
    key = request.headers.get("Idempotency-Key") or request.POST.get("idempotency_key")
    try:
        replayed = services.rating_replayed(
            assignment=assignment, user=request.user, idempotency_key=key
        )
    except services.RatingRefused as exc:
        messages.error(request, f"The rating was not saved: {' '.join(exc.messages)}")
        return _go(request, reverse("rate", args=[assignment.pk]))
    if replayed is not None:
        # The form was sent again (a reload, a retry after a timeout): it is saved already.
        return _go_next(request, assignment.campaign, done=assignment.pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        messages.error(request, f"The rating was not saved: {problems}")
        return _go(request, reverse("rate", args=[assignment.pk]))
    data = {name: value for name, value in form.cleaned_data.items() if value is not None}
    data.pop("idempotency_key", None)
    data.setdefault("score", None)
    existing = rating_of(assignment=assignment)
    # A rating stored by this very form since the check above: rating_submit returns it.
    revising = existing is not None and existing.idempotency_key != (key or "").strip()
    try:
        if revising:
            revised = services.rating_revise(assignment=assignment, user=request.user, **data)
        else:
            services.rating_submit(
                assignment=assignment, user=request.user, idempotency_key=key, **data
            )
    except services.RatingRefused as exc:
        messages.error(request, f"The rating was not saved: {' '.join(exc.messages)}")
        return _go(request, reverse("rate", args=[assignment.pk]))
    if revising and revised.revision == existing.revision:
        messages.info(request, "No change: the rating stays as it was.")
    elif revising:
        messages.success(request, "Rating revised; the earlier version is kept.")
    # A revision's message is shown by the next page load, not by a swap.
    return _go_next(request, assignment.campaign, done=assignment.pk, swap=not revising)
