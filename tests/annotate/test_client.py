"""The `refscore` program against a live server: a team submits a folder, reads its
report, picks its final version, meets the deadline and its results; typed errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from annotate.models import Campaign, Team
from annotate.selectors import current_submissions
from annotate.services import campaign_state_change, reference_import
from annotate.services.tokens import api_token_issue
from tests.videos import write_reference_tree, write_video

pytestmark = pytest.mark.django_db(transaction=True)

PROGRAM = Path(sys.executable).with_name("refscore")


@pytest.fixture
def team_token(campaign, tmp_path, django_user_model):
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1, 2))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    member = django_user_model.objects.create_user("carol", password="pw")
    Team.objects.create(campaign=campaign, name="Gamma").members.add(member)
    return api_token_issue(user=member, by=None)


def refscore(live_server, token: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REFSCORE_URL": live_server.url, "REFSCORE_TOKEN": token}
    return subprocess.run(
        [str(PROGRAM), "--quiet", *args], env=env, capture_output=True, text=True, timeout=120
    )


def challenge_folder(root: Path, *, episodes, broken=(), seed=500) -> Path:
    for episode in episodes:
        write_video(root / f"val/task1/episode_{episode}.mp4", width=144, height=48, seed=seed)
        seed += 1
    for episode in broken:
        (root / f"val/task1/episode_{episode}.mp4").write_bytes(b"\x00" * 64)
    write_video(root / "val/task1/concat_episode_0.mp4", width=144, height=48, seed=seed + 9)
    return root


def test_a_team_submits_a_folder_and_reads_the_report(campaign, team_token, tmp_path, live_server):
    folder = challenge_folder(tmp_path / "out", episodes=(0, 2), broken=(1,))
    run = refscore(live_server, team_token, "submit", "--campaign", campaign.slug, str(folder))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "  accepted  task1/episode_0" in lines and "  accepted  task1/episode_2" in lines
    assert any(
        line.startswith("  skipped   val/task1/concat_episode_0.mp4: debug") for line in lines
    )
    assert any(line.startswith("  rejected  val/task1/episode_1.mp4: ") for line in lines)
    assert "  missing   task1/episode_1 (counts 0 if rated)" in lines
    assert "  version 1" in lines

    again = refscore(live_server, team_token, "submit", "--campaign", campaign.slug, str(folder))
    assert again.returncode == 0 and "  version 2" in again.stdout.splitlines()
    status = json.loads(
        refscore(live_server, team_token, "status", "--campaign", campaign.slug).stdout
    )
    assert [row["version"] for row in status["versions"]] == [2, 1]

    chosen = refscore(
        live_server, team_token, "final", "--campaign", campaign.slug, "--version", "1"
    )
    assert chosen.returncode == 0 and chosen.stdout.strip() == "version 1 counts"
    team = Team.objects.get(name="Gamma")
    assert current_submissions(campaign=campaign).get(team=team).version == 1


def test_typed_errors(campaign, team_token, tmp_path, live_server):
    folder = challenge_folder(tmp_path / "out", episodes=(0,))
    wrong = refscore(live_server, "not-a-token", "status", "--campaign", campaign.slug)
    assert wrong.returncode == 3 and "AuthError: HTTP 401" in wrong.stderr

    early = refscore(live_server, team_token, "results", "--campaign", campaign.slug)
    assert early.returncode == 5 and "NotPublishedError" in early.stderr

    Campaign.objects.filter(pk=campaign.pk).update(
        submissions_close_at=timezone.now() - dt.timedelta(minutes=5)
    )
    late = refscore(live_server, team_token, "submit", "--campaign", campaign.slug, str(folder))
    assert late.returncode == 2
    assert "RefusedError" in late.stderr and "submission window closed" in late.stderr

    missing = refscore(live_server, team_token, "status", "--campaign", "no-such-campaign")
    assert missing.returncode == 4 and "NotFoundError" in missing.stderr


def test_results_once_published(campaign, team_token, tmp_path, live_server):
    folder = challenge_folder(tmp_path / "out", episodes=(0, 1))
    assert (
        refscore(
            live_server, team_token, "submit", "--campaign", campaign.slug, str(folder)
        ).returncode
        == 0
    )
    campaign_state_change(campaign=campaign, to_state=Campaign.State.LOCKED, by=None)
    campaign_state_change(campaign=campaign, to_state=Campaign.State.PUBLISHED, by=None)
    saved = tmp_path / "results.json"
    run = refscore(
        live_server, team_token, "results", "--campaign", campaign.slug, "--output", str(saved)
    )
    assert run.returncode == 0, run.stderr
    # No rating yet: every episode counts 0, and the team is ranked.
    assert run.stdout.splitlines()[0] == "Gamma: rank 1 of 1, final 0.000 [0.000, 0.000]"
    data = json.loads(saved.read_text())
    assert [(clip["episode"], clip["submitted"]) for clip in data["clips"]] == [
        ("episode_0", True),
        ("episode_1", True),
        ("episode_2", False),
    ]


def test_a_team_checks_a_pair_with_the_baseline_judge_where_allowed(
    campaign, team_token, tmp_path, live_server
):
    reference = write_video(tmp_path / "reference.mp4", frames=24, width=144, height=48, seed=1)
    generated = write_video(tmp_path / "generated.mp4", frames=24, width=144, height=48, seed=2)
    args = ("judge-pair", "--campaign", campaign.slug)
    args += ("--reference", str(reference), "--generated", str(generated))
    refused = refscore(live_server, team_token, *args)
    assert refused.returncode == 3 and "do not offer the judge" in refused.stderr

    Campaign.objects.filter(pk=campaign.pk).update(teams_may_judge=True)
    run = refscore(live_server, team_token, *args)
    assert run.returncode == 0, run.stderr
    verdict = json.loads(run.stdout)
    assert verdict["error"] is None and verdict["score"] in (0, 1, 2, 3)
    assert verdict["judge"].startswith("baseline")
