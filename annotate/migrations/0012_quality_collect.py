"""Quality control before and during the work: practice examples, gold clips, qualification.

Also teaches the PostgreSQL guard on assignment rows (migration 0002) that a gold row
(``Assignment.gold``: a check with a known score, inserted blind by the planner) scores
no team: it is checked for its campaign only, and it counts neither towards a cell's
raters nor towards an annotator's clips of the cell. The edits below leave the guard's
campaign check untouched, so a later migration can build on ``CREATE_GUARD`` here.
"""

import importlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

_caps = importlib.import_module("annotate.migrations.0002_campaign_annotators_assignment_caps")

# (text of the 0002 guard, the same text aware of gold rows); each found exactly once.
_GOLD_EDITS = (
    (
        "       AND a.id <> NEW.id;",
        "       AND a.id <> NEW.id\n       AND NOT a.gold;",
    ),
    ("    IF held >= cap_clips THEN", "    IF NOT NEW.gold AND held >= cap_clips THEN"),
    (
        "    IF TG_OP = 'INSERT' AND held = 0 THEN",
        "    IF TG_OP = 'INSERT' AND held = 0 AND NOT NEW.gold THEN",
    ),
    (
        "           AND e.task_id = cell_task;",
        "           AND e.task_id = cell_task\n           AND NOT a.gold;",
    ),
)


def _gold_aware(sql: str) -> str:
    for old, new in _GOLD_EDITS:
        assert sql.count(old) == 1, old
        sql = sql.replace(old, new)
    return sql


CREATE_GUARD = _gold_aware(_caps.CREATE_GUARD)


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


PASS_MODES = [("exact", "exact score"), ("within_one", "within one point")]


def _user_fk(**kwargs):
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.SET_NULL,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
        **kwargs,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0011_user_language"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="gold",
            field=models.BooleanField(
                default=False,
                help_text="A check with a known score (a gold QualityExample), inserted blind by "
                "the planner: its rating never counts for a team. Never shown to the annotator.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="gold_every",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="One gold clip (known score, blind) per this many clips of real work "
                "in each annotator's queue; 0: no gold clip.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="practice_pass_count",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Practice answers that must be right to pass (e.g. 4 of 5); 0: all of "
                "them. Without practice examples no practice round is asked for.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="practice_pass_mode",
            field=models.CharField(
                choices=PASS_MODES,
                default="exact",
                help_text="What makes a practice answer right: the exact score, or one point "
                "off at most.",
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="QualityExample",
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
                        choices=[("practice", "Practice"), ("gold", "Gold")], max_length=16
                    ),
                ),
                ("score", models.PositiveSmallIntegerField(help_text="The true score, 0-3.")),
                (
                    "explanation",
                    models.TextField(
                        blank=True,
                        help_text='Why, in a sentence: "the banana deforms on the way".',
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="quality_examples",
                        to="annotate.campaign",
                    ),
                ),
                (
                    "clip",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="quality_examples",
                        to="annotate.clip",
                    ),
                ),
                ("created_by", _user_fk()),
            ],
            options={"ordering": ["campaign", "kind", "pk"]},
        ),
        migrations.CreateModel(
            name="PracticeAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "examples",
                    models.JSONField(
                        default=list,
                        help_text="Ids of the practice examples, in the order they are shown.",
                    ),
                ),
                (
                    "pass_count",
                    models.PositiveSmallIntegerField(help_text="Right answers needed to pass."),
                ),
                ("pass_mode", models.CharField(choices=PASS_MODES, max_length=16)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "passed",
                    models.BooleanField(blank=True, help_text="Empty until finished.", null=True),
                ),
                ("reset_at", models.DateTimeField(blank=True, null=True)),
                (
                    "annotator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="practice_attempts",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="practice_attempts",
                        to="annotate.campaign",
                    ),
                ),
                ("reset_by", _user_fk()),
            ],
            options={"ordering": ["campaign", "annotator", "-started_at", "-pk"]},
        ),
        migrations.CreateModel(
            name="PracticeAnswer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "step",
                    models.PositiveSmallIntegerField(
                        help_text="Place in the attempt's set, from 1."
                    ),
                ),
                ("score", models.PositiveSmallIntegerField(help_text="The annotator's answer.")),
                ("true_score", models.PositiveSmallIntegerField()),
                ("explanation", models.TextField(blank=True)),
                ("answered_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "attempt",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="annotate.practiceattempt",
                    ),
                ),
                (
                    "clip",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="annotate.clip",
                    ),
                ),
                (
                    "example",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="answers",
                        to="annotate.qualityexample",
                    ),
                ),
            ],
            options={"ordering": ["attempt", "step"]},
        ),
        migrations.AddConstraint(
            model_name="qualityexample",
            constraint=models.UniqueConstraint(
                fields=("campaign", "clip"), name="quality_example_unique_clip"
            ),
        ),
        migrations.AddConstraint(
            model_name="qualityexample",
            constraint=models.CheckConstraint(
                condition=models.Q(("score__gte", 0), ("score__lte", 3)),
                name="quality_example_score_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="practiceattempt",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reset_at__isnull", True)),
                fields=("campaign", "annotator"),
                name="practice_attempt_one_current",
            ),
        ),
        migrations.AddConstraint(
            model_name="practiceattempt",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("finished_at__isnull", True), ("passed__isnull", True)),
                    models.Q(("finished_at__isnull", False), ("passed__isnull", False)),
                    _connector="OR",
                ),
                name="practice_attempt_passed_when_finished",
            ),
        ),
        migrations.AddConstraint(
            model_name="practiceanswer",
            constraint=models.UniqueConstraint(
                fields=("attempt", "step"), name="practice_answer_unique_step"
            ),
        ),
        migrations.AddConstraint(
            model_name="practiceanswer",
            constraint=models.CheckConstraint(
                condition=models.Q(("score__gte", 0), ("score__lte", 3)),
                name="practice_answer_score_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="practiceanswer",
            constraint=models.CheckConstraint(
                condition=models.Q(("true_score__gte", 0), ("true_score__lte", 3)),
                name="practice_answer_true_score_range",
            ),
        ),
        migrations.RunPython(
            _on_postgresql(CREATE_GUARD), _on_postgresql(_caps.CREATE_GUARD), elidable=False
        ),
    ]
