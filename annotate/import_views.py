"""The organizer's import detail page: one import's files, accepted, skipped and rejected, with why."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotate.access import organizer_required
from annotate.import_selectors import import_detail as import_detail_of
from annotate.models import Campaign, ImportJob


@organizer_required
@require_GET
def import_detail(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        detail = import_detail_of(campaign=campaign, job_id=job_id)
    except ImportJob.DoesNotExist as exc:
        raise Http404("No such import in this campaign.") from exc
    return render(request, "annotate/import_detail.html", {"campaign": campaign, "detail": detail})
