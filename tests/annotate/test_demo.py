from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from annotate.models import Campaign, Clip, Episode, MediaAsset


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
        workdir=tmp_path / "again", seed=7, teams=DEFAULT_TEAMS[:3], **SMALL_DEMO
    )
    assert fingerprint(again.campaign) == first
    other = demo_campaign_create(
        workdir=tmp_path / "other", slug="other", seed=8, teams=DEFAULT_TEAMS[:3], **SMALL_DEMO
    )
    assert fingerprint(other.campaign) != first
    shutil.rmtree(tmp_path / "again")


@pytest.mark.django_db(transaction=True)
def test_demo_data_command_prints_the_accounts(tmp_path, capsys):
    call_command("demo_data", "--tasks", "1", "--episodes", "2", "--workdir", str(tmp_path / "f"))
    out = capsys.readouterr().out
    assert "Demo campaign 'demo' ready" in out
    assert "organizer" in out and "annotator6" in out
