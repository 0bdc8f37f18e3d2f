from __future__ import annotations

from pathlib import Path

import pytest

from annotate.models import Assignment, Clip, MediaAsset
from annotate.services import reference_import, submission_import
from tests.videos import write_reference_tree, write_submission_tree

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clip(campaign, tmp_path):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0,))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    write_submission_tree(tmp_path / "sub", episodes=(0,))
    submission_import(campaign=campaign, team_name="aurora", path=tmp_path / "sub")
    return Clip.objects.get()


def url(asset: MediaAsset, kind: str = "video") -> str:
    return f"/m/{asset.token}/{kind}"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_urls_reveal_no_team_and_no_file_name(clip):
    address = url(clip.asset)
    assert "aurora" not in address and "episode" not in address and clip.asset.sha256 not in address


def test_whole_file_with_accept_ranges(staff_client, clip, settings):
    data = (Path(settings.MEDIA_ROOT) / clip.asset.playable).read_bytes()
    response = staff_client.get(url(clip.asset))
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "video/mp4"
    assert body(response) == data


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-299", 100, 299),
        ("bytes=-50", None, None),
        ("bytes=200-", 200, None),
    ],
)
def test_range_requests(staff_client, clip, settings, header, first, last):
    data = (Path(settings.MEDIA_ROOT) / clip.asset.playable).read_bytes()
    size = len(data)
    if first is None:
        first, last = size - 50, size - 1
    last = size - 1 if last is None else last

    response = staff_client.get(url(clip.asset), HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert int(response["Content-Length"]) == last - first + 1
    assert body(response) == data[first : last + 1]


def test_unsatisfiable_range(staff_client, clip, settings):
    size = (Path(settings.MEDIA_ROOT) / clip.asset.playable).stat().st_size
    response = staff_client.get(url(clip.asset), HTTP_RANGE=f"bytes={size + 10}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_poster_is_a_jpeg(staff_client, clip):
    response = staff_client.get(url(clip.asset, "poster"))
    assert response.status_code == 200 and body(response)[:2] == b"\xff\xd8"


def test_anonymous_users_cannot_fetch_media(client, clip):
    assert client.get(url(clip.asset)).status_code in (302, 404)
    assert client.get(url(clip.asset)).status_code != 200


def test_annotators_see_only_their_assigned_clips_and_references(client, annotator, clip):
    client.force_login(annotator)
    assert client.get(url(clip.asset)).status_code == 404
    assert client.get(url(clip.episode.reference)).status_code == 404
    Assignment.objects.create(
        campaign=clip.submission.team.campaign, annotator=annotator, clip=clip
    )
    assert client.get(url(clip.asset)).status_code == 200
    assert client.get(url(clip.episode.reference), HTTP_RANGE="bytes=0-9").status_code == 206


def test_production_hands_the_bytes_to_the_web_server(staff_client, clip, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    response = staff_client.get(url(clip.asset))
    assert response["X-Accel-Redirect"] == "/protected-media/" + clip.asset.playable
    assert response.content == b""
