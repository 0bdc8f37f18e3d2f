"""A team member uploads a zip from the team page and reads the per-file report."""

from __future__ import annotations

import zipfile

import pytest
from django.contrib.auth import get_user_model

from annotate.models import Team
from annotate.services import reference_import
from tests.e2e.conftest import log_in
from tests.videos import write_reference_tree, write_video

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_team_uploads_from_its_page_and_sees_the_report(
    live_server, page, console_errors, campaign, tmp_path
):
    base = live_server.url
    write_reference_tree(tmp_path / "ref", "single", episodes=(0, 1, 2))
    reference_import(campaign=campaign, path=tmp_path / "ref")
    member = get_user_model().objects.create_user("tina", password="pw-team-1")
    Team.objects.create(campaign=campaign, name="Delta").members.add(member)
    archive = tmp_path / "delta.zip"
    clip = write_video(tmp_path / "clip.mp4", width=144, height=48, seed=31)
    with zipfile.ZipFile(archive, "w") as out:
        out.write(clip, "test/task1/episode_0.mp4")
        out.write(clip, "test/task1/concat_episode_0.mp4")
        out.writestr("test/task1/episode_1.mp4", b"no video here")

    # A team member with nothing to rate lands on the team's page.
    log_in(page, base, "tina", "pw-team-1", lands_on=f"/teams/{campaign.slug}/")
    page.set_input_files("#archive", str(archive))
    page.click("#team-upload-form button[type=submit]")
    page.wait_for_selector('#upload-report[data-status="done"]')

    def cells(kind: str) -> list[str]:
        return page.locator(f"#upload-report tr.{kind} td:first-child").all_inner_texts()

    assert cells("accepted") == ["task1/episode_0"]
    assert cells("skipped") == ["test/task1/concat_episode_0.mp4"]
    assert cells("rejected") == ["test/task1/episode_1.mp4"]
    assert page.locator("#upload-report tr.rejected td:nth-child(3)").inner_text().strip()
    assert cells("missing") == ["task1/episode_1", "task1/episode_2"]
    assert page.locator('#versions tr[data-version="1"]').inner_text().count("counts") == 1
    assert console_errors == []
