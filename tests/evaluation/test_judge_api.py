"""The judge's API beyond the runs: lists in pages, refusals through the shared handler,
stored pairs named by token, uploads bounded, and judges built from the settings of the
moment."""

from __future__ import annotations

import io

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from annotate.models import Campaign
from evaluation import services
from evaluation.models import JudgeRun, JudgeVersion
from tests.evaluation.test_judge_runs import COUNTING, CountingJudge
from tests.evaluation.test_leaderboard import rated_campaign
from tests.factories import MediaAssetFactory, TeamFactory, UserFactory
from tests.videos import write_video


@pytest.fixture
def counting_judge(settings):
    settings.JUDGES = {**settings.JUDGES, "counting": COUNTING}
    CountingJudge.calls = []
    CountingJudge.cancel_after_pairs = None
    return CountingJudge


def _runs(campaign: Campaign, count: int) -> list[int]:
    judge = JudgeVersion.objects.create(name="baseline", version="v-list")
    JudgeRun.objects.bulk_create(JudgeRun(campaign=campaign, judge=judge) for _ in range(count))
    return list(
        JudgeRun.objects.filter(campaign=campaign)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )


def test_the_runs_list_comes_in_pages_of_the_configured_size(campaign, staff_api):
    page_size = django_settings.REST_FRAMEWORK["PAGE_SIZE"]
    newest_first = _runs(campaign, page_size + 3)
    url = reverse("api-judge-runs", args=[campaign.slug])

    first = staff_api.get(url).json()
    assert first["count"] == page_size + 3 and first["previous"] is None
    assert [row["id"] for row in first["results"]] == newest_first[:page_size]
    rest = staff_api.get(first["next"]).json()
    assert [row["id"] for row in rest["results"]] == newest_first[page_size:]
    assert rest["next"] is None

    small = staff_api.get(url, {"limit": 2, "offset": 1}).json()
    assert [row["id"] for row in small["results"]] == newest_first[1:3]


def test_the_schema_documents_the_runs_list_as_pages():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/campaigns/{slug}/judge-runs/"]["get"]
    assert {"limit", "offset"} <= {parameter["name"] for parameter in operation["parameters"]}
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert page["properties"]["results"]["type"] == "array"


def test_a_service_refusal_is_a_400_with_its_reason(campaign, staff_api):
    """JudgingError, raised by the service, answered by the shared handler."""
    (run_id,) = _runs(campaign, 1)
    JudgeRun.objects.filter(pk=run_id).update(status=JudgeRun.Status.DONE)
    response = staff_api.post(reverse("api-judge-run-cancel", args=[run_id]))
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"judge run {run_id} is done: only a queued or running run can be cancelled"
    }
    unknown = staff_api.post(
        reverse("api-judge-runs", args=[campaign.slug]), {"judge": "nope"}, format="json"
    )
    assert unknown.status_code == 400 and unknown.json()["detail"].startswith(
        "unknown judge 'nope'"
    )


@pytest.mark.django_db
def test_a_figure_the_report_cannot_draw_is_a_400_with_its_reason(staff_api):
    rated_campaign(n_teams=3, n_tasks=1, n_episodes=3, seed=6, slug="fig")
    response = staff_api.get(
        reverse("api-agreement-figure", args=["fig", "scatter", "png"]),
        {"run": "humans", "bootstrap": 0},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"detail"} and "judge run" in response.json()["detail"]


def _stored_asset(seed: int):
    asset = MediaAssetFactory()
    write_video(django_settings.MEDIA_ROOT / asset.original, frames=8, seed=seed)
    return asset


@pytest.mark.django_db
def test_stored_media_are_judged_by_their_tokens(staff_api, counting_judge):
    reference, same, other = _stored_asset(1), _stored_asset(1), _stored_asset(2)
    url = reverse("api-judge-pair")

    alike = staff_api.post(
        url,
        {"judge": "counting", "reference_token": reference.token, "generated_token": same.token},
        format="json",
    )
    assert alike.status_code == 200, alike.json()
    assert alike.json()["score"] == 3 and alike.json()["features"]["first_frame_gap"] == 0.0
    unlike = staff_api.post(
        url,
        {"judge": "counting", "reference_token": reference.token, "generated_token": other.token},
        format="json",
    )
    assert unlike.status_code == 200 and unlike.json()["score"] == 0

    alone = staff_api.post(url, {"judge": "counting", "generated_token": same.token}, format="json")
    assert alone.status_code == 400
    assert alone.json() == {
        "detail": "a reference_token is needed unless generated_token is a clip's token"
    }
    missing = "00000000-0000-0000-0000-000000000001"
    unknown = staff_api.post(
        url,
        {"judge": "counting", "reference_token": missing, "generated_token": same.token},
        format="json",
    )
    assert unknown.status_code == 400
    assert unknown.json() == {"detail": f"no clip or media asset has token {missing}"}
    assert len(counting_judge.calls) == 2


@pytest.mark.django_db
def test_an_oversized_pair_is_refused_before_it_is_read(staff_api, settings, counting_judge):
    settings.JUDGE_PAIR_MAX_UPLOAD_BYTES = 1000
    team = TeamFactory(campaign=Campaign.objects.create(slug="t", name="t", teams_may_judge=True))
    member = UserFactory(username="member")
    team.members.add(member)
    team_api = APIClient()
    team_api.force_authenticate(member)
    for client, url in [
        (staff_api, reverse("api-judge-pair")),
        (team_api, reverse("api-team-judge-pair", args=["t"])),
    ]:
        files = {name: io.BytesIO(b"x" * 100_000) for name in ("reference", "generated")}
        for name, file in files.items():
            file.name = f"{name}.mp4"
        response = client.post(url, {"judge": "counting", **files}, format="multipart")
        assert response.status_code == 413, url
        allowed = 2 * 1000 + 64 * 1024
        assert response.json()["detail"].endswith(f"bytes; at most {allowed} are accepted")
    assert counting_judge.calls == []


@pytest.mark.django_db
def test_a_changed_setting_is_seen_at_once(settings):
    """No judge is kept between uses: the settings entry's version follows the settings."""
    settings.JUDGES = {"small": {"BACKEND": COUNTING["BACKEND"], "OPTIONS": {"tolerance": 1.0}}}
    before = services.judge_version_for(name="small")
    settings.JUDGES = {"small": {"BACKEND": COUNTING["BACKEND"], "OPTIONS": {"tolerance": 5.0}}}
    after = services.judge_version_for(name="small")
    assert before.version != after.version
    assert services.judge_build(judge_version=after).tolerance == 5.0
    with pytest.raises(services.JudgingError, match="can no longer be rebuilt"):
        services.judge_build(judge_version=before)
