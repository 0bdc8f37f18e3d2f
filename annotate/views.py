from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotate import selectors, services
from annotate.forms import ImportForm
from annotate.models import Campaign, ImportJob
from annotate.uploads import save_upload


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff:
        return redirect("campaign-list")
    return redirect("queue")


@staff_member_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(request, "annotate/campaign_list.html", {"campaigns": Campaign.objects.all()})


@staff_member_required
@require_GET
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    context = {
        "campaign": campaign,
        "form": ImportForm(),
        **selectors.campaign_overview(campaign=campaign),
    }
    return render(request, "annotate/campaign_detail.html", context)


@staff_member_required
@require_POST
def import_upload(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        context = {
            "campaign": campaign,
            "form": form,
            **selectors.campaign_overview(campaign=campaign),
        }
        return render(request, "annotate/campaign_detail.html", context, status=400)
    job = services.import_job_create(
        campaign=campaign,
        kind=form.cleaned_data["kind"],
        upload=save_upload(form.cleaned_data["archive"]),
        team_name=form.cleaned_data["team"],
        strict=form.cleaned_data["strict"],
        user=request.user,
    )
    messages.info(request, f"Import #{job.pk} queued.")
    return redirect("campaign-detail", slug=slug)


@staff_member_required
@require_GET
def import_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    return JsonResponse(selectors.import_job_progress(job=job))


@staff_member_required
@require_GET
def clip_browser(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    clips = (
        selectors.current_clips(campaign=campaign)
        .select_related("episode__reference")
        .order_by("episode__task__number", "episode__number", "submission__team__name")
    )
    return render(
        request, "annotate/clip_browser.html", {"campaign": campaign, "clips": clips[:200]}
    )
