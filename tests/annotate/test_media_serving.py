from __future__ import annotations

import importlib
import io
from pathlib import Path

import av
import numpy as np
import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from PIL import Image

from annotate.models import Assignment, Clip, MediaAsset
from annotate.notice_text import text
from annotate.services import (
    api_token_issue,
    api_token_revoke,
    assignment_next,
    assignment_plan_apply,
    media_asset_prepare,
    reference_import,
    submission_import,
)
from tests.videos import tag_video, write_reference_tree, write_submission_tree

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


# --- what a served file carries -------------------------------------------------------

TEAM = "zephyrus"
# What our own MP4 muxer writes; anything else in a served file came from somewhere else.
MUXER_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder"}
STREAM_TAGS = {"language", "handler_name", "vendor_id"}


@pytest.fixture
def tagged_clip(campaign, tmp_path, annotator):
    """A reference and a clip, both H.264 (served without re-encoding), every tag naming the team."""
    reference = write_reference_tree(tmp_path / "ref", "single", episodes=(0,))
    tag_video(reference / "task1/episode_0.mp4", TEAM)
    reference_import(campaign=campaign, path=reference)
    submission = write_submission_tree(tmp_path / "sub", episodes=(0,))
    tag_video(submission / "test/task1/episode_0.mp4", TEAM)
    submission_import(campaign=campaign, team_name=TEAM, path=submission)
    clip = Clip.objects.get()
    Assignment.objects.create(campaign=campaign, annotator=annotator, clip=clip)
    return clip


def tags_of(data: bytes) -> tuple[dict, list[dict]]:
    with av.open(io.BytesIO(data)) as container:
        return dict(container.metadata), [dict(stream.metadata) for stream in container.streams]


@pytest.mark.parametrize("role", ["generated", "reference"])
def test_served_media_carry_nothing_of_the_upload(client, annotator, tagged_clip, settings, role):
    asset = tagged_clip.asset if role == "generated" else tagged_clip.episode.reference
    upload = (Path(settings.MEDIA_ROOT) / asset.original).read_bytes()
    assert upload.count(TEAM.encode()) >= 10  # the tags, the encoder string, the SEI text
    client.force_login(annotator)

    video = body(client.get(url(asset)))
    poster = body(client.get(url(asset, "poster")))

    for data in (video, poster):
        assert TEAM.encode() not in data.lower()
    container_tags, stream_tags = tags_of(video)
    assert set(container_tags) <= MUXER_TAGS, container_tags
    assert container_tags["encoder"].startswith("Lavf")
    assert len(stream_tags) == 1 and set(stream_tags[0]) <= STREAM_TAGS, stream_tags
    assert stream_tags[0]["handler_name"] == "VideoHandler"
    assert tags_of(poster) == ({}, [{}])
    image = Image.open(io.BytesIO(poster))
    assert not image.getexif() and "comment" not in image.info


def test_a_browser_ready_clip_is_copied_not_re_encoded(tagged_clip, settings):
    """The served copy of an H.264 clip has the very pictures of the upload."""
    root = Path(settings.MEDIA_ROOT)
    asset = tagged_clip.asset

    def pictures(path: Path) -> list[np.ndarray]:
        with av.open(str(path)) as container:
            return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]

    uploaded, served = pictures(root / asset.original), pictures(root / asset.playable)
    assert len(served) == len(uploaded) == asset.frame_count
    assert all(np.array_equal(a, b) for a, b in zip(uploaded, served, strict=True))


def test_the_upload_itself_and_unready_media_are_never_served(staff_client, tagged_clip, settings):
    asset = tagged_clip.asset
    assert staff_client.get(f"/m/{asset.token}/original").status_code == 404
    for status in (MediaAsset.Status.PENDING, MediaAsset.Status.FAILED):
        MediaAsset.objects.filter(pk=asset.pk).update(status=status)
        assert staff_client.get(url(asset)).status_code == 404
        assert staff_client.get(url(asset, "poster")).status_code == 404

    # An asset stored unready (before its copy was made) is made ready from its original.
    (Path(settings.MEDIA_ROOT) / asset.playable).unlink()
    MediaAsset.objects.filter(pk=asset.pk).update(status=MediaAsset.Status.PENDING, playable="")
    prepared = media_asset_prepare(asset_id=asset.pk)

    assert prepared.status == MediaAsset.Status.READY and prepared.playable != prepared.original
    video = body(staff_client.get(url(prepared)))
    assert video and TEAM.encode() not in video.lower()


def test_assets_served_as_uploaded_are_made_clean_after_the_upgrade(
    tagged_clip, staff_client, capsys
):
    asset, reference = tagged_clip.asset, tagged_clip.episode.reference
    # As the earlier preparation left a browser-ready upload: served as it came.
    MediaAsset.objects.filter(pk=asset.pk).update(playable=asset.original)

    importlib.import_module("annotate.migrations.0005_media_clean").unready_uncleaned_assets(
        apps, None
    )

    asset.refresh_from_db()
    reference.refresh_from_db()
    assert (asset.status, asset.playable) == (MediaAsset.Status.PENDING, "")
    assert reference.status == MediaAsset.Status.READY  # a clean copy already: left alone
    assert staff_client.get(url(asset)).status_code == 404

    call_command("prepare_media", verbosity=0)

    assert "ready 1, failed 0" in capsys.readouterr().out
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.READY and asset.playable != asset.original
    assert TEAM.encode() not in body(staff_client.get(url(asset))).lower()


def test_a_clip_whose_media_is_not_ready_is_not_handed_out(campaign, tmp_path, annotator, client):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1, 2))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    write_submission_tree(tmp_path / "sub", episodes=(0, 1, 2))
    submission_import(campaign=campaign, team_name="aurora", path=tmp_path / "sub")
    ready, pending, unready_reference = Clip.objects.order_by("episode__number")
    MediaAsset.objects.filter(pk=pending.asset_id).update(status=MediaAsset.Status.PENDING)
    MediaAsset.objects.filter(pk=unready_reference.episode.reference_id).update(
        status=MediaAsset.Status.FAILED
    )

    result = assignment_plan_apply(campaign=campaign, with_annotators=[annotator])

    assert list(Assignment.objects.values_list("clip", flat=True)) == [ready.pk]
    assert any("2 clip(s) left out" in text(w) for w in result.warnings), result.warnings
    # A row made before its media went back to pending (a re-preparation, say).
    waiting = Assignment.objects.create(campaign=campaign, annotator=annotator, clip=pending)
    assert assignment_next(user=annotator, campaign=campaign).clip == ready
    client.force_login(annotator)
    response = client.get(f"/rate/{waiting.pk}/", follow=True)
    assert response.redirect_chain[-1][0] == "/queue/"
    assert "not ready yet" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Assignment.Status.PENDING


# --- scripts with an API token -----------------------------------------------------------


def test_scripts_fetch_their_media_with_an_api_token(clip, annotator, django_user_model):
    other = django_user_model.objects.create_user("ann2", password="pw-annotator-2")
    Assignment.objects.create(
        campaign=clip.submission.team.campaign, annotator=annotator, clip=clip
    )
    key, other_key = (api_token_issue(user=user, by=None) for user in (annotator, other))
    script = Client()  # no session: the token alone
    token = {"HTTP_AUTHORIZATION": f"Token {key}"}

    handed = script.post("/api/me/next/", {}, content_type="application/json", **token).json()
    video, poster = handed["generated"]["video"], handed["generated"]["poster"]
    assert video == url(clip.asset) and handed["reference"]["video"] == url(clip.episode.reference)

    assert script.get(video, **token).status_code == 200
    assert script.head(video, **token).status_code == 200
    assert script.get(video, HTTP_ACCEPT="video/mp4", **token).status_code == 200
    ranged = script.get(video, HTTP_RANGE="bytes=0-9", **token)
    assert ranged.status_code == 206 and len(body(ranged)) == 10
    assert script.get(poster, **token).status_code == 200
    assert script.get(handed["reference"]["video"], **token).status_code == 200
    # Not assigned to the other annotator: as unknown to them as to anyone.
    assert script.get(video, HTTP_AUTHORIZATION=f"Token {other_key}").status_code == 404
    api_token_revoke(user=annotator, by=None)
    assert script.get(video, **token).status_code == 401


@pytest.mark.parametrize("header", ["bytes={n}-", "bytes=0-{n}", "bytes=-{n}", "bytes={n}-{n}"])
def test_a_range_of_thousands_of_digits_is_unsatisfiable(staff_client, clip, header):
    response = staff_client.get(url(clip.asset), HTTP_RANGE=header.format(n="9" * 4301))
    assert response.status_code == 416
