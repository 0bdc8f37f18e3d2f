"""Login throttling, CSRF on every form, cookie flags, security headers and the CSP."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from annotate.models import ImportJob
from evaluation.models import JudgeRun, JudgeVersion
from tests.factories import AssignmentFactory, RatingFactory, UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STRICT_CSP = {
    "default-src": "'self'",
    "media-src": "'self' blob:",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


def csp_directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: value if rest else "" for name, *rest in parts for value in (rest or [""])}


# ---- login throttling ----------------------------------------------------------------


@pytest.fixture
def person(db):
    return UserFactory(username="alice")


def try_login(client, password: str, ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": "alice", "password": password}, REMOTE_ADDR=ip
    )


def test_a_login_is_refused_for_a_while_after_repeated_failures(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert try_login(client, "wrong").status_code == 200  # the form again, with its error
    locked = try_login(client, "wrong")
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    # Even the right password is refused while the lockout lasts.
    assert try_login(client, "pw-test-123").status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address_and_ends(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        try_login(client, "wrong")
    assert try_login(client, "pw-test-123").status_code == 429
    # Another address is not locked out of the same account.
    assert try_login(client, "pw-test-123", ip="10.0.0.2").status_code == 302
    client.logout()
    # Once the cool-off has passed, the first address may log in again.
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(1)
    )
    assert try_login(client, "pw-test-123").status_code == 302


def test_a_success_clears_the_failures(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        try_login(client, "wrong")
    assert try_login(client, "pw-test-123").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert try_login(client, "wrong").status_code == 200


# ---- cookies and headers ---------------------------------------------------------------


def test_session_and_csrf_cookies_are_httponly_and_lax(client, person):
    form = client.get(reverse("login"))
    csrf = form.cookies["csrftoken"]
    assert csrf["samesite"] == "Lax"
    response = try_login(client, "pw-test-123")
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert 0 < int(session["max-age"]) <= 24 * 60 * 60
    # Secure cookies under DEBUG=false: `check --deploy` in tests/test_project.py fails without.


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/my/queue/", "/static/refscore.css"])
def test_security_headers_on_pages_api_and_static_files(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    if path != "/static/refscore.css":  # whitenoise answers before the clickjacking middleware
        assert response["X-Frame-Options"] == "DENY"
    assert csp_directives(response["Content-Security-Policy"]) == STRICT_CSP


@pytest.mark.django_db
def test_the_api_docs_run_under_the_strict_policy_from_our_own_files(client, organizer):
    client.force_login(organizer)
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    assert csp_directives(response["Content-Security-Policy"]) == STRICT_CSP
    page = response.content.decode()
    assert "<style" not in page and "http" not in page  # nothing inline, nothing remote
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert len(scripts) == 3 and all(src.startswith("/") for src in scripts)
    *files, start_up = scripts  # Swagger UI's bundle and preset, then its start-up script
    for src in files:
        assert finders.find(src.removeprefix(settings.STATIC_URL)), src
    started = client.get(start_up)
    assert started.status_code == 200 and "javascript" in started["Content-Type"]
    assert reverse("api-schema") in started.content.decode()


# ---- CSRF and the CSP on every page ----------------------------------------------------


def test_every_post_form_in_the_templates_carries_a_csrf_token():
    forms = [
        (path.name, body)
        for path in TEMPLATES.rglob("*.html")
        for body in POST_FORM.findall(path.read_text())
    ]
    assert len(forms) >= 10
    assert [name for name, body in forms if "{% csrf_token %}" not in body] == []


def test_no_template_has_inline_script_style_or_handlers():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"<style\b|\sstyle=", text), path
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", text), path
        assert "javascript:" not in text, path


@pytest.fixture
def pages(db, organizer, annotator):
    rating = RatingFactory(assignment=AssignmentFactory(annotator=annotator), score=2)
    campaign = rating.assignment.campaign
    open_clip = AssignmentFactory(
        annotator=annotator, campaign=campaign, clip__submission=rating.clip.submission
    )
    run = JudgeRun.objects.create(
        campaign=campaign, judge=JudgeVersion.objects.create(name="baseline", version="1")
    )
    slug = campaign.slug
    job = ImportJob.objects.create(campaign=campaign, kind="reference", source="upload.zip")
    staff = [
        reverse("campaign-list"),
        reverse("campaign-detail", args=[slug]),
        reverse("import-detail", args=[slug, job.pk]),
        reverse("clip-browser", args=[slug]),
        reverse("clip-review", args=[slug, rating.clip_id]),
        reverse("assignments", args=[slug]),
        reverse("leaderboard", args=[slug]),
        reverse("exports", args=[slug]),
        reverse("judge-runs", args=[slug]),
        reverse("judge-run", args=[slug, run.pk]),
        reverse("agreement", args=[slug]),
    ]
    mine = [
        reverse("queue"),
        reverse("rate", args=[open_clip.pk]),
        reverse("rate", args=[rating.assignment_id]),
    ]
    return {organizer: staff, annotator: mine, None: [reverse("login")]}


def test_every_page_renders_csrf_tokens_and_runs_under_the_strict_csp(client, pages):
    checked = 0
    for user, urls in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
            html = response.content.decode()
            forms = POST_FORM.findall(html)
            assert all('name="csrfmiddlewaretoken"' in form for form in forms), url
            assert csp_directives(response["Content-Security-Policy"]) == STRICT_CSP, url
            scripts = re.findall(r"<script\b([^>]*)>", html)
            assert all("src=" in attrs or "application/json" in attrs for attrs in scripts), url
            assert not re.search(r"<style\b|\sstyle=|<[^>]*\son[a-z]+\s*=", html), url
            checked += 1 + len(forms)
    assert checked > 20
