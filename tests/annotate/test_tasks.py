"""The media task retries when the database goes away for a moment, and only then."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from annotate.models import MediaAsset
from annotate.tasks import media_asset_prepare
from tests.factories import MediaAssetFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _eager_retries():
    # Run eagerly, a task retries in place only when its errors are not re-raised at once;
    # a worker retries through the broker the same way, a few seconds later.
    conf = media_asset_prepare.app.conf
    before, conf["task_eager_propagates"] = conf["task_eager_propagates"], False
    yield
    conf["task_eager_propagates"] = before


class DatabaseGone:
    """Fail the first `times` saves of an asset as a database gone away would; count the
    task's attempts (each one starts by reading the asset)."""

    def __init__(self, times: int) -> None:
        self.left, self.attempts = times, 0

    def __call__(self, execute, sql, params, many, context):
        statement = sql.lower()
        if statement.startswith("select") and 'from "annotate_mediaasset"' in statement:
            self.attempts += 1
        if self.left and statement.startswith('update "annotate_mediaasset"'):
            self.left -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def run(asset_id: int, fault: DatabaseGone):
    with connection.execute_wrapper(fault):
        return media_asset_prepare.apply(args=[asset_id])


def test_a_database_blip_is_retried_and_the_outcome_saved():
    asset = MediaAssetFactory()  # its original is not on disk: the asset ends failed
    fault = DatabaseGone(times=1)
    assert run(asset.pk, fault).get() == MediaAsset.Status.FAILED
    assert fault.attempts == 2
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.FAILED and asset.error


def test_the_retries_are_bounded():
    asset = MediaAssetFactory()
    fault = DatabaseGone(times=10)
    with pytest.raises(OperationalError):
        run(asset.pk, fault).get()
    assert fault.attempts == 1 + media_asset_prepare.max_retries == 3
    assert MediaAsset.objects.get(pk=asset.pk).status == MediaAsset.Status.READY  # unchanged


def test_a_broken_video_fails_once_without_a_retry():
    asset = MediaAssetFactory()
    fault = DatabaseGone(times=0)
    assert run(asset.pk, fault).get() == MediaAsset.Status.FAILED
    assert fault.attempts == 1
