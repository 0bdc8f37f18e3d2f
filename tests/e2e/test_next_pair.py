"""Enter swaps in the next pair without a page load; reload, Back and a refused rating behave as pages."""

from __future__ import annotations

import pytest

from annotate.models import Campaign, Rating
from annotate.services import assignment_position
from demo.campaign import DEMO_PASSWORD
from tests.e2e.conftest import log_in
from tests.e2e.test_rating_flow import (
    BOTH_PLAYING_JS,
    USERNAME,
    checked,
    press_start,
    queue_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Set on the page before Enter: a page load would lose them, a swap keeps them.
MARK_JS = """() => {
  window.samePage = true;
  document.getElementById('preload-ref').dataset.mark = 'preloaded';
  document.getElementById('preload-gen').dataset.mark = 'preloaded';
}"""
SWAPPED_JS = """() => ({
  samePage: window.samePage === true,
  ref: document.getElementById('video-ref').dataset.mark || null,
  gen: document.getElementById('video-gen').dataset.mark || null,
  refSrc: document.getElementById('video-ref').getAttribute('src'),
  genSrc: document.getElementById('video-gen').getAttribute('src'),
  preloaded: [...document.querySelectorAll('#preload video')].map((v) => v.getAttribute('src')),
  action: document.getElementById('rating-form').getAttribute('action'),
})"""


def video_url(asset) -> str:
    return f"/m/{asset.token}/video"


def rate_with_keys(page, score: str, note: str) -> None:
    page.keyboard.press(score)
    page.keyboard.press("c")
    page.keyboard.type(note)
    page.keyboard.press("Escape")


def test_enter_swaps_in_the_next_pair_and_reload_and_back_work_as_pages(
    live_server, page, console_errors, demo_campaign, django_user_model
):
    demo_campaign.require_full_watch = False
    demo_campaign.save()
    user = django_user_model.objects.get(username=USERNAME)
    first, second, third = queue_of(demo_campaign, user)[:3]
    base = live_server.url
    log_in(page, base, USERNAME, DEMO_PASSWORD)
    press_start(page)
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.wait_for_function(BOTH_PLAYING_JS)

    rate_with_keys(page, "3", "clean insertion")
    page.evaluate(MARK_JS)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/rate/{second.pk}/?done={first.pk}")
    page.wait_for_function(BOTH_PLAYING_JS)

    # Saved, and shown in place: the same document, the preloaded elements now on stage.
    rating = Rating.objects.get(assignment=first)
    assert (rating.score, rating.comment) == (3, "clean insertion")
    swapped = page.evaluate(SWAPPED_JS)
    assert swapped == {
        "samePage": True,
        "ref": "preloaded",
        "gen": "preloaded",
        "refSrc": video_url(second.clip.episode.reference),
        "genSrc": video_url(second.clip.asset),
        "preloaded": [video_url(third.clip.episode.reference), video_url(third.clip.asset)],
        "action": f"/rate/{second.pk}/submit",
    }
    # The header, the progress and the task's instruction are the second clip's.
    position = assignment_position(assignment=second)
    task = second.clip.episode.task
    assert page.title() == (
        f"Task {task.number} · clip {position.position} of {position.total} · refscore"
    )
    assert page.inner_text("#where-clip") == f"clip {position.position} of {position.total}"
    assert page.inner_text("#progress-text") == (
        f"{position.done} of {position.total} rated in Task {task.number}"
    )
    assert page.inner_text("#task-instruction-text") == (
        task.instruction or "No instruction for this task: compare with the reference."
    )
    # A fresh form: no answer carried over, a new key, the previous draft gone.
    assert checked(page, "score") is None and page.input_value("#comment") == ""
    assert page.input_value("#f-idempotency-key") != rating.idempotency_key
    assert page.evaluate(f"localStorage.getItem('refscore:draft:{first.pk}')") is None

    # A reload shows the same clip, with its draft.
    rate_with_keys(page, "1", "arm right, banana gone")
    page.reload()
    page.wait_for_function("() => document.getElementById('video-ref').readyState >= 2")
    assert page.evaluate("window.samePage") is None  # a real page load this time
    assert page.get_attribute("#video-gen", "src") == video_url(second.clip.asset)
    assert (checked(page, "score"), checked(page, "motion")) == ("1", "true")
    assert page.input_value("#comment") == "arm right, banana gone"

    # Back returns to the previous clip, now rated.
    page.go_back()
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.wait_for_function("() => document.getElementById('video-gen').readyState >= 2")
    assert page.get_attribute("#video-gen", "src") == video_url(first.clip.asset)
    assert "Save revision" in page.inner_text("#btn-submit")
    assert checked(page, "score") == "3"

    # The swapped page submits like a loaded one: the second clip's rating goes to it.
    page.go_forward()
    page.wait_for_url(f"{base}/rate/{second.pk}/?done={first.pk}")
    page.wait_for_function(BOTH_PLAYING_JS)
    page.evaluate("window.samePage = true")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/rate/{third.pk}/?done={second.pk}")
    assert page.evaluate("window.samePage") is True
    second_rating = Rating.objects.get(assignment=second)
    assert (second_rating.score, second_rating.comment) == (1, "arm right, banana gone")
    assert Rating.objects.filter(annotator=user).count() == 2

    # Back right after a swap (in this document) loads the previous clip's page as well.
    with page.expect_event("load"):
        page.go_back()
    assert page.url == f"{base}/rate/{second.pk}/?done={first.pk}"
    assert page.evaluate("window.samePage") is None
    assert page.get_attribute("#video-gen", "src") == video_url(second.clip.asset)
    assert "Save revision" in page.inner_text("#btn-submit")
    assert console_errors == []  # nothing refused by the page's CSP, no failed load


def test_a_refused_rating_loads_the_page_with_the_error_and_the_draft(
    live_server, page, demo_campaign, django_user_model
):
    demo_campaign.require_full_watch = False
    demo_campaign.save()
    user = django_user_model.objects.get(username=USERNAME)
    first = queue_of(demo_campaign, user)[0]
    base = live_server.url
    log_in(page, base, USERNAME, DEMO_PASSWORD)
    press_start(page)
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.wait_for_function(BOTH_PLAYING_JS)
    rate_with_keys(page, "2", "deforms on the way")
    page.evaluate("window.samePage = true")

    Campaign.objects.filter(pk=demo_campaign.pk).update(state=Campaign.State.LOCKED)
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages li.error")

    assert page.url == f"{base}/rate/{first.pk}/"
    assert page.evaluate("window.samePage") is None  # loaded as a page, as without the swap
    assert "The rating was not saved" in page.inner_text(".messages")
    assert not Rating.objects.filter(assignment=first).exists()
    assert (checked(page, "score"), checked(page, "clean")) == ("2", "false")
    assert page.input_value("#comment") == "deforms on the way"
