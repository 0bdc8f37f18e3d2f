"""The home page, the organizer's campaign list and a campaign's home; its life (create,
options, state, tasks, guideline); and the annotators' guideline page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotate import selectors, services
from annotate.access import organizer_required
from annotate.forms import (
    CampaignForm,
    CampaignStateForm,
    GuidelineForm,
    ImportForm,
    TaskEditForm,
    TaskForm,
    TasksCsvForm,
    form_problems,
)
from annotate.guideline import render_guideline
from annotate.models import Campaign, Guideline, Task
from annotate.selectors import campaigns as campaign_selectors
from annotate.words import word


def _refusal_into(form: Form, exc: ValidationError) -> None:
    """A service's refusal shown on the form, beside the field it names when it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _problems(exc: ValidationError, form: Form | None = None) -> str:
    """A refusal on one line; a field it names, by the form's label for it."""
    if hasattr(exc, "error_dict"):
        fields = form.fields if form is not None else {}
        return "; ".join(
            f"{fields[k].label if k in fields and fields[k].label else k}: {' '.join(v)}"
            for k, v in exc.message_dict.items()
        )
    return " ".join(exc.messages)


@organizer_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(**form.cleaned_data)
        except ValidationError as exc:
            _refusal_into(form, exc)
        else:
            messages.success(
                request, _("Campaign %(name)s created, in draft.") % {"name": campaign.name}
            )
            return redirect("campaign-detail", slug=campaign.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "annotate/campaign_form.html", {"form": form, "campaign": None}, status=status
    )


@organizer_required
@require_http_methods(["GET", "POST"])
def campaign_settings(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    initial = {name: getattr(campaign, name) for name in CampaignForm.base_fields}
    form = CampaignForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            _refusal_into(form, exc)
        else:
            messages.success(request, _("Campaign settings saved."))
            return redirect("campaign-detail", slug=campaign.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "annotate/campaign_form.html",
        {"form": form, "campaign": campaign},
        status=status,
    )


@organizer_required
@require_POST
def campaign_state(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = CampaignStateForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("The state did not change: %(problems)s") % {"problems": form_problems(form)},
        )
        return redirect("campaign-detail", slug=slug)
    try:
        change = services.campaign_state_change(
            campaign=campaign,
            to_state=form.cleaned_data["state"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ValidationError as exc:
        messages.error(
            request,
            _("The state did not change: %(problems)s") % {"problems": _problems(exc, form)},
        )
    else:
        messages.success(
            request,
            _("%(name)s is now %(state)s.")
            % {"name": campaign.name, "state": word(change.to_state)},
        )
    return redirect("campaign-detail", slug=slug)


def _tasks_page(request, campaign, *, add_form=None, csv_form=None, status=200) -> HttpResponse:
    tasks = campaign_selectors.campaign_tasks(campaign=campaign)
    context = {
        "campaign": campaign,
        "rows": [
            (
                task,
                TaskEditForm(
                    initial={name: getattr(task, name) for name in TaskEditForm.base_fields}
                ),
            )
            for task in tasks
        ],
        "add_form": add_form or TaskForm(),
        "csv_form": csv_form or TasksCsvForm(),
    }
    return render(request, "annotate/tasks.html", context, status=status)


@organizer_required
@require_GET
def tasks(request: HttpRequest, slug: str) -> HttpResponse:
    return _tasks_page(request, get_object_or_404(Campaign, slug=slug))


@organizer_required
@require_POST
def task_add(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            task = services.task_create(campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            _refusal_into(form, exc)
        else:
            messages.success(request, _("%(task)s added.") % {"task": task.key})
            return redirect("tasks", slug=slug)
    return _tasks_page(request, campaign, add_form=form, status=400)


@organizer_required
@require_POST
def task_edit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    task = get_object_or_404(Task, campaign__slug=slug, number=number)
    form = TaskEditForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("%(task)s was not saved: %(problems)s")
            % {"task": task.key, "problems": form_problems(form)},
        )
        return redirect("tasks", slug=slug)
    try:
        services.task_update(task=task, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(
            request,
            _("%(task)s was not saved: %(problems)s")
            % {"task": task.key, "problems": _problems(exc, form)},
        )
    else:
        messages.success(request, _("%(task)s saved.") % {"task": task.key})
    return redirect("tasks", slug=slug)


@organizer_required
@require_POST
def tasks_upload(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = TasksCsvForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            result = services.tasks_import(campaign=campaign, data=form.cleaned_data["file"].read())
        except ValidationError as exc:
            form.add_error(
                "file", _("Nothing was imported: %(problems)s") % {"problems": _problems(exc)}
            )
        else:
            messages.success(
                request,
                _("%(created)s tasks created, %(updated)s updated.")
                % {"created": len(result.created), "updated": len(result.updated)},
            )
            return redirect("tasks", slug=slug)
    return _tasks_page(request, campaign, csv_form=form, status=400)


@login_required
@require_GET
def guideline(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    # Not one of the campaign's people: its existence is not confirmed.
    if not campaign_selectors.user_may_read_guideline(user=request.user, campaign=campaign):
        raise Http404("No such campaign.")
    # In the reader's language (annotate.selectors.campaigns.guideline_text says the fallbacks).
    text = campaign_selectors.guideline_text(campaign=campaign, language=get_language())
    context = {"campaign": campaign, "guideline": render_guideline(text)}
    return render(request, "annotate/guideline.html", context)


@organizer_required
@require_http_methods(["GET", "POST"])
def guideline_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """The guideline of one language (`?language=`, English by default), as its readers see
    it now, to edit."""
    campaign = get_object_or_404(Campaign, slug=slug)
    language = request.GET.get("language", Guideline.Language.EN)
    if language not in Guideline.Language.values:
        raise Http404("No such language.")
    initial = {"text": campaign_selectors.guideline_text(campaign=campaign, language=language)}
    form = GuidelineForm(request.POST or None, initial=initial)
    form.fields["text"].label = _("Text (%(language)s)") % {
        "language": Guideline.Language(language).label
    }
    if request.method == "POST" and form.is_valid():
        try:
            services.guideline_save(
                campaign=campaign,
                text=form.cleaned_data["text"],
                by=request.user,
                language=language,
            )
        except ValidationError as exc:
            _refusal_into(form, exc)
        else:
            messages.success(request, _("Guideline saved."))
            return redirect("guideline", slug=slug)
    status = 400 if request.method == "POST" else 200
    preview = render_guideline(form.data.get("text", "") if form.is_bound else initial["text"])
    context = {
        "campaign": campaign,
        "form": form,
        "preview": preview,
        "language": language,
        "guideline_languages": Guideline.Language.choices,
    }
    return render(request, "annotate/guideline_edit.html", context, status=status)


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
    return campaign_detail_page(request, get_object_or_404(Campaign, slug=slug), ImportForm())


def campaign_detail_page(
    request: HttpRequest, campaign: Campaign, form: ImportForm, *, status: int = 200
) -> HttpResponse:
    """The campaign's home; also shown again, with the errors, by a refused import form."""
    context = {
        "campaign": campaign,
        "form": form,
        **selectors.campaign_overview(campaign=campaign),
        "transitions": services.campaign_transitions(state=campaign.state),
        "state_history": campaign_selectors.campaign_state_history(campaign=campaign),
    }
    return render(request, "annotate/campaign_detail.html", context, status=status)
