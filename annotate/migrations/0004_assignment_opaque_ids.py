from django.db import migrations, models

import annotate.models


class Migration(migrations.Migration):
    """Assignment ids become random (existing rows keep theirs): annotators see them."""

    dependencies = [("annotate", "0003_rating_idempotency_key")]

    operations = [
        migrations.AlterField(
            model_name="assignment",
            name="id",
            field=models.BigIntegerField(
                default=annotate.models.opaque_id,
                editable=False,
                primary_key=True,
                serialize=False,
            ),
        ),
    ]
