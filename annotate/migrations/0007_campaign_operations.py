import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

STATES = [("draft", "Draft"), ("open", "Open"), ("locked", "Locked"), ("published", "Published")]


def locked_to_state(apps, schema_editor):
    """Existing campaigns keep working: a locked one stays locked, any other is open."""
    Campaign = apps.get_model("annotate", "Campaign")
    Campaign.objects.filter(locked=True).update(state="locked")
    Campaign.objects.filter(locked=False).update(state="open")


def state_to_locked(apps, schema_editor):
    Campaign = apps.get_model("annotate", "Campaign")
    Campaign.objects.update(locked=False)
    Campaign.objects.filter(state__in=["locked", "published"]).update(locked=True)


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0006_ingest_integrity"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="state",
            field=models.CharField(
                choices=STATES,
                default="draft",
                help_text="Draft: set up, import, plan. Open: rating. Locked: no rating, no "
                "revision. Published: results visible to the teams.",
                max_length=16,
            ),
        ),
        migrations.RunPython(locked_to_state, state_to_locked),
        migrations.RemoveField(model_name="campaign", name="locked"),
        # One field for what annotators read about a task: the old description is kept.
        migrations.RenameField(model_name="task", old_name="description", new_name="instruction"),
        migrations.AlterField(
            model_name="task",
            name="instruction",
            field=models.TextField(
                blank=True, help_text="What the robot should do, as annotators read it."
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="title",
            field=models.CharField(
                blank=True, help_text="A short name, e.g. Banana.", max_length=200
            ),
        ),
        migrations.CreateModel(
            name="CampaignStateChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("from_state", models.CharField(choices=STATES, max_length=16)),
                ("to_state", models.CharField(choices=STATES, max_length=16)),
                ("reason", models.TextField(blank=True)),
                ("changed_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="state_changes",
                        to="annotate.campaign",
                    ),
                ),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["campaign", "-changed_at", "-pk"]},
        ),
        migrations.CreateModel(
            name="Guideline",
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
                        choices=[("en", "English"), ("zh-hans", "简体中文")],
                        default="en",
                        max_length=16,
                    ),
                ),
                ("text", models.TextField()),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="guidelines",
                        to="annotate.campaign",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["campaign", "language"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("campaign", "language"), name="guideline_unique_language"
                    )
                ],
            },
        ),
    ]
