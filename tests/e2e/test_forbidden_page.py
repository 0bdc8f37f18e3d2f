"""An annotator who opens an organizer page, in a real browser: the app's 403 page and a way back."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_annotator_on_an_organizer_page_finds_the_way_back(
    live_server, page, console_errors, django_user_model
):
    django_user_model.objects.create_user("ann1", password="pw-annotator-1")
    log_in(page, live_server.url, "ann1", "pw-annotator-1")

    response = page.goto(f"{live_server.url}/organize/")
    assert response.status == 403
    assert page.url == f"{live_server.url}/organize/"  # no detour through a login form
    assert page.inner_text("h1") == "You have no access to this page"
    assert page.inner_text(".topbar .who") == "ann1"

    page.click("text=Back to my queue")
    page.wait_for_url(f"{live_server.url}/queue/")
    assert page.inner_text("h1") == "My queue"
    # The 403 itself is reported as a failed load; nothing else may be.
    assert [e for e in console_errors if "403" not in e] == []
