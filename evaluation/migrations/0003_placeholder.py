from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0002_judge_run_clips_dispatch")]

    operations = []
