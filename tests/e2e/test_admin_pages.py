"""Django's admin in a real browser, under the project's strict CSP: nothing refused."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in
from tests.factories import RatingFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/admin/",
    "/admin/annotate/campaign/",
    "/admin/annotate/campaign/add/",
    "/admin/annotate/rating/",
    "/admin/annotate/rating/{rating}/change/",
    "/admin/auth/user/{user}/change/",
]


def test_admin_pages_run_with_no_console_error(
    live_server, page, console_errors, django_user_model
):
    admin = django_user_model.objects.create_superuser("root", password="admin-pass-1")
    rating = RatingFactory()
    log_in(page, live_server.url, "root", "admin-pass-1", lands_on="/organize/")
    for path in PAGES:
        url = live_server.url + path.format(rating=rating.pk, user=admin.pk)
        assert page.goto(url).status == 200, path
        assert page.locator("#content").count() == 1, path
    # The admin's own scripts run: "select all" on a change list updates its counter.
    page.goto(f"{live_server.url}/admin/annotate/rating/")
    page.check("#action-toggle")
    assert "1 of 1 selected" in page.inner_text(".action-counter")
    assert console_errors == []
