"""A team's results: nothing before publication, then only its own, with raters unnamed;
the leaderboard page is public only when the organizers chose so."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from annotate.models import Campaign, Episode, Rating, Team
from annotate.selectors import current_submissions
from annotate.services import campaign_state_change
from demo.campaign import demo_ratings_simulate

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT = "gripper passes through the cup"


@pytest.fixture
def rated(demo_campaign):
    """The demo campaign fully rated, one comment, a member in each team."""
    demo_ratings_simulate(campaign=demo_campaign, seed=5, leave_for=())
    User = get_user_model()
    members = {}
    for index, team in enumerate(Team.objects.filter(campaign=demo_campaign).order_by("name")):
        member = User.objects.create_user(f"member{index}", password="pw")
        team.members.add(member)
        members[team.name] = member
    first_team = min(members)
    rating = Rating.objects.filter(clip__submission__team__name=first_team).order_by("pk").first()
    rating.comment = COMMENT
    rating.save()
    return demo_campaign, members, first_team


def publish(campaign: Campaign) -> None:
    campaign_state_change(campaign=campaign, to_state=Campaign.State.LOCKED, by=None)
    campaign_state_change(campaign=campaign, to_state=Campaign.State.PUBLISHED, by=None)
    campaign.refresh_from_db()


def expected_final(campaign: Campaign, team: Team) -> float:
    """The protocol by hand: per task the mean over E(task) of the clip means, 0 if missing."""
    submission = current_submissions(campaign=campaign).get(team=team)
    task_scores = []
    for task in campaign.tasks.order_by("number"):
        clip_scores = []
        for episode in Episode.objects.filter(task=task, in_rated_set=True):
            scores = list(
                Rating.objects.filter(
                    clip__submission=submission, clip__episode=episode
                ).values_list("score", flat=True)
            )
            clip_scores.append(sum(scores) / len(scores) if scores else 0.0)
        task_scores.append(sum(clip_scores) / len(clip_scores))
    return sum(task_scores) / len(task_scores)


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_nothing_before_publication(rated):
    campaign, members, first_team = rated
    member = members[first_team]
    assert api_for(member).get(f"/api/campaigns/{campaign.slug}/results/").status_code == 409
    client = Client()
    client.force_login(member)
    page = client.get(f"/teams/{campaign.slug}/results/")
    assert page.status_code == 200
    assert b"not published yet" in page.content and COMMENT.encode() not in page.content
    assert client.get(f"/teams/{campaign.slug}/results.csv").status_code == 404
    assert Client().get(f"/leaderboard/{campaign.slug}/").status_code == 404
    assert client.get(f"/leaderboard/{campaign.slug}/").status_code == 404


def test_after_publication_each_team_sees_its_own_results_only(rated):
    campaign, members, first_team = rated
    publish(campaign)
    User = get_user_model()
    annotator_names = set(
        User.objects.filter(ratings__clip__submission__team__campaign=campaign).values_list(
            "username", flat=True
        )
    )
    assert annotator_names
    for name, member in members.items():
        team = Team.objects.get(campaign=campaign, name=name)
        data = api_for(member).get(f"/api/campaigns/{campaign.slug}/results/").json()
        assert data["team"] == name
        assert data["standing"]["team"] == name
        assert data["standing"]["final_score"] == pytest.approx(expected_final(campaign, team))
        assert data["n_teams"] == len(members)
        text = str(data)
        for other in set(members) - {name}:
            assert other not in text
        for username in annotator_names:
            assert username not in text
        clip_comments = [comment for clip in data["clips"] for comment in clip["comments"]]
        assert (COMMENT in clip_comments) == (name == first_team)

    client = Client()
    client.force_login(members[first_team])
    page = client.get(f"/teams/{campaign.slug}/results/").content.decode()
    assert COMMENT in page and "Rank" in page
    assert not any(username in page for username in annotator_names)
    download = client.get(f"/teams/{campaign.slug}/results.csv")
    assert download.status_code == 200
    assert download.content.decode().splitlines()[0].startswith("task,episode,submitted")
    assert COMMENT in download.content.decode()


def test_the_leaderboard_is_for_teams_unless_made_public(rated):
    campaign, members, first_team = rated
    publish(campaign)
    member = Client()
    member.force_login(members[first_team])
    anonymous = Client()
    assert anonymous.get(f"/leaderboard/{campaign.slug}/").status_code == 404
    page = member.get(f"/leaderboard/{campaign.slug}/")
    assert page.status_code == 200
    assert all(name in page.content.decode() for name in members)

    campaign.leaderboard_public = True
    campaign.save()
    page = anonymous.get(f"/leaderboard/{campaign.slug}/").content.decode()
    assert all(name in page for name in members)
    annotators = (
        get_user_model().objects.filter(ratings__isnull=False).values_list("username", flat=True)
    )
    assert not any(username in page for username in set(annotators))
