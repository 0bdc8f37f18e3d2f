"""Ingest, the organizer's side: an upload, its progress, the confirmation of a version that
drops episodes, and one import's files (accepted, skipped and rejected, with why)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from annotate import selectors, services
from annotate.access import organizer_required
from annotate.forms import ImportForm
from annotate.models import Campaign, ImportJob, Submission
from annotate.notice_text import shown
from annotate.selectors.imports import import_detail as import_detail_of
from annotate.uploads import save_upload
from annotate.views.campaigns import campaign_detail_page


@organizer_required
@require_GET
def import_detail(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        detail = import_detail_of(campaign=campaign, job_id=job_id)
    except ImportJob.DoesNotExist as exc:
        raise Http404("No such import in this campaign.") from exc
    return render(request, "annotate/import_detail.html", {"campaign": campaign, "detail": detail})


@organizer_required
@require_POST
def import_upload(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return campaign_detail_page(request, campaign, form, status=400)
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
        messages.error(request, _("The import was refused: %(why)s") % {"why": exc})
        return redirect("campaign-detail", slug=slug)
    messages.info(request, _("Import #%(id)s queued.") % {"id": job.pk})
    return redirect("campaign-detail", slug=slug)


@organizer_required
@require_POST
def submission_confirm(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    submission = get_object_or_404(Submission, pk=submission_id, team__campaign__slug=slug)
    try:
        submission = services.submission_confirm(submission=submission, user=request.user)
    except services.ImportRefused as exc:
        messages.error(request, _("Not confirmed: %(why)s") % {"why": exc})
    else:
        messages.success(
            request,
            _("%(team)s v%(version)s is now the rated version.")
            % {"team": submission.team.name, "version": submission.version},
        )
    return redirect("campaign-detail", slug=slug)


@organizer_required
@require_GET
def import_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    return JsonResponse(shown(selectors.import_job_progress(job=job)))
