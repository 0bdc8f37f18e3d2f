"""An annotator's session in a real Chromium: queue, synchronized playback, keyboard-only rating."""

from __future__ import annotations

import pytest

from annotate.models import Assignment, Clip, MediaAsset, Rating
from annotate.selectors import current_clips
from annotate.services import (
    assignment_position,
    assignments_current,
    reference_import,
    submission_import,
)
from demo.campaign import DEMO_PASSWORD
from tests.e2e.conftest import log_in
from tests.videos import write_video

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

USERNAME = "annotator1"

SAMPLE_JS = """async ({n, every}) => {
  const r = document.getElementById('video-ref'), g = document.getElementById('video-gen');
  const out = [];
  for (let i = 0; i < n; i += 1) {
    await new Promise((done) => setTimeout(done, every));
    out.push({ref: r.currentTime, gen: g.currentTime, refDur: r.duration, genDur: g.duration,
               moving: !r.paused && !g.paused && !r.seeking && !g.seeking && !r.ended && !g.ended});
  }
  return out;
}"""
CHECKED_JS = """(name) => { const c = document.querySelector(`input[name="${name}"]:checked`); return c ? c.value : null; }"""
BOTH_READY_JS = """() => ['video-ref', 'video-gen'].every((id) => document.getElementById(id).readyState >= 3)"""
BOTH_PLAYING_JS = """() => ['video-ref', 'video-gen'].every((id) => !document.getElementById(id).paused)
  && window.refscorePlayer && window.refscorePlayer.wantPlaying"""

STALL_GENERATED_JS = """() => {
  document.getElementById('video-gen').dispatchEvent(new Event('waiting'));
  return {
    reference_paused: document.getElementById('video-ref').paused,
    buffering_shown: !document.getElementById('buffering').hidden,
  };
}"""


def queue_of(campaign, user) -> list[Assignment]:
    """The annotator's planned queue, in the order the Start button walks it.

    The demo campaign comes planned; a campaign without a plan gets one row per ready
    clip of task 1, made directly.
    """
    if not Assignment.objects.filter(campaign=campaign, annotator=user).exists():
        clips = current_clips(campaign=campaign).filter(episode__task__key="task1")
        for key, clip in enumerate(clips.order_by("episode__number", "submission__team__name")):
            Assignment.objects.create(campaign=campaign, annotator=user, clip=clip, order_key=key)
    ready = MediaAsset.Status.READY
    queue = list(
        assignments_current(user=user, campaign=campaign)
        .filter(clip__asset__status=ready, clip__episode__reference__status=ready)
        .order_by("order_key", "pk")
    )
    assert len(queue) >= 2, "the annotator needs at least two clips to rate"
    return queue


def task_progress(assignment: Assignment, done: int) -> str:
    position = assignment_position(assignment=assignment)
    return f"{done} of {position.total} in Task {position.task_number}"


def press_start(page) -> None:
    """Enter on the queue page: the Start button holds the focus as soon as the page is shown."""
    page.wait_for_function("() => (document.activeElement?.id || '').startsWith('start-')")
    page.keyboard.press("Enter")


def checked(page, name: str) -> str | None:
    return page.evaluate(CHECKED_JS, name)


def moving_samples(page, n: int = 30, every: int = 50) -> list[dict]:
    return [s for s in page.evaluate(SAMPLE_JS, {"n": n, "every": every}) if s["moving"]]


def player_time(page, element: str) -> float:
    return page.evaluate(f"document.getElementById('{element}').currentTime")


def test_keyboard_only_rating_with_full_watch(
    live_server, page, demo_campaign, artifacts, django_user_model
):
    user = django_user_model.objects.get(username=USERNAME)
    assert demo_campaign.require_full_watch
    first, second = queue_of(demo_campaign, user)[:2]
    base = live_server.url

    log_in(page, base, USERNAME, DEMO_PASSWORD)
    assert task_progress(first, done=0) in page.inner_text("main")
    press_start(page)
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.wait_for_function(BOTH_PLAYING_JS)

    # Locked until both clips have played to the end once, and the page says why.
    assert page.is_disabled("#btn-submit")
    assert page.is_visible("#lock")
    page.keyboard.press("3")
    assert "locked" in page.inner_text("#form-error") and checked(page, "score") is None

    # Both clips play on one clock.
    page.keyboard.press("l")  # loop, so that there is time to watch
    samples = moving_samples(page)
    assert len(samples) >= 10, samples
    worst = max(abs(s["ref"] - s["gen"]) for s in samples)
    assert worst < 0.1, samples
    assert len({round(s["ref"], 3) for s in samples}) > 5  # the clock really moves
    print(f"largest gap between the clips over {len(samples)} samples: {worst * 1000:.1f} ms")

    # A seek on either clip moves the other; one-frame steps move both.
    page.keyboard.press("Space")
    page.wait_for_function("() => document.getElementById('video-ref').paused")
    page.evaluate("document.getElementById('video-gen').currentTime = 1.2")
    page.wait_for_function(
        "() => Math.abs(document.getElementById('video-ref').currentTime - 1.2) < 0.02"
    )
    page.evaluate("document.getElementById('video-ref').currentTime = 0.5")
    page.wait_for_function(
        "() => Math.abs(document.getElementById('video-gen').currentTime - 0.5) < 0.02"
    )
    fps = first.clip.asset.fps
    before = player_time(page, "video-ref")
    page.keyboard.press(".")
    page.wait_for_function(f"() => document.getElementById('video-ref').currentTime > {before}")
    stepped = player_time(page, "video-ref") - before
    assert 0.2 / fps < stepped < 1.8 / fps
    assert abs(player_time(page, "video-gen") - player_time(page, "video-ref")) < 0.02

    # Watch to the end: scoring unlocks.
    page.keyboard.press("Home")
    page.keyboard.press("Space")
    page.wait_for_function("() => !document.getElementById('btn-submit').disabled", timeout=20_000)
    assert page.is_hidden("#lock")

    # The questions and the score agree, whichever is used.
    page.keyboard.press("n")
    page.keyboard.press("y")
    assert (checked(page, "final_state"), checked(page, "motion"), checked(page, "score")) == (
        "false",
        "true",
        "1",
    )
    page.keyboard.press("2")
    assert (checked(page, "final_state"), checked(page, "clean"), checked(page, "motion")) == (
        "true",
        "false",
        None,
    )
    page.keyboard.press("1")
    assert (checked(page, "final_state"), checked(page, "motion"), checked(page, "score")) == (
        "false",
        "true",
        "1",
    )

    # Shortcuts are off while typing: the 3 below goes into the comment, not the score.
    page.keyboard.press("c")
    page.keyboard.type("banana gone by frame 3")
    page.keyboard.press("Escape")
    assert checked(page, "score") == "1"

    page.keyboard.press("Space")  # pause for a steady picture
    page.screenshot(path=str(artifacts / "rating-page.png"), full_page=True)

    pressed = page.evaluate("performance.now()")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/rate/{second.pk}/?done={first.pk}")
    rating = Rating.objects.get(assignment=first)
    assert (rating.score, rating.final_state, rating.motion, rating.comment) == (
        1,
        False,
        True,
        "banana gone by frame 3",
    )
    assert rating.watched_reference >= 0.95 and rating.watched_generated >= 0.95
    assert rating.time_on_page_s > 1

    # The next pair was preloaded with the previous clip: it plays at once.
    page.wait_for_function(
        """() => ['video-ref', 'video-gen'].every((id) => document.getElementById(id).currentTime > 0)""",
        timeout=5_000,
    )
    started = (page.evaluate("performance.now()") - pressed) / 1000
    assert started < 3.0
    print(f"next pair playing {started:.2f} s after Enter")
    page.goto(f"{base}/queue/")
    assert task_progress(first, done=1) in page.inner_text("main")
    page.screenshot(path=str(artifacts / "queue-page.png"), full_page=True)
    assert "Continue rating" in page.inner_text("main")


def test_drafts_layout_help_buffering_and_rate(live_server, page, demo_campaign, django_user_model):
    user = django_user_model.objects.get(username=USERNAME)
    demo_campaign.require_full_watch = False
    demo_campaign.save()
    first, second = queue_of(demo_campaign, user)[:2]
    base = live_server.url
    log_in(page, base, USERNAME, DEMO_PASSWORD)
    press_start(page)
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.wait_for_function(BOTH_PLAYING_JS)

    page.keyboard.press("2")
    page.keyboard.press("c")
    page.keyboard.type("wobbly banana")
    page.keyboard.press("Escape")
    page.reload()
    page.wait_for_function("() => document.getElementById('video-ref').readyState >= 2")
    assert checked(page, "score") == "2" and checked(page, "clean") == "false"
    assert page.input_value("#comment") == "wobbly banana"

    page.keyboard.press("?")
    assert page.is_visible("#help") and "Example A" in page.inner_text("#help")
    page.keyboard.press("Escape")
    assert page.is_hidden("#help")
    page.keyboard.press("v")
    assert "side" in page.get_attribute("#stage", "class")
    page.keyboard.press("v")
    assert "stacked" in page.get_attribute("#stage", "class")
    page.keyboard.press("s")
    assert page.input_value("#sync-select") == "progress"
    page.keyboard.press("s")

    # When one clip stalls the other waits for it, and both go on together.
    page.keyboard.press("l")
    if not page.evaluate("window.refscorePlayer.wantPlaying"):
        page.keyboard.press("Space")
    page.wait_for_function(BOTH_PLAYING_JS)
    # In one script: the looping clips' own 'playing' events must not come in between.
    stalled = page.evaluate(STALL_GENERATED_JS)
    assert stalled == {"reference_paused": True, "buffering_shown": True}
    page.evaluate("document.getElementById('video-gen').dispatchEvent(new Event('canplay'))")
    page.wait_for_function(BOTH_PLAYING_JS)
    page.wait_for_selector("#buffering", state="hidden")

    page.keyboard.press("]")
    assert page.input_value("#rate-select") == "1.25"
    # The master runs at the chosen rate; the follower may be nudged around it.
    assert page.evaluate("window.refscorePlayer.master.playbackRate") == 1.25

    page.keyboard.press("Enter")
    try:
        page.wait_for_url(f"{base}/rate/{second.pk}/?done={first.pk}")
    except Exception:
        print(
            "DEBUG",
            page.url,
            page.inner_text("#form-error"),
            page.evaluate("document.activeElement.outerHTML"),
        )
        raise
    assert Rating.objects.get(assignment=first).comment == "wobbly banana"
    assert page.evaluate(f"localStorage.getItem('refscore:draft:{first.pk}')") is None


def test_clips_of_different_length_and_frame_rate_stay_in_phase(
    live_server, page, campaign, annotator, tmp_path
):
    write_video(
        tmp_path / "ref/task1/episode_0.mp4", frames=48, fps=12, width=336, height=112, seed=1
    )
    write_video(
        tmp_path / "sub/test/task1/episode_0.mp4", frames=64, fps=24, width=336, height=112, seed=2
    )
    reference_import(campaign=campaign, path=tmp_path / "ref")
    submission_import(campaign=campaign, team_name="blue", path=tmp_path / "sub")
    campaign.require_full_watch = False
    campaign.save()
    assignment = Assignment.objects.create(
        campaign=campaign, annotator=annotator, clip=Clip.objects.get()
    )

    log_in(page, live_server.url, "ann1", "pw-annotator-1")
    page.goto(f"{live_server.url}/rate/{assignment.pk}/")
    page.wait_for_function(BOTH_PLAYING_JS)
    assert page.input_value("#sync-select") == "progress"  # chosen because the clips differ
    page.keyboard.press("l")
    samples = moving_samples(page)
    assert len(samples) >= 10, samples
    phase_gap = max(abs(s["ref"] / s["refDur"] - s["gen"] / s["genDur"]) for s in samples)
    assert phase_gap < 0.04, samples

    page.keyboard.press("Space")
    page.wait_for_function("() => document.getElementById('video-gen').paused")
    page.evaluate("document.getElementById('video-gen').currentTime = 1.0")
    page.wait_for_function(
        """() => { const r = document.getElementById('video-ref'), g = document.getElementById('video-gen');
                   return Math.abs(r.currentTime / r.duration - 1.0 / g.duration) < 0.01; }"""
    )


DRAFT_KEYS_JS = """() => Object.keys(localStorage).filter((k) => k.startsWith('refscore:draft:'))"""


def test_logging_out_clears_the_rating_drafts(live_server, page, demo_campaign, django_user_model):
    user = django_user_model.objects.get(username=USERNAME)
    first = queue_of(demo_campaign, user)[0]
    base = live_server.url
    log_in(page, base, USERNAME, DEMO_PASSWORD)
    press_start(page)
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.keyboard.press("c")
    page.keyboard.type("left before the end")
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => localStorage.getItem('refscore:draft:{first.pk}') !== null")

    page.click("text=Log out")
    page.wait_for_url(f"{base}/accounts/login/?logged_out=1")

    assert page.is_visible("#logged-out")
    assert page.evaluate(DRAFT_KEYS_JS) == []
    # The next person to sign in on this browser finds an empty comment.
    log_in(page, base, USERNAME, DEMO_PASSWORD)
    page.goto(f"{base}/rate/{first.pk}/")
    assert page.input_value("#comment") == ""
