"""The practice round in a real Chromium: the pair plays in the shared player, each answer
brings the expected score and why, and passing opens the real queue."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotate.models import Assignment, PracticeAttempt, QualityExample
from annotate.selectors import current_clips
from annotate.services import quality as quality_services
from demo.campaign import DEMO_PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

USERNAME = "annotator1"
WHY = {3: "the same outcome, cleanly reached", 1: "the arm moves alike but the outcome differs"}
BOTH_LOADED_JS = """() => ['video-ref', 'video-gen'].every(
  (id) => document.getElementById(id).readyState >= 2 && document.getElementById(id).duration > 0)"""


def test_practice_feedback_then_the_queue_opens(
    live_server, page, demo_campaign, django_user_model, console_errors, artifacts
):
    user = django_user_model.objects.get(username=USERNAME)
    slug = demo_campaign.slug
    clips = list(current_clips(campaign=demo_campaign).order_by("pk")[:2])
    for clip, score in zip(clips, (3, 1), strict=True):
        quality_services.quality_example_mark(
            campaign=demo_campaign,
            clip_id=clip.pk,
            kind="practice",
            score=score,
            explanation=WHY[score],
        )
    quality_services.quality_settings_update(campaign=demo_campaign, practice_pass_count=1)
    base = live_server.url

    # Signing in lands on the practice round, not on the queue.
    log_in(page, base, USERNAME, DEMO_PASSWORD, lands_on=reverse("practice", args=[slug]))
    assert "1 of 2" in page.inner_text("#pass-mark")
    page.click("#practice-start")
    page.wait_for_url(f"{base}{reverse('practice-step', args=[slug, 1])}")
    page.wait_for_function(BOTH_LOADED_JS)
    attempt = PracticeAttempt.objects.get(annotator=user)
    truth = [QualityExample.objects.get(pk=pk).score for pk in attempt.examples]

    # Step 1: the right score; the feedback says so, with the reason.
    page.click(f"#practice-form label.score.s{truth[0]}")
    page.click("#practice-submit")
    page.wait_for_selector("#feedback")
    assert page.inner_text("#feedback-result") == "Right"
    assert page.inner_text("#expected-score") == str(truth[0])
    assert WHY[truth[0]] in page.inner_text("#explanation")
    page.wait_for_function(BOTH_LOADED_JS)  # the pair stays on screen with its answer
    page.screenshot(path=str(artifacts / "practice-feedback.png"), full_page=True)

    # Step 2: a wrong score; the expected one and why are shown.
    page.click("#practice-next")
    page.wait_for_url(f"{base}{reverse('practice-step', args=[slug, 2])}")
    wrong = 0 if truth[1] >= 2 else 3
    page.click(f"#practice-form label.score.s{wrong}")
    page.click("#practice-submit")
    page.wait_for_selector("#feedback")
    assert page.inner_text("#feedback-result") == "Not quite"
    assert page.inner_text("#your-score") == str(wrong)
    assert page.inner_text("#expected-score") == str(truth[1])
    assert WHY[truth[1]] in page.inner_text("#explanation")

    # One of two right, one needed: passed, and the real clips open.
    page.click("#practice-next")
    page.wait_for_url(f"{base}{reverse('practice', args=[slug])}")
    assert "Passed" in page.inner_text("#practice-result")
    page.click("#start-rating")
    page.wait_for_url(f"{base}/rate/**")
    assignment_id = int(page.url.rstrip("/").split("/")[-1].split("?")[0])
    assert Assignment.objects.get(pk=assignment_id).annotator == user
    page.wait_for_function(BOTH_LOADED_JS)
    page.goto(f"{base}/queue/")
    page.wait_for_url(f"{base}/queue/")
    assert page.is_visible(f"#start-{slug}")
    assert not console_errors, console_errors
