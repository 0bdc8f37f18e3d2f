"""The annotator's queue: progress per task and the way into the next clip."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotate import services
from annotate.models import Rating
from annotate.views.quality import practice_redirect


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    if (practice := practice_redirect(request)) is not None:
        return practice  # a practice round comes before the real clips
    campaigns = services.annotator_queue(user=request.user)
    rated = (
        Rating.objects.filter(assignment__in=services.assignments_current(user=request.user))
        .select_related("assignment__campaign", "clip__episode__task")
        .order_by("-updated_at")[:50]
    )
    context = {"campaigns": campaigns, "rated": rated, "done_draft": request.GET.get("done", "")}
    return render(request, "annotate/queue.html", context)
