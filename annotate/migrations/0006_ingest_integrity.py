import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0005_media_clean"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="allow_drop",
            field=models.BooleanField(
                default=False,
                help_text="Make the new version current even if it drops episodes of the rated one.",
            ),
        ),
        migrations.AddField(
            model_name="rating",
            name="server_time_s",
            field=models.FloatField(
                blank=True,
                help_text="As the server measured it: seconds from the clip's first opening to "
                "this rating being stored.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="ratingrevision",
            name="server_time_s",
            field=models.FloatField(
                blank=True,
                help_text="Seconds from the clip's first opening to this revision being stored.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="rating",
            name="time_on_page_s",
            field=models.FloatField(default=0, help_text="As the page measured it."),
        ),
        migrations.AddField(
            model_name="submission",
            name="awaiting_confirmation",
            field=models.BooleanField(
                default=False,
                help_text="Drops episodes of the rated version; not rated until an organizer "
                "confirms.",
            ),
        ),
        migrations.AddField(
            model_name="submission",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="submission",
            name="confirmed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.CreateModel(
            name="ReferenceReplacement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        blank=True, help_text="The upload it came from.", max_length=255
                    ),
                ),
                ("replaced_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "episode",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reference_replacements",
                        to="annotate.episode",
                    ),
                ),
                (
                    "previous",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="annotate.mediaasset",
                    ),
                ),
                (
                    "replaced_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="annotate.mediaasset",
                    ),
                ),
            ],
            options={"ordering": ["episode", "replaced_at", "pk"]},
        ),
    ]
