"""Languages: a person's own interface language, and task texts in Simplified Chinese."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0010_demo_truth_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="title_zh_hans",
            field=models.CharField(
                blank=True, help_text="The title in Simplified Chinese.", max_length=200
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="instruction_zh_hans",
            field=models.TextField(blank=True, help_text="The instruction in Simplified Chinese."),
        ),
        migrations.CreateModel(
            name="UserPreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        choices=[("en", "English"), ("zh-hans", "简体中文")],
                        help_text="The interface language; empty: the browser's (Accept-Language).",
                        max_length=16,
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="preference",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
