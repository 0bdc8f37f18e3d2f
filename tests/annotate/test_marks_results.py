"""Break-point marks reach a team with its results: only once published, only its own clips'
marks, every rater's together and unsigned, on the page, the API and both downloads."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from annotate.marks import marks_parse
from annotate.models import Campaign, Rating, Team
from annotate.services import campaign_state_change
from demo.campaign import demo_ratings_simulate

pytestmark = pytest.mark.django_db(transaction=True)

# Times no demo figure shows, so that finding one on a page means a mark is shown.
OWN_MARKS = [[{"t": 0.417, "label": "deformation"}], [{"t": 1.583, "label": "physics"}]]
OTHER_TEAM_MARK = {"t": 1.291, "label": "object_vanished"}


@pytest.fixture
def marked(demo_campaign):
    """The demo rated; two raters marked the first team's first clip, one rater another team's."""
    demo_ratings_simulate(campaign=demo_campaign, seed=5, leave_for=())
    teams = list(Team.objects.filter(campaign=demo_campaign).order_by("name"))
    members = {}
    for index, team in enumerate(teams):
        member = get_user_model().objects.create_user(f"member{index}", password="pw")
        team.members.add(member)
        members[team.name] = member
    first, second = teams[0], teams[1]
    clip = Rating.objects.filter(clip__submission__team=first).order_by("clip_id").first().clip
    ratings = list(Rating.objects.filter(clip=clip).order_by("pk"))
    assert len(ratings) >= 2
    for rating, marks in zip(ratings, OWN_MARKS, strict=False):
        rating.marks = marks
        rating.save(update_fields=["marks"])
    other = Rating.objects.filter(clip__submission__team=second).order_by("pk").first()
    other.marks = [OTHER_TEAM_MARK]
    other.save(update_fields=["marks"])
    raters = set(
        get_user_model().objects.filter(ratings__clip=clip).values_list("username", flat=True)
    )
    return demo_campaign, members, first.name, second.name, clip, raters


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def publish(campaign: Campaign) -> None:
    campaign_state_change(campaign=campaign, to_state=Campaign.State.LOCKED, by=None)
    campaign_state_change(campaign=campaign, to_state=Campaign.State.PUBLISHED, by=None)


def test_no_mark_before_publication(marked):
    campaign, members, first, _, _, _ = marked
    member = members[first]
    page = _client(member).get(f"/teams/{campaign.slug}/results/").content.decode()
    assert "not published yet" in page and "0.42 s" not in page
    assert _api(member).get(f"/api/campaigns/{campaign.slug}/results/").status_code == 409
    for fmt in ("csv", "json"):
        assert _client(member).get(f"/teams/{campaign.slug}/results.{fmt}").status_code == 404


def test_after_publication_a_team_sees_its_own_marks_unsigned(marked):
    campaign, members, first, second, clip, raters = marked
    publish(campaign)
    key = (clip.episode.task.key, clip.episode.key)
    expected = sorted((mark for marks in OWN_MARKS for mark in marks), key=lambda m: m["t"])

    data = _api(members[first]).get(f"/api/campaigns/{campaign.slug}/results/").json()
    by_clip = {(row["task"], row["episode"]): row["break_points"] for row in data["clips"]}
    assert by_clip[key] == expected
    assert sum(len(points) for points in by_clip.values()) == len(expected)
    assert not any(name in json.dumps(data) for name in raters)

    page = _client(members[first]).get(f"/teams/{campaign.slug}/results/").content.decode()
    assert "0.42 s deformation" in page and "1.58 s implausible physics" in page
    assert "1.29 s" not in page  # another team's mark
    assert not any(name in page for name in raters)

    rows = list(
        csv.DictReader(
            io.StringIO(
                _client(members[first]).get(f"/teams/{campaign.slug}/results.csv").content.decode()
            )
        )
    )
    cells = {(row["task"], row["episode"]): row["break_points"] for row in rows}
    assert marks_parse(cells[key]) == expected
    document = json.loads(
        _client(members[first]).get(f"/teams/{campaign.slug}/results.json").content
    )
    assert {(c["task"], c["episode"]): c["break_points"] for c in document["clips"]}[
        key
    ] == expected

    # The other team sees its own mark, never the first team's.
    theirs = _api(members[second]).get(f"/api/campaigns/{campaign.slug}/results/").json()
    points = [point for row in theirs["clips"] for point in row["break_points"]]
    assert points == [OTHER_TEAM_MARK]
