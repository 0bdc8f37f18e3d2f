"""A team member's pages: the submission portal of their own team; and the organizers'
page of the teams and the submission window.

Only members of a team of the campaign get past ``own_team``; the pages show the
team's files and what became of them, never a rating, an annotator or another team.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from annotate.access import organizer_required, own_team
from annotate.forms import SubmissionWindowForm
from annotate.models import Campaign, Team
from annotate.notice_text import shown
from annotate.selectors import teams as team_selectors
from annotate.services.team_portal import (
    TeamPortalRefused,
    submission_window_set,
    team_final_choose,
    team_submission_upload,
)
from annotate.uploads import save_upload, upload_refusal


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_GET
def team_portal(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, team = own_team(request, slug)
    uploads = list(team_selectors.team_uploads(team=team)[:10])
    shown = request.GET.get("upload")
    latest = next((job for job in uploads if str(job.pk) == shown), uploads[0] if uploads else None)
    context = {
        "campaign": campaign,
        "team": team,
        "window_refusal": team_selectors.submission_window_refusal(campaign=campaign),
        "max_upload_bytes": settings.INGEST_MAX_ARCHIVE_BYTES,
        "versions": team_selectors.team_versions(team=team),
        "uploads": uploads,
        "report": team_selectors.team_upload_report(job=latest) if latest else None,
    }
    return render(request, "annotate/team_portal.html", context)


@login_required
@require_POST
def team_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Take a team's archive; the page's script sends it with a progress bar and asks JSON."""
    campaign, _team = own_team(request, slug)
    if too_large := upload_refusal(request):  # before the body is read
        if _wants_json(request):
            return JsonResponse({"detail": too_large}, status=413)
        messages.error(request, too_large)
        return redirect("team-portal", slug=campaign.slug)
    archive = request.FILES.get("archive")
    try:
        if archive is None:
            raise TeamPortalRefused(_("Choose a zip of your clips to upload."))
        if archive.size > settings.INGEST_MAX_ARCHIVE_BYTES:
            raise TeamPortalRefused(
                _("The archive has %(size)s bytes; at most %(max)s are accepted.")
                % {"size": archive.size, "max": settings.INGEST_MAX_ARCHIVE_BYTES}
            )
        job = team_submission_upload(
            campaign=campaign, user=request.user, upload=save_upload(archive)
        )
    except TeamPortalRefused as exc:
        if _wants_json(request):
            return JsonResponse({"detail": str(exc)}, status=400)
        messages.error(request, str(exc))
        return redirect("team-portal", slug=campaign.slug)
    if _wants_json(request):
        job.refresh_from_db()
        return JsonResponse(shown(team_selectors.team_upload_report(job=job)), status=202)
    return redirect(f"{reverse('team-portal', args=[campaign.slug])}?upload={job.pk}")


@login_required
@require_GET
def team_upload_progress(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    team = own_team(request, slug)[1]
    job = team_selectors.team_upload(team=team, job_id=job_id)
    if job is None:
        return JsonResponse({"detail": _("no such upload of your team")}, status=404)
    return JsonResponse(shown(team_selectors.team_upload_report(job=job)))


def _choose_final(request: HttpRequest, team: Team) -> tuple[bool, int | None]:
    """The version the form names (None: the newest) made the team's rated one: (done, version).
    A refusal is said to the person and leaves everything as it was."""
    raw = request.POST.get("version", "")
    try:
        version = int(raw) if raw else None
        team_final_choose(team=team, version=version, user=request.user)
    except ValueError:
        messages.error(request, _("%(raw)r is not a version number.") % {"raw": raw})
    except TeamPortalRefused as exc:
        messages.error(request, str(exc))
    else:
        return True, version
    return False, None


@login_required
@require_POST
def team_final(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, team = own_team(request, slug)
    done, version = _choose_final(request, team)
    if done:
        messages.success(
            request,
            _("Version %(version)s is your final version.") % {"version": version}
            if version
            else _("Your newest version counts."),
        )
    return redirect("team-portal", slug=campaign.slug)


@organizer_required
@require_POST
def team_final_set(request: HttpRequest, slug: str, team_id: int) -> HttpResponse:
    """Organizers choose a team's rated version, e.g. for a file the team sent late."""
    campaign = get_object_or_404(Campaign, slug=slug)
    team = get_object_or_404(Team, campaign=campaign, pk=team_id)
    done, version = _choose_final(request, team)
    if done:
        messages.success(
            request,
            _("%(team)s: version %(version)s counts.") % {"team": team.name, "version": version}
            if version
            else _("%(team)s: the newest version counts.") % {"team": team.name},
        )
    return redirect("teams", slug=campaign.slug)


def _window_form(campaign: Campaign) -> SubmissionWindowForm:
    return SubmissionWindowForm(
        initial={
            "opens_at": campaign.submissions_open_at,
            "closes_at": campaign.submissions_close_at,
            "leaderboard_public": campaign.leaderboard_public,
            "teams_may_judge": campaign.teams_may_judge,
        }
    )


@organizer_required
@require_GET
def teams_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Organizers: each team's versions and the one that counts, and the submission window."""
    campaign = get_object_or_404(Campaign, slug=slug)
    return render(request, "annotate/teams.html", _teams_context(campaign, _window_form(campaign)))


def _teams_context(campaign: Campaign, form: SubmissionWindowForm) -> dict:
    return {
        "campaign": campaign,
        "form": form,
        "teams": team_selectors.teams_overview(campaign=campaign),
        "window_refusal": team_selectors.submission_window_refusal(campaign=campaign),
    }


@organizer_required
@require_POST
def submission_window(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = SubmissionWindowForm(request.POST)
    if form.is_valid():
        try:
            submission_window_set(
                campaign=campaign,
                opens_at=form.cleaned_data["opens_at"],
                closes_at=form.cleaned_data["closes_at"],
                leaderboard_public=form.cleaned_data["leaderboard_public"],
                teams_may_judge=form.cleaned_data["teams_may_judge"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Submission window saved."))
            return redirect("teams", slug=campaign.slug)
    context = _teams_context(campaign, form)
    return render(request, "annotate/teams.html", context, status=400)
