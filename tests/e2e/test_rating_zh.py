"""The rating page in Simplified Chinese, in a real Chromium whose language is Chinese.

The browser asks for zh-CN, as a Chinese system does; the pages answer in Simplified
Chinese, the keyboard works as in English, nothing is clipped, and the page runs under
the strict CSP with its script catalogue. Screenshots: artifacts/rating-page-zh.png and
artifacts/rating-help-zh.png.
"""

from __future__ import annotations

import unicodedata

import pytest

from annotate.models import Rating
from annotate.services import assignment_position
from demo.campaign import DEMO_PASSWORD
from tests.e2e.test_organizer_layout import LAYOUT_JS as ORGANIZER_LAYOUT_JS
from tests.e2e.test_rating_flow import USERNAME, checked, press_start, queue_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The organizer pages' check that no button is covered, not counting what a closed
# <details> holds (Chromium keeps its boxes, but does not draw them).
LAYOUT_JS = ORGANIZER_LAYOUT_JS.replace(
    'return el.getClientRects().length > 0 && style.visibility !== "hidden"',
    'return el.getClientRects().length > 0 && !el.closest("details:not([open]) > :not(summary)")'
    ' && style.visibility !== "hidden"',
)
assert LAYOUT_JS != ORGANIZER_LAYOUT_JS

# Boxes whose text does not fit: a label, a button, a score's words, a heading.
CLIPPED_JS = """
() => {
  const problems = [];
  const boxes = document.querySelectorAll(
    "#rate button, #rate label, #rate .what, #rate h2, #rate h3, #rate dd, #rate figcaption, " +
    "#rate .head-progress span, #rate .where span, #rate .question p, .topbar a, .topbar button"
  );
  for (const el of boxes) {
    const style = getComputedStyle(el);
    if (style.display === "inline" || el.getClientRects().length === 0) continue;
    if (el.closest("[hidden]") || el.closest("details:not([open]) > :not(summary)")) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1 && style.overflowY !== "visible") {
      problems.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${el.innerText.trim().slice(0, 30)}": ` +
        `${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}`);
    }
  }
  return problems;
}
"""


@pytest.fixture
def chinese_page(browser):
    """A tab of a browser set to Simplified Chinese (Accept-Language: zh-CN)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    yield tab
    context.close()
    assert not errors, f"errors on the page: {errors}"


def test_rating_page_in_chinese(
    live_server, chinese_page, demo_campaign, artifacts, django_user_model
):
    page = chinese_page
    user = django_user_model.objects.get(username=USERNAME)
    demo_campaign.require_full_watch = False
    demo_campaign.save()
    first, second = queue_of(demo_campaign, user)[:2]
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.inner_text("h1") == "登录"
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/queue/")
    assert page.inner_text("h1") == "我的队列"
    assert "开始评分" in page.inner_text("main")

    press_start(page)
    page.wait_for_url(f"{base}/rate/{first.pk}/")
    page.wait_for_function("() => typeof window.gettext === 'function'")
    rubric = page.inner_text(".rubric")
    for expected in (
        "机器人应完成的动作",
        "物体最终状态",
        "是否与参考视频一致",
        "键盘",
        "提交并继续",
    ):
        assert expected in rubric, expected
    assert "Does the final object state" not in rubric
    assert page.inner_text("#where-task").startswith("任务 ")

    # The scripts speak Chinese too (their own catalogue): the clips' clocks, the play
    # button's label, the marks' status line.
    page.wait_for_function("() => document.getElementById('clock-ref').textContent.includes('帧')")
    assert "frame" not in page.inner_text("#clock-ref")
    label = "() => document.getElementById('btn-play').getAttribute('aria-label') === %r"
    if not page.evaluate("window.refscorePlayer.wantPlaying"):
        page.keyboard.press("k")
    page.wait_for_function(label % "暂停")
    page.keyboard.press("k")
    page.wait_for_function(label % "播放")
    page.keyboard.press("m")
    assert page.text_content("#marks-status").startswith("已标记")
    page.keyboard.press("x")
    assert page.text_content("#marks-status").startswith("已删除")

    # The keyboard is the same in Chinese: n/y answer the questions, digits choose the score.
    page.keyboard.press("n")
    page.keyboard.press("y")
    assert (checked(page, "final_state"), checked(page, "motion"), checked(page, "score")) == (
        "false",
        "true",
        "1",
    )
    page.keyboard.press("3")
    assert (checked(page, "final_state"), checked(page, "clean")) == ("true", "true")
    page.keyboard.press("c")
    page.keyboard.type("插入完整,无形变")
    page.keyboard.press("Escape")
    assert checked(page, "score") == "3"

    page.keyboard.press("?")
    assert page.is_visible("#help")
    # Full-width punctuation folded to ASCII, as the protocol's text prints it.
    help_text = unicodedata.normalize("NFKC", page.inner_text("#help"))
    assert "评分细则" in help_text and "示例 A(2 分)" in help_text
    assert "参考:将耳朵插入盒子。待评视频同样完成插入且过程无明显形变 → 3 分。" in help_text
    page.screenshot(path=str(artifacts / "rating-help-zh.png"), full_page=True)
    page.keyboard.press("Escape")
    assert page.is_hidden("#help")

    if page.evaluate("window.refscorePlayer && window.refscorePlayer.wantPlaying"):
        page.keyboard.press("Space")  # a steady picture
    assert page.evaluate(CLIPPED_JS) == []
    assert page.evaluate(LAYOUT_JS) == []
    page.screenshot(path=str(artifacts / "rating-page-zh.png"), full_page=True)

    page.evaluate("window.samePage = true")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/rate/{second.pk}/?done={first.pk}")
    # The next pair came without a page load: its words are the script's, in Chinese.
    assert page.evaluate("window.samePage") is True
    assert page.inner_text("#submit-label") == "提交并继续"
    position = assignment_position(assignment=second)
    assert page.inner_text("#where-clip") == f"第 {position.position} / {position.total} 条视频"
    assert page.title().startswith("任务 ")
    rating = Rating.objects.get(assignment=first)
    assert (rating.score, rating.comment) == (3, "插入完整,无形变")


def test_organizer_pages_in_chinese_keep_their_layout(
    live_server, browser, demo_campaign, artifacts
):
    """The organizer's own pages of this interface, in Chinese at a laptop's size: no
    button covered, no card overflowing, every heading Chinese."""
    from demo.campaign import DEMO_ORGANIZER, demo_ratings_simulate
    from tests.e2e.test_organizer_layout import settled

    demo_ratings_simulate(campaign=demo_campaign, seed=5)
    base, slug = live_server.url, demo_campaign.slug
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{base}/accounts/login/")
    tab.fill("input[name=username]", DEMO_ORGANIZER[0])
    tab.fill("input[name=password]", DEMO_ORGANIZER[1])
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{base}/organize/")
    problems: dict[str, list[str]] = {}
    for name in ("", "tasks/", "people/", "teams/", "assignments/", "leaderboard/", "exports/"):
        path = f"/organize/{slug}/{name}"
        assert tab.goto(base + path).status == 200, path
        found = settled(tab).evaluate(LAYOUT_JS) + [f"browser error: {e}" for e in errors]
        errors.clear()
        headings = tab.eval_on_selector_all("main h2", "hs => hs.map(h => h.innerText)")
        found += [f"an English heading: {h!r}" for h in headings if h.isascii() and h.strip()]
        if found:
            problems[path] = found
        shot = name.strip("/") or "campaign"
        tab.screenshot(path=str(artifacts / f"organizer-{shot}-zh.png"), full_page=True)
    context.close()
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(f) for p, f in problems.items())
