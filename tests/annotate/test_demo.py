from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotate.models import Assignment, Campaign, Clip, Episode, MediaAsset, Rating


def test_demo_campaign_is_imported_through_the_ingest(demo_campaign):
    assert demo_campaign.tasks.count() == 2
    assert Episode.objects.filter(task__campaign=demo_campaign).count() == 6
    assert demo_campaign.teams.count() == 3
    clips = Clip.objects.filter(submission__team__campaign=demo_campaign)
    assert clips.count() > 0
    assert not clips.filter(demo_category__isnull=True).exists()
    assert Episode.objects.filter(reference_success__isnull=True).count() == 0
    # Broken files are rejected with their reason, and the demo accounts exist.
    reports = [s.report for team in demo_campaign.teams.all() for s in team.submissions.all()]
    assert sum(len(report["rejected"]) for report in reports) >= 1
    assert get_user_model().objects.get(username="organizer").is_staff
    assert get_user_model().objects.filter(username__startswith="annotator").count() == 6
    assert set(MediaAsset.objects.values_list("status", flat=True)) == {MediaAsset.Status.READY}


def test_demo_is_deterministic_for_a_seed(demo_campaign, demo_footage, tmp_path):
    import shutil

    from annotate.demo.render import DEFAULT_TEAMS
    from annotate.services.demo import demo_campaign_create
    from tests.conftest import SMALL_DEMO

    def fingerprint(campaign: Campaign) -> set[tuple[str, str, int | None]]:
        return {
            (str(clip.episode), clip.asset.sha256, clip.demo_category)
            for clip in Clip.objects.filter(submission__team__campaign=campaign).select_related(
                "episode__task", "asset"
            )
        }

    first = fingerprint(demo_campaign)
    # Render again from scratch with the same seed: the same bytes come out.
    again = demo_campaign_create(
        workdir=tmp_path / "again", seed=7, teams=DEFAULT_TEAMS[:3], replace=True, **SMALL_DEMO
    )
    assert fingerprint(again.campaign) == first
    other = demo_campaign_create(
        workdir=tmp_path / "other", slug="other", seed=8, teams=DEFAULT_TEAMS[:3], **SMALL_DEMO
    )
    assert fingerprint(other.campaign) != first
    shutil.rmtree(tmp_path / "again")


def test_an_existing_demo_campaign_is_replaced_only_when_asked(demo_campaign, tmp_path):
    from annotate.services.demo import DemoCampaignExists, demo_campaign_create
    from tests.conftest import SMALL_DEMO

    clips = Clip.objects.filter(submission__team__campaign=demo_campaign).count()
    with pytest.raises(DemoCampaignExists):
        demo_campaign_create(workdir=tmp_path / "again", seed=7, **SMALL_DEMO)
    assert Campaign.objects.get(slug="demo").pk == demo_campaign.pk
    assert Clip.objects.filter(submission__team__campaign=demo_campaign).count() == clips
    assert not (tmp_path / "again").exists()  # refused before anything was rendered


def parse_accounts(out: str) -> list[list[str]]:
    """The rows of the accounts table as printed: a header, a rule, then one row each."""
    lines = out.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["role", "username", "password"]
    )
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


@pytest.mark.django_db(transaction=True)
def test_demo_data_keeps_a_demo_made_before_and_resets_it_when_asked(tmp_path, capsys):
    small = ("--tasks", "1", "--episodes", "2", "--workdir", str(tmp_path / "f"))
    call_command("demo_data", *small)
    assert "Demo campaign 'demo' ready" in capsys.readouterr().out
    campaign = Campaign.objects.get(slug="demo")
    ratings = Rating.objects.filter(assignment__campaign=campaign).count()
    assert ratings > 0

    # A second run keeps the campaign and its ratings, and says so.
    call_command("demo_data", *small)
    out = capsys.readouterr().out
    assert "exists, kept with its ratings" in out and "make demo-reset" in out
    assert Campaign.objects.get(slug="demo").pk == campaign.pk
    assert Rating.objects.filter(assignment__campaign=campaign).count() == ratings

    with pytest.raises(SystemExit) as exit_status:
        call_command("demo_data", "--exists")
    assert exit_status.value.code == 0

    call_command("demo_data", *small, "--reset")
    assert "ready" in capsys.readouterr().out
    assert Campaign.objects.get(slug="demo").pk != campaign.pk

    call_command("demo_data", "--delete")
    assert not Campaign.objects.filter(slug="demo").exists()
    with pytest.raises(SystemExit) as exit_status:
        call_command("demo_data", "--exists")
    assert exit_status.value.code == 1


@pytest.mark.django_db(transaction=True)
def test_demo_data_prints_accounts_that_log_in(tmp_path, capsys, client):
    call_command("demo_data", "--tasks", "1", "--episodes", "2", "--workdir", str(tmp_path / "f"))
    capsys.readouterr()
    call_command("demo_data", "--accounts", "--url", "http://127.0.0.1:8000/")
    out = capsys.readouterr().out
    assert "log in at http://127.0.0.1:8000/" in out
    rows = parse_accounts(out)
    assert [row[:2] for row in rows] == [["organizer", "organizer"]] + [
        ["annotator", f"annotator{n}"] for n in range(1, 7)
    ]
    for role, username, password, to_rate in rows:
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, username  # signed in, sent on; a failure is a 200
        client.logout()
        if role == "annotator":
            open_work = Assignment.objects.filter(annotator__username=username).exclude(
                status=Assignment.Status.DONE
            )
            assert to_rate == str(open_work.count())
    # annotator1's queue is left to try the rating page; the others are rated.
    assert int(rows[1][3]) > 0 and {row[3] for row in rows[2:]} == {"0"}

    # An account whose password was changed is no longer printed as a demo account.
    user = get_user_model().objects.get(username="annotator2")
    user.set_password("changed-by-someone")
    user.save()
    call_command("demo_data", "--accounts")
    assert "annotator2" not in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_accounts_before_any_demo_is_a_clear_error():
    with pytest.raises(CommandError, match="run demo_data first"):
        call_command("demo_data", "--accounts")
