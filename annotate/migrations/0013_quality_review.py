"""Quality review: rater flag thresholds, rater exclusions, adjudication actions.

Also teaches the PostgreSQL guard on assignment rows (migrations 0002 and 0012) that an extra
rater asked for by adjudication (``Assignment.extra_rater``) is beyond the cell's
planned raters by design: such a row is checked for its campaign only, not against
the per-cell caps, and it counts towards no other row's caps (as the planner ignores it).
"""

import importlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# The guard as migration 0012 left it (aware of gold rows); reversing restores that one.
_caps = importlib.import_module("annotate.migrations.0012_quality_collect")

_CAMPAIGN_CHECK_END = """            USING ERRCODE = 'check_violation';
    END IF;

    SELECT count(*) INTO held"""
_EXTRA_RATER_PASSES = """            USING ERRCODE = 'check_violation';
    END IF;

    -- One more rater asked for by adjudication: beyond the planned raters by design.
    IF NEW.extra_rater THEN
        RETURN NEW;
    END IF;

    SELECT count(*) INTO held"""
# Nor do extra raters count towards the others' caps: the planner leaves them out too.
_EDITS = (
    (_CAMPAIGN_CHECK_END, _EXTRA_RATER_PASSES),
    ("\n       AND NOT a.gold;", "\n       AND NOT a.gold\n       AND NOT a.extra_rater;"),
    (
        "\n           AND NOT a.gold;",
        "\n           AND NOT a.gold\n           AND NOT a.extra_rater;",
    ),
)


def _extra_rater_aware(sql: str) -> str:
    for old, new in _EDITS:
        assert sql.count(old) == 1, old
        sql = sql.replace(old, new)
    return sql


CREATE_GUARD = _extra_rater_aware(_caps.CREATE_GUARD)


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


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
        ("annotate", "0012_quality_collect"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="reliability_min_clips",
            field=models.PositiveSmallIntegerField(
                default=5,
                help_text="A rater is flagged fast, disagrees or straight_line only on at least "
                "this many rated clips: fewer say too little.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="flag_fast_ratio",
            field=models.FloatField(
                default=1.0,
                help_text="fast: the rater's median server-measured time per clip is below this "
                "multiple of the pair's duration (1.0: less than one viewing).",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="flag_min_kappa",
            field=models.FloatField(
                default=0.4,
                help_text="disagrees: quadratic-weighted kappa with the consensus of the other "
                "raters below this.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="flag_straight_line_share",
            field=models.FloatField(
                default=0.8,
                help_text="straight_line: the rater's most used score is at least this share of "
                "their ratings.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="flag_min_gold_accuracy",
            field=models.FloatField(
                default=0.7,
                help_text="gold: the share of gold clips the rater scored exactly right is below "
                "this.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="flag_gold_min_clips",
            field=models.PositiveSmallIntegerField(
                default=3, help_text="gold: judged only on at least this many rated gold clips."
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="adjudication_range",
            field=models.PositiveSmallIntegerField(
                default=2,
                help_text="A clip whose ratings span at least this many points (highest minus "
                "lowest) goes to adjudication.",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reliability_min_clips__gte", 1),
                    ("flag_gold_min_clips__gte", 1),
                    ("flag_fast_ratio__gte", 0),
                    ("flag_min_kappa__gte", -1),
                    ("flag_min_kappa__lte", 1),
                    ("flag_straight_line_share__gte", 0),
                    ("flag_straight_line_share__lte", 1),
                    ("flag_min_gold_accuracy__gte", 0),
                    ("flag_min_gold_accuracy__lte", 1),
                ),
                name="campaign_flag_thresholds_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(("adjudication_range__gte", 1), ("adjudication_range__lte", 3)),
                name="campaign_adjudication_range",
            ),
        ),
        migrations.AddField(
            model_name="assignment",
            name="extra_rater",
            field=models.BooleanField(
                default=False,
                help_text="One more rater asked for by adjudication: beyond the cell's planned "
                "raters, and never topped up by the planner.",
            ),
        ),
        migrations.RunPython(
            _on_postgresql(CREATE_GUARD),
            _on_postgresql(_caps.CREATE_GUARD),
            elidable=False,
        ),
        migrations.CreateModel(
            name="RaterExclusion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "since",
                    models.DateTimeField(
                        blank=True,
                        help_text="Ratings last changed from this moment; empty: all.",
                        null=True,
                    ),
                ),
                ("reason", models.TextField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("lifted_at", models.DateTimeField(blank=True, null=True)),
                ("lift_reason", models.TextField(blank=True)),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rater_exclusions",
                        to="annotate.campaign",
                    ),
                ),
                (
                    "annotator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rater_exclusions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("created_by", _user_fk()),
                ("lifted_by", _user_fk()),
            ],
            options={"ordering": ["campaign", "-created_at", "-pk"]},
        ),
        migrations.AddConstraint(
            model_name="raterexclusion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("lifted_at__isnull", True)),
                fields=("campaign", "annotator"),
                name="exclusion_one_active_per_rater",
            ),
        ),
        migrations.AddConstraint(
            model_name="raterexclusion",
            constraint=models.CheckConstraint(
                condition=models.Q(("reason", ""), _negated=True), name="exclusion_reason_given"
            ),
        ),
        migrations.AddConstraint(
            model_name="raterexclusion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("lifted_at__isnull", True),
                    models.Q(("lift_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="exclusion_lift_reason_given",
            ),
        ),
        migrations.CreateModel(
            name="AdjudicationAction",
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
                            ("extra_rater", "Extra Rater"),
                            ("decision", "Decision"),
                            ("withdrawal", "Withdrawal"),
                        ],
                        max_length=16,
                    ),
                ),
                ("score", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("reason", models.TextField(blank=True)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="adjudication_actions",
                        to="annotate.campaign",
                    ),
                ),
                (
                    "clip",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="adjudication_actions",
                        to="annotate.clip",
                    ),
                ),
                (
                    "assignment",
                    models.OneToOneField(
                        blank=True,
                        help_text="The extra rater's assignment.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="adjudication_action",
                        to="annotate.assignment",
                    ),
                ),
                ("by", _user_fk()),
            ],
            options={
                "ordering": ["campaign", "-at", "-pk"],
                "indexes": [
                    models.Index(fields=["clip", "kind", "at"], name="adjudication_clip_kind_at")
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="adjudicationaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("kind", "decision"),
                        ("score__gte", 0),
                        ("score__lte", 3),
                        models.Q(("reason", ""), _negated=True),
                    ),
                    models.Q(
                        ("kind", "withdrawal"),
                        ("score__isnull", True),
                        models.Q(("reason", ""), _negated=True),
                    ),
                    models.Q(("kind", "extra_rater"), ("score__isnull", True)),
                    _connector="OR",
                ),
                name="adjudication_action_consistent",
            ),
        ),
    ]
