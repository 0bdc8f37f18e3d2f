"""The practice round: examples with their answers, feedback after each one, the pass mark,
the gate on real work (pages, API and services alike), and the organizer's retry."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotate import services as annotate_services
from annotate.models import Assignment, Campaign, PracticeAttempt, QualityExample, Rating
from annotate.selectors import quality as selectors
from annotate.services import quality as services
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    ClipFactory,
    EpisodeFactory,
    MediaAssetFactory,
    SubmissionFactory,
    TaskFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

WATCHED = {"watched_reference": 1, "watched_generated": 1}
# The protocol's own examples, as an organizer would write them.
EXAMPLES = [
    (3, "the ear goes into the box without any deformation"),
    (2, "the banana deforms on the way"),
    (1, "the banana ends in the basket although the reference fails"),
]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Setup:
    campaign: Campaign
    annotator: object
    work: list[Assignment]
    practice_clips: list[int]
    spare_clips: list[int]
    old_clip: int  # a clip of a version that a newer one replaced


def build(*, with_examples: bool = True, pass_count: int = 0, mode: str = "exact") -> Setup:
    campaign = CampaignFactory(
        slug="qc", practice_pass_count=pass_count, practice_pass_mode=mode, seed=3
    )
    tasks = [TaskFactory(campaign=campaign, number=k, key=f"task{k}") for k in (1, 2)]
    episodes = [
        EpisodeFactory(task=task, number=n, key=f"episode_{n}") for task in tasks for n in range(3)
    ]
    alpha, beta = (TeamFactory(campaign=campaign, name=name) for name in ("alpha", "beta"))
    old = SubmissionFactory(team=beta, version=1)
    old_clip = ClipFactory(submission=old, episode=episodes[0])
    submissions = [
        SubmissionFactory(team=alpha, version=1),
        SubmissionFactory(team=beta, version=2),
    ]
    clips = {
        (s.team.name, e.pk): ClipFactory(submission=s, episode=e, asset=MediaAssetFactory())
        for s in submissions
        for e in episodes
    }
    annotator = UserFactory(username="ann")
    campaign.annotators.add(annotator)
    work = [
        AssignmentFactory(campaign=campaign, annotator=annotator, clip=clips[("alpha", e.pk)])
        for e in episodes[:4]
    ]
    beta_clips = [clips[("beta", e.pk)].pk for e in episodes]
    practice = beta_clips[:3]
    if with_examples:
        for clip_id, (score, why) in zip(practice, EXAMPLES, strict=True):
            services.quality_example_mark(
                campaign=campaign, clip_id=clip_id, kind="practice", score=score, explanation=why
            )
    return Setup(campaign, annotator, work, practice, beta_clips[3:], old_clip.pk)


def answer_all(client, slug: str, scores: list[int]) -> None:
    client.post(reverse("practice-start", args=[slug]))
    for step, score in enumerate(scores, start=1):
        response = client.post(reverse("practice-answer", args=[slug, step]), {"score": score})
        assert response.status_code == 302
        assert response["Location"] == reverse("practice-step", args=[slug, step])


def test_the_round_shows_the_expected_score_and_why_after_each_answer(client):
    setup = build()
    client.force_login(setup.annotator)
    slug = setup.campaign.slug

    # The queue sends a newcomer to the practice round first.
    response = client.get(reverse("queue"))
    assert response.status_code == 302 and response["Location"] == reverse("practice", args=[slug])
    intro = client.get(reverse("practice", args=[slug])).content.decode()
    assert "3 of 3" in intro and "exactly the expected score" in intro
    assert client.post(reverse("practice-start", args=[slug])).status_code == 302
    # The round goes on at the first example; it can be played in the shared player.
    response = client.get(reverse("practice", args=[slug]))
    assert response["Location"] == reverse("practice-step", args=[slug, 1])
    page = client.get(reverse("practice-step", args=[slug, 1])).content.decode()
    assert 'id="practice-form"' in page and 'id="video-ref"' in page and 'id="feedback"' not in page
    # A later step is not open before the first is answered.
    assert client.get(reverse("practice-step", args=[slug, 2]))["Location"] == reverse(
        "practice", args=[slug]
    )

    for step, ((true_score, why), given) in enumerate(zip(EXAMPLES, [3, 3, 1], strict=True), 1):
        response = client.post(reverse("practice-answer", args=[slug, step]), {"score": given})
        feedback = client.get(response["Location"]).content.decode()
        assert 'id="feedback"' in feedback and 'id="practice-form"' not in feedback
        assert f'id="expected-score">{true_score}<' in feedback
        assert f'id="your-score">{given}<' in feedback
        assert why in feedback
        assert ("Right" if given == true_score else "Not quite") in feedback

    # 2 of 3 exact, 3 needed (pass count 0: all of them): not passed.
    attempt = PracticeAttempt.objects.get(annotator=setup.annotator)
    assert attempt.passed is False and attempt.finished_at is not None
    result = client.get(reverse("practice", args=[slug])).content.decode()
    assert 'data-status="failed"' in result and "2 of 3 right, 3 needed" in result


def test_passing_unlocks_the_queue_the_rating_page_and_the_api(client):
    setup = build(pass_count=2)  # 2 of 3 exact
    client.force_login(setup.annotator)
    api = APIClient()
    api.force_authenticate(setup.annotator)
    slug = setup.campaign.slug
    first = setup.work[0]

    # Locked: every way to real work refuses, saying why.
    assert client.get(reverse("rate", args=[first.pk]))["Location"] == reverse("queue")
    response = api.post(reverse("api-my-next"), {"campaign": slug}, format="json")
    assert response.status_code == 400 and "practice round" in str(response.json())
    response = api.post(reverse("api-my-next"), {}, format="json")
    assert response.status_code == 400 and "practice round" in str(response.json())
    response = api.post(
        reverse("api-my-rating", args=[first.pk]), {"score": 2, **WATCHED}, format="json"
    )
    assert response.status_code == 400 and "practice round" in str(response.json())
    assert client.post(reverse("rate-next"), {"campaign": slug})["Location"] == reverse("queue")
    assert not Rating.objects.exists()
    assert not Assignment.objects.exclude(status=Assignment.Status.PENDING).exists()
    with pytest.raises(annotate_services.RatingRefused, match="practice round"):
        annotate_services.assignment_open(assignment=first, user=setup.annotator)

    answer_all(client, slug, [3, 2, 0])  # two of three exact: passed
    assert selectors.qualification_of(campaign=setup.campaign, user=setup.annotator).status == (
        selectors.QualificationStatus.PASSED
    )
    result = client.get(reverse("practice", args=[slug])).content.decode()
    assert 'data-status="passed"' in result and 'id="start-rating"' in result

    assert client.get(reverse("queue")).status_code == 200
    assert client.get(reverse("rate", args=[first.pk])).status_code == 200
    response = api.post(reverse("api-my-next"), {"campaign": slug}, format="json")
    assert response.status_code == 200
    response = api.post(
        reverse("api-my-rating", args=[response.json()["assignment"]]),
        {"score": 2, **WATCHED},
        format="json",
    )
    assert response.status_code == 201


def test_a_failed_round_keeps_the_work_locked_until_the_organizer_allows_a_retry(
    staff_client, organizer
):
    setup = build()
    client = Client()  # the annotator's own, beside the organizer's
    client.force_login(setup.annotator)
    slug = setup.campaign.slug
    answer_all(client, slug, [0, 0, 0])

    # The queue no longer sends them to the round they failed: it says so, and stays locked.
    response = client.get(reverse("queue"), follow=True)
    assert response.redirect_chain == []
    assert "did not pass the practice round" in response.content.decode()
    assert client.get(reverse("rate", args=[setup.work[0].pk]))["Location"] == reverse("queue")
    # They cannot start over on their own.
    client.post(reverse("practice-start", args=[slug]))
    assert PracticeAttempt.objects.filter(annotator=setup.annotator).count() == 1
    response = client.post(reverse("practice-answer", args=[slug, 1]), {"score": 3})
    assert PracticeAttempt.objects.get().answers.get(step=1).score == 0

    # The organizer sees who failed, with the answers, and allows a retry.
    page = staff_client.get(reverse("quality", args=[slug])).content.decode()
    assert 'data-username="ann" data-status="failed"' in page
    assert "0/3, 0/2, 0/1" in re.sub(r"<[^>]+>", "", page)  # given / expected, in order
    response = staff_client.post(reverse("qualification-reset", args=[slug, "ann"]))
    assert response.status_code == 302
    closed = PracticeAttempt.objects.get()
    assert closed.reset_at is not None and closed.reset_by == organizer
    assert closed.answers.count() == 3, "the failed attempt is kept with its answers"

    answer_all(client, slug, [3, 2, 1])
    assert PracticeAttempt.objects.filter(annotator=setup.annotator).count() == 2
    assert client.get(reverse("queue")).status_code == 200
    assert client.get(reverse("rate", args=[setup.work[0].pk])).status_code == 200
    page = staff_client.get(reverse("quality", args=[slug])).content.decode()
    assert 'data-username="ann" data-status="passed"' in page and "2 attempts" in page


def test_a_reset_after_passing_locks_the_work_again():
    setup = build()
    attempt = services.practice_start(campaign=setup.campaign, user=setup.annotator)
    for step, (score, _) in enumerate(EXAMPLES, start=1):
        services.practice_answer(
            campaign=setup.campaign, user=setup.annotator, step=step, score=score
        )
    attempt.refresh_from_db()
    assert attempt.passed is True
    first = annotate_services.assignment_next(user=setup.annotator, campaign=setup.campaign)
    assert first is not None
    services.qualification_reset(campaign=setup.campaign, user=setup.annotator)
    with pytest.raises(annotate_services.RatingRefused, match="practice round"):
        annotate_services.assignment_next(user=setup.annotator, campaign=setup.campaign)
    with pytest.raises(annotate_services.RatingRefused, match="practice round"):
        annotate_services.rating_submit(assignment=first, user=setup.annotator, score=3, **WATCHED)


def test_within_one_mode_and_a_count_below_the_set():
    setup = build(pass_count=3, mode="within_one")
    services.practice_start(campaign=setup.campaign, user=setup.annotator)
    # 3 -> 2 (one off), 2 -> 3 (one off), 1 -> 3 (two off): 2 within one, 3 needed.
    for step, given in enumerate([2, 3, 3], start=1):
        feedback = services.practice_answer(
            campaign=setup.campaign, user=setup.annotator, step=step, score=given
        )
    assert (feedback.right_so_far, feedback.needed, feedback.passed) == (2, 3, False)
    assert feedback.finished and feedback.true_score == 1 and not feedback.right

    other = UserFactory(username="ann2")
    setup.campaign.annotators.add(other)
    services.quality_settings_update(campaign=setup.campaign, practice_pass_count=2)
    attempt = services.practice_start(campaign=setup.campaign, user=other)
    assert (attempt.pass_count, attempt.pass_mode) == (2, "within_one")
    for step, given in enumerate([2, 3, 3], start=1):
        feedback = services.practice_answer(
            campaign=setup.campaign, user=other, step=step, score=given
        )
    assert feedback.passed is True


def test_answers_go_in_order_and_a_repeat_is_answered_from_the_stored_one():
    setup = build()
    campaign, user = setup.campaign, setup.annotator
    with pytest.raises(services.QualityRefused, match="start the practice round first"):
        services.practice_answer(campaign=campaign, user=user, step=1, score=3)
    services.practice_start(campaign=campaign, user=user)
    assert services.practice_start(campaign=campaign, user=user) == PracticeAttempt.objects.get()
    with pytest.raises(services.QualityRefused, match="answer example 1 first"):
        services.practice_answer(campaign=campaign, user=user, step=2, score=3)
    first = services.practice_answer(campaign=campaign, user=user, step=1, score=2)
    again = services.practice_answer(campaign=campaign, user=user, step=1, score=2)
    assert first == again
    with pytest.raises(services.QualityRefused, match="answered already"):
        services.practice_answer(campaign=campaign, user=user, step=1, score=3)
    with pytest.raises(services.QualityRefused):
        services.practice_answer(campaign=campaign, user=user, step=2, score=4)
    with pytest.raises(services.QualityRefused):
        services.practice_answer(campaign=campaign, user=user, step=9, score=1)
    assert PracticeAttempt.objects.get().answers.count() == 1


def test_without_practice_examples_nothing_changes(client):
    setup = build(with_examples=False)
    client.force_login(setup.annotator)
    assert client.get(reverse("queue")).status_code == 200
    assert client.get(reverse("rate", args=[setup.work[0].pk])).status_code == 200
    page = client.get(reverse("practice", args=[setup.campaign.slug])).content.decode()
    assert 'data-status="not_required"' in page
    assert annotate_services.assignment_next(user=setup.annotator) is not None


def test_people_outside_the_campaign_have_no_practice_round(client):
    setup = build()
    stranger = UserFactory(username="stranger")
    client.force_login(stranger)
    assert client.get(reverse("practice", args=[setup.campaign.slug])).status_code == 404
    assert client.get(reverse("queue")).status_code == 200
    with pytest.raises(services.QualityRefused, match="do not rate in this campaign"):
        services.practice_start(campaign=setup.campaign, user=stranger)


def test_marking_examples_checks_what_it_is_given():
    setup = build(with_examples=False)
    campaign = setup.campaign
    mark = services.quality_example_mark
    with pytest.raises(services.QualityRefused, match="needs its explanation"):
        mark(campaign=campaign, clip_id=setup.spare_clips[0], kind="practice", score=2)
    with pytest.raises(services.QualityRefused, match="0, 1, 2 or 3"):
        mark(campaign=campaign, clip_id=setup.spare_clips[0], kind="gold", score=4)
    with pytest.raises(services.QualityRefused, match="not one of"):
        mark(campaign=campaign, clip_id=setup.spare_clips[0], kind="golden", score=1)
    with pytest.raises(services.QualityRefused, match="not its team's rated one"):
        mark(campaign=campaign, clip_id=setup.old_clip, kind="gold", score=1)
    foreign = ClipFactory()
    with pytest.raises(services.QualityRefused, match="no clip"):
        mark(campaign=campaign, clip_id=foreign.pk, kind="gold", score=1)
    unready = ClipFactory(
        submission=setup.work[0].clip.submission,
        episode=EpisodeFactory(task=setup.work[0].clip.episode.task, number=9, key="episode_9"),
        asset=MediaAssetFactory(status="pending"),
    )
    with pytest.raises(services.QualityRefused, match="not ready"):
        mark(campaign=campaign, clip_id=unready.pk, kind="gold", score=1)
    # A practice example may be any ready clip of the campaign, an older version's too.
    example = mark(
        campaign=campaign, clip_id=setup.old_clip, kind="practice", score=0, explanation="chaos"
    )
    again = mark(
        campaign=campaign, clip_id=setup.old_clip, kind="practice", score=1, explanation="x"
    )
    assert again.pk == example.pk and again.score == 1
    assert QualityExample.objects.count() == 1


def test_examples_csv_by_id_or_by_names_all_or_nothing(tmp_path):
    setup = build(with_examples=False)
    campaign = setup.campaign
    beta_task2 = setup.spare_clips  # beta's clips of task2, episodes 0-2
    good = (
        "kind,score,explanation,clip\n"
        f"practice,2,the banana deforms on the way,{setup.practice_clips[0]}\n"
        f"gold,3,,{beta_task2[0]}\n"
    )
    result = services.examples_import(campaign=campaign, data=good.encode())
    assert result.created == (setup.practice_clips[0], beta_task2[0]) and result.updated == ()

    by_names = "task,episode,team,kind,score,explanation\ntask2,episode_1,beta,gold,1,\n"
    result = services.examples_import(campaign=campaign, data=by_names.encode())
    assert result.created == (beta_task2[1],)

    bad = (
        "kind,score,explanation,clip\n"
        f"gold,0,,{beta_task2[2]}\n"
        f"practice,5,too high,{setup.practice_clips[1]}\n"
    )
    with pytest.raises(services.QualityRefused, match="line 3, column score"):
        services.examples_import(campaign=campaign, data=bad.encode())
    assert not QualityExample.objects.filter(clip_id=beta_task2[2]).exists(), "nothing written"
    twice = f"kind,score,explanation,clip\ngold,0,,{beta_task2[2]}\ngold,1,,{beta_task2[2]}\n"
    with pytest.raises(services.QualityRefused, match="line 3.*also appears on line 2"):
        services.examples_import(campaign=campaign, data=twice.encode())
    with pytest.raises(services.QualityRefused, match="line 1"):
        services.examples_import(campaign=campaign, data=b"kind,score\ngold,1\n")
    unknown = "task,episode,team,kind,score,explanation\ntask2,episode_1,gamma,gold,1,\n"
    with pytest.raises(services.QualityRefused, match="line 2, column team: no team 'gamma'"):
        services.examples_import(campaign=campaign, data=unknown.encode())

    # The command does the same, and says so.
    path = tmp_path / "examples.csv"
    path.write_text(f"kind,score,explanation,clip\ngold,0,,{beta_task2[2]}\n")
    out = io.StringIO()
    call_command("examples_import", campaign.slug, str(path), stdout=out)
    assert "1 examples marked, 0 updated" in out.getvalue()
    path.write_text("kind,score,explanation,clip\ngold,9,,1\n")
    with pytest.raises(CommandError, match="line 2.*nothing was imported"):
        call_command("examples_import", campaign.slug, str(path))


def test_commands_reset_and_settings():
    setup = build()
    campaign, user = setup.campaign, setup.annotator
    with pytest.raises(CommandError, match="nothing to reset"):
        call_command("qualification_reset", campaign.slug, user.username)
    services.practice_start(campaign=campaign, user=user)
    out = io.StringIO()
    call_command("qualification_reset", campaign.slug, user.username, stdout=out)
    assert "may take the practice round of qc again" in out.getvalue()
    assert PracticeAttempt.objects.get().reset_at is not None
    with pytest.raises(CommandError, match="no user"):
        call_command("qualification_reset", campaign.slug, "nobody")

    out = io.StringIO()
    call_command(
        "quality_settings",
        campaign.slug,
        "--pass-count",
        "2",
        "--pass-mode",
        "within_one",
        "--gold-every",
        "5",
        stdout=out,
    )
    campaign.refresh_from_db()
    assert (campaign.practice_pass_count, campaign.practice_pass_mode, campaign.gold_every) == (
        2,
        "within_one",
        5,
    )
    assert (
        "pass mark 2 of 3 (within_one)" in out.getvalue() and "ann: not started" in out.getvalue()
    )
    with pytest.raises(CommandError, match="gold_every"):
        call_command("quality_settings", campaign.slug, "--gold-every", "-1")


def test_the_practice_api_gives_the_pair_then_the_feedback():
    setup = build(pass_count=2)
    api = APIClient()
    api.force_authenticate(setup.annotator)
    slug = setup.campaign.slug
    status = api.get(reverse("api-practice", args=[slug])).json()
    assert status["status"] == "not_started" and status["current"] is None
    assert (status["examples"], status["pass_count"]) == (3, 2)
    status = api.post(reverse("api-practice-start", args=[slug])).json()
    assert status["status"] == "in_progress" and status["current"]["step"] == 1
    assert status["current"]["generated"]["video"].startswith("/m/")
    assert "team" not in str(status).lower()
    response = api.post(
        reverse("api-practice-answer", args=[slug]), {"step": 1, "score": 1}, format="json"
    )
    assert response.status_code == 201
    feedback = response.json()
    assert (feedback["score"], feedback["true_score"], feedback["right"]) == (1, 3, False)
    assert feedback["explanation"] == EXAMPLES[0][1]
    response = api.post(
        reverse("api-practice-answer", args=[slug]), {"step": 3, "score": 1}, format="json"
    )
    assert response.status_code == 400 and "answer example 2 first" in str(response.json())
    for step, score in ((2, 2), (3, 1)):
        feedback = api.post(
            reverse("api-practice-answer", args=[slug]),
            {"step": step, "score": score},
            format="json",
        ).json()
    assert feedback["finished"] and feedback["passed"] is True
    status = api.get(reverse("api-practice", args=[slug])).json()
    assert status["status"] == "passed" and status["right"] == 2 and len(status["answers"]) == 3

    stranger = APIClient()
    stranger.force_authenticate(UserFactory(username="stranger"))
    assert stranger.get(reverse("api-practice", args=[slug])).status_code == 404


def test_the_organizer_api_marks_lists_resets_and_is_in_the_schema(staff_api):
    setup = build(with_examples=False)
    slug = setup.campaign.slug
    url = reverse("api-quality-examples", args=[slug])
    response = staff_api.post(
        url,
        {"clip": setup.practice_clips[0], "kind": "practice", "score": 2, "explanation": "bends"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["team"] == "beta" and response.json()["explanation"] == "bends"
    response = staff_api.post(
        url, {"clip": setup.practice_clips[1], "kind": "practice", "score": 2}
    )
    assert response.status_code == 400 and "explanation" in response.json()
    assert len(staff_api.get(url).json()) == 1

    response = staff_api.put(
        reverse("api-quality-settings", args=[slug]), {"gold_every": 4}, format="json"
    )
    assert response.json()["gold_every"] == 4 and response.json()["practice_pass_mode"] == "exact"
    response = staff_api.put(
        reverse("api-quality-settings", args=[slug]),
        {"practice_pass_mode": "roughly"},
        format="json",
    )
    assert response.status_code == 400

    services.practice_start(campaign=setup.campaign, user=setup.annotator)
    rows = staff_api.get(reverse("api-qualifications", args=[slug])).json()
    assert [(row["username"], row["status"]) for row in rows] == [("ann", "in_progress")]
    reset = reverse("api-qualification-reset", args=[slug, "ann"])
    assert staff_api.post(reset).status_code == 200
    assert staff_api.post(reset).status_code == 400  # nothing left to reset
    rows = staff_api.get(reverse("api-qualifications", args=[slug])).json()
    assert rows[0]["status"] == "not_started" and rows[0]["attempts"][0]["reset_at"]

    upload = io.BytesIO(f"kind,score,explanation,clip\ngold,1,,{setup.spare_clips[0]}\n".encode())
    upload.name = "examples.csv"
    response = staff_api.post(
        reverse("api-quality-examples-import", args=[slug]), {"file": upload}, format="multipart"
    )
    assert response.json() == {"created": [setup.spare_clips[0]], "updated": []}
    response = staff_api.delete(reverse("api-quality-example", args=[slug, setup.spare_clips[0]]))
    assert response.json() == {"gold_rows_removed": 0}
    response = staff_api.delete(reverse("api-quality-example", args=[slug, setup.spare_clips[0]]))
    assert response.status_code == 400

    schema = staff_api.get(reverse("api-schema"), {"format": "json"}).json()
    for path in (
        "/api/campaigns/{slug}/quality/settings/",
        "/api/campaigns/{slug}/quality/examples/",
        "/api/campaigns/{slug}/quality/examples/import/",
        "/api/campaigns/{slug}/quality/examples/{clip_id}/",
        "/api/campaigns/{slug}/quality/qualifications/",
        "/api/campaigns/{slug}/quality/qualifications/{username}/reset/",
        "/api/campaigns/{slug}/quality/gold/apply/",
        "/api/campaigns/{slug}/quality/gold-accuracy/",
        "/api/campaigns/{slug}/practice/",
        "/api/campaigns/{slug}/practice/start/",
        "/api/campaigns/{slug}/practice/answers/",
    ):
        assert path in schema["paths"], path


def test_the_organizer_page_marks_unmarks_and_sets_the_pass_mark(staff_client):
    setup = build(with_examples=False)
    slug = setup.campaign.slug
    page = staff_client.get(reverse("quality", args=[slug]) + f"?clip={setup.spare_clips[0]}")
    assert page.status_code == 200
    assert f'value="{setup.spare_clips[0]}"' in page.content.decode()  # the form, filled in
    staff_client.post(
        reverse("quality-example-mark", args=[slug]),
        {"clip": setup.spare_clips[0], "kind": "practice", "score": 2, "explanation": "it bends"},
    )
    staff_client.post(
        reverse("quality-settings", args=[slug]),
        {"practice_pass_count": 1, "practice_pass_mode": "within_one", "gold_every": 0},
    )
    setup.campaign.refresh_from_db()
    assert (setup.campaign.practice_pass_count, setup.campaign.practice_pass_mode) == (
        1,
        "within_one",
    )
    page = staff_client.get(reverse("quality", args=[slug])).content.decode()
    assert "it bends" in page and "Now: 1 of 1 practice answers, within one point" in page
    response = staff_client.post(
        reverse("quality-example-unmark", args=[slug, setup.spare_clips[0]]), follow=True
    )
    assert "no longer an example" in response.content.decode()
    assert not QualityExample.objects.exists()
    response = staff_client.post(
        reverse("quality-example-mark", args=[slug]),
        {"clip": setup.spare_clips[0], "kind": "practice", "score": 2},
        follow=True,
    )
    # The refused field is named by its label on the page, not by its Python name.
    assert "Not marked: Explanation (shown after a practice answer)" in response.content.decode()


def test_a_locked_campaign_asks_for_no_practice(client):
    setup = build()
    Campaign.objects.filter(pk=setup.campaign.pk).update(state=Campaign.State.LOCKED)
    assert not selectors.practice_pending_campaigns(user=setup.annotator).exists()
    client.force_login(setup.annotator)
    assert client.get(reverse("queue")).status_code == 200
