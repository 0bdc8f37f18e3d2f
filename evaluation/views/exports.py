"""Organizer pages of the exports: what each file holds, and the download."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from annotate.access import organizer_required
from annotate.models import Campaign
from evaluation import exports as export_files
from evaluation.scoring import DISPLAY_DECIMALS, ScoringInputError
from evaluation.selectors.reliability import exclusion_notes

# What each file holds, in the reader's language (the files keep their English columns,
# named as code).
EXPORT_LABELS = {
    "rankings": gettext_lazy(
        "Rankings: rank, team, final score, interval, rank probability, coverage, "
        "per-task scores with N3/N2/N1/N0, missing and N_total"
    ),
    # Safe: our own text and its translation, the column names in <code>.
    "ratings": mark_safe(
        gettext_lazy(
            "Ratings: one row per rating, raters as pseudonyms; <code>score</code> is the one "
            "that counts (an adjudicated score where adjudicated), <code>rater_score</code> "
            "the rater's own"
        )
    ),
    "episodes": gettext_lazy("Episodes: the rated set, for an offline re-ranking"),
}


@organizer_required
@require_GET
def exports(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    summary = export_files.campaign_export_summary(campaign=campaign)
    context = {
        "campaign": campaign,
        "kinds": [(what, EXPORT_LABELS[what]) for what in export_files.EXPORT_KINDS],
        "formats": export_files.EXPORT_FORMATS,
        "parameters": summary.parameters,
        "n_ratings": summary.n_ratings,
        "input_hash": summary.input_hash,
        "decimals": DISPLAY_DECIMALS,
        # Excluded raters: a banner; the files say so in their metadata too.
        "exclusions": exclusion_notes(campaign=campaign, active_only=True),
    }
    return render(request, "evaluation/exports.html", context)


def export_response(file: export_files.ExportFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response[export_files.INPUT_HASH_HEADER] = file.input_hash
    return response


@organizer_required
@require_GET
def export_download(request: HttpRequest, slug: str, what: str, fmt: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        file = export_files.campaign_export(campaign=campaign, what=what, fmt=fmt)
    except ScoringInputError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return export_response(file)
