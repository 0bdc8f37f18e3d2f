"""Quality control pages: the organizer's (examples, pass mark, gold rate, who passed) and
the annotator's practice round (an example, the answer, then its true score and why).

The practice round works by plain form posts: an answer is stored and the same step's
page comes back with the feedback, so it needs no script beyond the shared player.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from annotate.access import organizer_required
from annotate.forms import form_problems
from annotate.models import Campaign, PracticePassMode, QualityExample
from annotate.notice_text import text
from annotate.selectors import quality as selectors
from annotate.services import quality as services
from annotate.views.rating import media_info
from annotate.words import WORDS, word

User = get_user_model()

SCORE_CHOICES = [(3, "3"), (2, "2"), (1, "1"), (0, "0")]


def _problems(exc: services.QualityRefused) -> str:
    """A refusal on one line; a field it names, by its label on the page."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{FIELD_LABELS.get(name, name)}: {' '.join(errs)}"
            for name, errs in exc.message_dict.items()
        )
    return " ".join(exc.messages)


# --- the annotator's gate ----------------------------------------------------------------


def practice_redirect(request: HttpRequest) -> HttpResponse | None:
    """The queue's gate: an open campaign whose practice round the annotator still has to
    take sends them there first. A failed one is said on the queue, which still shows the
    annotator's other campaigns; its clips stay locked until an organizer allows a retry.
    """
    pending = selectors.practice_pending_campaigns(user=request.user).filter(
        state=Campaign.State.OPEN
    )
    for campaign in pending.order_by("created_at", "pk"):
        status = selectors.qualification_of(campaign=campaign, user=request.user).status
        if status == selectors.QualificationStatus.FAILED:
            messages.warning(
                request,
                _(
                    "%(campaign)s: you did not pass the practice round, so its clips stay "
                    "locked. Ask the organizers for another try."
                )
                % {"campaign": campaign.name},
            )
            continue
        return redirect("practice", slug=campaign.slug)
    return None


# --- the practice round -------------------------------------------------------------------


def _practice_campaign(request: HttpRequest, slug: str) -> Campaign:
    campaign = get_object_or_404(Campaign, slug=slug)
    if not selectors.takes_part(campaign=campaign, user=request.user):
        raise Http404("No practice round of yours here.")
    return campaign


@login_required
@require_GET
def practice(request: HttpRequest, slug: str) -> HttpResponse:
    """The round's start (what it asks, the pass mark), or its result once finished."""
    if request.user.is_staff:  # organizers see the round from their side
        return redirect("quality", slug=slug)
    campaign = _practice_campaign(request, slug)
    qualification = selectors.qualification_of(campaign=campaign, user=request.user)
    steps = []
    if qualification.attempt is not None:
        steps = selectors.attempt_steps(attempt=qualification.attempt)
        following = selectors.next_step(steps=steps)
        if qualification.status == selectors.QualificationStatus.IN_PROGRESS and following:
            return redirect("practice-step", slug=slug, step=following.step)
    examples = selectors.practice_examples(campaign=campaign).count()
    context = {
        "campaign": campaign,
        "qualification": qualification,
        "status": qualification.status.value,
        "steps": steps,
        "n_examples": examples,
        "pass_count": min(campaign.practice_pass_count or examples, examples),
        "within_one": campaign.practice_pass_mode == PracticePassMode.WITHIN_ONE,
    }
    return render(request, "annotate/practice.html", context)


@login_required
@require_POST
def practice_start(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _practice_campaign(request, slug)
    try:
        services.practice_start(campaign=campaign, user=request.user)
    except services.QualityRefused as exc:
        messages.error(request, _("%(problem)s.") % {"problem": capfirst(_problems(exc))})
    return redirect("practice", slug=slug)


@login_required
@require_GET
def practice_step(request: HttpRequest, slug: str, step: int) -> HttpResponse:
    """One example: the pair in the synchronized player and the score, or the feedback."""
    campaign = _practice_campaign(request, slug)
    attempt = selectors.current_attempt(campaign=campaign, user=request.user)
    if attempt is None:
        return redirect("practice", slug=slug)
    steps = selectors.attempt_steps(attempt=attempt)
    if not 1 <= step <= len(steps):
        raise Http404("No such practice example.")
    current = steps[step - 1]
    following = selectors.next_step(steps=steps)
    if current.answer is None and (following is None or following.step != step):
        # Not answered and not the one to answer now: the round goes in order.
        return redirect("practice", slug=slug)
    if current.example is not None:
        clip = current.example.clip
    else:  # removed since it was answered: the answer still names the pair
        clip = current.answer.clip if current.answer is not None else None
    if clip is None:
        return redirect("practice", slug=slug)
    config = {
        "read_only": True,
        "locked": True,
        "require_full_watch": False,
        "reference": media_info(clip.episode.reference),
        "generated": media_info(clip.asset),
    }
    feedback = None
    if current.answer is not None:
        answer = current.answer
        feedback = {
            "score": answer.score,
            "true_score": answer.true_score,
            "explanation": answer.explanation,
            "right": selectors.answer_is_right(
                score=answer.score, true_score=answer.true_score, mode=attempt.pass_mode
            ),
            "exact": answer.exact,
        }
    context = {
        "campaign": campaign,
        "task": clip.episode.task,
        "step": current,
        "config": config,
        "feedback": feedback,
        "next_url": reverse("practice-step", args=[slug, following.step])
        if following is not None
        else reverse("practice", args=[slug]),
        "finished": following is None,
        "score_choices": [3, 2, 1, 0],
        "within_one": attempt.pass_mode == PracticePassMode.WITHIN_ONE,
    }
    return render(request, "annotate/practice_example.html", context)


class PracticeAnswerForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=SCORE_CHOICES, coerce=int, label=gettext_lazy("Your score")
    )


@login_required
@require_POST
def practice_answer(request: HttpRequest, slug: str, step: int) -> HttpResponse:
    campaign = _practice_campaign(request, slug)
    form = PracticeAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a score from 0 to 3."))
        return redirect("practice-step", slug=slug, step=step)
    try:
        services.practice_answer(
            campaign=campaign, user=request.user, step=step, score=form.cleaned_data["score"]
        )
    except services.QualityRefused as exc:
        messages.error(request, _("%(problem)s.") % {"problem": capfirst(_problems(exc))})
        return redirect("practice", slug=slug)
    return redirect("practice-step", slug=slug, step=step)


# --- the organizer's page -----------------------------------------------------------------


class ExampleMarkForm(forms.Form):
    clip = forms.IntegerField(min_value=1, label=gettext_lazy("Clip id"))
    # The stored value, shown in the reader's language.
    kind = forms.ChoiceField(
        choices=[(kind, WORDS[kind]) for kind in QualityExample.Kind.values],
        label=gettext_lazy("Kind"),
    )
    score = forms.TypedChoiceField(
        choices=SCORE_CHOICES, coerce=int, label=gettext_lazy("True score")
    )
    explanation = forms.CharField(
        required=False,
        max_length=services.EXPLANATION_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=gettext_lazy("Explanation (shown after a practice answer)"),
    )


class QualitySettingsForm(forms.Form):
    practice_pass_count = forms.IntegerField(
        min_value=0,
        max_value=services.PASS_COUNT_MAX,
        label=gettext_lazy("Right practice answers needed (0: all)"),
    )
    practice_pass_mode = forms.ChoiceField(
        choices=[
            (PracticePassMode.EXACT, gettext_lazy("exact score")),
            (PracticePassMode.WITHIN_ONE, gettext_lazy("within one point")),
        ],
        label=gettext_lazy("Right means"),
    )
    gold_every = forms.IntegerField(
        min_value=0,
        max_value=services.GOLD_EVERY_MAX,
        label=gettext_lazy("One gold clip per this many real clips (0: none)"),
    )


# The fields a service's refusal may name (its keys), as the page calls them.
FIELD_LABELS = {
    "step": gettext_lazy("Step"),
    **{
        name: field.label
        for form in (ExampleMarkForm, QualitySettingsForm)
        for name, field in form.base_fields.items()
    },
}


def _back(slug: str) -> HttpResponse:
    return redirect("quality", slug=slug)


@organizer_required
@require_GET
def quality(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    accuracy = selectors.gold_accuracy(campaign=campaign)
    names = dict(User.objects.filter(pk__in=accuracy).values_list("pk", "username"))
    n_practice = selectors.practice_examples(campaign=campaign).count()
    mark = ExampleMarkForm(
        initial={
            "clip": request.GET.get("clip", ""),
            "kind": request.GET.get("kind", QualityExample.Kind.PRACTICE),
        }
    )
    context = {
        "campaign": campaign,
        "settings_form": QualitySettingsForm(
            initial={
                "practice_pass_count": campaign.practice_pass_count,
                "practice_pass_mode": campaign.practice_pass_mode,
                "gold_every": campaign.gold_every,
            }
        ),
        "mark_form": mark,
        "examples": selectors.examples_overview(campaign=campaign),
        "n_practice": n_practice,
        "pass_count": min(campaign.practice_pass_count or n_practice, n_practice),
        "qualifications": selectors.qualification_overview(campaign=campaign),
        "gold_loads": selectors.gold_loads(campaign=campaign),
        "accuracy": [(names.get(user_id, user_id), row) for user_id, row in accuracy.items()],
    }
    return render(request, "annotate/quality_campaign.html", context)


@organizer_required
@require_POST
def quality_settings(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = QualitySettingsForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Nothing changed: %(problems)s") % {"problems": form_problems(form)}
        )
        return _back(slug)
    services.quality_settings_update(campaign=campaign, **form.cleaned_data)
    messages.success(request, _("Quality settings saved."))
    return _back(slug)


@organizer_required
@require_POST
def example_mark(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = ExampleMarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not marked: %(problems)s") % {"problems": form_problems(form)})
        return _back(slug)
    data = form.cleaned_data
    try:
        example = services.quality_example_mark(
            campaign=campaign,
            clip_id=data["clip"],
            kind=data["kind"],
            score=data["score"],
            explanation=data["explanation"],
            by=request.user,
        )
    except services.QualityRefused as exc:
        messages.error(request, _("Not marked: %(problems)s") % {"problems": _problems(exc)})
        return _back(slug)
    messages.success(
        request,
        _("Clip %(clip)s is a %(kind)s example (%(score)s).")
        % {"clip": example.clip_id, "kind": word(example.kind), "score": example.score},
    )
    return _back(slug)


@organizer_required
@require_POST
def example_unmark(request: HttpRequest, slug: str, clip_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    try:
        removed = services.quality_example_unmark(campaign=campaign, clip_id=clip_id)
    except services.QualityRefused as exc:
        messages.error(request, _problems(exc))
        return _back(slug)
    messages.success(
        request,
        _("Clip %(clip)s is no longer an example; %(removed)s unopened gold clips taken back.")
        % {"clip": clip_id, "removed": removed},
    )
    return _back(slug)


@organizer_required
@require_POST
def examples_upload(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a CSV file to upload."))
        return _back(slug)
    try:
        result = services.examples_import(campaign=campaign, data=upload.read(), by=request.user)
    except services.QualityRefused as exc:
        messages.error(
            request,
            _("%(file)s: %(problems)s; nothing was imported.")
            % {"file": upload.name, "problems": _problems(exc)},
        )
        return _back(slug)
    messages.success(
        request,
        _("%(created)s examples marked, %(updated)s updated.")
        % {"created": len(result.created), "updated": len(result.updated)},
    )
    return _back(slug)


@organizer_required
@require_POST
def qualification_reset(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    user = get_object_or_404(User, username=username)
    try:
        services.qualification_reset(campaign=campaign, user=user, by=request.user)
    except services.QualityRefused as exc:
        messages.error(request, _problems(exc))
        return _back(slug)
    messages.success(request, _("%(user)s may take the practice round again.") % {"user": username})
    return _back(slug)


@organizer_required
@require_POST
def gold_apply(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    result = services.gold_plan_apply(campaign=campaign)
    messages.success(
        request,
        _("Gold clips: %(added)s put into queues, %(removed)s taken back.")
        % {"added": result.added, "removed": result.removed},
    )
    for warning in result.warnings:
        messages.warning(request, text(warning))
    return _back(slug)
