"""A team submits through the API: the real ingest's per-file report, versions with a
chosen final one, and the submission window. An import never overrides the team's own
choice (the report says so); an organizer may choose for the team, also after the window
closed, while the campaign takes submissions, and who chose is recorded."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotate.models import Campaign, ImportJob, Submission, Team
from annotate.selectors import current_clips, current_submissions
from annotate.services import campaign_state_change, reference_import
from annotate.services.team_portal import TeamPortalRefused, team_final_choose
from annotate.services.tokens import api_token_issue
from tests.videos import write_reference_tree, write_video

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def teams(campaign, tmp_path, django_user_model):
    """Task 1 with episodes 0-2; team Alpha (alice) and team Beta (bob)."""
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1, 2))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    alice = django_user_model.objects.create_user("alice", password="pw")
    bob = django_user_model.objects.create_user("bob", password="pw")
    alpha = Team.objects.create(campaign=campaign, name="Alpha")
    beta = Team.objects.create(campaign=campaign, name="Beta")
    alpha.members.add(alice)
    beta.members.add(bob)
    return {"alice": alice, "bob": bob, "alpha": alpha, "beta": beta}


def token_client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user, by=None)}")
    return api


def challenge_zip(path: Path, tmp: Path, *, episodes=(0,), broken=(), seed=200) -> Path:
    """The challenge layout under a split, with a debug file and a note beside the clips."""
    with zipfile.ZipFile(path, "w") as archive:
        for episode in episodes:
            clip = write_video(tmp / f"clip{seed}-{episode}.mp4", width=144, height=48, seed=seed)
            archive.write(clip, f"test/task1/episode_{episode}.mp4")
            seed += 1
        for episode in broken:
            archive.writestr(f"test/task1/episode_{episode}.mp4", b"not a video at all")
        debug = write_video(tmp / f"debug{seed}.mp4", width=144, height=48, seed=seed + 50)
        archive.write(debug, "test/task1/concat_episode_0.mp4")
        archive.writestr("test/README.txt", b"our model")
    return path


def test_upload_reports_each_file_and_the_missing_episodes(campaign, teams, tmp_path, settings):
    api = token_client(teams["alice"])
    archive = challenge_zip(tmp_path / "alpha.zip", tmp_path, episodes=(0,), broken=(1,))
    with archive.open("rb") as handle:
        response = api.post(
            f"/api/campaigns/{campaign.slug}/submissions/", {"archive": handle}, format="multipart"
        )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    report = api.get(f"/api/campaigns/{campaign.slug}/submissions/uploads/{job_id}/").json()

    assert report["status"] == "done"
    assert report["version"] == 1
    assert report["accepted"] == ["task1/episode_0"]
    skipped = {item["file"]: item["reason"] for item in report["skipped"]}
    assert set(skipped) == {"test/task1/concat_episode_0.mp4", "test/README.txt"}
    assert "debug" in skipped["test/task1/concat_episode_0.mp4"]
    (rejected,) = report["rejected"]
    assert rejected["file"] == "test/task1/episode_1.mp4" and rejected["reason"]
    # Episode 1 was rejected and episode 2 never sent: both count 0.
    assert report["missing"] == ["task1/episode_1", "task1/episode_2"]

    job = ImportJob.objects.get(pk=job_id)
    assert job.team_name == "Alpha" and job.created_by == teams["alice"]
    assert Submission.objects.get(team=teams["alpha"]).clips.count() == 1
    assert not list((Path(settings.VAR_DIR) / "uploads").iterdir())


def test_another_team_never_sees_the_upload(campaign, teams, tmp_path):
    alice, bob = token_client(teams["alice"]), token_client(teams["bob"])
    archive = challenge_zip(tmp_path / "alpha.zip", tmp_path)
    with archive.open("rb") as handle:
        job_id = alice.post(
            f"/api/campaigns/{campaign.slug}/submissions/", {"archive": handle}, format="multipart"
        ).json()["id"]
    assert (
        bob.get(f"/api/campaigns/{campaign.slug}/submissions/uploads/{job_id}/").status_code == 404
    )
    listing = bob.get(f"/api/campaigns/{campaign.slug}/submissions/").json()
    assert listing["team"] == "Beta" and listing["versions"] == [] and listing["uploads"] == []
    # Nor does the page's progress poll, which says so in the reader's language.
    browser = Client()
    browser.force_login(teams["bob"])
    progress = reverse("team-upload-progress", args=[campaign.slug, job_id])
    answer = browser.get(progress, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.status_code == 404 and answer.json() == {"detail": "你的队伍没有这次上传"}
    assert browser.get(progress).json() == {"detail": "no such upload of your team"}


def test_user_in_no_team_is_refused(campaign, teams, annotator, tmp_path):
    api = token_client(annotator)
    archive = challenge_zip(tmp_path / "x.zip", tmp_path)
    with archive.open("rb") as handle:
        response = api.post(
            f"/api/campaigns/{campaign.slug}/submissions/", {"archive": handle}, format="multipart"
        )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_uploads_after_the_deadline_are_refused_but_organizers_still_import(
    campaign, teams, tmp_path, settings, staff_api
):
    campaign.submissions_close_at = timezone.now() - dt.timedelta(minutes=1)
    campaign.save()
    api = token_client(teams["alice"])
    archive = challenge_zip(tmp_path / "late.zip", tmp_path)
    with archive.open("rb") as handle:
        response = api.post(
            f"/api/campaigns/{campaign.slug}/submissions/", {"archive": handle}, format="multipart"
        )
    assert response.status_code == 400
    assert "submission window closed" in response.json()["detail"]
    assert not ImportJob.objects.exists()
    uploads = Path(settings.VAR_DIR) / "uploads"
    assert not uploads.exists() or not list(uploads.iterdir())

    with archive.open("rb") as handle:
        response = staff_api.post(
            f"/api/campaigns/{campaign.slug}/imports/",
            {"kind": "submission", "team": "Alpha", "archive": handle},
            format="multipart",
        )
    assert response.status_code == 202
    assert ImportJob.objects.get().status == "done"


def _upload(api, campaign, path: Path) -> dict:
    with path.open("rb") as handle:
        response = api.post(
            f"/api/campaigns/{campaign.slug}/submissions/", {"archive": handle}, format="multipart"
        )
    assert response.status_code == 202, response.content
    return response.json()


def test_the_chosen_final_version_is_the_rated_one(campaign, teams, tmp_path):
    api = token_client(teams["alice"])
    _upload(api, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, episodes=(0,), seed=300))
    _upload(api, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, episodes=(0, 1), seed=400))
    alpha = teams["alpha"]
    assert current_submissions(campaign=campaign).get(team=alpha).version == 2

    response = api.put(
        f"/api/campaigns/{campaign.slug}/submissions/final/", {"version": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    rows = {row["version"]: row for row in response.json()["versions"]}
    assert rows[1]["is_rated"] and rows[1]["is_chosen"] and not rows[2]["is_rated"]
    assert current_submissions(campaign=campaign).get(team=alpha).version == 1
    # Everything that reads the rated version follows: one clip, from version 1.
    clips = list(current_clips(campaign=campaign).filter(submission__team=alpha))
    assert [(clip.submission.version, clip.episode.key) for clip in clips] == [(1, "episode_0")]

    # Back to the newest.
    api.put(f"/api/campaigns/{campaign.slug}/submissions/final/", {"version": None}, format="json")
    assert current_submissions(campaign=campaign).get(team=alpha).version == 2


def test_final_choice_is_refused_after_the_deadline_and_for_other_teams(campaign, teams, tmp_path):
    api = token_client(teams["alice"])
    _upload(api, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, seed=300))
    _upload(api, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, seed=400))
    with pytest.raises(TeamPortalRefused, match="not a member"):
        team_final_choose(team=teams["alpha"], version=1, user=teams["bob"])
    with pytest.raises(TeamPortalRefused, match="no version 7"):
        team_final_choose(team=teams["alpha"], version=7, user=teams["alice"])

    campaign.submissions_close_at = timezone.now() - dt.timedelta(seconds=1)
    campaign.save()
    response = api.put(
        f"/api/campaigns/{campaign.slug}/submissions/final/", {"version": 1}, format="json"
    )
    assert response.status_code == 400
    assert "closed" in response.json()["detail"]
    assert current_submissions(campaign=campaign).get(team=teams["alpha"]).version == 2


def test_a_version_awaiting_confirmation_cannot_be_chosen(campaign, teams, tmp_path):
    api = token_client(teams["alice"])
    _upload(api, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, episodes=(0, 1), seed=1))
    report = _upload(api, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, episodes=(0,)))
    report = api.get(f"/api/campaigns/{campaign.slug}/submissions/uploads/{report['id']}/").json()
    assert report["awaiting_confirmation"] and report["dropped"] == ["task1/episode_1"]
    response = api.put(
        f"/api/campaigns/{campaign.slug}/submissions/final/", {"version": 2}, format="json"
    )
    assert response.status_code == 400
    assert "confirmation" in response.json()["detail"]
    assert current_submissions(campaign=campaign).get(team=teams["alpha"]).version == 1


def test_submission_window_is_set_by_organizers_only(campaign, teams, staff_api):
    url = f"/api/campaigns/{campaign.slug}/submission-window/"
    body = {"opens_at": "2026-01-01T00:00:00Z", "closes_at": "2025-01-01T00:00:00Z"}
    assert staff_api.put(url, body, format="json").status_code == 400
    body["closes_at"] = "2026-06-01T00:00:00Z"
    response = staff_api.put(url, {**body, "leaderboard_public": True}, format="json")
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.submissions_close_at.year == 2026 and campaign.leaderboard_public
    assert token_client(teams["alice"]).put(url, body, format="json").status_code == 403


def test_organizers_set_the_window_from_their_page_and_the_command(campaign, teams, staff_client):
    from django.core.management import call_command

    page = staff_client.get(f"/organize/{campaign.slug}/teams/")
    assert page.status_code == 200 and b"Alpha" in page.content and b"Beta" in page.content
    refused = staff_client.post(
        f"/organize/{campaign.slug}/teams/window",
        {"opens_at": "2026-05-02T00:00", "closes_at": "2026-05-01T00:00"},
    )
    assert refused.status_code == 400 and b"must close after it opens" in refused.content
    saved = staff_client.post(
        f"/organize/{campaign.slug}/teams/window",
        {"closes_at": "2026-05-01T12:00", "leaderboard_public": "on"},
    )
    assert saved.status_code == 302
    campaign.refresh_from_db()
    assert campaign.submissions_close_at.isoformat().startswith("2026-05-01")
    assert campaign.leaderboard_public and not campaign.teams_may_judge

    call_command("submission_window", campaign.slug, "--closes", "none", "--teams-may-judge")
    campaign.refresh_from_db()
    assert campaign.submissions_close_at is None and campaign.teams_may_judge
    assert campaign.leaderboard_public  # not named: kept


def test_a_team_member_lands_on_the_team_page(campaign, teams, client):
    client.force_login(teams["alice"])
    assert client.get("/").url == f"/teams/{campaign.slug}/"
    page = client.get(f"/teams/{campaign.slug}/")
    assert b"team Alpha" in page.content and b"Beta" not in page.content


def test_an_archive_over_the_ingest_limit_is_refused_unread(campaign, teams, tmp_path, settings):
    settings.INGEST_MAX_ARCHIVE_BYTES = 1000
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as out:  # stored: the bytes stay as large
        out.writestr("test/task1/episode_0.mp4", bytes(range(256)) * 512)
    api = token_client(teams["alice"])
    with archive.open("rb") as handle:
        response = api.post(
            f"/api/campaigns/{campaign.slug}/submissions/", {"archive": handle}, format="multipart"
        )
    assert response.status_code == 413
    assert "at most 1000 bytes" in response.json()["detail"]
    assert not ImportJob.objects.exists()
    uploads = Path(settings.VAR_DIR) / "uploads"
    assert not uploads.exists() or not list(uploads.iterdir())


def test_the_planner_works_from_the_chosen_final_version(campaign, teams, tmp_path):
    from annotate.services import assignment_plan_preview
    from tests.factories import UserFactory

    api = token_client(teams["alice"])
    _upload(api, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, episodes=(0,), seed=300))
    _upload(api, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, episodes=(0, 1), seed=400))
    campaign.annotators.add(*(UserFactory() for _ in range(3)))
    alpha_v1 = Submission.objects.get(team=teams["alpha"], version=1)

    def planned_versions() -> set[int]:
        plan = assignment_plan_preview(campaign=campaign)
        clip_ids = {int(row.clip) for row in plan.assignments}
        return set(
            Submission.objects.filter(clips__pk__in=clip_ids).values_list("version", flat=True)
        )

    assert planned_versions() == {2}
    team_final_choose(team=teams["alpha"], version=1, user=teams["alice"])
    assert planned_versions() == {1}
    assert alpha_v1.clips.count() == 1


# ---- who decides which version is rated -------------------------------------------------
def _rated_version(campaign, team) -> int:
    return current_submissions(campaign=campaign).get(team=team).version


def _organizer_import(staff_api, campaign, archive) -> dict:
    with archive.open("rb") as handle:
        response = staff_api.post(
            f"/api/campaigns/{campaign.slug}/imports/",
            {"kind": "submission", "team": "Alpha", "archive": handle},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    return ImportJob.objects.get(pk=response.json()["id"]).report


def test_an_import_keeps_the_teams_choice_and_says_so(campaign, teams, tmp_path, staff_api):
    alice = token_client(teams["alice"])
    _upload(alice, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, seed=300))
    _upload(alice, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, seed=400))
    team_final_choose(team=teams["alpha"], version=1, user=teams["alice"])

    report = _organizer_import(staff_api, campaign, challenge_zip(tmp_path / "v3.zip", tmp_path))
    assert report["submission_version"] == 3 and report["final_kept"] == 1
    assert _rated_version(campaign, teams["alpha"]) == 1

    # The team's own next upload is told the same, on its report.
    job = _upload(alice, campaign, challenge_zip(tmp_path / "v4.zip", tmp_path, seed=500))
    seen = alice.get(f"/api/campaigns/{campaign.slug}/submissions/uploads/{job['id']}/").json()
    assert seen["version"] == 4 and seen["final_kept"] == 1
    # And on its page, which shows the latest upload's report.
    browser = Client()
    browser.force_login(teams["alice"])
    page = browser.get(f"/teams/{campaign.slug}/").content.decode()
    assert "Your team chose version 1 as final, and it stays rated" in page

    # Without a choice, nothing is kept: the newest counts.
    team_final_choose(team=teams["alpha"], version=None, user=teams["alice"])
    report = _organizer_import(staff_api, campaign, challenge_zip(tmp_path / "v5.zip", tmp_path))
    assert report["final_kept"] is None
    assert _rated_version(campaign, teams["alpha"]) == 5


def test_an_organizer_chooses_after_the_window_closed(campaign, teams, tmp_path, staff_client):
    alice = token_client(teams["alice"])
    _upload(alice, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, seed=300))
    team_final_choose(team=teams["alpha"], version=1, user=teams["alice"])
    _upload(alice, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, seed=400))
    campaign.submissions_close_at = timezone.now() - dt.timedelta(minutes=1)
    campaign.save()
    with pytest.raises(TeamPortalRefused, match="closed"):
        team_final_choose(team=teams["alpha"], version=2, user=teams["alice"])

    url = f"/organize/{campaign.slug}/teams/{teams['alpha'].pk}/final"
    response = staff_client.post(url, {"version": "2"}, follow=True)
    assert response.status_code == 200
    assert "Alpha: version 2 counts." in response.content.decode()
    assert _rated_version(campaign, teams["alpha"]) == 2
    teams["alpha"].refresh_from_db()
    assert teams["alpha"].final_chosen_by.is_staff
    assert (
        "chosen by an organizer"
        in staff_client.get(f"/organize/{campaign.slug}/teams/").content.decode()
    )

    # The team sees that the organizers chose.
    browser = Client()
    browser.force_login(teams["alice"])
    assert "chosen by the organizers" in browser.get(f"/teams/{campaign.slug}/").content.decode()

    refused = staff_client.post(url, {"version": "9"}, follow=True)
    assert "no version 9" in refused.content.decode()
    assert _rated_version(campaign, teams["alpha"]) == 2


def test_organizers_choose_by_the_api_and_members_may_not_use_it(
    campaign, teams, tmp_path, staff_api
):
    alice = token_client(teams["alice"])
    _upload(alice, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, seed=300))
    _upload(alice, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, seed=400))
    url = f"/api/campaigns/{campaign.slug}/teams/{teams['alpha'].pk}/final/"
    assert alice.put(url, {"version": 1}, format="json").status_code == 403
    response = staff_api.put(url, {"version": 1}, format="json")
    assert response.status_code == 200, response.content
    rows = {row["version"]: row for row in response.json()["versions"]}
    assert rows[1]["is_rated"] and rows[1]["is_chosen"] and not rows[2]["is_rated"]
    other = f"/api/campaigns/{campaign.slug}/teams/{teams['beta'].pk}/final/"
    assert staff_api.put(other, {"version": 1}, format="json").status_code == 400
    assert (
        staff_api.put(f"{other[:-7]}999999/final/", {"version": 1}, format="json").status_code
        == 404
    )


def test_the_rated_versions_freeze_with_the_campaign(campaign, teams, tmp_path, organizer):
    alice = token_client(teams["alice"])
    _upload(alice, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, seed=300))
    _upload(alice, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, seed=400))
    campaign_state_change(campaign=campaign, to_state=Campaign.State.LOCKED, by=organizer)
    with pytest.raises(TeamPortalRefused, match="frozen"):
        team_final_choose(team=teams["alpha"], version=1, user=organizer)
    assert _rated_version(campaign, teams["alpha"]) == 2


def test_the_command_chooses_and_explains_refusals(campaign, teams, tmp_path, organizer, capsys):
    alice = token_client(teams["alice"])
    _upload(alice, campaign, challenge_zip(tmp_path / "v1.zip", tmp_path, seed=300))
    _upload(alice, campaign, challenge_zip(tmp_path / "v2.zip", tmp_path, seed=400))
    call_command("team_final", campaign.slug, "Alpha", "1", "--as", "organizer")
    assert "Alpha: version 1 counts" in capsys.readouterr().out
    assert _rated_version(campaign, teams["alpha"]) == 1
    call_command("team_final", campaign.slug, "Alpha", "newest", "--as", "organizer")
    assert _rated_version(campaign, teams["alpha"]) == 2
    for args, message in [
        (("nope", "Alpha", "1"), "no campaign"),
        ((campaign.slug, "Gamma", "1"), "no team"),
        ((campaign.slug, "Alpha", "v1"), "neither a version"),
        ((campaign.slug, "Alpha", "7"), "no version 7"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("team_final", *args, "--as", "organizer")
    with pytest.raises(CommandError, match="no organizer"):
        call_command("team_final", campaign.slug, "Alpha", "1", "--as", "alice")
