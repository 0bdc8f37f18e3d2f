from __future__ import annotations

from django import forms

from annotate.models import ImportJob


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices)
    team = forms.CharField(
        required=False, max_length=100, help_text="For a submission: the team's name."
    )
    archive = forms.FileField(help_text="A zip in one of the accepted layouts.")
    strict = forms.BooleanField(required=False, help_text="Write nothing if any file is rejected.")

    def clean(self):
        data = super().clean()
        if data.get("kind") == ImportJob.Kind.SUBMISSION and not data.get("team", "").strip():
            self.add_error("team", "A submission import needs the team's name.")
        return data
