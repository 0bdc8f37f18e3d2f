"""The organizer's clip browser, paged and filtered, and the review of one pair in the synced player."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotate.access import organizer_required
from annotate.models import Campaign, Clip
from annotate.selectors import clips as clip_selectors
from annotate.selectors.marks import clip_marks, marks_config
from annotate.views.rating import media_info

CLIPS_PER_PAGE = 20


@organizer_required
@require_GET
def clip_browser(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    chosen, rows = clip_selectors.clip_browser_rows(campaign=campaign, params=request.GET)
    page = Paginator(rows, CLIPS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    back = query.copy()
    back["page"] = str(page.number)
    context = {
        "campaign": campaign,
        "filter": chosen,
        "page": page,
        "query": query.urlencode(),
        # The review page links back to this very page of the browser.
        "back": urlencode({"back": back.urlencode()}),
        "status_labels": dict(clip_selectors.ClipStatus.choices),
    }
    return render(
        request, "annotate/clip_browser.html", context, status=200 if chosen.is_valid() else 400
    )


@organizer_required
@require_GET
def clip_review(request: HttpRequest, slug: str, clip_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        review = clip_selectors.clip_review(campaign=campaign, clip_id=clip_id)
    except Clip.DoesNotExist as exc:
        raise Http404("No such clip in this campaign.") from exc
    clip = review.clip
    marks = clip_marks(clip=clip)
    config = {
        "read_only": True,
        "locked": True,
        "require_full_watch": False,
        "reference": media_info(clip.episode.reference),
        "generated": media_info(clip.asset),
        # Every rater's break points, as ticks on the player's bar (organizers only).
        "marks": marks_config(marks, who=lambda mark: mark.username),
    }
    context = {
        "campaign": campaign,
        "review": review,
        "clip": clip,
        "config": config,
        "marks": marks,
        "status_labels": dict(clip_selectors.ClipStatus.choices),
        # The browser's filters and page, re-encoded: only ever a query string on its own URL.
        "back": QueryDict(request.GET.get("back", "")).urlencode(),
    }
    return render(request, "annotate/clip_review.html", context)
