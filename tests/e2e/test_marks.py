"""Break-point marks in a real Chromium, by keyboard alone: m during playback, t to label,
x to remove, kept across a reload, sent with the rating, seen by the organizer as ticks."""

from __future__ import annotations

import pytest

from annotate.models import Rating, RatingRevision
from demo.campaign import DEMO_ORGANIZER, DEMO_PASSWORD
from tests.e2e.conftest import log_in
from tests.e2e.test_rating_flow import BOTH_PLAYING_JS, USERNAME, press_start, queue_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MARKS_JS = "() => JSON.parse(document.getElementById('f-marks').value || '[]')"
TICKS_JS = """() => [...document.querySelectorAll('#mark-ticks .tick')].map((tick) => ({
  left: parseFloat(tick.style.left), title: tick.title, t: Number(tick.dataset.t),
  shown: tick.getBoundingClientRect().width > 0,
}))"""
# The moment the synchronized clock shows, on the generated clip's own timeline.
CLOCK_ON_GENERATED_JS = """() => { const p = window.refscorePlayer;
  return p.map(p.master, p.generated, p.master.currentTime); }"""


def test_marks_by_keyboard_reach_the_organizer_as_ticks(
    live_server, page, browser, demo_campaign, django_user_model, artifacts
):
    user = django_user_model.objects.get(username=USERNAME)
    assert demo_campaign.require_full_watch
    first = queue_of(demo_campaign, user)[0]
    duration = first.clip.asset.duration_s
    base = live_server.url
    log_in(page, base, USERNAME, DEMO_PASSWORD)
    press_start(page)
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.wait_for_function(BOTH_PLAYING_JS)

    # While the pair plays (scoring still locked), m marks the moment the clock shows.
    page.wait_for_function("() => document.getElementById('video-ref').currentTime > 0.3")
    before = page.evaluate(CLOCK_ON_GENERATED_JS)
    page.keyboard.press("m")
    after = page.evaluate(CLOCK_ON_GENERATED_JS)
    (mark,) = page.evaluate(MARKS_JS)
    assert before - 0.01 <= mark["t"] <= after + 0.01, (before, mark, after)
    assert mark["label"] == ""
    assert page.is_disabled("#btn-submit"), "marking does not wait for the watch gate"
    assert "Marked" in page.inner_text("#marks-status")

    # t labels the mark: deformation, then physics.
    page.keyboard.press("t")
    page.keyboard.press("t")
    assert page.evaluate(MARKS_JS)[0]["label"] == "physics"
    assert page.input_value("#mark-list li.selected select") == "physics"
    page.screenshot(path=str(artifacts / "rating-marks.png"), full_page=True)

    # A second mark, removed again with x.
    page.wait_for_function(f"() => window.refscorePlayer.master.currentTime > {after + 0.3}")
    page.keyboard.press("m")
    assert len(page.evaluate(MARKS_JS)) == 2
    page.keyboard.press("x")
    assert page.evaluate(MARKS_JS) == [mark | {"label": "physics"}]
    ticks = page.evaluate(TICKS_JS)
    assert len(ticks) == 1 and ticks[0]["shown"]

    # The draft keeps the mark across a reload.
    page.reload()
    page.wait_for_function("() => document.getElementById('video-ref').readyState >= 2")
    assert page.evaluate(MARKS_JS) == [mark | {"label": "physics"}]
    assert "physics" in page.inner_text("#mark-list")

    # Watched to the end, scored with the keyboard, sent with Enter.
    page.keyboard.press("Home")
    if not page.evaluate("window.refscorePlayer.wantPlaying"):
        page.keyboard.press("Space")
    page.wait_for_function("() => !document.getElementById('btn-submit').disabled", timeout=20_000)
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => window.location.pathname !== '/rate/{first.pk}/'")
    rating = Rating.objects.get(assignment=first)
    assert rating.score == 2
    assert rating.marks == [{"t": mark["t"], "label": "physics"}]
    assert RatingRevision.objects.get(rating=rating, revision=1).marks == rating.marks
    # The next pair starts without marks.
    assert page.evaluate(MARKS_JS) == [] and page.evaluate(TICKS_JS) == []

    # The organizer's pair review shows the mark as a tick where it falls on the bar.
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    organizer = context.new_page()
    try:
        log_in(organizer, base, *DEMO_ORGANIZER, lands_on="/organize/")
        organizer.goto(f"{base}/organize/{demo_campaign.slug}/agreement/pair/{first.clip_id}/")
        organizer.wait_for_function(
            "() => document.querySelectorAll('#mark-ticks .tick').length === 1"
        )
        (tick,) = organizer.evaluate(TICKS_JS)
        assert tick["shown"] and tick["t"] == mark["t"]
        master = organizer.evaluate(
            "() => window.refscorePlayer.duration(window.refscorePlayer.master)"
        )
        assert master >= duration - 0.05
        assert tick["left"] == pytest.approx(100 * mark["t"] / master, abs=2.5)
        assert "implausible physics" in tick["title"]
        assert "implausible physics" in organizer.inner_text("#review-marks")
        organizer.screenshot(path=str(artifacts / "pair-review-marks.png"), full_page=True)
        # A click on the tick goes to that moment.
        organizer.click("#mark-ticks .tick")
        organizer.wait_for_function(
            f"() => Math.abs(document.getElementById('video-gen').currentTime - {mark['t']}) < 0.1"
        )
        # The clip browser's review shows it too.
        organizer.goto(f"{base}/organize/{demo_campaign.slug}/clips/{first.clip_id}/")
        organizer.wait_for_function(
            "() => document.querySelectorAll('#mark-ticks .tick').length === 1"
        )
        assert USERNAME in organizer.inner_text("#review-marks")
    finally:
        context.close()
