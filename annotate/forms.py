"""Forms of the annotate pages.

Every label, help text and error is translated (gettext_lazy: the reader's language is
known only when the form is rendered); the values posted stay the same in any language.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from annotate.models import Campaign, ImportJob
from annotate.services.people import ROLES

MAX_CSV_BYTES = 1024 * 1024
ROLE_LABELS = {
    "organizer": pgettext_lazy("role", "organizer"),
    "annotator": pgettext_lazy("role", "annotator"),
    "team": pgettext_lazy("role", "team"),
}
ROLE_CHOICES = [(role, ROLE_LABELS.get(role, role)) for role in ROLES]
IMPORT_KIND_CHOICES = [
    (ImportJob.Kind.REFERENCE, _("Reference episodes (ground truth)")),
    (ImportJob.Kind.SUBMISSION, _("A team's submission")),
]


def form_problems(form: forms.BaseForm) -> str:
    """A bound form's errors on one line, each after its field's label: the reader's word
    for the field, never its Python name. Errors of the whole form come bare."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        text = " ".join(str(error) for error in errors)
        parts.append(f"{field.label}: {text}" if field is not None and field.label else text)
    return "; ".join(parts)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=IMPORT_KIND_CHOICES)
    team = forms.CharField(
        label=_("Team"),
        required=False,
        max_length=100,
        help_text=_("For a submission: the team's name."),
    )
    archive = forms.FileField(
        label=_("Archive"), help_text=_("A zip in one of the accepted layouts.")
    )
    strict = forms.BooleanField(
        label=_("Strict"), required=False, help_text=_("Write nothing if any file is rejected.")
    )
    allow_drop = forms.BooleanField(
        label=_("Allow dropped episodes"),
        required=False,
        help_text=_(
            "Rate the new version at once even if it lacks episodes of the rated one "
            "(otherwise it waits for confirmation)."
        ),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == ImportJob.Kind.SUBMISSION and not data.get("team", "").strip():
            self.add_error("team", _("A submission import needs the team's name."))
        return data


class CampaignForm(forms.Form):
    """A campaign's options; the slug only when it is created."""

    slug = forms.SlugField(
        label=_("Short name"), max_length=50, help_text=_("In URLs and commands, e.g. cvpr2026.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    raters_per_cell = forms.IntegerField(
        label=_("Raters per cell"),
        min_value=1,
        max_value=100,
        initial=3,
        help_text=_("Distinct annotators per team and task."),
    )
    max_clips_per_rater = forms.IntegerField(
        label=_("Clips per rater"),
        min_value=1,
        max_value=1000,
        initial=10,
        help_text=_("At most this many clips per cell."),
    )
    seed = forms.IntegerField(
        label=_("Seed"), initial=0, help_text=_("Makes the plan and the queue order reproducible.")
    )
    require_full_watch = forms.BooleanField(
        label=_("Full watch first"),
        required=False,
        initial=True,
        help_text=_("Scoring unlocks once both clips have played to the end once."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]


class CampaignStateForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=Campaign.State.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class TaskEditForm(forms.Form):
    """A task's title and instruction, in English and in Simplified Chinese.

    Annotators read the text in their language, the other one where theirs is empty,
    so either language may be left blank.
    """

    title = forms.CharField(label=_("Title (English)"), required=False, max_length=200)
    instruction = forms.CharField(
        label=_("Instruction (English)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the robot should do, as annotators read it."),
    )
    title_zh_hans = forms.CharField(
        label=_("Title (Simplified Chinese)"), required=False, max_length=200
    )
    instruction_zh_hans = forms.CharField(
        label=_("Instruction (Simplified Chinese)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TaskForm(TaskEditForm):
    number = forms.IntegerField(label=_("Number"), min_value=1, help_text=_("K in task&lt;K&gt;."))

    field_order = ["number"]


class TasksCsvForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "A CSV with the header task,title,instruction and, if you like, "
            "title_zh_hans,instruction_zh_hans (UTF-8)."
        ),
    )


class GuidelineForm(forms.Form):
    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 90}),
        max_length=50_000,
    )


class SubmissionWindowForm(forms.Form):
    opens_at = forms.DateTimeField(
        label=_("Opens at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Teams may upload from then (empty: at once)."),
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_(
            "Teams' uploads and final choices are refused from then; organizers can still import."
        ),
    )
    leaderboard_public = forms.BooleanField(
        label=_("Public leaderboard"),
        required=False,
        help_text=_("Once published, the leaderboard is a public page."),
    )
    teams_may_judge = forms.BooleanField(
        label=_("Teams may use the judge"),
        required=False,
        help_text=_("Teams may check a pair against the baseline judge."),
    )


# ---- the people page ------------------------------------------------------------
class PeopleImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("A CSV with the header username,email,role,team (UTF-8).")
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, help_text=_("Check the file, write nothing.")
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(
                _("Larger than %(limit)d KiB.") % {"limit": MAX_CSV_BYTES // 1024}
            )
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                _("Not UTF-8 text (byte %(byte)d).") % {"byte": exc.start}
            ) from exc


class PersonInviteForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial="annotator")
    team = forms.CharField(label=_("Team"), required=False, max_length=100)


class PersonTeamForm(forms.Form):
    team = forms.CharField(label=_("Team"), required=False, max_length=100)
