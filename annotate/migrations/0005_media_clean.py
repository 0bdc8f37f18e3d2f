"""Assets prepared before every served file was a clean copy go back to pending.

Until then a browser-ready upload was served as it was, tags and all, and an odd-sized
or rotated one was described by the upload's size rather than the served file's. Such
assets are served no more (an unready asset never is) and are not handed out, until
`python manage.py prepare_media` makes their clean copies.
"""

from django.db import migrations
from django.db.models import F, Q


def unready_uncleaned_assets(apps, schema_editor):
    MediaAsset = apps.get_model("annotate", "MediaAsset")
    served_as_uploaded = Q(playable=F("original")) | Q(playable="")
    described_by_the_upload = Q(odd_width=1) | Q(odd_height=1)  # served cropped to even
    stale = (
        MediaAsset.objects.filter(status="ready")
        .annotate(odd_width=F("width") % 2, odd_height=F("height") % 2)
        .filter(served_as_uploaded | described_by_the_upload)
    )
    MediaAsset.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).update(
        status="pending", playable="", poster="", error=""
    )


class Migration(migrations.Migration):
    dependencies = [("annotate", "0004_assignment_opaque_ids")]

    operations = [migrations.RunPython(unready_uncleaned_assets, migrations.RunPython.noop)]
