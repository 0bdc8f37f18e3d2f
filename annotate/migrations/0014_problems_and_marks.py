"""Break-point marks on ratings and their revisions; problem reports ("broken pair")."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0013_quality_review"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="rating",
            name="marks",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='Break points on the generated clip: [{"t": seconds, "label": name}], '
                "sorted by time (annotate/marks.py).",
            ),
        ),
        migrations.AddField(
            model_name="ratingrevision",
            name="marks",
            field=models.JSONField(
                blank=True, default=list, help_text="The break points as revised."
            ),
        ),
        migrations.CreateModel(
            name="ProblemReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("does_not_play", "does not play"),
                            ("wrong_reference", "wrong reference"),
                            ("black_frames", "black frames"),
                            ("other", "other (say what)"),
                        ],
                        max_length=32,
                    ),
                ),
                ("text", models.TextField(blank=True, help_text="The annotator's own words.")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("fixed", "Fixed"), ("excluded", "Excluded")],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("resolution_note", models.TextField(blank=True)),
                (
                    "assignment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="problem_reports",
                        to="annotate.assignment",
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="problem_reports",
                        to="annotate.campaign",
                    ),
                ),
                (
                    "clip",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="problem_reports",
                        to="annotate.clip",
                    ),
                ),
                (
                    "reporter",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="problem_reports",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["campaign", "-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["clip", "status"], name="problem_report_clip_status")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "open")),
                        fields=("assignment",),
                        name="problem_report_one_open_per_assignment",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("reason", "other"), _negated=True),
                            models.Q(("text", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="problem_report_other_explained",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "open"), ("resolved_at__isnull", True)),
                            models.Q(
                                ("status__in", ["fixed", "excluded"]),
                                ("resolved_at__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="problem_report_resolved_when_closed",
                    ),
                ],
            },
        ),
    ]
