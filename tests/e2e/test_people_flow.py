"""From a new campaign to an invited annotator's first clip, in a real Chromium."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from annotate.models import Campaign
from annotate.services import assignment_plan_apply, reference_import, submission_import
from tests.e2e.conftest import log_in
from tests.videos import write_video

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

INSTRUCTION = "Put the banana in the bowl, then let go."
PEOPLE_CSV = "username,email,role,team\nnadia,nadia@example.org,annotator,\n"


def test_an_organizer_invites_an_annotator_who_sets_a_password_and_rates(
    live_server, browser, page, tmp_path
):
    base = live_server.url
    get_user_model().objects.create_user("olga", password="pw-organizer-1", is_staff=True)

    # The organizer creates the campaign.
    log_in(page, base, "olga", "pw-organizer-1", lands_on="/organize/")
    page.click("text=New campaign")
    page.fill("input[name=slug]", "wm-track")
    page.fill("input[name=name]", "World-model track")
    page.click("#campaign-form button[type=submit]")
    page.wait_for_url(f"{base}/organize/wm-track/")
    campaign = Campaign.objects.get(slug="wm-track")

    # The footage (its own pages and tests cover the upload), then the task's instruction.
    write_video(tmp_path / "ref/task1/episode_0.mp4", frames=24, fps=12, width=96, height=64)
    write_video(tmp_path / "sub/task1/episode_0.mp4", frames=24, fps=12, width=96, height=64)
    reference_import(campaign=campaign, path=tmp_path / "ref")
    submission_import(campaign=campaign, team_name="blue", path=tmp_path / "sub")
    page.goto(f"{base}/organize/wm-track/tasks/")
    page.fill('tr[data-task="1"] textarea[name=instruction]', INSTRUCTION)
    page.click('tr[data-task="1"] button[type=submit]')
    page.wait_for_url(f"{base}/organize/wm-track/tasks/")

    # People from a CSV: the invitation link is shown once, on the page.
    csv_path = tmp_path / "people.csv"
    csv_path.write_text(PEOPLE_CSV, encoding="utf-8")
    page.goto(f"{base}/organize/wm-track/people/")
    page.set_input_files("#import input[name=file]", str(csv_path))
    page.click("#import button[type=submit]")
    page.wait_for_selector("#import-report")
    links = page.locator("code.invitation-link").all_inner_texts()
    assert len(links) == 1 and links[0].startswith(f"{base}/accounts/invitation/")
    assert "nadia" in page.inner_text('#people tr[data-username="nadia"]')

    # Open for rating; the plan (its own page and tests) gives nadia the clip.
    page.goto(f"{base}/organize/wm-track/")
    page.click("#state-open")
    page.wait_for_selector(".state-open")
    assignment_plan_apply(campaign=campaign)

    # The annotator, in a browser of their own, follows the link.
    context = browser.new_context()
    context.set_default_timeout(15_000)
    annotator = context.new_page()
    annotator.goto(links[0])
    annotator.wait_for_url("**/set-password/")
    assert "nadia" in annotator.inner_text("main")
    annotator.fill("input[name=new_password1]", "a-long-banana-password")
    annotator.fill("input[name=new_password2]", "a-long-banana-password")
    annotator.click("main button[type=submit]")
    annotator.wait_for_url(f"{base}/accounts/login/")
    assert "Password set" in annotator.inner_text("body")

    log_in(annotator, base, "nadia", "a-long-banana-password")
    annotator.click("[id^=start-]")
    annotator.wait_for_url(f"{base}/rate/**")
    assert INSTRUCTION in annotator.inner_text("#task-instruction")

    # The link worked once.
    annotator.goto(links[0])
    assert "It has been used already" in annotator.inner_text("#link-reason")
    context.close()
