"""Problem reports: a broken pair leaves the annotator's way and everyone's queue, goes to the
organizer's adjudication page, and comes back only when the organizer says it is fixed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Assignment, Campaign, ProblemReport, Rating
from annotate.services import (
    RatingRefused,
    annotator_queue,
    assignment_annotator_add,
    assignment_next,
    assignment_open,
    assignment_plan_apply,
    assignment_upcoming,
    campaign_state_change,
    rating_submit,
    review,
)
from annotate.services.problems import ProblemRefused, problem_report, problem_resolve
from tests.factories import (
    CampaignFactory,
    ClipFactory,
    EpisodeFactory,
    SubmissionFactory,
    TaskFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def world():
    """Team alpha's two clips of task 1, planned to a and b (three raters wanted)."""
    campaign = CampaignFactory(slug="probs", raters_per_cell=3, max_clips_per_rater=10, seed=1)
    task = TaskFactory(campaign=campaign, number=1)
    submission = SubmissionFactory(team=TeamFactory(campaign=campaign, name="alpha"))
    clips = [
        ClipFactory(submission=submission, episode=EpisodeFactory(task=task, number=n))
        for n in range(2)
    ]
    users = {name: UserFactory(username=name) for name in ("a", "b", "c")}
    assignment_plan_apply(campaign=campaign, with_annotators=[users["a"], users["b"]])
    assert Assignment.objects.filter(campaign=campaign).count() == 4
    return campaign, users, clips


def _mine(user, clip) -> Assignment:
    return Assignment.objects.get(annotator=user, clip=clip)


def _report(world, who="a", reason="does_not_play", text=""):
    """``who`` opens their first clip and reports it; the report and that clip."""
    campaign, users, _ = world
    opened = assignment_next(user=users[who], campaign=campaign)
    report = problem_report(assignment=opened, user=users[who], reason=reason, text=text, now=NOW)
    return report, opened.clip


def test_a_report_takes_the_pair_out_of_every_queue_and_is_not_a_rating(world):
    campaign, users, clips = world
    report, broken = _report(world)
    other = next(clip for clip in clips if clip != broken)
    assert (report.status, report.reason, report.clip_id) == ("open", "does_not_play", broken.pk)
    assert not Rating.objects.exists()
    mine = _mine(users["a"], broken)
    assert mine.status != Assignment.Status.DONE  # no rating, and not counted as done

    # The reporter is handed the other clip, then nothing: the broken one no longer blocks.
    following = assignment_next(user=users["a"], campaign=campaign)
    assert following.clip_id == other.pk
    rating_submit(assignment=following, user=users["a"], score=2, **WATCHED)
    assert assignment_next(user=users["a"], campaign=campaign) is None
    assert assignment_upcoming(user=users["a"], campaign=campaign) is None
    (queue,) = annotator_queue(user=users["a"])
    assert (queue.done, queue.total, queue.held, queue.has_open_work) == (1, 2, 1, False)

    # Nobody else is handed the broken pair either, nor may rate it.
    assert assignment_next(user=users["b"], campaign=campaign).clip_id == other.pk
    with pytest.raises(RatingRefused, match="reported as broken"):
        rating_submit(assignment=_mine(users["b"], broken), user=users["b"], score=3, **WATCHED)
    with pytest.raises(RatingRefused, match="reported as broken"):
        assignment_open(assignment=_mine(users["b"], broken), user=users["b"])


def test_the_planner_and_one_more_rater_hand_a_reported_pair_to_no_one_new(world):
    campaign, users, clips = world
    _, broken = _report(world)
    other = next(clip for clip in clips if clip != broken)
    # c joins: the plan gives c the cell's other clip, not the broken one.
    assignment_annotator_add(campaign=campaign, user=users["c"])
    assert set(Assignment.objects.filter(annotator=users["c"]).values_list("clip", flat=True)) == {
        other.pk
    }
    with pytest.raises(review.ReviewRefused, match="reported as broken"):
        review.adjudication_extra_rater(campaign=campaign, clip_id=broken.pk, by=None)

    # Fixed: unrated work on it starts afresh, and the next plan gives c the missing row.
    resolved = problem_resolve(
        campaign=campaign, report_id=ProblemReport.objects.get().pk, resolution="fixed", by=None
    )
    assert [report.status for report in resolved] == ["fixed"]
    assert set(Assignment.objects.filter(clip=broken).values_list("status", "started_at")) == {
        ("pending", None)
    }
    assert assignment_next(user=users["a"], campaign=campaign).clip_id == broken.pk
    assignment_plan_apply(campaign=campaign)
    assert Assignment.objects.filter(annotator=users["c"], clip=broken).exists()


def test_fixed_hands_it_out_again_and_closes_every_open_report_of_the_pair(world):
    campaign, users, _ = world
    first, broken = _report(world, "a")
    # b had the same pair open before it was held, and reports it too.
    second = problem_report(
        assignment=_mine(users["b"], broken), user=users["b"], reason="black_frames"
    )
    organizer = UserFactory(username="boss", is_staff=True)
    resolved = problem_resolve(
        campaign=campaign,
        report_id=second.pk,
        resolution="fixed",
        note="re-imported",
        by=organizer,
        now=NOW,
    )
    assert {report.pk for report in resolved} == {first.pk, second.pk}
    for report in ProblemReport.objects.all():
        assert (report.status, report.resolved_by, report.resolution_note) == (
            "fixed",
            organizer,
            "re-imported",
        )
        assert report.resolved_at == NOW
    rating = rating_submit(
        assignment=_mine(users["b"], broken), user=users["b"], score=3, **WATCHED
    )
    assert rating.score == 3
    with pytest.raises(ProblemRefused, match="resolved already"):
        problem_resolve(campaign=campaign, report_id=first.pk, resolution="fixed", by=None)


def test_excluded_keeps_the_pair_out_for_good_and_needs_a_note(world):
    campaign, users, _ = world
    report, broken = _report(world, reason="wrong_reference")
    with pytest.raises(ProblemRefused, match="needs a note"):
        problem_resolve(campaign=campaign, report_id=report.pk, resolution="excluded", by=None)
    problem_resolve(
        campaign=campaign,
        report_id=report.pk,
        resolution="excluded",
        note="the reference is of another episode",
        by=None,
    )
    for user in (users["a"], users["b"]):
        while (work := assignment_next(user=user, campaign=campaign)) is not None:
            assert work.clip_id != broken.pk
            rating_submit(assignment=work, user=user, score=1, **WATCHED)
    with pytest.raises(ProblemRefused, match="left it out"):
        problem_report(
            assignment=_mine(users["b"], broken), user=users["b"], reason="other", text="x"
        )
    with pytest.raises(RatingRefused, match="left it out of rating"):
        rating_submit(assignment=_mine(users["b"], broken), user=users["b"], score=1, **WATCHED)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": "melted"}, "not one of does_not_play"),
        ({"reason": "other"}, "say in a few words"),
        ({"reason": "other", "text": "   "}, "say in a few words"),
        ({"reason": "black_frames", "text": "x" * 2001}, "at most 2000"),
    ],
)
def test_a_report_without_a_known_reason_or_words_for_other_is_refused(world, kwargs, message):
    campaign, users, _ = world
    opened = assignment_next(user=users["a"], campaign=campaign)
    with pytest.raises(ProblemRefused, match=message):
        problem_report(assignment=opened, user=users["a"], **kwargs)
    assert not ProblemReport.objects.exists()


def test_other_refusals_and_a_resent_report(world):
    campaign, users, clips = world
    opened = assignment_next(user=users["a"], campaign=campaign)
    with pytest.raises(ProblemRefused, match="not assigned to you"):
        problem_report(assignment=opened, user=users["b"], reason="does_not_play")
    first = problem_report(assignment=opened, user=users["a"], reason="does_not_play")
    again = problem_report(assignment=opened, user=users["a"], reason="does_not_play")
    assert again.pk == first.pk and ProblemReport.objects.count() == 1

    rated = assignment_next(user=users["a"], campaign=campaign)
    rating_submit(assignment=rated, user=users["a"], score=2, **WATCHED)
    with pytest.raises(ProblemRefused, match="rated already"):
        problem_report(assignment=rated, user=users["a"], reason="black_frames")

    campaign_state_change(campaign=campaign, to_state=Campaign.State.LOCKED, by=None)
    with pytest.raises(ProblemRefused, match="locked"):
        problem_report(
            assignment=_mine(users["b"], clips[0]), user=users["b"], reason="other", text="x"
        )
    with pytest.raises(ProblemRefused, match="has no problem report"):
        problem_resolve(campaign=campaign, report_id=999999, resolution="fixed", by=None)
    with pytest.raises(ProblemRefused, match="fixed or excluded"):
        problem_resolve(campaign=campaign, report_id=first.pk, resolution="deleted", by=None)


# --- the faces: rating page, organizer page, API, command -------------------------------


def test_the_rating_page_reports_and_moves_on(client, world):
    campaign, users, clips = world
    client.force_login(users["a"])
    opened = assignment_next(user=users["a"], campaign=campaign)
    page = client.get(reverse("rate", args=[opened.pk])).content.decode()
    assert 'id="problem-form"' in page and reverse("rate-problem", args=[opened.pk]) in page
    refused = client.post(
        reverse("rate-problem", args=[opened.pk]), {"reason": "other", "text": ""}, follow=True
    )
    assert "The report was not sent" in refused.content.decode()
    assert not ProblemReport.objects.exists()

    response = client.post(
        reverse("rate-problem", args=[opened.pk]), {"reason": "black_frames", "text": "all black"}
    )
    other = _mine(users["a"], next(clip for clip in clips if clip != opened.clip))
    assert response.status_code == 302
    assert response["Location"] == reverse("rate", args=[other.pk]) + f"?done={opened.pk}"
    report = ProblemReport.objects.get()
    assert (report.reason, report.text, report.reporter) == (
        "black_frames",
        "all black",
        users["a"],
    )
    # Back on the reported pair: the page says it waits for the organizer.
    back = client.get(reverse("rate", args=[opened.pk]), follow=True).content.decode()
    assert "waits for the organizer" in back


def test_someone_else_s_clip_cannot_be_reported(client, world):
    campaign, users, _ = world
    opened = assignment_next(user=users["a"], campaign=campaign)
    client.force_login(users["b"])
    assert (
        client.post(reverse("rate-problem", args=[opened.pk]), {"reason": "other"}).status_code
        == 404
    )
    api = APIClient()
    api.force_authenticate(users["b"])
    url = f"/api/me/assignments/{opened.pk}/problem/"
    assert api.post(url, {"reason": "does_not_play"}, format="json").status_code == 404


def test_the_adjudication_page_lists_reports_and_resolves_them(staff_client, world):
    campaign, users, _ = world
    report, broken = _report(world, text="stops after one second")
    page = staff_client.get(reverse("adjudication", args=[campaign.slug])).content.decode()
    assert f'id="problem-{report.pk}"' in page
    assert "stops after one second" in page and "alpha" in page and "does not play" in page
    url = reverse("problem-resolve", args=[campaign.slug, report.pk])
    refused = staff_client.post(url, {"resolution": "excluded", "note": ""}, follow=True)
    assert "needs a note" in refused.content.decode()
    done = staff_client.post(url, {"resolution": "fixed", "note": "new file"}, follow=True)
    assert "handed out again" in done.content.decode()
    assert ProblemReport.objects.get().status == "fixed"
    assert assignment_next(user=users["a"], campaign=campaign).clip_id == broken.pk


def test_the_api_reports_lists_and_resolves(world, staff_api):
    campaign, users, _ = world
    opened = assignment_next(user=users["a"], campaign=campaign)
    api = APIClient()
    api.force_authenticate(users["a"])
    url = f"/api/me/assignments/{opened.pk}/problem/"
    refused = api.post(url, {"reason": "other"}, format="json")
    assert refused.status_code == 400 and "say in a few words" in str(refused.json())
    created = api.post(
        url, {"reason": "wrong_reference", "text": "a banana, not a cup"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["status"] == "open" and created.json()["assignment"] == opened.pk

    assert api.get(f"/api/campaigns/{campaign.slug}/problems/").status_code == 403
    listed = staff_api.get(f"/api/campaigns/{campaign.slug}/problems/?status=open").json()
    assert [(item["id"], item["team"], item["reporter"]) for item in listed] == [
        (created.json()["id"], "alpha", "a")
    ]
    assert staff_api.get(f"/api/campaigns/{campaign.slug}/problems/?status=gone").status_code == 400
    resolve = f"/api/campaigns/{campaign.slug}/problems/{created.json()['id']}/resolve/"
    assert staff_api.post(resolve, {"resolution": "excluded"}, format="json").status_code == 400
    answer = staff_api.post(
        resolve, {"resolution": "excluded", "note": "wrong reference"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["resolved"] == [created.json()["id"]]
    assert ProblemReport.objects.get().status == "excluded"

    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/me/assignments/{assignment_id}/problem/",
        "/api/campaigns/{slug}/problems/",
        "/api/campaigns/{slug}/problems/{report_id}/resolve/",
    ):
        assert path in schema["paths"], path


def test_the_command_lists_and_resolves(world, capsys):
    campaign, _, _ = world
    report, _ = _report(world, text="frozen")
    call_command("problem_reports", campaign.slug)
    listed = capsys.readouterr().out
    assert f"#{report.pk} open" in listed and "does_not_play - frozen" in listed
    with pytest.raises(CommandError, match="needs a note"):
        call_command(
            "problem_reports", campaign.slug, "--resolve", str(report.pk), "--as", "excluded"
        )
    call_command("problem_reports", campaign.slug, "--resolve", str(report.pk), "--as", "fixed")
    assert f"Resolved as fixed: #{report.pk}" in capsys.readouterr().out
    assert ProblemReport.objects.get().status == "fixed"
