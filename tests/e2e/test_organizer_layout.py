"""The organizer's pages in a real Chromium at two common screen sizes: nothing covers a button.

For every visible button, the element at its centre (scrolled into view) must be the
button itself or something inside it, and no card's content may stick out of the card.
A screenshot of each page at each size is kept under artifacts/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from annotate.models import Clip, ImportJob
from demo.campaign import DEMO_ORGANIZER, demo_ratings_simulate
from evaluation.models import JudgeRun, JudgeVersion
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(1440, 900), (1280, 720)]

# One script for the whole page: the problems, described so that a failure says where.
LAYOUT_JS = """
() => {
  const visible = (el) => {
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== "hidden" && style.display !== "none";
  };
  const describe = (el) => {
    if (!el) return "nothing";
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}> "${text}"`;
  };
  const problems = [];
  const buttons = document.querySelectorAll(
    "button, input[type=submit], input[type=button], input[type=reset], a.button"
  );
  for (const button of buttons) {
    if (!visible(button)) continue;
    button.scrollIntoView({ block: "center", inline: "center" });
    const box = button.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const x = box.left + box.width / 2;
    const y = box.top + box.height / 2;
    const hit = document.elementFromPoint(x, y);
    if (hit !== button && !button.contains(hit)) {
      problems.push(`button ${describe(button)} is covered by ${describe(hit)}`);
    }
  }
  for (const card of document.querySelectorAll(".card")) {
    if (!visible(card)) continue;
    if (card.scrollWidth > card.clientWidth + 1) {
      const heading = card.querySelector("h2, h3");
      problems.push(
        `card "${heading ? heading.innerText : card.id}" overflows: ` +
        `content ${card.scrollWidth}px wide in ${card.clientWidth}px`
      );
    }
  }
  window.scrollTo(0, 0);
  return problems;
}
"""


def settled(tab):
    """The page once it stays: a page that computes first refreshes itself to its result."""
    for _ in range(60):
        try:
            tab.wait_for_load_state("networkidle")
            if tab.locator('meta[http-equiv="refresh"]').count() == 0:
                return tab
        except PlaywrightError:
            pass  # a navigation began while we looked
        tab.wait_for_timeout(500)
    raise AssertionError(f"{tab.url} keeps refreshing")


def organizer_pages(page, base: str, campaign) -> list[str]:
    """Every page of the campaign's menu, and the organizer pages reached from them."""
    page.goto(f"{base}/organize/{campaign.slug}/")
    menu = page.eval_on_selector_all(".subnav a", "links => links.map(a => a.getAttribute('href'))")
    clip = Clip.objects.filter(submission__team__campaign=campaign).order_by("pk").first()
    job = ImportJob.objects.filter(campaign=campaign).order_by("pk").first()
    team = clip.submission.team
    # A run that stopped: its page offers to resume it.
    judge, _ = JudgeVersion.objects.get_or_create(name="baseline", version="layout")
    run, _ = JudgeRun.objects.get_or_create(
        campaign=campaign,
        judge=judge,
        defaults={"status": JudgeRun.Status.FAILED, "error": "the worker stopped"},
    )
    extra = [
        "/organize/",
        "/organize/tokens/",
        f"/organize/{campaign.slug}/exports/",
        f"/organize/{campaign.slug}/guideline/",
        f"/organize/{campaign.slug}/guideline/?language=zh-hans",
        f"/organize/{campaign.slug}/leaderboard/{team.pk}/{clip.episode.task.key}/",
        f"/organize/{campaign.slug}/judge/runs/{run.pk}/",
        f"/organize/{campaign.slug}/agreement/pair/{clip.pk}/",
        f"/organize/{campaign.slug}/clips/{clip.pk}/",
        f"/organize/{campaign.slug}/imports/{job.pk}/",
    ]
    paths = []
    for path in [*menu, *extra]:
        if path not in paths:
            paths.append(path)
    return paths


def organizer_tab(browser, base: str, width: int, height: int):
    """A signed-in organizer's tab at this size, and the errors its pages report."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(tab, base, DEMO_ORGANIZER[0], DEMO_ORGANIZER[1], lands_on="/organize/")
    return context, tab, errors


def test_no_button_is_covered_and_no_card_overflows(live_server, browser, demo_campaign, artifacts):
    demo_ratings_simulate(campaign=demo_campaign, seed=5)
    base = live_server.url
    problems: dict[str, list[str]] = {}
    for width, height in VIEWPORTS:
        context, tab, errors = organizer_tab(browser, base, width, height)
        for path in organizer_pages(tab, base, demo_campaign):
            where = f"{path} at {width}x{height}"
            response = tab.goto(base + path)
            if response.status != 200:
                problems[where] = [f"answered {response.status}"]
                continue
            found = settled(tab).evaluate(LAYOUT_JS)
            if errors:
                found = [*found, *(f"browser error: {error}" for error in errors)]
                errors.clear()
            if found:
                problems[where] = found
            name = re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()) or "home"
            tab.screenshot(
                path=str(artifacts / f"organizer-{name}-{width}x{height}.png"), full_page=True
            )
        context.close()
    assert not problems, "\n".join(
        f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items()
    )


BOTH_PLAYING_JS = """
() => {
  const ref = document.getElementById("video-ref"), gen = document.getElementById("video-gen");
  return !ref.paused && !gen.paused && ref.currentTime > 0.3 && gen.currentTime > 0.3;
}
"""


def test_a_pair_plays_in_sync_in_the_read_only_player(
    live_server, browser, demo_campaign, artifacts
):
    clip = Clip.objects.filter(submission__team__campaign=demo_campaign).order_by("pk").first()
    base = live_server.url
    context, tab, errors = organizer_tab(browser, base, 1440, 900)
    tab.goto(f"{base}/organize/{demo_campaign.slug}/clips/")
    tab.click(f'a[href^="/organize/{demo_campaign.slug}/clips/{clip.pk}/"]')
    tab.wait_for_url(f"{base}/organize/{demo_campaign.slug}/clips/{clip.pk}/*")
    assert tab.locator("#rating-form").count() == 0
    # Nothing plays until asked; Space starts both, on one clock.
    tab.wait_for_function("document.getElementById('video-ref').readyState >= 2")
    assert tab.evaluate("document.getElementById('video-ref').paused")
    tab.keyboard.press("Space")
    tab.wait_for_function(BOTH_PLAYING_JS)
    drift = tab.evaluate(
        "Math.abs(document.getElementById('video-ref').currentTime"
        " - document.getElementById('video-gen').currentTime)"
    )
    assert drift < 0.25
    tab.keyboard.press("Space")
    tab.wait_for_function(
        "document.getElementById('video-ref').paused && document.getElementById('video-gen').paused"
    )
    # The scoring keys do nothing here, and the page says nothing went wrong.
    tab.keyboard.press("3")
    tab.keyboard.press(".")
    frames = tab.evaluate(
        "[window.refscorePlayer.frameOf(document.getElementById('video-ref')),"
        " window.refscorePlayer.frameOf(document.getElementById('video-gen'))]"
    )
    assert frames[0] == frames[1]
    tab.screenshot(path=str(artifacts / "organizer-clip-review.png"), full_page=True)
    context.close()
    assert errors == []
