from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotate.models import Assignment, Clip, Rating, RatingRevision
from annotate.services import rating_submit, reference_import, submission_import
from evaluation.models import JudgeRun, JudgeVersion, Verdict
from tests.factories import AssignmentFactory, UserFactory
from tests.videos import write_reference_tree, write_submission_tree

pytestmark = pytest.mark.django_db(transaction=True)

TEAM = "aurora-dynamics"
JUDGE_MARK = "judge-says-2.7182"
WATCHED = {"watched_reference": "1", "watched_generated": "1"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(campaign, annotator, tmp_path):
    """Real imported media: task 3 with three episodes, one team, a judge verdict on every clip."""
    write_reference_tree(tmp_path / "ref", "single", tasks=(3,), episodes=(0, 1, 2))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    write_submission_tree(tmp_path / "sub", tasks=(3,), episodes=(0, 1, 2))
    submission_import(campaign=campaign, team_name=TEAM, path=tmp_path / "sub")
    campaign.tasks.update(title="Banana", instruction="put the banana in the basket")
    clips = list(Clip.objects.order_by("episode__number"))
    # The seeded queue order differs from the episode order on purpose.
    assignments = [
        AssignmentFactory(annotator=annotator, clip=clip, campaign=campaign, order_key=key)
        for clip, key in zip(clips, (2, 0, 1), strict=True)
    ]
    judge = JudgeVersion.objects.create(name="baseline", version=JUDGE_MARK)
    run = JudgeRun.objects.create(campaign=campaign, judge=judge)
    for clip in clips:
        Verdict.objects.create(
            run=run, clip=clip, score=2, expected_score=2.7182, features={"note": JUDGE_MARK}
        )
    ordered = sorted(assignments, key=lambda a: a.order_key)
    return {
        "campaign": campaign,
        "clips": clips,
        "ordered": ordered,
        "team": clips[0].submission.team,
    }


def forbidden_strings(world) -> list[str]:
    """What a blind page must never show: team identity, file names, episode keys, judge output."""
    team = world["team"]
    strings = [TEAM, f'team_id":{team.pk}', JUDGE_MARK, "2.7182", "verdict", "judge"]
    for clip in world["clips"]:
        strings += [
            clip.source_name,
            clip.episode.key,
            str(clip.episode),
            clip.asset.sha256,
            str(clip.token),
        ]
        strings += [clip.asset.original, clip.episode.reference.original]
    return strings


def assert_blind(text: str, world) -> None:
    lowered = text.lower()
    for needle in forbidden_strings(world):
        assert needle.lower() not in lowered, f"{needle!r} leaked"
    assert not re.search(r"\bteam\b|submission", lowered), "a team or submission is named"


def test_queue_shows_progress_per_task_and_a_start_button(client, annotator, world):
    client.force_login(annotator)
    page = client.get(reverse("queue")).content.decode()
    assert "0 of 3 in Task 3" in page and "Start rating" in page
    assert "put the banana in the basket" in page

    first = world["ordered"][0]
    rating_submit(
        assignment=first, user=annotator, score=3, watched_reference=1, watched_generated=1
    )
    page = client.get(reverse("queue")).content.decode()
    assert "1 of 3 in Task 3" in page and "Continue rating" in page
    assert_blind(page, world)


def test_start_opens_the_first_clip_in_the_annotators_order(client, annotator, world):
    client.force_login(annotator)
    response = client.post(reverse("rate-next"), {"campaign": world["campaign"].slug})
    first = world["ordered"][0]
    assert response.status_code == 302 and response.url == reverse("rate", args=[first.pk])
    first.refresh_from_db()
    assert first.status == Assignment.Status.IN_PROGRESS
    # Leaving and starting again resumes the same clip.
    assert client.post(reverse("rate-next")).url == reverse("rate", args=[first.pk])


def test_the_rating_page_is_blind_and_carries_what_the_player_needs(client, annotator, world):
    client.force_login(annotator)
    first, second = world["ordered"][:2]
    page = client.get(reverse("rate", args=[first.pk])).content.decode()
    assert_blind(page, world)
    config = json.loads(
        re.search(r'id="rate-config" type="application/json">(.*?)</script>', page).group(1)
    )
    clip = first.clip
    assert config["generated"]["video"] == f"/m/{clip.asset.token}/video"
    assert config["reference"]["video"] == f"/m/{clip.episode.reference.token}/video"
    assert config["generated"]["fps"] == clip.asset.fps and config["generated"]["frame_count"] == 12
    assert config["require_full_watch"] is True
    # The next pair is preloaded, and the annotator may fetch it.
    assert f"/m/{second.clip.asset.token}/video" in page
    assert (
        client.get(f"/m/{second.clip.asset.token}/video", HTTP_RANGE="bytes=0-9").status_code == 206
    )
    assert "Clip 1 of 3".lower() in page.lower() and "0 of 3 rated in Task 3" in page
    for shortcut in ("Space", "Enter", "0</kbd>–<kbd>3"):
        assert shortcut in page


def test_submitting_the_form_saves_the_rating_and_opens_the_next_clip(client, annotator, world):
    client.force_login(annotator)
    first, second = world["ordered"][:2]
    client.get(reverse("rate", args=[first.pk]))
    response = client.post(
        reverse("rate-submit", args=[first.pk]),
        {
            "score": "2",
            "final_state": "true",
            "clean": "false",
            "comment": "wobbly",
            "time_on_page_s": "31.5",
            **WATCHED,
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("rate", args=[second.pk]) + f"?done={first.pk}"
    rating = Rating.objects.get(assignment=first)
    assert (rating.score, rating.final_state, rating.clean, rating.comment) == (
        2,
        True,
        False,
        "wobbly",
    )
    assert rating.time_on_page_s == 31.5
    assert "1 of 3 in Task 3" in client.get(reverse("queue")).content.decode()


def test_the_form_refuses_a_rating_before_both_clips_were_watched(client, annotator, world):
    client.force_login(annotator)
    first = world["ordered"][0]
    response = client.post(
        reverse("rate-submit", args=[first.pk]),
        {"score": "3", "watched_reference": "0.4", "watched_generated": "1"},
        follow=True,
    )
    assert not Rating.objects.exists()
    assert "played to the end" in response.content.decode()


def test_the_form_refuses_answers_that_contradict_the_score(client, annotator, world):
    client.force_login(annotator)
    first = world["ordered"][0]
    response = client.post(
        reverse("rate-submit", args=[first.pk]),
        {"score": "3", "final_state": "false", **WATCHED},
        follow=True,
    )
    assert not Rating.objects.exists()
    assert "score 3 needs final_state=True" in response.content.decode()


def test_the_last_rating_returns_to_the_queue_and_a_revision_is_kept(client, annotator, world):
    client.force_login(annotator)
    for assignment in world["ordered"]:
        response = client.post(
            reverse("rate-submit", args=[assignment.pk]), {"score": "1", **WATCHED}
        )
    assert response.url == reverse("queue") + f"?done={world['ordered'][-1].pk}"
    page = client.get(response.url).content.decode()
    assert "3 of 3 in Task 3" in page and "All rated" in page

    first = world["ordered"][0]
    page = client.get(reverse("rate", args=[first.pk])).content.decode()
    assert "Save revision" in page
    client.post(reverse("rate-submit", args=[first.pk]), {"score": "0", "comment": "arm drifts"})
    rating = Rating.objects.get(assignment=first)
    assert (rating.score, rating.revision, rating.motion) == (0, 2, False)
    assert list(RatingRevision.objects.filter(rating=rating).values_list("score", flat=True)) == [
        1,
        0,
    ]


def test_another_annotators_clip_and_media_stay_hidden(client, world):
    stranger = UserFactory()
    client.force_login(stranger)
    first = world["ordered"][0]
    assert client.get(reverse("rate", args=[first.pk])).status_code == 404
    assert (
        client.post(reverse("rate-submit", args=[first.pk]), {"score": "3", **WATCHED}).status_code
        == 404
    )
    assert client.get(f"/m/{first.clip.asset.token}/video").status_code == 404


def test_pages_need_a_login(client, world):
    assert client.get(reverse("queue")).status_code == 302
    assert client.get(reverse("rate", args=[world["ordered"][0].pk])).status_code == 302


# ---- the annotator API --------------------------------------------------------------


@pytest.fixture
def api(annotator):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=annotator).key}")
    return client


def all_keys(data) -> set[str]:
    if isinstance(data, dict):
        return set(data) | set().union(*(all_keys(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(all_keys(v) for v in data)) if data else set()
    return set()


def test_api_walks_the_queue_blind(api, world):
    queue = api.get("/api/me/queue/")
    assert queue.status_code == 200
    [campaign] = queue.json()["results"]
    assert (campaign["done"], campaign["total"], campaign["tasks"][0]["task_number"]) == (0, 3, 3)

    taken = api.post("/api/me/next/", {"campaign": world["campaign"].slug}, format="json")
    assert taken.status_code == 200
    body = taken.json()
    first = world["ordered"][0]
    assert body["assignment"] == first.pk and (body["position"], body["total"]) == (1, 3)
    assert body["generated"]["video"] == f"/m/{first.clip.asset.token}/video"
    assert body["reference"]["frame_count"] == 12 and body["reference"]["fps"] > 0

    made = api.post(
        f"/api/me/assignments/{first.pk}/rating/",
        {"final_state": False, "motion": True, "watched_reference": 1, "watched_generated": 0.99},
        format="json",
    )
    assert made.status_code == 201 and made.json()["score"] == 1
    again = api.post(
        f"/api/me/assignments/{first.pk}/rating/",
        {"score": 1, "watched_reference": 1, "watched_generated": 1},
        format="json",
    )
    assert again.status_code == 201 and again.json()["revision"] == 1

    patched = api.patch(
        f"/api/me/assignments/{first.pk}/rating/", {"comment": "gone at the end"}, format="json"
    )
    assert patched.status_code == 200
    assert (patched.json()["score"], patched.json()["revision"]) == (1, 2)
    put = api.put(f"/api/me/assignments/{first.pk}/rating/", {"score": 3}, format="json")
    assert put.json()["score"] == 3 and put.json()["revision"] == 3

    mine = api.get("/api/me/ratings/").json()["results"]
    assert [(r["assignment"], r["score"]) for r in mine] == [(first.pk, 3)]

    texts = [queue, taken, made, patched, put, api.get("/api/me/ratings/")]
    for response in texts:
        assert_blind(response.content.decode(), world)
        keys = all_keys(response.json())
        assert not keys & {
            "team",
            "team_id",
            "submission",
            "source_name",
            "episode",
            "verdict",
            "clip",
        }


def test_api_refusals_are_clear(api, world):
    first = world["ordered"][0]
    early = api.post(f"/api/me/assignments/{first.pk}/rating/", {"score": 3}, format="json")
    assert early.status_code == 400 and "played to the end" in early.json()["detail"][0]
    contradiction = api.post(
        f"/api/me/assignments/{first.pk}/rating/",
        {"score": 0, "final_state": True, "watched_reference": 1, "watched_generated": 1},
        format="json",
    )
    assert contradiction.status_code == 400 and "final_state" in contradiction.json()["detail"][0]
    stranger = AssignmentFactory()
    assert (
        api.post(
            f"/api/me/assignments/{stranger.pk}/rating/", {"score": 3}, format="json"
        ).status_code
        == 404
    )
    unrated = api.patch(f"/api/me/assignments/{first.pk}/rating/", {"score": 3}, format="json")
    assert unrated.status_code == 400 and "submit one first" in unrated.json()["detail"][0]


def test_api_next_says_when_nothing_is_left(api, annotator, world):
    for assignment in world["ordered"]:
        rating_submit(
            assignment=assignment, user=annotator, score=2, watched_reference=1, watched_generated=1
        )
    assert api.post("/api/me/next/", {}, format="json").status_code == 204


def test_api_needs_authentication_and_is_in_the_schema(world):
    assert APIClient().get("/api/me/queue/").status_code in (401, 403)
    schema = APIClient().get("/api/schema/", {"format": "json"}).content.decode()
    for path in (
        "/api/me/queue/",
        "/api/me/next/",
        "/api/me/assignments/{assignment_id}/rating/",
        "/api/me/ratings/",
    ):
        assert path in schema


def test_the_rating_loop_keeps_a_small_fixed_query_budget(
    client, annotator, world, django_assert_max_num_queries
):
    # The pages an annotator hits every clip: a budget that does not grow with the queue,
    # so that a refactoring which adds round trips is caught here.
    client.force_login(annotator)
    first, second = world["ordered"][:2]
    watched = {"watched_reference": 1, "watched_generated": 1}
    rating_submit(assignment=world["ordered"][2], user=annotator, score=3, **watched)
    # Counted with BEGIN and COMMIT, which this transactional test sees. The queue page,
    # the rating page and the API rating each spend one query on the practice gate.
    with django_assert_max_num_queries(6, info="queue page"):
        assert client.get(reverse("queue")).status_code == 200
    with django_assert_max_num_queries(8, info="next"):
        client.post(reverse("rate-next"), {"campaign": world["campaign"].slug})
    # The rating page and the API rating each spend one query checking that the clip is
    # in its team's rated version.
    with django_assert_max_num_queries(8, info="rating page"):
        assert client.get(reverse("rate", args=[first.pk])).status_code == 200
    video = f"/m/{second.clip.asset.token}/video"
    with django_assert_max_num_queries(4, info="video range"):
        assert client.get(video, HTTP_RANGE="bytes=0-99").status_code == 206
    with django_assert_max_num_queries(15, info="API rating"):
        made = client.post(
            f"/api/me/assignments/{first.pk}/rating/",
            {"score": 2, **watched},
            content_type="application/json",
        )
        assert made.status_code == 201


def test_the_queue_and_the_rating_page_tell_what_the_robot_should_do(client, annotator, world):
    campaign = world["campaign"]
    campaign.tasks.update(
        title="Banana <b>", instruction="Put the banana in the basket.\nThen let go."
    )
    client.force_login(annotator)
    guideline = reverse("guideline", args=[campaign.slug])
    queue = client.get(reverse("queue")).content.decode()
    row = re.search(r'<tr data-task="3">(.*?)</tr>', queue, re.S).group(1)
    assert "<strong>Banana &lt;b&gt;</strong>" in row
    assert "Put the banana in the basket.<br>Then let go." in row and "—" not in row
    assert f'href="{guideline}"' in queue

    page = client.get(reverse("rate", args=[world["ordered"][0].pk])).content.decode()
    box = re.search(r'<section class="instruction" id="task-instruction".*?</section>', page, re.S)
    assert "Put the banana in the basket.<br>Then let go." in box.group(0)
    assert f'href="{guideline}"' in box.group(0)
    assert "Banana &lt;b&gt;" in page
    assert_blind(page, world)
    # The guideline the page links to opens for this annotator, and is blind too.
    opened = client.get(guideline)
    assert opened.status_code == 200 and "insert the ear into the box" in opened.content.decode()
    assert_blind(opened.content.decode(), world)


def test_the_api_queue_carries_the_task_title_and_instruction(api, world):
    world["campaign"].tasks.update(title="Banana", instruction="Put it in the basket.")
    [campaign] = api.get("/api/me/queue/").json()["results"]
    assert (campaign["state"], campaign["accepts_ratings"]) == ("open", True)
    task = campaign["tasks"][0]
    assert (task["task_title"], task["task_instruction"]) == ("Banana", "Put it in the basket.")
    taken = api.post("/api/me/next/", {"campaign": world["campaign"].slug}, format="json").json()
    assert (taken["task_title"], taken["task_instruction"]) == ("Banana", "Put it in the basket.")


def test_a_campaign_not_open_shows_its_state_and_no_start_button(client, annotator, world):
    from annotate.models import Campaign

    client.force_login(annotator)
    campaign = world["campaign"]
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.DRAFT)
    page = client.get(reverse("queue")).content.decode()
    assert "not open yet" in page and "Start rating" not in page
    rate = client.get(reverse("rate", args=[world["ordered"][0].pk])).content.decode()
    assert "This campaign is not open yet" in rate
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.LOCKED)
    page = client.get(reverse("queue")).content.decode()
    assert '<span class="badge">locked</span>' in page and "Start rating" not in page
