"""Forms of the people page."""

from __future__ import annotations

from django import forms

from annotate.services.people import ROLES

MAX_CSV_BYTES = 1024 * 1024
ROLE_CHOICES = [(role, role) for role in ROLES]


class PeopleImportForm(forms.Form):
    file = forms.FileField(help_text="A CSV with the header username,email,role,team (UTF-8).")
    dry_run = forms.BooleanField(required=False, help_text="Check the file, write nothing.")

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(f"Larger than {MAX_CSV_BYTES // 1024} KiB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(f"Not UTF-8 text (byte {exc.start}).") from exc


class PersonInviteForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False, max_length=254)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="annotator")
    team = forms.CharField(required=False, max_length=100)


class PersonTeamForm(forms.Form):
    team = forms.CharField(required=False, max_length=100)
