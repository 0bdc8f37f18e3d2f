"""Errors kept as notices: ImportJob.error and MediaAsset.error become JSON.

A notice is a code with its parameters ({"code": ..., "params": {...}}), said in the
reader's language when shown (annotate.notice_text). Errors written before are English
sentences: they are kept as they are, as JSON strings, and shown as written. Going back,
a notice is kept as its JSON text.

A column's type is not changed in place: PostgreSQL cannot cast free text to jsonb, and
SQLite's JSON check would refuse the old rows. A new column is filled and takes the name.
"""

import json

from django.db import migrations, models

MODELS = ("importjob", "mediaasset")


def sentences_to_json(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("annotate", name)
        for pk, error in model.objects.exclude(error="").values_list("pk", "error").iterator():
            model.objects.filter(pk=pk).update(error_notice=error)


def json_to_sentences(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("annotate", name)
        rows = model.objects.values_list("pk", "error_notice").iterator()
        for pk, error in rows:
            if error in ("", None):
                continue
            text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
            model.objects.filter(pk=pk).update(error=text)


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0015_team_final_chosen_by"),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name=name,
                name="error_notice",
                field=models.JSONField(blank=True, default=str),
            )
            for name in MODELS
        ),
        migrations.RunPython(sentences_to_json, json_to_sentences),
        *(migrations.RemoveField(model_name=name, name="error") for name in MODELS),
        *(
            migrations.RenameField(model_name=name, old_name="error_notice", new_name="error")
            for name in MODELS
        ),
    ]
