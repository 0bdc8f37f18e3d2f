from django.db import migrations


class Migration(migrations.Migration):
    """The synthetic demo's true labels leave the schema: they stay in the demo's truth.json."""

    dependencies = [("annotate", "0009_teams")]

    operations = [
        migrations.RemoveConstraint(model_name="clip", name="clip_demo_category_range"),
        migrations.RemoveField(model_name="clip", name="demo_category"),
        migrations.RemoveField(model_name="episode", name="reference_success"),
    ]
