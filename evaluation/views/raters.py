"""Organizer pages of quality review: rater reliability, exclusions, adjudication.

Thin: each view parses a form, calls one service or selector, and renders. The
services (``annotate.services.review``) refuse with a message that the page shows as
it is.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from annotate.access import organizer_required
from annotate.models import Campaign, RaterExclusion
from annotate.selectors.problems import problem_reports
from annotate.services import review
from evaluation.figures import FIGURE_FORMATS, FigureError
from evaluation.rater_figures import rater_figure
from evaluation.scoring.reliability import FLAGS
from evaluation.selectors import adjudication as adjudication_selectors
from evaluation.selectors import reliability as selectors

CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "png": "image/png",
    "svg": "image/svg+xml",
}


# Every field has a label in the reader's language: Django's own default is the field's
# Python name, in English ("Reason", "Flag fast ratio").
REASON_LABEL = gettext_lazy("Reason")


class ExcludeForm(forms.Form):
    rater = forms.CharField(max_length=150, label=gettext_lazy("Rater (username or pseudonym)"))
    since = forms.DateTimeField(
        required=False,
        label=gettext_lazy("From (empty: all their ratings)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    reason = forms.CharField(
        label=REASON_LABEL,
        max_length=review.REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=REASON_LABEL,
        max_length=review.REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(ReasonForm):
    score = forms.TypedChoiceField(
        label=gettext_lazy("Score"), choices=[(s, s) for s in range(4)], coerce=int
    )


class ExtraRaterForm(forms.Form):
    reason = forms.CharField(
        label=REASON_LABEL,
        required=False,
        max_length=review.REASON_MAX_CHARS,
        widget=forms.TextInput(),
    )


# The name of each setting of review.THRESHOLD_RANGES on the page; the model's help text
# (Campaign) says how it is used.
THRESHOLD_LABELS = {
    "reliability_min_clips": gettext_lazy("Fewest rated clips to flag a rater"),
    "flag_fast_ratio": gettext_lazy("Fast: time per clip under (× the pair's duration)"),
    "flag_min_kappa": gettext_lazy("Disagrees: kappa with the consensus under"),
    "flag_straight_line_share": gettext_lazy("Straight line: share of one score at least"),
    "flag_min_gold_accuracy": gettext_lazy("Gold: share of gold clips right under"),
    "flag_gold_min_clips": gettext_lazy("Gold: fewest rated gold clips"),
    "adjudication_range": gettext_lazy("Adjudication: ratings spanning at least (points)"),
}


class ThresholdsForm(forms.Form):
    """The campaign's flag thresholds and adjudication range, each within its range."""

    def __init__(self, *args, campaign: Campaign, **kwargs) -> None:
        initial = {name: getattr(campaign, name) for name in review.THRESHOLD_RANGES}
        super().__init__(*args, initial=initial, **kwargs)
        for name, (low, high, integer) in review.THRESHOLD_RANGES.items():
            field_class = forms.IntegerField if integer else forms.FloatField
            self.fields[name] = field_class(
                min_value=low,
                max_value=high,
                label=THRESHOLD_LABELS[name],
                help_text=Campaign._meta.get_field(name).help_text,
            )


def _raters_page(request: HttpRequest, campaign: Campaign, status: int = 200, **extra):
    report = selectors.rater_report(campaign=campaign)
    context = {
        "campaign": campaign,
        "report": report,
        "flags": FLAGS,
        "history": selectors.exclusion_notes(campaign=campaign),
        "exclude_form": ExcludeForm(),
        "thresholds_form": ThresholdsForm(campaign=campaign),
        **extra,
    }
    return render(request, "evaluation/raters.html", context, status=status)


@organizer_required
@require_GET
def raters(request: HttpRequest, slug: str) -> HttpResponse:
    """Every rater with agreement, bias, gold, time per clip, straight-lining and flags."""
    return _raters_page(request, get_object_or_404(Campaign, slug=slug))


@organizer_required
@require_GET
def raters_report(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    if fmt not in selectors.REPORT_FORMATS:
        raise Http404(f"no report format {fmt!r}")
    report = selectors.rater_report(campaign=campaign)
    content = (
        selectors.rater_report_json(report) if fmt == "json" else selectors.rater_report_csv(report)
    )
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-raters.{fmt}"'
    return response


@organizer_required
@require_GET
def raters_figure(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    if fmt not in FIGURE_FORMATS:
        raise Http404(f"no figure format {fmt!r}")
    report = selectors.rater_report(campaign=campaign)
    try:
        content = rater_figure(
            rows=[row.as_json() for row in report.rows],
            min_kappa=report.thresholds.min_kappa,
            fmt=fmt,
        )
    except FigureError as exc:
        raise Http404(str(exc)) from exc
    return HttpResponse(content, content_type=CONTENT_TYPES[fmt])


@organizer_required
@require_POST
def rater_exclude(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = ExcludeForm(request.POST)
    if not form.is_valid():
        return _raters_page(request, campaign, 400, exclude_form=form)
    user = selectors.rater_user(campaign=campaign, name=form.cleaned_data["rater"].strip())
    if user is None:
        form.add_error("rater", _("Nobody with work in this campaign has this name."))
        return _raters_page(request, campaign, 400, exclude_form=form)
    try:
        review.rater_exclude(
            campaign=campaign,
            annotator=user,
            reason=form.cleaned_data["reason"],
            since=form.cleaned_data["since"],
            by=request.user,
        )
    except review.ReviewRefused as exc:
        form.add_error(None, str(exc))
        return _raters_page(request, campaign, 400, exclude_form=form)
    messages.success(request, _("%(user)s's ratings are excluded.") % {"user": user.username})
    return redirect(reverse("raters", args=[campaign.slug]))


@organizer_required
@require_POST
def rater_exclusion_lift(request: HttpRequest, slug: str, exclusion_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    exclusion = get_object_or_404(RaterExclusion, campaign=campaign, pk=exclusion_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _raters_page(request, campaign, 400, lift_error=_("Lifting needs a reason."))
    try:
        review.rater_exclusion_lift(
            exclusion=exclusion, reason=form.cleaned_data["reason"], by=request.user
        )
    except review.ReviewRefused as exc:
        return _raters_page(request, campaign, 400, lift_error=str(exc))
    messages.success(request, _("The exclusion is lifted; the ratings count again."))
    return redirect(reverse("raters", args=[campaign.slug]))


@organizer_required
@require_POST
def raters_thresholds(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = ThresholdsForm(request.POST, campaign=campaign)
    if not form.is_valid():
        return _raters_page(request, campaign, 400, thresholds_form=form)
    try:
        review.review_settings_update(
            campaign=campaign, **{name: form.cleaned_data[name] for name in review.THRESHOLD_RANGES}
        )
    except review.ReviewRefused as exc:
        form.add_error(None, str(exc))
        return _raters_page(request, campaign, 400, thresholds_form=form)
    messages.success(request, _("Thresholds saved."))
    return redirect(reverse("raters", args=[campaign.slug]))


# --- adjudication --------------------------------------------------------------------------


def _adjudication_page(request: HttpRequest, campaign: Campaign, status: int = 200, **extra):
    queue = adjudication_selectors.adjudication_queue(campaign=campaign)
    counts = {s: sum(item.status == s for item in queue) for s in adjudication_selectors.STATUSES}
    context = {
        "campaign": campaign,
        "queue": queue,
        "counts": counts,
        "exclusions": selectors.exclusion_notes(campaign=campaign, active_only=True),
        # Pairs annotators reported as broken (annotate/services/problems.py).
        "problems": problem_reports(campaign=campaign),
        **extra,
    }
    return render(request, "evaluation/adjudication.html", context, status=status)


@organizer_required
@require_GET
def adjudication(request: HttpRequest, slug: str) -> HttpResponse:
    """Clips whose ratings disagree or whose rater was excluded, with what was done."""
    return _adjudication_page(request, get_object_or_404(Campaign, slug=slug))


def _adjudication_action(request: HttpRequest, slug: str, clip_id: int, *, form_class, act):
    campaign = get_object_or_404(Campaign, slug=slug)
    form = form_class(request.POST)
    if not form.is_valid():
        problem = "; ".join(
            f"{form[k].label if k in form.fields else k}: {' '.join(v)}"
            for k, v in form.errors.items()
        )
        return _adjudication_page(request, campaign, 400, error=problem, error_clip=clip_id)
    try:
        act(campaign, form.cleaned_data)
    except review.ReviewRefused as exc:
        return _adjudication_page(request, campaign, 400, error=str(exc), error_clip=clip_id)
    return redirect(reverse("adjudication", args=[campaign.slug]) + f"#clip-{clip_id}")


@organizer_required
@require_POST
def adjudication_extra_rater(request: HttpRequest, slug: str, clip_id: int) -> HttpResponse:
    def act(campaign: Campaign, data: dict) -> None:
        action = review.adjudication_extra_rater(
            campaign=campaign, clip_id=clip_id, reason=data["reason"], by=request.user
        )
        messages.success(
            request,
            _("%(user)s is asked to rate the clip.")
            % {"user": action.assignment.annotator.username},
        )

    return _adjudication_action(request, slug, clip_id, form_class=ExtraRaterForm, act=act)


@organizer_required
@require_POST
def adjudication_decide(request: HttpRequest, slug: str, clip_id: int) -> HttpResponse:
    def act(campaign: Campaign, data: dict) -> None:
        review.adjudication_decide(
            campaign=campaign,
            clip_id=clip_id,
            score=data["score"],
            reason=data["reason"],
            by=request.user,
        )
        messages.success(request, _("Score decided."))

    return _adjudication_action(request, slug, clip_id, form_class=DecisionForm, act=act)


@organizer_required
@require_POST
def adjudication_withdraw(request: HttpRequest, slug: str, clip_id: int) -> HttpResponse:
    def act(campaign: Campaign, data: dict) -> None:
        review.adjudication_withdraw(
            campaign=campaign, clip_id=clip_id, reason=data["reason"], by=request.user
        )
        messages.success(request, _("Decision withdrawn; the ratings count again."))

    return _adjudication_action(request, slug, clip_id, form_class=ReasonForm, act=act)


@organizer_required
@require_GET
def adjudication_actions(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The record of every adjudication action, as CSV or JSON."""
    campaign = get_object_or_404(Campaign, slug=slug)
    if fmt not in adjudication_selectors.ACTION_FORMATS:
        raise Http404(f"no format {fmt!r}")
    content = adjudication_selectors.adjudication_actions_export(campaign=campaign, fmt=fmt)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-adjudications.{fmt}"'
    return response
