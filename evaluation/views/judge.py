"""Organizer pages of the automated judge: launch, follow, cancel and resume runs; calibrate."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from annotate.access import organizer_required
from annotate.models import Campaign
from evaluation import selectors, services
from evaluation.judges import judges_available
from evaluation.models import JudgeRun
from evaluation.scoring import ScoringInputError
from evaluation.selectors import judge as judge_selectors
from evaluation.services.judge_calibration import L2_MAX, L2_MIN
from evaluation.services.judge_runs import MAX_CHUNK_SIZE

# The bootstrap on this page only draws the judge's intervals; fewer resamples keep it quick.
PAGE_RESAMPLES = 200


def judge_choices() -> list[tuple[str, str]]:
    """ "name" (the settings entry as configured now) and every stored "name@version"."""
    names = judges_available()
    choices = [(name, _("%(name)s (as configured now)") % {"name": name}) for name in names]
    for version in judge_selectors.judge_versions(names=names):
        calibrated = version.options.get("calibration")
        label = _("%(version)s · calibrated") % {"version": version} if calibrated else str(version)
        choices.append((f"{version.name}@{version.version}", label))
    return choices


class JudgeRunForm(forms.Form):
    judge = forms.ChoiceField(label=gettext_lazy("Judge"))
    chunk_size = forms.IntegerField(
        min_value=1, max_value=MAX_CHUNK_SIZE, initial=8, label=gettext_lazy("Clips per chunk")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["judge"].choices = judge_choices()


class CalibrateForm(forms.Form):
    judge = forms.ChoiceField(label=gettext_lazy("Judge"))
    seed = forms.IntegerField(initial=0, label=gettext_lazy("Seed"))
    l2 = forms.FloatField(
        required=False,
        min_value=L2_MIN,
        max_value=L2_MAX,
        label=gettext_lazy("Penalty strength (l2)"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["judge"].choices = [(name, name) for name in judges_available()]
        # Said in the reader's language, with the service's range.
        self.fields["l2"].help_text = _(
            "Empty: chosen by cross-validation over teams. A number from %(low)s to %(high)s "
            "fixes it; the strongest gives back the uncalibrated judge."
        ) % {"low": f"{L2_MIN:g}", "high": f"{L2_MAX:g}"}


def _runs_context(campaign: Campaign, **forms_given: forms.Form) -> dict:
    return {
        "campaign": campaign,
        "runs": judge_selectors.judge_runs(campaign=campaign),
        "versions": judge_selectors.judge_versions(names=judges_available()),
        "run_form": forms_given.get("run_form") or JudgeRunForm(),
        "calibrate_form": forms_given.get("calibrate_form") or CalibrateForm(),
    }


@organizer_required
@require_GET
def judge_runs(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    return render(request, "evaluation/judge_runs.html", _runs_context(campaign))


@organizer_required
@require_POST
def judge_run_launch(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = JudgeRunForm(request.POST)
    if form.is_valid():
        name, _at, version = form.cleaned_data["judge"].partition("@")
        try:
            run = services.judge_run_create(
                campaign=campaign,
                judge_version=services.judge_version_for(name=name, version=version or None),
                chunk_size=form.cleaned_data["chunk_size"],
                user=request.user,
            )
        except services.JudgingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.info(
                request,
                _("Judge run #%(run)s queued: %(n)s clips.") % {"run": run.pk, "n": run.total},
            )
            return redirect("judge-run", slug=slug, run_id=run.pk)
    return render(
        request, "evaluation/judge_runs.html", _runs_context(campaign, run_form=form), status=400
    )


@organizer_required
@require_POST
def judge_calibrate(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = CalibrateForm(request.POST)
    if form.is_valid():
        try:
            outcome = services.judge_calibrate(
                campaign=campaign,
                judge_name=form.cleaned_data["judge"],
                seed=form.cleaned_data["seed"],
                l2=form.cleaned_data["l2"],
            )
        except services.JudgingError as exc:
            form.add_error(None, str(exc))
        else:
            held_out, before = outcome.calibrated, outcome.uncalibrated
            report = messages.info if outcome.improves else messages.warning
            figures = {
                "version": outcome.judge_version,
                "pairs": outcome.pairs,
                "run": outcome.run.pk,
                "exact": f"{held_out['exact']:.2f}",
                "exact_before": f"{before['exact']:.2f}",
                "within": f"{held_out['within_one']:.2f}",
                "within_before": f"{before['within_one']:.2f}",
                "kappa": f"{held_out['quadratic_kappa']:.2f}",
                "kappa_before": f"{before['quadratic_kappa']:.2f}",
            }
            text = _(
                "Calibrated %(version)s on %(pairs)s clips of run #%(run)s, teams held out: "
                "exact %(exact)s (uncalibrated %(exact_before)s), within 1 %(within)s "
                "(%(within_before)s), quadratic kappa %(kappa)s (%(kappa_before)s)."
            )
            if not outcome.improves:
                text += " " + _("It does not beat the uncalibrated judge.")
            report(request, text % figures)
            return redirect("judge-runs", slug=slug)
    return render(
        request,
        "evaluation/judge_runs.html",
        _runs_context(campaign, calibrate_form=form),
        status=400,
    )


def _campaign_run(slug: str, run_id: int) -> JudgeRun:
    return get_object_or_404(
        JudgeRun.objects.select_related("judge", "campaign"), pk=run_id, campaign__slug=slug
    )


@organizer_required
@require_GET
def judge_run(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    run = _campaign_run(slug, run_id)
    comparison, comparison_error = None, ""
    if run.done:
        try:
            comparison = selectors.judge_leaderboard(run=run, n_boot=PAGE_RESAMPLES)
        except ScoringInputError as exc:
            comparison_error = str(exc)
    context = {
        "campaign": run.campaign,
        "run": run,
        "progress": judge_selectors.judge_run_progress(run=run),
        "comparison": comparison,
        "comparison_error": comparison_error,
        "can_cancel": run.status in (JudgeRun.Status.QUEUED, JudgeRun.Status.RUNNING),
        "can_resume": run.status in (JudgeRun.Status.CANCELLED, JudgeRun.Status.FAILED),
    }
    return render(request, "evaluation/judge_run.html", context)


@organizer_required
@require_GET
def judge_run_progress(request: HttpRequest, slug: str, run_id: int) -> JsonResponse:
    return JsonResponse(judge_selectors.judge_run_progress(run=_campaign_run(slug, run_id)))


@organizer_required
@require_POST
def judge_run_cancel(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    run = _campaign_run(slug, run_id)
    try:
        services.judge_run_cancel(run=run)
    except services.JudgingError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(
            request,
            _("Judge run #%(run)s cancelled; resume it to finish the rest.") % {"run": run.pk},
        )
    return redirect("judge-run", slug=slug, run_id=run.pk)


@organizer_required
@require_POST
def judge_run_resume(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    run = _campaign_run(slug, run_id)
    try:
        services.judge_run_resume(run=run)
    except services.JudgingError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(
            request,
            _("Judge run #%(run)s resumed: only clips without a verdict.") % {"run": run.pk},
        )
    return redirect("judge-run", slug=slug, run_id=run.pk)
