"""The organizer's people page for one campaign: import, invite, roles, access.

Links to set a password are rendered in the response, never redirected to: each is
shown once and never stored in the session.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from annotate import services
from annotate.access import organizer_required
from annotate.forms import PeopleImportForm, PersonInviteForm
from annotate.models import Campaign, Team
from annotate.selectors import people as people_selectors
from annotate.services import people

User = get_user_model()


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _page(request: HttpRequest, campaign: Campaign, status: int = 200, **extra) -> HttpResponse:
    context = {
        "campaign": campaign,
        "people": people_selectors.campaign_people(campaign=campaign),
        "teams": Team.objects.filter(campaign=campaign).values_list("name", flat=True),
        "import_form": PeopleImportForm(),
        "invite_form": PersonInviteForm(),
        "roles": people.ROLES,
        **extra,
    }
    return render(request, "annotate/people.html", context, status=status)


@organizer_required
@require_GET
def people_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, get_object_or_404(Campaign, slug=slug))


@organizer_required
@require_POST
@never_cache
def people_import(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = PeopleImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, campaign, 400, import_form=form)
    try:
        result = services.people_import(
            campaign=campaign,
            csv_text=form.cleaned_data["file"],
            dry_run=form.cleaned_data["dry_run"],
            by=request.user,
            base_url=base_url(request),
        )
    except services.PeopleError as exc:
        return _page(request, campaign, 400, import_form=form, problems=exc.problems)
    links = [person.link for person in result.people if person.link]
    return _page(request, campaign, imported=result, links=links)


@organizer_required
@require_POST
@never_cache
def person_invite(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = PersonInviteForm(request.POST)
    if form.is_valid():
        try:
            link = services.person_invite(
                campaign=campaign, by=request.user, base_url=base_url(request), **form.cleaned_data
            )
        except services.PeopleError as exc:
            for problem in exc.problems:
                form.add_error(
                    problem.column if problem.column in form.fields else None, problem.message
                )
        else:
            return _page(request, campaign, links=[link])
    return _page(request, campaign, 400, invite_form=form)


@organizer_required
@require_POST
@never_cache
def person_reset(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    user = get_object_or_404(User, username=username)
    try:
        link = services.person_password_reset(
            user=user, by=request.user, base_url=base_url(request)
        )
    except services.PeopleError as exc:
        messages.error(request, str(exc))
        return redirect("people", slug=slug)
    return _page(request, campaign, links=[link])


@organizer_required
@require_POST
def person_active(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    get_object_or_404(Campaign, slug=slug)
    user = get_object_or_404(User, username=username)
    try:
        if request.POST.get("active") == "1":
            services.person_reactivate(user=user, by=request.user)
            messages.success(request, _("%(user)s can sign in again.") % {"user": username})
        else:
            services.person_deactivate(user=user, by=request.user)
            messages.success(request, _("%(user)s is deactivated.") % {"user": username})
    except services.PeopleError as exc:
        messages.error(request, str(exc))
    return redirect("people", slug=slug)


@organizer_required
@require_POST
def person_team(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    user = get_object_or_404(User, username=username)
    team = request.POST.get("team", "")
    try:
        created = services.person_team_set(campaign=campaign, user=user, team=team, by=request.user)
    except services.PeopleError as exc:
        messages.error(request, str(exc))
    else:
        if not team.strip():
            messages.success(request, _("%(user)s is in no team.") % {"user": username})
        else:
            text = (
                _("%(user)s is in team %(team)s (a new team).")
                if created
                else _("%(user)s is in team %(team)s.")
            )
            messages.success(request, text % {"user": username, "team": team.strip()})
    return redirect("people", slug=slug)


@organizer_required
@require_POST
def person_roster(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    user = get_object_or_404(User, username=username)
    try:
        if request.POST.get("member") == "1":
            result = services.assignment_annotator_add(campaign=campaign, user=user)
            messages.success(
                request,
                _("%(user)s is an annotator (%(n)s new assignments).")
                % {"user": username, "n": result.created},
            )
        else:
            services.assignment_annotator_remove(campaign=campaign, user=user)
            messages.success(request, _("%(user)s is off the annotators.") % {"user": username})
    except services.AssignmentError as exc:
        messages.error(request, str(exc))
    return redirect("people", slug=slug)


class InvitationAcceptView(PasswordResetConfirmView):
    """Django's own set-password view, on the invitation's token.

    The view moves the token from the URL into the session before showing the form, so
    it never leaks through a Referer header. A used, expired or replaced link gets a
    page saying which.
    """

    template_name = "registration/invitation_accept.html"
    token_generator = people.InvitationTokenGenerator()
    success_url = reverse_lazy("login")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # A deactivated account's links stop working with it.
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        services.invitation_accept(user=form.user, password=form.cleaned_data["new_password1"])
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(
            self.request, _("Password set. Log in as %(user)s.") % {"user": form.user.username}
        )
        return redirect(self.get_success_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.validlink:
            invitation = self.user and people_selectors.latest_invitation(user=self.user)
            context["reason"] = people_selectors.invitation_status(
                invitation or None, now=timezone.now()
            )
        return context
