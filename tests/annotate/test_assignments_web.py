"""The organizer's assignment page, API and commands, as staff and refused to others."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotate.models import Assignment
from tests.annotate.test_assignments_services import assert_caps_hold, build_campaign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def built():
    return build_campaign(slug="web", teams=2, tasks=2, episodes=3, annotators=3)


# --- page ------------------------------------------------------------------------------


def test_page_shows_roster_preview_and_progress(staff_client, built):
    response = staff_client.get(reverse("assignments", args=[built.campaign.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    for user in built.users:
        assert user.username in html
    # 2 teams x 2 tasks x 3 raters x 3 clips, all new.
    assert "<strong>36</strong> new assignments" in html
    assert reverse("assignment-apply", args=[built.campaign.slug]) in html
    assert "0 of 0 done" in html


def test_page_and_actions_are_refused_to_annotators(client, built):
    client.force_login(built.users[0])
    slug = built.campaign.slug
    page = client.get(reverse("assignments", args=[slug]))
    assert page.status_code == 403
    for name in ("assignment-apply", "assignment-reclaim"):
        response = client.post(reverse(name, args=[slug]))
        assert response.status_code == 403
    assert not Assignment.objects.exists()


def test_page_actions_apply_add_move_remove_reclaim(staff_client, built):
    slug = built.campaign.slug
    response = staff_client.post(reverse("assignment-apply", args=[slug]), follow=True)
    assert "Plan applied: 36 new assignments." in response.content.decode()
    assert Assignment.objects.count() == 36

    newcomer = UserFactory(username="web-newcomer")
    response = staff_client.post(
        reverse("assignment-annotator-add", args=[slug]), {"username": newcomer.username}
    )
    assert response.status_code == 302
    assert newcomer in built.campaign.annotators.all()

    leaver = built.users[0]
    response = staff_client.post(
        reverse("assignment-annotator-remove", args=[slug]),
        {"username": leaver.username},
        follow=True,
    )
    assert "open assignments" in response.content.decode()
    assert leaver in built.campaign.annotators.all()

    held = Assignment.objects.filter(annotator=leaver).count()
    response = staff_client.post(
        reverse("assignment-move", args=[slug]),
        {"from_annotator": leaver.username, "to_annotator": newcomer.username},
        follow=True,
    )
    assert f"Moved {held} pending clips" in response.content.decode()
    assert Assignment.objects.filter(annotator=newcomer).count() == held
    assert_caps_hold(built.campaign)

    staff_client.post(
        reverse("assignment-annotator-remove", args=[slug]), {"username": leaver.username}
    )
    assert leaver not in built.campaign.annotators.all()

    row = Assignment.objects.first()
    row.status = Assignment.Status.IN_PROGRESS
    row.started_at = timezone.now() - dt.timedelta(hours=2)
    row.save()
    response = staff_client.post(
        reverse("assignment-reclaim", args=[slug]), {"minutes": "60"}, follow=True
    )
    assert "Reclaimed 1 assignments" in response.content.decode()
    assert Assignment.objects.get(pk=row.pk).status == Assignment.Status.PENDING
    response = staff_client.post(
        reverse("assignment-reclaim", args=[slug]), {"minutes": "soon"}, follow=True
    )
    assert "whole number" in response.content.decode()


def test_campaign_navigation_links_to_the_page(staff_client, built):
    response = staff_client.get(reverse("clip-browser", args=[built.campaign.slug]))
    assert reverse("assignments", args=[built.campaign.slug]) in response.content.decode()


# --- API -------------------------------------------------------------------------------


def test_api_preview_apply_progress(staff_api, built):
    slug = built.campaign.slug
    preview = staff_api.get(f"/api/campaigns/{slug}/assignments/preview/")
    assert preview.status_code == 200
    assert preview.json()["new_rows"] == 36
    assert len(preview.json()["cells"]) == 4
    assert not Assignment.objects.exists()

    applied = staff_api.post(f"/api/campaigns/{slug}/assignments/apply/", {}, format="json")
    assert applied.status_code == 201
    assert applied.json() == {"created": 36, "warnings": [], "warning_codes": []}
    again = staff_api.post(f"/api/campaigns/{slug}/assignments/apply/", {}, format="json")
    assert again.json()["created"] == 0

    Assignment.objects.filter(pk__in=Assignment.objects.values("pk")[:4]).update(
        status=Assignment.Status.DONE
    )
    progress = staff_api.get(f"/api/campaigns/{slug}/assignments/progress/").json()
    assert progress["overall"]["done"] == 4
    assert progress["overall"]["total"] == 36
    assert sum(row["done"] for row in progress["by_annotator"]) == 4
    assert [row["label"] for row in progress["by_task"]] == ["task1", "task2"]


def test_api_roster_move_and_reclaim(staff_api, built):
    slug = built.campaign.slug
    staff_api.post(f"/api/campaigns/{slug}/assignments/apply/", {}, format="json")
    newcomer = UserFactory(username="api-newcomer")
    added = staff_api.post(
        f"/api/campaigns/{slug}/annotators/", {"username": newcomer.username}, format="json"
    )
    assert added.status_code == 201
    unknown = staff_api.post(
        f"/api/campaigns/{slug}/annotators/", {"username": "nobody"}, format="json"
    )
    assert unknown.status_code == 400 and "no user 'nobody'" in unknown.json()["username"][0]
    boss = UserFactory(username="api-boss", is_staff=True)
    refused = staff_api.post(
        f"/api/campaigns/{slug}/annotators/", {"username": boss.username}, format="json"
    )
    assert refused.status_code == 400 and "staff" in refused.json()["detail"]

    leaver = built.users[1]
    held = Assignment.objects.filter(annotator=leaver).count()
    moved = staff_api.post(
        f"/api/campaigns/{slug}/assignments/move/",
        {"from_annotator": leaver.username, "to_annotator": newcomer.username},
        format="json",
    )
    assert moved.status_code == 200
    assert moved.json() == {"moved": held, "blocked": []}

    removed = staff_api.delete(f"/api/campaigns/{slug}/annotators/{leaver.username}/")
    assert removed.status_code == 204
    assert leaver not in built.campaign.annotators.all()

    row = Assignment.objects.first()
    Assignment.objects.filter(pk=row.pk).update(
        status=Assignment.Status.IN_PROGRESS, started_at=timezone.now() - dt.timedelta(days=1)
    )
    reclaimed = staff_api.post(f"/api/campaigns/{slug}/assignments/reclaim/", {}, format="json")
    assert reclaimed.status_code == 200
    assert reclaimed.json()["reclaimed"] == 1
    assert reclaimed.json()["by_annotator"] == {row.annotator.username: 1}


def test_api_is_refused_to_annotators_and_anonymous(built):
    slug = built.campaign.slug
    api = APIClient()
    api.force_authenticate(built.users[0])
    endpoints = [
        ("get", f"/api/campaigns/{slug}/assignments/preview/"),
        ("post", f"/api/campaigns/{slug}/assignments/apply/"),
        ("post", f"/api/campaigns/{slug}/assignments/move/"),
        ("post", f"/api/campaigns/{slug}/assignments/reclaim/"),
        ("get", f"/api/campaigns/{slug}/assignments/progress/"),
        ("post", f"/api/campaigns/{slug}/annotators/"),
        ("delete", f"/api/campaigns/{slug}/annotators/{built.users[0].username}/"),
    ]
    for method, url in endpoints:
        assert getattr(api, method)(url).status_code == 403, url
        assert getattr(APIClient(), method)(url).status_code in (401, 403), url
    assert not Assignment.objects.exists()


def test_schema_lists_the_assignment_operations(staff_api):
    schema = staff_api.get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/campaigns/{slug}/assignments/preview/",
        "/api/campaigns/{slug}/assignments/apply/",
        "/api/campaigns/{slug}/assignments/move/",
        "/api/campaigns/{slug}/assignments/reclaim/",
        "/api/campaigns/{slug}/assignments/progress/",
        "/api/campaigns/{slug}/annotators/",
        "/api/campaigns/{slug}/annotators/{username}/",
    ):
        assert path in schema["paths"], path


# --- commands --------------------------------------------------------------------------


def test_plan_command_dry_run_then_apply(built):
    extra = UserFactory(username="cmd-extra")
    out = StringIO()
    call_command(
        "plan_assignments",
        built.campaign.slug,
        "--dry-run",
        "--annotators",
        extra.username,
        stdout=out,
    )
    text = out.getvalue()
    assert "dry run: nothing stored" in text
    assert "cmd-extra" in text
    assert not Assignment.objects.exists()
    assert extra not in built.campaign.annotators.all()

    out = StringIO()
    call_command(
        "plan_assignments", built.campaign.slug, "--annotators", extra.username, stdout=out
    )
    assert "stored 36 new assignments" in out.getvalue()
    assert extra in built.campaign.annotators.all()
    out = StringIO()
    call_command("plan_assignments", built.campaign.slug, stdout=out)
    assert "stored 0 new assignments" in out.getvalue()
    assert Assignment.objects.count() == 36

    with pytest.raises(CommandError, match="no such user: ghost"):
        call_command("plan_assignments", built.campaign.slug, "--annotators", "ghost")
    with pytest.raises(CommandError, match="no campaign"):
        call_command("plan_assignments", "nowhere")


def test_plan_command_prints_warnings_when_short_of_annotators():
    small = build_campaign(slug="short", teams=1, tasks=1, annotators=1)
    out = StringIO()
    call_command("plan_assignments", small.campaign.slug, "--dry-run", stdout=out)
    assert "1 of 3 raters" in out.getvalue()


def test_reclaim_command(built):
    call_command("plan_assignments", built.campaign.slug, stdout=StringIO())
    stale = Assignment.objects.first()
    Assignment.objects.filter(pk=stale.pk).update(
        status=Assignment.Status.IN_PROGRESS, started_at=timezone.now() - dt.timedelta(minutes=20)
    )
    out = StringIO()
    call_command("reclaim_assignments", built.campaign.slug, stdout=out)
    assert "reclaimed 0 assignments" in out.getvalue()  # the campaign's 30 minutes
    out = StringIO()
    call_command("reclaim_assignments", built.campaign.slug, "--minutes", "15", stdout=out)
    assert "reclaimed 1 assignments" in out.getvalue()
    assert f"{stale.annotator.username}: 1" in out.getvalue()
    assert Assignment.objects.get(pk=stale.pk).status == Assignment.Status.PENDING
    with pytest.raises(CommandError, match="minutes must be between 0 and"):
        call_command("reclaim_assignments", built.campaign.slug, "--minutes", "-5")
