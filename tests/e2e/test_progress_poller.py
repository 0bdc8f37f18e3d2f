"""A job's page follows its progress in a real Chromium: counts without a reload, a message
and a retry when the progress URL fails, the page again once the job's status changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation.models import JudgeRun, JudgeVersion
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTE = "#judge-run .progress-error"


def test_a_judge_run_page_follows_the_run_through_a_failing_server(
    live_server, page, campaign, organizer
):
    judge = JudgeVersion.objects.create(name="baseline", version="poll")
    run = JudgeRun.objects.create(
        campaign=campaign, judge=judge, status=JudgeRun.Status.RUNNING, total=4, done=1
    )
    base = live_server.url
    progress = reverse("judge-run-progress", args=[campaign.slug, run.pk])
    log_in(page, base, "organizer", "pw-organizer-1", lands_on="/organize/")

    # The progress URL fails: the page says so, and asks again later.
    asked: list[int] = []
    page.route(
        f"**{progress}",
        lambda route: (asked.append(1), route.fulfill(status=500, body="boom")),
    )
    page.goto(base + reverse("judge-run", args=[campaign.slug, run.pk]))
    page.evaluate("window.samePage = true")
    page.wait_for_selector(NOTE, state="visible")
    assert "the server answered 500; trying again in 2 s" in page.inner_text(NOTE)
    page.wait_for_function(f"() => document.querySelector('{NOTE}').textContent.includes('4 s')")
    assert len(asked) == 2  # backed off: one request per wait, the wait doubling

    # The server answers again: the counts and the bar move, with no reload.
    page.unroute(f"**{progress}")
    JudgeRun.objects.filter(pk=run.pk).update(done=3)
    page.wait_for_function(
        "() => document.querySelector('#judge-run .counts').textContent === '3/4'", timeout=10_000
    )
    assert page.is_hidden(NOTE)
    assert page.evaluate("document.querySelector('#judge-run progress').value") == 3
    assert page.evaluate("window.samePage") is True

    # The run ends: the page is loaded again and shows it.
    JudgeRun.objects.filter(pk=run.pk).update(done=4, status=JudgeRun.Status.DONE)
    page.wait_for_function("() => window.samePage === undefined", timeout=10_000)
    page.wait_for_load_state()
    assert page.inner_text("#judge-run .status") == "done"
    assert page.get_attribute("#judge-run", "data-status") == "done"
