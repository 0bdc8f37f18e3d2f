from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotate import campaign_selectors, selectors, services
from annotate.access import organizer_required
from annotate.forms import ImportForm
from annotate.models import Campaign, ImportJob, Submission
from annotate.uploads import save_upload


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:
        return redirect("campaign-list")
    # A team member with nothing to rate lands on their team's page, newest campaign first.
    team = request.user.teams.order_by("-campaign__created_at").select_related("campaign").first()
    if team is not None and not request.user.assignments.exists():
        return redirect("team-portal", slug=team.campaign.slug)
    return redirect("queue")


@organizer_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(request, "annotate/campaign_list.html", {"campaigns": Campaign.objects.all()})


@organizer_required
@require_GET
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    context = {
        "campaign": campaign,
        "form": ImportForm(),
        **selectors.campaign_overview(campaign=campaign),
        **_state_context(campaign),
    }
    return render(request, "annotate/campaign_detail.html", context)


def _state_context(campaign: Campaign) -> dict:
    return {
        "transitions": services.campaign_transitions(state=campaign.state),
        "state_history": campaign_selectors.campaign_state_history(campaign=campaign),
    }


@organizer_required
@require_POST
def import_upload(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        context = {
            "campaign": campaign,
            "form": form,
            **selectors.campaign_overview(campaign=campaign),
            **_state_context(campaign),
        }
        return render(request, "annotate/campaign_detail.html", context, status=400)
    try:
        job = services.import_job_create(
            campaign=campaign,
            kind=form.cleaned_data["kind"],
            upload=save_upload(form.cleaned_data["archive"]),
            team_name=form.cleaned_data["team"],
            strict=form.cleaned_data["strict"],
            allow_drop=form.cleaned_data["allow_drop"],
            user=request.user,
        )
    except services.ImportRefused as exc:
        messages.error(request, f"The import was refused: {exc}")
        return redirect("campaign-detail", slug=slug)
    messages.info(request, f"Import #{job.pk} queued.")
    return redirect("campaign-detail", slug=slug)


@organizer_required
@require_POST
def submission_confirm(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    submission = get_object_or_404(Submission, pk=submission_id, team__campaign__slug=slug)
    try:
        submission = services.submission_confirm(submission=submission, user=request.user)
    except services.ImportRefused as exc:
        messages.error(request, f"Not confirmed: {exc}")
    else:
        messages.success(
            request, f"{submission.team.name} v{submission.version} is now the rated version."
        )
    return redirect("campaign-detail", slug=slug)


@organizer_required
@require_GET
def import_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    return JsonResponse(selectors.import_job_progress(job=job))
