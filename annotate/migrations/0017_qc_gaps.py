import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def record_past_resolutions(apps, schema_editor):
    """Every report resolved so far gets its resolution as the first step of its history."""
    ProblemReport = apps.get_model("annotate", "ProblemReport")
    ProblemReportEvent = apps.get_model("annotate", "ProblemReportEvent")
    ProblemReportEvent.objects.bulk_create(
        ProblemReportEvent(
            report_id=report.pk,
            kind=report.status,
            note=report.resolution_note,
            by_id=report.resolved_by_id,
            at=report.resolved_at,
        )
        for report in ProblemReport.objects.exclude(status="open").order_by("pk")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0016_stored_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProblemReportEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("fixed", "Fixed"),
                            ("excluded", "Excluded"),
                            ("reopened", "Reopened"),
                        ],
                        max_length=16,
                    ),
                ),
                ("note", models.TextField(blank=True)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "report",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="annotate.problemreport",
                    ),
                ),
            ],
            options={
                "ordering": ["report", "at", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "reopened"), _negated=True),
                            models.Q(("note", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="problem_event_reopen_reason",
                    )
                ],
            },
        ),
        migrations.RunPython(record_past_resolutions, migrations.RunPython.noop),
    ]
