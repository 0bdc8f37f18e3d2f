"""The API docs page in a real browser: Swagger UI from our own files, under the strict CSP."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_every_operation_with_nothing_refused(
    live_server, page, console_errors, django_user_model
):
    django_user_model.objects.create_user("organizer", password="docs-pass-1", is_staff=True)
    log_in(page, live_server.url, "organizer", "docs-pass-1", lands_on="/organize/")
    # Watched from here on: a request of the previous page (its favicon) that the
    # navigation below cancels is not the docs page's.
    page.wait_for_load_state("networkidle")
    failed: list[str] = []
    page.on(
        "response",
        lambda response: (
            response.status < 400 or failed.append(f"{response.status} {response.url}")
        ),
    )
    page.on("requestfailed", lambda request: failed.append(request.url))
    remote: list[str] = []
    page.on(
        "request",
        lambda request: request.url.startswith(live_server.url) or remote.append(request.url),
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock")
    operations = page.locator(".swagger-ui .opblock").count()
    assert operations >= 30  # the whole schema, not an error box
    assert "refscore API" in page.locator(".swagger-ui .title").inner_text()
    assert failed == [], failed
    assert (console_errors, remote) == ([], [])
