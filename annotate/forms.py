from __future__ import annotations

from django import forms

from annotate.models import Campaign, ImportJob


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices)
    team = forms.CharField(
        required=False, max_length=100, help_text="For a submission: the team's name."
    )
    archive = forms.FileField(help_text="A zip in one of the accepted layouts.")
    strict = forms.BooleanField(required=False, help_text="Write nothing if any file is rejected.")
    allow_drop = forms.BooleanField(
        required=False,
        help_text="Rate the new version at once even if it lacks episodes of the rated one "
        "(otherwise it waits for confirmation).",
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == ImportJob.Kind.SUBMISSION and not data.get("team", "").strip():
            self.add_error("team", "A submission import needs the team's name.")
        return data


class CampaignForm(forms.Form):
    """A campaign's options; the slug only when it is created."""

    slug = forms.SlugField(max_length=50, help_text="In URLs and commands, e.g. cvpr2026.")
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    raters_per_cell = forms.IntegerField(
        min_value=1, max_value=100, initial=3, help_text="Distinct annotators per team and task."
    )
    max_clips_per_rater = forms.IntegerField(
        min_value=1, max_value=1000, initial=10, help_text="At most this many clips per cell."
    )
    seed = forms.IntegerField(
        initial=0, help_text="Makes the plan and the queue order reproducible."
    )
    require_full_watch = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Scoring unlocks once both clips have played to the end once.",
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]


class CampaignStateForm(forms.Form):
    state = forms.ChoiceField(choices=Campaign.State.choices)
    reason = forms.CharField(required=False, max_length=2000)


class TaskForm(forms.Form):
    number = forms.IntegerField(min_value=1, help_text="K in task<K>.")
    title = forms.CharField(required=False, max_length=200)
    instruction = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TaskEditForm(forms.Form):
    title = forms.CharField(required=False, max_length=200)
    instruction = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TasksCsvForm(forms.Form):
    file = forms.FileField(help_text="A CSV with the header task,title,instruction (UTF-8).")


class GuidelineForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "cols": 90}), max_length=50_000)


class SubmissionWindowForm(forms.Form):
    opens_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Teams may upload from then (empty: at once).",
    )
    closes_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Teams' uploads and final choices are refused from then; organizers can "
        "still import.",
    )
    leaderboard_public = forms.BooleanField(
        required=False, help_text="Once published, the leaderboard is a public page."
    )
    teams_may_judge = forms.BooleanField(
        required=False, help_text="Teams may check a pair against the baseline judge."
    )
