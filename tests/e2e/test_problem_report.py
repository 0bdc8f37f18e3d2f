"""A problem report in a real Chromium, by keyboard alone: p, a reason, words, Enter; the next
pair follows; the organizer sees the report on the adjudication page and hands it out again,
then reopens that resolution with a reason, and the pair waits for the organizer again."""

from __future__ import annotations

import pytest

from annotate.models import Assignment, ProblemReport, Rating
from demo.campaign import DEMO_ORGANIZER, DEMO_PASSWORD
from tests.e2e.conftest import log_in
from tests.e2e.test_rating_flow import BOTH_PLAYING_JS, USERNAME, press_start, queue_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKED_REASON_JS = (
    """() => document.querySelector('#problem-form input[name="reason"]:checked')?.value ?? null"""
)


def test_a_broken_pair_is_reported_by_keyboard_and_comes_back_once_fixed(
    live_server, page, browser, demo_campaign, django_user_model, artifacts
):
    user = django_user_model.objects.get(username=USERNAME)
    first, second = queue_of(demo_campaign, user)[:2]
    base = live_server.url
    log_in(page, base, USERNAME, DEMO_PASSWORD)
    press_start(page)
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.wait_for_function(BOTH_PLAYING_JS)

    # p opens the box on the first reason; the page's keys wait while it holds the focus.
    page.keyboard.press("p")
    assert page.evaluate("document.getElementById('problem').open")
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.press("Space")  # checks the reason, plays nothing
    assert page.evaluate(CHECKED_REASON_JS) == "does_not_play"
    assert page.evaluate("window.refscorePlayer.wantPlaying"), "Space did not pause the clips"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(CHECKED_REASON_JS) == "other"
    page.keyboard.press("3")  # not a score while the box has the focus
    assert page.evaluate("document.querySelector('input[name=score]:checked')") is None

    # "other" needs words: Enter says so and sends nothing.
    page.keyboard.press("Enter")
    assert "few words" in page.inner_text("#problem-error")
    assert page.url == f"{base}/rate/{first.pk}/"
    page.keyboard.press("ArrowUp")
    assert page.evaluate(CHECKED_REASON_JS) == "black_frames"
    page.keyboard.press("Tab")
    page.keyboard.type("every frame of the generated clip is black")
    page.screenshot(path=str(artifacts / "problem-report.png"), full_page=True)
    page.keyboard.press("Enter")

    # The next pair follows; the report waits for the organizer and is not a rating.
    page.wait_for_url(f"{base}/rate/{second.pk}/?done={first.pk}")
    assert "goes to the organizer" in page.inner_text(".messages")
    report = ProblemReport.objects.get()
    assert (report.assignment_id, report.reason, report.text, report.status) == (
        first.pk,
        "black_frames",
        "every frame of the generated clip is black",
        "open",
    )
    assert not Rating.objects.filter(assignment=first).exists()
    assert not page.evaluate("document.getElementById('problem').open")

    # The organizer finds it on the adjudication page and hands the pair out again.
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    organizer = context.new_page()
    try:
        log_in(organizer, base, *DEMO_ORGANIZER, lands_on="/organize/")
        organizer.goto(f"{base}/organize/{demo_campaign.slug}/adjudication/#problems")
        item = organizer.locator(f"#problem-{report.pk}")
        assert "every frame of the generated clip is black" in item.inner_text()
        assert USERNAME in item.inner_text()
        item.locator("button", has_text="Fixed").click()
        organizer.wait_for_load_state()
        assert "handed out again" in organizer.inner_text(".messages")
    finally:
        context.close()
    report.refresh_from_db()
    assert report.status == "fixed"
    first.refresh_from_db()
    assert (first.status, first.started_at) == (Assignment.Status.PENDING, None)

    # Reopened from the page, with a reason: the pair is held again, its history shown.
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    organizer = context.new_page()
    try:
        log_in(organizer, base, *DEMO_ORGANIZER, lands_on="/organize/")
        organizer.goto(f"{base}/organize/{demo_campaign.slug}/adjudication/#problems")
        item = organizer.locator(f"#problem-{report.pk}")
        item.locator(".problem-reopen input[name=reason]").fill("the new file is black too")
        item.locator(".problem-reopen button").click()
        organizer.wait_for_load_state()
        assert "Reopened" in organizer.inner_text(".messages")
        item = organizer.locator(f"#problem-{report.pk}")
        assert item.get_attribute("data-status") == "open"
        item.locator(".problem-history summary").click()
        history = item.locator(".problem-history li")
        assert [history.nth(i).get_attribute("data-kind") for i in range(2)] == [
            "fixed",
            "reopened",
        ]
        assert "the new file is black too" in history.nth(1).inner_text()
        organizer.screenshot(path=str(artifacts / "problem-reopened.png"), full_page=True)
    finally:
        context.close()
    report.refresh_from_db()
    assert report.status == "open"
    page.goto(f"{base}/rate/{first.pk}/")
    assert "waits for the organizer" in page.content()
