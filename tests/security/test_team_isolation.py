"""A team member reaches only their own team: no other team's files or versions, no
rating before publication, no annotator, no judge output."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from annotate.models import Campaign, Clip, ImportJob, Team
from annotate.services import campaign_state_change
from evaluation.models import Verdict
from tests.security.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

JUDGE_WORDS = re.compile(r"verdict|judge|expected_score", re.IGNORECASE)


def _rating_mean_like(value: float) -> bool:
    return any(abs(value * n - round(value * n)) < 5e-4 * n for n in range(1, 19))


def _markers(world: World) -> dict[str, str]:
    """Text that must never reach the world's team member, with what it would reveal."""
    markers = {}
    for team in Team.objects.filter(campaign=world.campaign).exclude(pk=world.team.pk):
        markers[team.name] = f"another team's name ({team.name})"
    clips = Clip.objects.filter(episode__task__campaign=world.campaign).select_related("asset")
    own_names = set(clips.filter(submission__team=world.team).values_list("source_name", flat=True))
    for job in ImportJob.objects.filter(campaign=world.campaign, team_name=world.team.name):
        for kind in ("rejected", "skipped"):
            own_names |= {item["file"] for item in job.report.get(kind, [])}
    jobs = ImportJob.objects.filter(campaign=world.campaign, kind=ImportJob.Kind.SUBMISSION)
    for job in jobs.exclude(team_name=world.team.name):
        for kind in ("rejected", "skipped"):
            for item in job.report.get(kind, []):
                if item["file"] not in own_names:
                    markers[item["file"]] = f"another team's {kind} file"
    for clip in clips.exclude(submission__team=world.team):
        if clip.source_name not in own_names:  # the same layout gives the same paths
            markers[clip.source_name] = "another team's file"
        markers[str(clip.asset.token)] = "another team's media token"
        markers[clip.asset.sha256] = "another team's file digest"
    User = get_user_model()
    for user in User.objects.filter(ratings__clip__episode__task__campaign=world.campaign):
        markers[user.username] = "an annotator's username"
    for verdict in Verdict.objects.filter(run=world.run):
        value = verdict.expected_score
        # A value with many decimals is recognisable by its leading digits as JSON writes
        # it, unless a mean of a few ratings could show the same digits. Seven of them: with
        # four, the many intervals and scores on a results page met one by chance.
        digits = str(value)[:8] if value is not None else ""
        if len(digits) == 8 and not _rating_mean_like(value):
            markers[digits] = "a judge expected score"
    return markers


def _pages(slug: str, job_ids: list[int]) -> list[str]:
    urls = [
        reverse("team-portal", args=[slug]),
        reverse("team-results", args=[slug]),
        reverse("public-leaderboard", args=[slug]),
        reverse("api-team-submissions", args=[slug]),
        reverse("api-team-results", args=[slug]),
        reverse("team-results-download", args=[slug, "csv"]),
        reverse("team-results-download", args=[slug, "json"]),
    ]
    for job_id in job_ids:
        urls.append(reverse("team-upload-progress", args=[slug, job_id]))
        urls.append(reverse("api-team-upload", args=[slug, job_id]))
    return urls


def _leaks(client: Client, urls: list[str], markers: dict[str, str]) -> tuple[list[str], dict]:
    leaks, statuses = [], {}
    for url in urls:
        response = client.get(url)
        statuses[url] = response.status_code
        assert response.status_code < 500, url
        body = response.content.decode(errors="replace")
        for text, what in markers.items():
            if text and text in body:
                leaks.append(f"{url}: {what}")
        if found := JUDGE_WORDS.search(body):
            leaks.append(f"{url}: judge output ({found.group()})")
    return leaks, statuses


def test_a_team_member_sees_only_their_own_team(world):
    member = world.users["team_member"]
    client = Client()
    client.force_login(member)
    slug = world.campaign.slug
    other_jobs = list(
        ImportJob.objects.filter(campaign=world.campaign).exclude(team_name=world.team.name)
    )
    own_jobs = list(ImportJob.objects.filter(campaign=world.campaign, team_name=world.team.name))
    markers = _markers(world)
    assert any("another team" in what for what in markers.values())
    assert any("annotator" in what for what in markers.values())

    urls = _pages(slug, [job.pk for job in own_jobs + other_jobs])
    leaks, statuses = _leaks(client, urls, markers)
    assert not leaks, "\n".join(leaks)
    for job in other_jobs:  # another team's upload, or the organizers' reference import
        assert statuses[reverse("api-team-upload", args=[slug, job.pk])] == 404
    assert statuses[reverse("api-team-results", args=[slug])] == 409

    # Published: the team's own results, still nothing of the others or of the raters.
    campaign = world.campaign
    campaign_state_change(campaign=campaign, to_state=Campaign.State.LOCKED, by=None)
    campaign_state_change(campaign=campaign, to_state=Campaign.State.PUBLISHED, by=None)
    ranked = {
        name: text for name, text in markers.items() if "another team's name" not in text
    }  # the leaderboard names the teams, by design
    own_urls = [url for url in urls if "leaderboard" not in url]
    leaks, statuses = _leaks(client, own_urls, ranked)
    assert not leaks, "\n".join(leaks)
    assert statuses[reverse("api-team-results", args=[slug])] == 200
    results = client.get(reverse("api-team-results", args=[slug])).json()
    assert results["team"] == world.team.name
    leaderboard = client.get(reverse("public-leaderboard", args=[slug]))
    assert leaderboard.status_code == 200
    leaks, _ = _leaks(client, [reverse("public-leaderboard", args=[slug])], ranked)
    assert not leaks, "\n".join(leaks)
