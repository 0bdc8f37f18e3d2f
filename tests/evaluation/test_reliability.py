"""Rater reliability of a whole campaign: simulated raters, flags, the report's faces.

Four careful raters, one who answers at random in 2 s a clip, one who always answers 3.
Both careless ones are flagged, the careful ones are not. Times are set on the server
side (``Rating.server_time_s``, and for some ratings only ``Assignment.started_at`` to
the rating being stored), never taken from what the page says.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from annotate.models import Assignment, Campaign
from evaluation.scoring.reliability import DISAGREES, FAST, GOLD, STRAIGHT_LINE
from evaluation.selectors import reliability
from evaluation.selectors.ratings import rater_pseudonym, ratings_frame
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    ClipFactory,
    EpisodeFactory,
    RatingFactory,
    SubmissionFactory,
    TaskFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
CAREFUL = ("careful1", "careful2", "careful3", "careful4")


@dataclass
class World:
    campaign: Campaign
    users: dict
    clips: list  # (clip, truth)
    team_members: dict


def careful(truth: int, rng: np.random.Generator) -> int:
    """The true score, one point off now and then."""
    if rng.random() < 0.1:
        return int(np.clip(truth + rng.choice([-1, 1]), 0, 3))
    return truth


BEHAVIOUR = {
    **{name: (careful, 11.0) for name in CAREFUL},
    "random": (lambda truth, rng: int(rng.integers(0, 4)), 2.0),
    "threes": (lambda truth, rng: 3, 9.0),
}


def build_world(
    *,
    behaviour=None,
    teams=("alpha", "beta"),
    n_tasks: int = 1,
    n_episodes: int = 10,
    seed: int = 5,
    raters_per_clip: int | None = None,
    campaign: Campaign | None = None,
) -> World:
    """A campaign whose every clip is rated by the given raters (or the first few of them)."""
    behaviour = behaviour or BEHAVIOUR
    rng = np.random.default_rng(seed)
    campaign = campaign or CampaignFactory(raters_per_cell=len(behaviour))
    users = {name: UserFactory(username=name) for name in behaviour}
    campaign.annotators.add(*users.values())
    tasks = [TaskFactory(campaign=campaign, number=k + 1) for k in range(n_tasks)]
    episodes = [
        EpisodeFactory(task=task, number=n, key=f"episode_{n}")
        for task in tasks
        for n in range(n_episodes)
    ]
    clips = []
    team_rows = {}
    for name in teams:
        team = TeamFactory(campaign=campaign, name=name)
        team_rows[name] = team
        submission = SubmissionFactory(team=team)
        for episode in episodes:
            clips.append(
                (ClipFactory(submission=submission, episode=episode), int(rng.integers(0, 4)))
            )
    names = list(behaviour)
    moment = START
    for index, (clip, truth) in enumerate(clips):
        chosen = (
            names
            if raters_per_clip is None
            else [names[(index + k) % len(names)] for k in range(raters_per_clip)]
        )
        for name in chosen:
            rate, seconds = behaviour[name]
            moment += dt.timedelta(seconds=30)
            stored = moment + dt.timedelta(seconds=seconds)
            assignment = AssignmentFactory(
                clip=clip,
                annotator=users[name],
                status=Assignment.Status.DONE,
                started_at=moment,
                completed_at=stored,
            )
            # Every other rating of the random rater predates the server's own count:
            # its time is read from the page's opening to the rating being stored.
            server_time = None if name == "random" and index % 2 else seconds
            RatingFactory(
                assignment=assignment,
                score=rate(truth, rng),
                server_time_s=server_time,
                time_on_page_s=seconds + 30.0,  # the page's own count, deliberately off
                created_at=stored,
                updated_at=stored,
            )
    return World(campaign=campaign, users=users, clips=clips, team_members=team_rows)


@pytest.fixture
def world():
    return build_world()


def _rows_by_name(report, world):
    by_pseudonym = {
        rater_pseudonym(user_id=user.pk, campaign_slug=world.campaign.slug): name
        for name, user in world.users.items()
    }
    return {by_pseudonym[row.reliability.rater]: row for row in report.rows}


def test_the_random_fast_rater_and_the_straight_liner_are_flagged_the_careful_ones_not(world):
    report = reliability.rater_report(campaign=world.campaign)
    rows = _rows_by_name(report, world)
    assert set(rows["random"].reliability.flags) == {FAST, DISAGREES}
    assert set(rows["threes"].reliability.flags) == {DISAGREES, STRAIGHT_LINE}
    for name in CAREFUL:
        figures = rows[name].reliability
        assert figures.flags == (), (name, figures)
        assert figures.kappa > 0.7 and abs(figures.bias) < 0.3
    assert rows["threes"].reliability.straight_line == 1.0
    assert rows["threes"].reliability.bias > 0.5
    # Server time, not the page's: 2 s against 3 s clips, though the page claimed 32 s.
    random = rows["random"].reliability
    assert random.median_seconds == pytest.approx(2.0)
    assert random.time_ratio == pytest.approx(2.0 / 3.0)
    assert random.median_page_seconds == pytest.approx(32.0)
    assert random.n_timed == random.n_clips == 20
    assert rows["careful1"].username == "careful1"


def test_thresholds_are_campaign_settings(world):
    campaign = world.campaign
    campaign.flag_fast_ratio = 0.5  # 2 s of 3 s is no longer fast
    campaign.flag_straight_line_share = 1.0
    campaign.flag_min_kappa = -1.0
    campaign.save()
    rows = _rows_by_name(reliability.rater_report(campaign=campaign), world)
    assert rows["random"].reliability.flags == ()
    assert rows["threes"].reliability.flags == (STRAIGHT_LINE,)  # a share of 1.0 still trips


def test_raters_carry_the_pseudonym_of_the_ratings_export(world):
    exported = set(ratings_frame(campaign=world.campaign)["rater"])
    report = reliability.rater_report(campaign=world.campaign)
    assert {row.reliability.rater for row in report.rows} == exported


def test_rater_report_command_writes_json_and_csv(world, tmp_path):
    out = io.StringIO()
    call_command(
        "rater_report", world.campaign.slug, output=str(tmp_path / "raters.json"), stdout=out
    )
    assert "2 flagged" in out.getvalue()
    document = json.loads((tmp_path / "raters.json").read_text())
    assert document["thresholds"]["min_kappa"] == 0.4
    assert "median" in document["consensus"]
    pseudonyms = {
        rater_pseudonym(user_id=user.pk, campaign_slug=world.campaign.slug): name
        for name, user in world.users.items()
    }
    flags = {pseudonyms[row["rater"]]: set(row["flags"]) for row in document["rows"]}
    assert flags["random"] == {FAST, DISAGREES}
    assert all(not flags[name] for name in CAREFUL)
    assert "username" not in document["rows"][0]  # files never name people

    call_command(
        "rater_report",
        world.campaign.slug,
        output=str(tmp_path / "raters.csv"),
        stdout=io.StringIO(),
    )
    with (tmp_path / "raters.csv").open(newline="") as handle:
        table = list(csv.DictReader(handle))
    csv_flags = {pseudonyms[row["rater"]]: row["flags"] for row in table}
    assert csv_flags["threes"] == "disagrees;straight_line"
    assert list(table[0])[:3] == ["rater", "excluded", "excluded_since"]


def test_rater_report_command_refuses_bad_input(world, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="must end in .json or .csv"):
        call_command("rater_report", world.campaign.slug, output=str(tmp_path / "raters.txt"))
    with pytest.raises(CommandError, match="no campaign"):
        call_command("rater_report", "nope", output=str(tmp_path / "raters.json"))


def test_the_raters_page_api_and_figure(world, staff_client, staff_api):
    slug = world.campaign.slug
    page = staff_client.get(reverse("raters", args=[slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "straight_line" in html and "careful3" in html
    for fmt, kind in (("png", "image/png"), ("svg", "image/svg+xml")):
        figure = staff_client.get(reverse("raters-figure", args=[slug, fmt]))
        assert figure.status_code == 200 and figure["Content-Type"] == kind
    assert staff_client.get(reverse("raters-figure", args=[slug, "gif"])).status_code == 404
    download = staff_client.get(reverse("raters-report", args=[slug, "csv"]))
    assert download.status_code == 200 and b"straight_line" in download.content
    answer = staff_api.get(f"/api/campaigns/{slug}/raters/")
    assert answer.status_code == 200
    flagged = [row for row in answer.json()["rows"] if row["flags"]]
    assert len(flagged) == 2


def test_a_figure_with_dollar_signs_in_names_draws_them_as_written():
    from evaluation.rater_figures import rater_figure

    rows = [
        {"rater": "$x$", "kappa": 0.9, "bias": 0.1, "flags": [], "excluded": False},
        {"rater": "R_1", "kappa": 0.1, "bias": 1.2, "flags": ["disagrees"], "excluded": True},
        {"rater": "R2", "kappa": None, "bias": None, "flags": [], "excluded": False},
    ]
    svg = rater_figure(rows=rows, min_kappa=0.4, fmt="svg").decode()
    assert "$x$" in svg and "1 without a kappa" in svg


def test_thresholds_page_and_api_check_each_setting(world, staff_client, staff_api):
    slug = world.campaign.slug
    refused = staff_client.post(
        reverse("raters-thresholds", args=[slug]),
        {
            **{name: getattr(world.campaign, name) for name in _threshold_names()},
            "flag_min_kappa": 2,
        },
    )
    assert refused.status_code == 400
    answer = staff_api.patch(
        f"/api/campaigns/{slug}/raters/thresholds/", {"adjudication_range": 3}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["adjudication_range"] == 3
    assert (
        staff_api.patch(
            f"/api/campaigns/{slug}/raters/thresholds/", {"adjudication_range": 4}, format="json"
        ).status_code
        == 400
    )
    world.campaign.refresh_from_db()
    assert world.campaign.adjudication_range == 3


def _threshold_names():
    from annotate.services.review import THRESHOLD_RANGES

    return list(THRESHOLD_RANGES)


def test_a_rating_without_any_server_time_is_not_timed(world):
    from annotate.models import Rating

    target = world.users["careful1"]
    Rating.objects.filter(annotator=target).update(server_time_s=None)
    Assignment.objects.filter(annotator=target).update(started_at=None)
    rows = _rows_by_name(reliability.rater_report(campaign=world.campaign), world)
    assert rows["careful1"].reliability.n_timed == 0
    assert rows["careful1"].reliability.median_seconds is None
    assert FAST not in rows["careful1"].reliability.flags


def test_gold_checks_feed_the_gold_flag_and_never_the_consensus(world):
    """Gold rows (blind checks with a known score) on clips outside the rated set."""
    from annotate.models import QualityExample

    task = world.clips[0][0].episode.task
    submission = world.clips[0][0].submission
    truths = [0, 3, 1, 2]
    for number, truth in enumerate(truths, start=100):
        episode = EpisodeFactory(
            task=task, number=number, key=f"episode_{number}", in_rated_set=False
        )
        clip = ClipFactory(submission=submission, episode=episode)
        QualityExample.objects.create(
            campaign=world.campaign, clip=clip, kind=QualityExample.Kind.GOLD, score=truth
        )
        for name, user in world.users.items():
            wrong = name == "random" or (name == "careful1" and number == 100)
            RatingFactory(
                assignment=AssignmentFactory(
                    clip=clip, annotator=user, gold=True, status=Assignment.Status.DONE
                ),
                score=(truth + 2) % 4 if wrong else truth,
            )
    rows = _rows_by_name(reliability.rater_report(campaign=world.campaign), world)
    assert rows["random"].reliability.gold_n == 4
    assert rows["random"].reliability.gold_exact == 0.0
    assert set(rows["random"].reliability.flags) == {FAST, GOLD, DISAGREES}
    assert rows["careful1"].reliability.gold_exact == 0.75  # 3 of 4: above 0.7, no flag
    assert rows["careful1"].reliability.flags == ()
    assert rows["careful2"].reliability.gold_within_one == 1.0
    # The checks are no team's ratings: the leaderboard's ratings do not hold them.
    assert len(ratings_frame(campaign=world.campaign)) == 6 * 20


def test_report_time_is_now(world):
    report = reliability.rater_report(campaign=world.campaign, now=START)
    assert report.generated_at == START
    assert reliability.rater_report(campaign=world.campaign).generated_at <= timezone.now()
