"""The leaderboard and agreement pages at 1440x900 in a real Chromium: every table fits its card."""

from __future__ import annotations

import pytest

from annotate.models import Task
from tests.e2e.conftest import log_in
from tests.evaluation.test_agreement_page import stored_verdicts_run
from tests.evaluation.test_leaderboard import rated_campaign

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# For each table: its card, and the scroll container between them if there is one.
TABLE_FIT_JS = """() => Array.from(document.querySelectorAll('main table')).map((table) => {
  const card = table.closest('.card');
  let scroller = null;
  for (let el = table.parentElement; el && el !== card; el = el.parentElement) {
    const overflow = getComputedStyle(el).overflowX;
    if (overflow === 'auto' || overflow === 'scroll') { scroller = el; break; }
  }
  const cardBox = card.getBoundingClientRect();
  const roomBox = card.parentElement.getBoundingClientRect();
  return {
    table: table.id || table.className,
    card: card.id || card.className,
    tableWidth: table.getBoundingClientRect().width,
    cardScrollWidth: card.scrollWidth,
    cardClientWidth: card.clientWidth,
    inScroller: scroller !== null
      && scroller.getBoundingClientRect().right <= cardBox.right + 0.5,
    cardFitsItsRoom: cardBox.right <= roomBox.right + 0.5 && cardBox.left >= roomBox.left - 0.5,
  };
})"""
# Each figure as drawn: its scale on the page (1 = the size it was made for).
FIGURE_SCALE_JS = """() => Array.from(document.querySelectorAll('main img')).map((img) => ({
  src: img.getAttribute('src'), shown: img.clientWidth, natural: img.naturalWidth,
  complete: img.complete && img.naturalWidth > 0,
}))"""


@pytest.fixture
def report_campaign(django_user_model):
    """Eight tasks and eight teams with long names, rated, and a judge run."""
    data = rated_campaign(n_teams=8, n_tasks=8, n_episodes=3, seed=3, slug="wide")
    for index, team in enumerate(data.teams):
        team.name = f"World-Model Lab {index} (Embodied Robotics Group)"
        team.save()
    for task in Task.objects.filter(campaign=data.campaign):
        task.key = f"{task.key}_stack_the_cups"
        task.save()
    stored_verdicts_run(campaign=data.campaign, seed=2)
    django_user_model.objects.create_user("lead", password="lead-pass-1", is_staff=True)
    return data


def assert_tables_fit(page, name: str) -> list[dict]:
    tables = page.evaluate(TABLE_FIT_JS)
    assert tables, f"{name}: no table"
    for table in tables:
        fits = table["cardScrollWidth"] <= table["cardClientWidth"] or table["inScroller"]
        assert fits and table["cardFitsItsRoom"], f"{name}: {table}"
    return tables


def test_report_tables_fit_their_cards_at_1440(
    live_server, page, console_errors, report_campaign, artifacts
):
    assert page.viewport_size == {"width": 1440, "height": 900}
    log_in(page, live_server.url, "lead", "lead-pass-1", lands_on="/organize/")

    page.goto(f"{live_server.url}/organize/wide/leaderboard/")
    page.wait_for_selector("#leaderboard")
    page.screenshot(path=str(artifacts / "leaderboard-1440.png"), full_page=True)
    assert_tables_fit(page, "leaderboard")

    page.goto(f"{live_server.url}/organize/wide/agreement/?compute=1&boot=200")
    page.wait_for_selector("#video-per-task-table")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#figures img')).every((i) => i.complete)"
    )
    page.screenshot(path=str(artifacts / "agreement-1440.png"), full_page=True)
    tables = assert_tables_fit(page, "agreement")
    assert {"video-per-task-table", "rater-per-task", "team-per-task-table"} <= {
        table["table"] for table in tables
    }
    # Figures are shown at no less than 3/4 of the size they were drawn for, so
    # their 8-point labels stay at least 8 px high on the screen.
    for figure in page.evaluate(FIGURE_SCALE_JS):
        assert figure["complete"], figure
        assert figure["shown"] >= 0.75 * figure["natural"], figure
    assert console_errors == []
