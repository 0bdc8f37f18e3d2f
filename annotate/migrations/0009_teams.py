import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0008_people"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="leaderboard_public",
            field=models.BooleanField(
                default=False,
                help_text="Once published, the leaderboard is also a public page (no sign-in); "
                "otherwise only the teams see it.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="teams_may_judge",
            field=models.BooleanField(
                default=False,
                help_text="Team members may check a pair of clips against the baseline judge "
                "(its score for their own files only, never the campaign's verdicts).",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="submissions_close_at",
            field=models.DateTimeField(
                blank=True,
                null=True,
                help_text="Teams' uploads and choices of a final version are refused from this "
                "moment (empty: no deadline). Organizers can still import.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="submissions_open_at",
            field=models.DateTimeField(
                blank=True,
                null=True,
                help_text="Teams may upload from this moment (empty: at once).",
            ),
        ),
        migrations.AddField(
            model_name="team",
            name="final_chosen_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="team",
            name="final_submission",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="annotate.submission",
                help_text="The version the team chose to be rated; empty: the newest confirmed one.",
            ),
        ),
    ]
