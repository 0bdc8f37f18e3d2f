"""API tokens for scripts: issued and revoked by organizers, refused to everyone else."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotate.services import api_token_issue, api_token_revoke

pytestmark = pytest.mark.django_db


def script(key: str) -> APIClient:
    """A client that authenticates the way a script does: the header, no session."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_a_script_with_an_organizer_token_reaches_the_organizer_api(organizer, campaign):
    key = api_token_issue(user=organizer, by=organizer)
    response = script(key).get("/api/campaigns/")
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == ["cvpr"]


def test_an_annotator_token_does_not_open_the_organizer_api(organizer, annotator):
    key = api_token_issue(user=annotator, by=organizer)
    assert script(key).get("/api/campaigns/").status_code == 403
    assert script(key).get("/api/me/queue/").status_code == 200


def test_a_revoked_token_gets_401(organizer):
    key = api_token_issue(user=organizer, by=organizer)
    assert api_token_revoke(user=organizer, by=organizer) is True
    assert script(key).get("/api/campaigns/").status_code == 401
    assert api_token_revoke(user=organizer, by=organizer) is False


def test_rotating_a_token_invalidates_the_old_key(organizer):
    old = api_token_issue(user=organizer, by=organizer)
    new = api_token_issue(user=organizer, by=organizer)
    assert new != old
    assert script(old).get("/api/campaigns/").status_code == 401
    assert script(new).get("/api/campaigns/").status_code == 200
    assert Token.objects.filter(user=organizer).count() == 1


def test_only_staff_may_issue_or_revoke(annotator, organizer):
    with pytest.raises(PermissionDenied):
        api_token_issue(user=annotator, by=annotator)
    api_token_issue(user=annotator, by=organizer)
    with pytest.raises(PermissionDenied):
        api_token_revoke(user=annotator, by=annotator)
    assert Token.objects.filter(user=annotator).exists()


def test_an_organizer_cannot_mint_an_administrators_token(staff_api, organizer, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw-root-1")
    with pytest.raises(PermissionDenied, match="administrator"):
        api_token_issue(user=admin, by=organizer)
    assert staff_api.post("/api/tokens/", {"username": "root"}, format="json").status_code == 403
    assert staff_api.delete("/api/tokens/root/").status_code == 403
    assert not Token.objects.filter(user=admin).exists()
    assert api_token_issue(user=admin, by=admin)


def test_the_api_issues_rotates_and_revokes(staff_api, annotator):
    response = staff_api.post("/api/tokens/", {"username": "ann1"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "ann1" and body["created"]
    assert response["Cache-Control"] == "no-store"
    assert script(body["key"]).get("/api/me/queue/").status_code == 200

    rotated = staff_api.post("/api/tokens/", {"username": "ann1"}, format="json").json()["key"]
    assert script(body["key"]).get("/api/me/queue/").status_code == 401

    assert staff_api.delete("/api/tokens/ann1/").status_code == 204
    assert script(rotated).get("/api/me/queue/").status_code == 401
    assert staff_api.delete("/api/tokens/nobody/").status_code == 404
    assert staff_api.post("/api/tokens/", {"username": "nobody"}, format="json").status_code == 400


def test_an_annotator_cannot_issue_or_revoke_through_the_api(annotator, organizer):
    key = api_token_issue(user=annotator, by=organizer)
    own = script(key)
    assert own.post("/api/tokens/", {"username": "ann1"}, format="json").status_code == 403
    assert own.post("/api/tokens/", {"username": "organizer"}, format="json").status_code == 403
    assert own.delete("/api/tokens/organizer/").status_code == 403
    assert Token.objects.get(user=annotator).key == key
    assert not Token.objects.filter(user=organizer).exists()
    anonymous = APIClient()
    assert anonymous.post("/api/tokens/", {"username": "ann1"}, format="json").status_code == 401


def test_the_page_lists_issues_once_and_revokes(client, organizer, annotator):
    client.force_login(organizer)
    page = client.get(reverse("tokens"))
    assert page.status_code == 200
    assert b"ann1" in page.content and b"Issue" in page.content
    assert reverse("tokens").encode() in client.get(reverse("campaign-list")).content

    issued = client.post(reverse("token-issue"), {"username": "ann1"})
    key = Token.objects.get(user=annotator).key
    assert issued.status_code == 200 and key.encode() in issued.content
    assert "no-store" in issued["Cache-Control"]
    again = client.get(reverse("tokens"))
    assert key.encode() not in again.content and b"Rotate" in again.content

    revoked = client.post(reverse("token-revoke"), {"username": "ann1"})
    assert revoked.status_code == 302
    assert not Token.objects.filter(user=annotator).exists()


def test_the_page_forms_carry_csrf(organizer, annotator):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(organizer)
    page = strict.get(reverse("tokens")).content.decode()
    assert page.count("csrfmiddlewaretoken") >= 1
    assert strict.post(reverse("token-issue"), {"username": "ann1"}).status_code == 403
    assert not Token.objects.filter(user=annotator).exists()


def test_an_annotator_is_refused_the_page(client, annotator, organizer):
    client.force_login(annotator)
    # Like every organizer page: the app's 403 page, nothing done.
    for response in (
        client.get(reverse("tokens")),
        client.post(reverse("token-issue"), {"username": "ann1"}),
        client.post(reverse("token-revoke"), {"username": "organizer"}),
    ):
        assert response.status_code == 403
        assert "403.html" in [template.name for template in response.templates]
    assert not Token.objects.exists()


def test_the_command_issues_rotates_and_revokes(annotator):
    out = StringIO()
    call_command("api_token", "issue", "ann1", stdout=out)
    key = out.getvalue().strip()
    assert Token.objects.get(user=annotator).key == key
    assert script(key).get("/api/me/queue/").status_code == 200

    out = StringIO()
    call_command("api_token", "issue", "ann1", stdout=out)
    assert out.getvalue().strip() != key
    assert script(key).get("/api/me/queue/").status_code == 401

    out = StringIO()
    call_command("api_token", "revoke", "ann1", stdout=out)
    assert "revoked" in out.getvalue()
    assert not Token.objects.filter(user=annotator).exists()
    with pytest.raises(CommandError):
        call_command("api_token", "issue", "nobody")
