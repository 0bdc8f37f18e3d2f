"""The organizer's answer to a problem report: the pair is fixed, or it is left out; and
the reopening of such an answer.

The reports are listed on the campaign's adjudication page (its "Problem reports"
section); these views take the decision and go back there, saying what was done or
why it was refused.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from annotate.access import organizer_required
from annotate.forms import form_problems
from annotate.models import Campaign, ProblemReport
from annotate.services.problems import (
    TEXT_MAX_CHARS,
    ProblemRefused,
    problem_reopen,
    problem_resolve,
)


class ProblemResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=[
            (ProblemReport.Status.FIXED, gettext_lazy("fixed: hand it out again")),
            (ProblemReport.Status.EXCLUDED, gettext_lazy("excluded: leave it out of rating")),
        ],
        label=gettext_lazy("Resolution"),
    )
    note = forms.CharField(required=False, max_length=TEXT_MAX_CHARS, label=gettext_lazy("Note"))


@organizer_required
@require_POST
def problem_resolve_view(request: HttpRequest, slug: str, report_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    back = reverse("adjudication", args=[campaign.slug]) + f"#problem-{report_id}"
    form = ProblemResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not resolved: %(why)s") % {"why": form_problems(form)})
        return redirect(back)
    try:
        resolved = problem_resolve(
            campaign=campaign,
            report_id=report_id,
            resolution=form.cleaned_data["resolution"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except ProblemRefused as exc:
        messages.error(request, _("Not resolved: %(why)s") % {"why": " ".join(exc.messages)})
        return redirect(back)
    if form.cleaned_data["resolution"] == ProblemReport.Status.FIXED:
        text = _("Fixed: the pair is handed out again (%(n)d report(s) closed).")
    else:
        text = _("Excluded: the pair is left out of rating (%(n)d report(s) closed).")
    messages.success(request, text % {"n": len(resolved)})
    return redirect(back)


class ProblemReopenForm(forms.Form):
    reason = forms.CharField(max_length=TEXT_MAX_CHARS, label=gettext_lazy("Reason"))


@organizer_required
@require_POST
def problem_reopen_view(request: HttpRequest, slug: str, report_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    back = reverse("adjudication", args=[campaign.slug]) + f"#problem-{report_id}"
    form = ProblemReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not reopened: %(why)s") % {"why": form_problems(form)})
        return redirect(back)
    try:
        reopened = problem_reopen(
            campaign=campaign,
            report_id=report_id,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ProblemRefused as exc:
        messages.error(request, _("Not reopened: %(why)s") % {"why": " ".join(exc.messages)})
        return redirect(back)
    messages.success(
        request,
        _("Reopened: the pair is out of rating until it is resolved again (%(n)d report(s)).")
        % {"n": len(reopened)},
    )
    return redirect(back)
