"""Reopening a problem report's resolution: the pair is held again until the organizer
resolves it anew, every step is kept with who, when and why, and the results (leaderboard,
input hash, ratings export) come back exactly as they were once the pair is fixed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Assignment, ProblemReport, ProblemReportEvent, Rating
from annotate.services import (
    RatingRefused,
    annotator_queue,
    assignment_annotator_add,
    assignment_next,
    assignment_open,
    rating_submit,
)
from annotate.services.problems import (
    ProblemRefused,
    problem_reopen,
    problem_report,
    problem_resolve,
)
from evaluation import selectors as evaluation_selectors
from tests.annotate.test_problems import NOW, WATCHED, _mine, _report
from tests.annotate.test_problems import world as world  # noqa: F401  (the fixture)
from tests.evaluation.test_leaderboard import rated_campaign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LATER = NOW + dt.timedelta(hours=1)
LATEST = NOW + dt.timedelta(hours=2)


def _events(report: ProblemReport) -> list[tuple]:
    return [
        (event.kind, event.by, event.at, event.note)
        for event in ProblemReportEvent.objects.filter(report=report).order_by("at", "pk")
    ]


def test_an_exclusion_reopened_holds_the_pair_again_and_keeps_its_history(world):
    campaign, users, clips = world
    first, broken = _report(world, "a")
    second = problem_report(
        assignment=_mine(users["b"], broken), user=users["b"], reason="black_frames"
    )
    boss = UserFactory(username="boss", is_staff=True)
    problem_resolve(
        campaign=campaign,
        report_id=first.pk,
        resolution="excluded",
        note="wrong reference",
        by=boss,
        now=NOW,
    )
    reopened = problem_reopen(
        campaign=campaign, report_id=second.pk, reason="the reference was fixed", by=boss, now=LATER
    )
    assert {report.pk for report in reopened} == {first.pk, second.pk}
    for report in (first, second):
        report.refresh_from_db()
        assert (report.status, report.resolved_at, report.resolved_by) == ("open", None, None)
        assert _events(report) == [
            ("excluded", boss, NOW, "wrong reference"),
            ("reopened", boss, LATER, "the reference was fixed"),
        ]

    # Held as when it was reported: nobody is handed it or may rate it, the planner plans
    # it to no one new, and the queue counts it as with the organizer.
    other = next(clip for clip in clips if clip != broken)
    for user in (users["a"], users["b"]):
        while (work := assignment_next(user=user, campaign=campaign)) is not None:
            assert work.clip_id == other.pk
            rating_submit(assignment=work, user=user, score=1, **WATCHED)
        with pytest.raises(RatingRefused, match="waits for the organizer"):
            rating_submit(assignment=_mine(user, broken), user=user, score=2, **WATCHED)
        (queue,) = annotator_queue(user=user)
        assert queue.held == 1
    assignment_annotator_add(campaign=campaign, user=users["c"])
    assert not Assignment.objects.filter(annotator=users["c"], clip=broken).exists()

    # Resolved anew (fixed): handed out again; the whole history is there.
    problem_resolve(
        campaign=campaign, report_id=first.pk, resolution="fixed", note="ok", by=boss, now=LATEST
    )
    assert assignment_next(user=users["a"], campaign=campaign).clip_id == broken.pk
    assert [kind for kind, *_ in _events(first)] == ["excluded", "reopened", "fixed"]


def test_a_fix_can_be_reopened_too_and_only_the_latest_resolution(world):
    campaign, users, _ = world
    first, broken = _report(world, "a")
    problem_resolve(campaign=campaign, report_id=first.pk, resolution="fixed", by=None, now=NOW)
    # Handed out again, b reports the pair anew; that resolution is now the latest.
    second = problem_report(
        assignment=_mine(users["b"], broken), user=users["b"], reason="does_not_play"
    )
    with pytest.raises(ProblemRefused, match="open report"):
        problem_reopen(campaign=campaign, report_id=first.pk, reason="again", by=None)
    problem_resolve(
        campaign=campaign, report_id=second.pk, resolution="excluded", note="x", by=None, now=LATER
    )
    with pytest.raises(ProblemRefused, match="a later resolution of this pair stands"):
        problem_reopen(campaign=campaign, report_id=first.pk, reason="again", by=None)
    assert [
        r.pk for r in problem_reopen(campaign=campaign, report_id=second.pk, reason="r", by=None)
    ] == [second.pk]
    problem_resolve(campaign=campaign, report_id=second.pk, resolution="fixed", by=None, now=LATEST)
    first.refresh_from_db()
    assert first.status == "fixed", "the earlier resolution stays as it was"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": ""}, "needs a reason"),
        ({"reason": "   "}, "needs a reason"),
        ({"reason": "x" * 2001}, "at most 2000"),
        ({"reason": "why", "report_id": 999999}, "has no problem report"),
    ],
)
def test_a_reopening_without_a_reason_or_a_report_is_refused(world, kwargs, message):
    campaign, _, _ = world
    report, _ = _report(world, "a")
    problem_resolve(campaign=campaign, report_id=report.pk, resolution="fixed", by=None)
    with pytest.raises(ProblemRefused, match=message):
        problem_reopen(campaign=campaign, by=None, **{"report_id": report.pk, **kwargs})
    report.refresh_from_db()
    assert report.status == "fixed"


def test_an_open_report_cannot_be_reopened(world):
    campaign, _, _ = world
    report, _ = _report(world, "a")
    with pytest.raises(ProblemRefused, match="nothing to reopen"):
        problem_reopen(campaign=campaign, report_id=report.pk, reason="why", by=None)


# --- the results round trip ---------------------------------------------------------------


def _results(campaign) -> tuple:
    board = evaluation_selectors.campaign_leaderboard(
        campaign=campaign, parameters=evaluation_selectors.ScoringParameters(n_boot=200, seed=1)
    )
    standings = [
        (s.team, s.rank, s.final_score, s.ci_low, s.ci_high, s.rank_probability)
        for s in board.board.teams
    ]
    frame = evaluation_selectors.ratings_frame(campaign=campaign)
    return board.input_hash, standings, frame.to_csv(index=False)


def test_excluding_then_reopening_and_fixing_gives_back_the_results_exactly():
    data = rated_campaign(n_teams=2, n_tasks=1, n_episodes=3, seed=4, slug="reopen")
    campaign = data.campaign
    clip = Rating.objects.filter(clip__submission__team=data.teams[0]).first().clip
    n_ratings_of_clip = Rating.objects.filter(clip=clip).count()
    # One more rater for that clip (asked for by adjudication), who finds it broken.
    late = UserFactory(username="late-rater")
    extra = Assignment.objects.create(
        campaign=campaign, annotator=late, clip=clip, extra_rater=True
    )
    report = problem_report(
        assignment=assignment_open(assignment=extra, user=late), user=late, reason="black_frames"
    )
    before = _results(campaign)

    problem_resolve(
        campaign=campaign, report_id=report.pk, resolution="excluded", note="black", by=None
    )
    assert _results(campaign) == before, "ratings given before stay as they are"
    problem_reopen(campaign=campaign, report_id=report.pk, reason="a new file came", by=None)
    assert _results(campaign) == before
    problem_resolve(campaign=campaign, report_id=report.pk, resolution="fixed", by=None)
    after = _results(campaign)
    assert after == before
    assert Rating.objects.filter(clip=clip).count() == n_ratings_of_clip

    # The hash does follow this clip's ratings: the late rater's rating, once fixed, moves it.
    rating_submit(assignment=extra, user=late, score=0, **WATCHED)
    assert _results(campaign)[0] != before[0]


# --- the faces: adjudication page, API, command ------------------------------------------


def test_the_adjudication_page_reopens_with_a_reason(staff_client, world):
    campaign, users, _ = world
    report, broken = _report(world, text="frozen")
    problem_resolve(
        campaign=campaign, report_id=report.pk, resolution="excluded", note="gone", by=None
    )
    page = staff_client.get(reverse("adjudication", args=[campaign.slug])).content.decode()
    url = reverse("problem-reopen", args=[campaign.slug, report.pk])
    assert f'action="{url}"' in page and "Reopen: out of rating until resolved again" in page
    refused = staff_client.post(url, {"reason": ""}, follow=True)
    assert "Not reopened" in refused.content.decode()
    done = staff_client.post(url, {"reason": "new file"}, follow=True).content.decode()
    assert "Reopened: the pair is out of rating until it is resolved again" in done
    report.refresh_from_db()
    assert report.status == "open"
    steps = _events(report)
    assert [(kind, by.username if by else None) for kind, by, _, _ in steps] == [
        ("excluded", None),
        ("reopened", "organizer"),
    ]
    assert steps[1][3] == "new file"
    # The page lists the history, and offers the resolution forms again.
    page = staff_client.get(reverse("adjudication", args=[campaign.slug])).content.decode()
    assert 'class="problem-history"' in page and "new file" in page
    assert reverse("problem-resolve", args=[campaign.slug, report.pk]) in page
    assert f'action="{url}"' not in page
    assert Assignment.objects.filter(clip=broken).exists()


def test_the_api_lists_the_history_and_reopens(world, staff_api):
    campaign, users, _ = world
    report, _ = _report(world)
    problem_resolve(campaign=campaign, report_id=report.pk, resolution="fixed", by=None, now=NOW)
    base = f"/api/campaigns/{campaign.slug}/problems/"
    (listed,) = staff_api.get(base).json()
    assert listed["reopenable"] is True
    assert listed["history"] == [
        {"kind": "fixed", "by": "", "at": "2026-03-01T12:00:00Z", "note": ""}
    ]
    url = f"{base}{report.pk}/reopen/"
    annotator = APIClient()
    annotator.force_authenticate(users["a"])
    assert annotator.post(url, {"reason": "x"}, format="json").status_code == 403
    assert staff_api.post(url, {}, format="json").status_code == 400
    answer = staff_api.post(url, {"reason": "still black"}, format="json")
    assert answer.status_code == 200 and answer.json() == {"reopened": [report.pk]}
    again = staff_api.post(url, {"reason": "still black"}, format="json")
    assert again.status_code == 400 and "nothing to reopen" in str(again.json())
    (listed,) = staff_api.get(base).json()
    assert listed["status"] == "open" and listed["reopenable"] is False
    assert [step["kind"] for step in listed["history"]] == ["fixed", "reopened"]
    assert listed["history"][1]["by"] == "organizer"

    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/campaigns/{slug}/problems/{report_id}/reopen/" in schema["paths"]


def test_the_command_reopens_and_lists_the_history(world, capsys):
    campaign, _, _ = world
    report, _ = _report(world, text="frozen")
    call_command(
        "problem_reports",
        campaign.slug,
        "--resolve",
        str(report.pk),
        "--as",
        "excluded",
        "--note",
        "frozen",
    )
    capsys.readouterr()
    with pytest.raises(CommandError, match="needs a reason"):
        call_command("problem_reports", campaign.slug, "--reopen", str(report.pk))
    with pytest.raises(CommandError, match="do not go together"):
        call_command(
            "problem_reports", campaign.slug, "--reopen", "1", "--resolve", "1", "--as", "fixed"
        )
    UserFactory(username="boss", is_staff=True)
    call_command(
        "problem_reports",
        campaign.slug,
        "--reopen",
        str(report.pk),
        "--reason",
        "a new file",
        "--by",
        "boss",
    )
    assert f"Reopened: #{report.pk}" in capsys.readouterr().out
    report.refresh_from_db()
    assert report.status == "open"
    call_command("problem_reports", campaign.slug)
    listed = capsys.readouterr().out
    assert "    excluded by (command) at" in listed and ": frozen" in listed
    assert "    reopened by boss at" in listed and ": a new file" in listed


# --- reports resolved before histories were kept -------------------------------------------

BEFORE = [("annotate", "0016_stored_messages")]
AFTER = [("annotate", "0017_qc_gaps")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_a_report_resolved_before_gets_its_resolution_as_its_first_step():
    model = _migrate(BEFORE).get_model
    try:
        user = model("auth", "User").objects.create(username="old-rater")
        boss = model("auth", "User").objects.create(username="old-boss", is_staff=True)
        campaign = model("annotate", "Campaign").objects.create(slug="old", name="Old")
        task = model("annotate", "Task").objects.create(campaign=campaign, key="task1", number=1)
        asset = model("annotate", "MediaAsset").objects.create(
            sha256="0" * 64,
            original="a.mp4",
            size_bytes=1,
            codec="h264",
            width=2,
            height=2,
            fps=24,
            frame_count=1,
            duration_s=0.04,
        )
        episode = model("annotate", "Episode").objects.create(
            task=task, key="episode_0", number=0, reference=asset
        )
        team = model("annotate", "Team").objects.create(campaign=campaign, name="alpha")
        submission = model("annotate", "Submission").objects.create(team=team, version=1)
        clip = model("annotate", "Clip").objects.create(
            submission=submission, episode=episode, asset=asset, source_name="x.mp4"
        )
        assignment = model("annotate", "Assignment").objects.create(
            id=1, campaign=campaign, annotator=user, clip=clip
        )
        reports = [
            model("annotate", "ProblemReport").objects.create(
                campaign=campaign,
                clip=clip,
                assignment=assignment,
                reporter=user,
                reason="black_frames",
                status=status,
                resolved_at=None if status == "open" else NOW,
                resolved_by=None if status == "open" else boss,
                resolution_note=note,
            )
            for status, note in [("excluded", "black"), ("fixed", ""), ("open", "")]
        ]
        events = _migrate(AFTER).get_model("annotate", "ProblemReportEvent").objects
        assert [
            (e.report_id, e.kind, e.note, e.by_id, e.at) for e in events.order_by("report_id")
        ] == [
            (reports[0].pk, "excluded", "black", boss.pk, NOW),
            (reports[1].pk, "fixed", "", boss.pk, NOW),
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
