"""The judge's organizer pages, API and commands: staff only, thin over the services."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Clip
from evaluation import services
from evaluation.models import JudgeRun, JudgeVersion
from tests.evaluation.test_judge_runs import COUNTING, CountingJudge
from tests.factories import UserFactory
from tests.videos import write_video


@pytest.fixture
def counting_judge(settings):
    settings.JUDGES = {**settings.JUDGES, "counting": COUNTING}
    CountingJudge.calls = []
    CountingJudge.cancel_after_pairs = None
    return CountingJudge


@pytest.fixture
def organizer(transactional_db):
    # Not the shared `organizer` fixture: the demo campaign creates a user of that name.
    return UserFactory(username="judge-staff", is_staff=True)


def test_pages_and_api_are_for_staff_only(demo_campaign, client):
    slug = demo_campaign.slug
    run = JudgeRun.objects.create(
        campaign=demo_campaign, judge=JudgeVersion.objects.create(name="baseline", version="x")
    )
    pages = [
        ("get", reverse("judge-runs", args=[slug])),
        ("post", reverse("judge-run-launch", args=[slug])),
        ("post", reverse("judge-calibrate", args=[slug])),
        ("get", reverse("judge-run", args=[slug, run.pk])),
        ("get", reverse("judge-run-progress", args=[slug, run.pk])),
        ("post", reverse("judge-run-cancel", args=[slug, run.pk])),
        ("post", reverse("judge-run-resume", args=[slug, run.pk])),
    ]
    annotator = UserFactory(username="judge-annotator")
    client.force_login(annotator)
    for method, url in pages:
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
    api = APIClient()
    api.force_authenticate(annotator)
    endpoints = [
        ("get", reverse("api-judge-runs", args=[slug])),
        ("post", reverse("api-judge-runs", args=[slug])),
        ("get", reverse("api-judge-run", args=[run.pk])),
        ("post", reverse("api-judge-run-cancel", args=[run.pk])),
        ("post", reverse("api-judge-run-resume", args=[run.pk])),
        ("get", reverse("api-judge-run-ranking", args=[run.pk])),
        ("post", reverse("api-judge-calibrate", args=[slug])),
        ("post", reverse("api-judge-pair")),
    ]
    for method, url in endpoints:
        assert getattr(api, method)(url).status_code == 403, url
    assert JudgeRun.objects.get(pk=run.pk).status == JudgeRun.Status.QUEUED


def test_an_organizer_launches_follows_and_reads_a_run(demo_campaign, staff_client, counting_judge):
    slug = demo_campaign.slug
    page = staff_client.get(reverse("judge-runs", args=[slug]))
    assert page.status_code == 200 and b"counting (as configured now)" in page.content

    response = staff_client.post(
        reverse("judge-run-launch", args=[slug]), {"judge": "counting", "chunk_size": 5}
    )

    run = JudgeRun.objects.get(campaign=demo_campaign)
    assert response.status_code == 302
    assert response["Location"] == reverse("judge-run", args=[slug, run.pk])
    assert run.status == JudgeRun.Status.DONE and run.chunk_size == 5
    progress = staff_client.get(reverse("judge-run-progress", args=[slug, run.pk])).json()
    assert progress["status"] == "done" and progress["done"] == progress["total"] == run.total
    detail = staff_client.get(reverse("judge-run", args=[slug, run.pk]))
    assert detail.status_code == 200
    assert b'id="judge-ranking"' in detail.content and b"judge:counting@" in detail.content
    listing = staff_client.get(reverse("judge-runs", args=[slug]))
    assert f"{run.total}/{run.total}".encode() in listing.content


def test_the_page_cancels_and_resumes(demo_campaign, staff_client, counting_judge):
    slug = demo_campaign.slug
    counting_judge.cancel_after_pairs = 3
    staff_client.post(
        reverse("judge-run-launch", args=[slug]), {"judge": "counting", "chunk_size": 2}
    )
    run = JudgeRun.objects.get(campaign=demo_campaign)
    assert run.status == JudgeRun.Status.CANCELLED and run.done == 2
    page = staff_client.get(reverse("judge-run", args=[slug, run.pk]))
    assert b"Resume" in page.content and b">Cancel<" not in page.content

    counting_judge.cancel_after_pairs = None
    staff_client.post(reverse("judge-run-resume", args=[slug, run.pk]))

    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and run.verdicts.count() == run.total
    response = staff_client.post(reverse("judge-run-cancel", args=[slug, run.pk]), follow=True)
    assert b"only a queued or running run can be cancelled" in response.content


def test_a_bad_launch_is_reported_on_the_page(demo_campaign, staff_client):
    response = staff_client.post(
        reverse("judge-run-launch", args=[demo_campaign.slug]), {"judge": "nope", "chunk_size": 0}
    )
    assert response.status_code == 400
    assert not JudgeRun.objects.exists()


def test_the_api_runs_cancels_resumes_and_ranks(demo_campaign, staff_api, counting_judge):
    slug = demo_campaign.slug
    counting_judge.cancel_after_pairs = 1
    created = staff_api.post(
        reverse("api-judge-runs", args=[slug]),
        {"judge": "counting", "chunk_size": 3},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["judge"] == "counting" and body["status"] == "cancelled" and body["done"] == 0
    run_id = body["id"]
    refused = staff_api.post(reverse("api-judge-run-cancel", args=[run_id]))
    assert refused.status_code == 400 and "cancelled" in refused.json()["detail"]

    counting_judge.cancel_after_pairs = None
    resumed = staff_api.post(reverse("api-judge-run-resume", args=[run_id]), {"chunk_size": 4})
    assert resumed.status_code == 200
    detail = staff_api.get(reverse("api-judge-run", args=[run_id])).json()
    assert detail["status"] == "done" and detail["done"] == detail["total"]
    listing = staff_api.get(reverse("api-judge-runs", args=[slug])).json()
    assert [row["id"] for row in listing["results"]] == [run_id]

    ranking = staff_api.get(reverse("api-judge-run-ranking", args=[run_id]), {"n_boot": 20})
    assert ranking.status_code == 200
    rows = ranking.json()["rows"]
    assert len(rows) == 3 and sorted(row["judge_rank"] for row in rows)[0] == 1
    assert all(row["human_rank"] is None for row in rows)


def test_the_api_refuses_unknown_judges_and_versions(demo_campaign, staff_api):
    url = reverse("api-judge-runs", args=[demo_campaign.slug])
    unknown = staff_api.post(url, {"judge": "nope"}, format="json")
    assert unknown.status_code == 400 and "unknown judge 'nope'" in unknown.json()["detail"]
    version = staff_api.post(url, {"judge": "baseline", "version": "v0"}, format="json")
    assert version.status_code == 400 and "no stored version" in version.json()["detail"]


def test_the_api_judges_one_uploaded_pair(staff_api, tmp_path, counting_judge):
    reference = write_video(tmp_path / "reference.mp4", frames=8, seed=1)
    generated = write_video(tmp_path / "generated.mp4", frames=8, seed=1)
    with reference.open("rb") as ref, generated.open("rb") as gen:
        response = staff_api.post(
            reverse("api-judge-pair"),
            {"judge": "counting", "reference": ref, "generated": gen},
            format="multipart",
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["judge"].startswith("counting@") and body["error"] is None
    assert body["score"] == 3 and body["features"]["first_frame_gap"] == pytest.approx(0.0)
    assert len(counting_judge.calls) == 1

    broken = io.BytesIO(b"not a video at all")
    broken.name = "broken.mp4"
    with reference.open("rb") as ref:
        response = staff_api.post(
            reverse("api-judge-pair"),
            {"judge": "counting", "reference": ref, "generated": broken},
            format="multipart",
        )
    assert response.status_code == 200 and response.json()["score"] is None
    assert response.json()["error"]


def test_the_pair_upload_is_bounded(staff_api, tmp_path, settings, counting_judge):
    settings.JUDGE_PAIR_MAX_UPLOAD_BYTES = 1000
    big = io.BytesIO(b"x" * 5000)
    big.name = "big.mp4"
    small = io.BytesIO(b"x" * 10)
    small.name = "small.mp4"
    response = staff_api.post(
        reverse("api-judge-pair"),
        {"judge": "counting", "reference": small, "generated": big},
        format="multipart",
    )
    assert response.status_code == 400 and "at most 1000" in json.dumps(response.json())
    huge = io.BytesIO(b"x" * 200_000)
    huge.name = "huge.mp4"
    response = staff_api.post(
        reverse("api-judge-pair"),
        {"judge": "counting", "reference": small, "generated": huge},
        format="multipart",
    )
    assert response.status_code == 413
    assert counting_judge.calls == []
    missing = staff_api.post(reverse("api-judge-pair"), {"judge": "counting"}, format="json")
    assert missing.status_code == 400


def test_the_api_judges_a_stored_clip_by_its_token(demo_campaign, staff_api, counting_judge):
    clip = Clip.objects.filter(submission__team__campaign=demo_campaign).first()
    response = staff_api.post(
        reverse("api-judge-pair"),
        {"judge": "counting", "generated_token": str(clip.token)},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["score"] in (0, 1, 2, 3)
    unknown = staff_api.post(
        reverse("api-judge-pair"),
        {"judge": "counting", "generated_token": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )
    assert unknown.status_code == 400 and "no clip or media asset" in unknown.json()["detail"]


def test_the_run_command_refuses_clearly(demo_campaign):
    with pytest.raises(CommandError, match="no campaign 'nope'"):
        call_command("judge_run", "nope")
    with pytest.raises(CommandError, match="unknown judge"):
        call_command("judge_run", demo_campaign.slug, "--judge", "nope")
    with pytest.raises(CommandError, match="no judge run 999"):
        call_command("judge_run", demo_campaign.slug, "--resume", "999")
    with pytest.raises(CommandError, match="no completed run"):
        call_command("judge_calibrate", demo_campaign.slug)


def test_the_run_command_resumes_a_cancelled_run(demo_campaign, counting_judge):
    version = services.judge_version_for(name="counting")
    counting_judge.cancel_after_pairs = 2
    run = services.judge_run_create(campaign=demo_campaign, judge_version=version, chunk_size=2)
    counting_judge.cancel_after_pairs = None
    out = io.StringIO()
    call_command("judge_run", demo_campaign.slug, "--resume", str(run.pk), "--wait", stdout=out)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and f"{run.total}/{run.total}" in out.getvalue()
