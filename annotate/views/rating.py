"""The rating page: the reference and the generated clip in sync, the rubric, the score."""

from __future__ import annotations

import json
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from annotate import services
from annotate.forms import form_problems
from annotate.marks import MAX_MARKS, mark_choices
from annotate.models import Assignment, Campaign, MediaAsset, ProblemReport
from annotate.rubric import ANSWERS_BY_SCORE, rubric_json
from annotate.selectors import rating_of
from annotate.selectors.problems import clip_hold_status
from annotate.services.problems import TEXT_MAX_CHARS, ProblemRefused, problem_report


class RatingForm(forms.Form):
    # Read like the API reads it: "3", " 3 " and "3.0" are 3; "3.5" and "4" are refused.
    score = forms.IntegerField(
        required=False, min_value=0, max_value=3, label=gettext_lazy("Score")
    )
    final_state = forms.NullBooleanField(
        required=False, label=gettext_lazy("Final object state as in the reference")
    )
    clean = forms.NullBooleanField(required=False, label=gettext_lazy("Clean episode"))
    motion = forms.NullBooleanField(
        required=False, label=gettext_lazy("Arm motion as in the reference")
    )
    comment = forms.CharField(required=False, max_length=5000, label=gettext_lazy("Comment"))
    time_on_page_s = forms.FloatField(
        required=False, min_value=0, label=gettext_lazy("Time on the page")
    )
    watched_reference = forms.FloatField(
        required=False, min_value=0, max_value=1, label=gettext_lazy("Reference watched")
    )
    watched_generated = forms.FloatField(
        required=False, min_value=0, max_value=1, label=gettext_lazy("Generated clip watched")
    )
    idempotency_key = forms.CharField(
        required=False, max_length=100, label=gettext_lazy("Form key")
    )
    # The break-point marks as JSON, [{"t": seconds, "label": name}] (annotate/marks.py).
    marks = forms.CharField(
        required=False, max_length=5000, strip=True, label=gettext_lazy("Break-point marks")
    )

    def clean_marks(self) -> list | None:
        text = self.cleaned_data.get("marks") or ""
        if not text:
            return None  # not sent: a revision keeps its marks
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("the marks are not readable JSON")) from exc


class ProblemReportForm(forms.Form):
    reason = forms.ChoiceField(
        choices=ProblemReport.Reason.choices, label=gettext_lazy("What is wrong")
    )
    text = forms.CharField(
        required=False, max_length=TEXT_MAX_CHARS, label=gettext_lazy("In your words")
    )


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
        ).annotate(clip_hold=clip_hold_status()),  # reported as broken, read with the row
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
    try:
        following = services.assignment_next(user=request.user, campaign=campaign)
    except services.RatingRefused as exc:  # the practice round comes first (a retry was allowed)
        messages.error(request, _("%(problem)s.") % {"problem": capfirst(" ".join(exc.messages))})
        return _go(request, reverse("queue") + suffix)
    if following is None:
        messages.success(
            request,
            _("%(campaign)s: every clip assigned to you is rated. Thank you!")
            % {"campaign": campaign.name},
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
        "problem_action": reverse("rate-problem", args=[assignment.pk]),
        "idempotency_key": context["idempotency_key"],
        "task": {
            "number": task.number,
            "title": task.localized_title,
            "instruction": task.localized_instruction,
        },
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
    try:
        following = services.assignment_next(user=request.user, campaign=campaign)
    except services.RatingRefused as exc:  # the practice round comes first: the queue says where
        messages.error(request, _("%(problem)s.") % {"problem": capfirst(" ".join(exc.messages))})
        return redirect("queue")
    if following is None:
        messages.info(request, _("No clip is waiting for you."))
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
        messages.error(request, _("%(problem)s.") % {"problem": capfirst(" ".join(exc.messages))})
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
        # The annotator's own break-point marks (never anyone else's), and what a mark says.
        "marks": rating.marks if rating is not None else [],
        "mark_labels": mark_choices(),
        "max_marks": MAX_MARKS,
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
        "score_choices": list(ANSWERS_BY_SCORE),  # highest first
        # The rubric table, read by the player to tie the score to the answers.
        "rubric_answers": rubric_json(),
        # One key per rendered form: the browser resubmitting it stores one rating.
        "idempotency_key": uuid.uuid4().hex,
        "problem_reasons": ProblemReport.Reason.choices,
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
        messages.error(
            request, _("The rating was not saved: %(why)s") % {"why": " ".join(exc.messages)}
        )
        return _go(request, reverse("rate", args=[assignment.pk]))
    if replayed is not None:
        # The form was sent again (a reload, a retry after a timeout): it is saved already.
        return _go_next(request, assignment.campaign, done=assignment.pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("The rating was not saved: %(why)s") % {"why": form_problems(form)}
        )
        return _go(request, reverse("rate", args=[assignment.pk]))
    data = {name: value for name, value in form.cleaned_data.items() if value is not None}
    data.pop("idempotency_key", None)
    data.setdefault("score", None)
    try:
        # A rated clip is revised; a first rating is stored (or found, if this form stored it).
        saved = services.rating_save(
            assignment=assignment, user=request.user, idempotency_key=key, **data
        )
    except services.RatingRefused as exc:
        messages.error(
            request, _("The rating was not saved: %(why)s") % {"why": " ".join(exc.messages)}
        )
        return _go(request, reverse("rate", args=[assignment.pk]))
    revising = saved.outcome in (services.RatingOutcome.REVISED, services.RatingOutcome.UNCHANGED)
    if saved.outcome == services.RatingOutcome.UNCHANGED:
        messages.info(request, _("No change: the rating stays as it was."))
    elif saved.outcome == services.RatingOutcome.REVISED:
        messages.success(request, _("Rating revised; the earlier version is kept."))
    # A revision's message is shown by the next page load, not by a swap.
    return _go_next(request, assignment.campaign, done=assignment.pk, swap=not revising)


@login_required
@require_POST
def rate_problem(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Report the pair as broken instead of rating it; the next clip follows."""
    assignment = _own_assignment(request, assignment_id)
    form = ProblemReportForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("The report was not sent: %(why)s") % {"why": form_problems(form)}
        )
        return redirect("rate", assignment_id=assignment.pk)
    try:
        problem_report(
            assignment=assignment,
            user=request.user,
            reason=form.cleaned_data["reason"],
            text=form.cleaned_data["text"],
        )
    except ProblemRefused as exc:
        messages.error(
            request, _("The report was not sent: %(why)s") % {"why": " ".join(exc.messages)}
        )
        return redirect("rate", assignment_id=assignment.pk)
    messages.success(
        request,
        _("Thank you: the pair is reported as broken and goes to the organizer, not to you."),
    )
    return _go_next(request, assignment.campaign, done=assignment.pk, swap=False)
