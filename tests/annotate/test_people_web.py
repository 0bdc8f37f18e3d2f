"""The people page, the link that sets a password, and the people API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from annotate.models import Invitation, Team
from annotate.services import person_invite, person_password_reset

pytestmark = pytest.mark.django_db
User = get_user_model()

CSV = b"username,email,role,team\nann,ann@example.org,annotator,red\ntess,,team,red\n"


def upload(content: bytes, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def page_links(response) -> list[str]:
    return re.findall(r'<code class="invitation-link">([^<]+)</code>', response.content.decode())


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1] if "://" in url else url


def log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


# --- the page ----------------------------------------------------------------------------


def test_the_page_lists_everyone_with_roles_team_and_invitation(staff_client, campaign, annotator):
    campaign.annotators.add(annotator)
    Team.objects.create(campaign=campaign, name="red").members.add(annotator)
    person_invite(campaign=campaign, username="zoe", email="", role="team", team="red", by=None)
    response = staff_client.get(reverse("people", args=["cvpr"]))
    assert response.status_code == 200
    rows = {p.username: p for p in response.context["people"]}
    assert rows["ann1"].roles == ["annotator", "team"] and rows["ann1"].team == "red"
    assert rows["ann1"].invitation == "none"
    assert rows["organizer"].roles == ["organizer"]
    assert rows["zoe"].roles == ["team"] and rows["zoe"].invitation == "pending"
    assert b'data-username="zoe"' in response.content


def test_importing_on_the_page_shows_the_report_and_each_link_once(staff_client, campaign):
    url = reverse("people-import", args=["cvpr"])
    response = staff_client.post(url, {"file": upload(CSV), "dry_run": "on"})
    assert response.status_code == 200 and page_links(response) == []
    assert (
        b"Checked, nothing written" in response.content
        and not User.objects.filter(username="ann").exists()
    )
    response = staff_client.post(url, {"file": upload(CSV)})
    assert response.status_code == 200
    links = page_links(response)
    assert len(links) == 2 and all(
        link.startswith("http://testserver/accounts/invitation/") for link in links
    )
    assert b"New teams: red." in response.content
    # Shown once: the page itself never shows a link again.
    assert page_links(staff_client.get(reverse("people", args=["cvpr"]))) == []


def test_a_bad_file_on_the_page_names_its_lines_and_writes_nothing(staff_client, campaign):
    response = staff_client.post(
        reverse("people-import", args=["cvpr"]),
        {"file": upload(b"username,email,role,team\nann,,annotator,\nbob,bad,boss,\n")},
    )
    assert response.status_code == 400
    assert [str(p) for p in response.context["problems"]] == [
        "line 3, column email: 'bad': Enter a valid email address.",
        "line 3, column role: unknown role 'boss' (one of organizer, annotator, team)",
    ]
    assert not User.objects.filter(username="ann").exists()
    response = staff_client.post(
        reverse("people-import", args=["cvpr"]), {"file": upload(b"\xff\xfe")}
    )
    assert response.status_code == 400
    assert response.context["import_form"].errors == {"file": ["Not UTF-8 text (byte 0)."]}


def test_inviting_one_person_on_the_page(staff_client, campaign):
    url = reverse("person-invite", args=["cvpr"])
    response = staff_client.post(url, {"username": "zoe", "role": "annotator", "team": ""})
    assert response.status_code == 200 and len(page_links(response)) == 1
    assert User.objects.get(username="zoe") in campaign.annotators.all()
    response = staff_client.post(url, {"username": "zoe", "role": "annotator"})
    assert response.status_code == 400
    assert response.context["invite_form"].errors == {"username": ["'zoe' exists already"]}


def test_reset_deactivate_team_and_roster_on_the_page(staff_client, campaign, annotator):
    response = staff_client.post(reverse("person-reset", args=["cvpr", "ann1"]))
    assert response.status_code == 200 and len(page_links(response)) == 1
    annotator.refresh_from_db()
    assert not annotator.has_usable_password()

    staff_client.post(reverse("person-team", args=["cvpr", "ann1"]), {"team": "green"})
    assert annotator.teams.get().name == "green"
    staff_client.post(reverse("person-roster", args=["cvpr", "ann1"]), {"member": "1"})
    assert annotator in campaign.annotators.all()
    staff_client.post(reverse("person-roster", args=["cvpr", "ann1"]), {"member": "0"})
    assert annotator not in campaign.annotators.all()

    response = staff_client.post(
        reverse("person-active", args=["cvpr", "ann1"]), {"active": "0"}, follow=True
    )
    annotator.refresh_from_db()
    assert not annotator.is_active and b"ann1 is deactivated." in response.content
    staff_client.post(reverse("person-active", args=["cvpr", "ann1"]), {"active": "1"})
    annotator.refresh_from_db()
    assert annotator.is_active


def test_an_organizer_cannot_deactivate_themselves_nor_touch_an_administrator(
    staff_client, campaign, organizer
):
    response = staff_client.post(
        reverse("person-active", args=["cvpr", "organizer"]), {"active": "0"}, follow=True
    )
    organizer.refresh_from_db()
    assert organizer.is_active and b"you cannot deactivate yourself" in response.content
    User.objects.create_superuser("root", password="pw")
    assert staff_client.post(reverse("person-reset", args=["cvpr", "root"])).status_code == 403
    assert User.objects.get(username="root").check_password("pw")


# --- the link ----------------------------------------------------------------------------


def set_password(client, url: str, password: str):
    """Follow the link as a browser does: the token moves to the session, then the form."""
    response = client.get(path_of(url))
    assert response.status_code == 302 and response["Location"].endswith("/set-password/")
    form = client.get(response["Location"])
    assert form.status_code == 200 and form.context["validlink"]
    return client.post(response["Location"], {"new_password1": password, "new_password2": password})


def test_an_invitation_link_sets_the_password_once(client, campaign, organizer):
    link = person_invite(
        campaign=campaign,
        username="zoe",
        email="",
        role="annotator",
        by=organizer,
        base_url="http://testserver",
    )
    response = set_password(client, link.url, "a-long-new-password")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert log_in(client, "zoe", "a-long-new-password").status_code == 302
    invitation = Invitation.objects.get(user__username="zoe")
    assert invitation.used_at is not None
    client.logout()
    again = client.get(path_of(link.url))
    assert again.status_code == 200 and again.context["reason"] == "used"
    assert b"It has been used already" in again.content


def test_the_form_checks_the_password(client, campaign):
    link = person_invite(campaign=campaign, username="zoe", email="", role="annotator", by=None)
    response = client.get(path_of(link.url))
    form_url = response["Location"]
    response = client.post(form_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not User.objects.get(username="zoe").has_usable_password()


def test_an_expired_link_says_so(client, settings, campaign):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    issued = timezone.now() - dt.timedelta(seconds=3601)
    link = person_invite(
        campaign=campaign, username="zoe", email="", role="annotator", by=None, now=issued
    )
    response = client.get(path_of(link.url))
    assert response.status_code == 200 and response.context["reason"] == "expired"
    assert b"It has expired" in response.content


def test_a_replaced_or_deactivated_link_does_not_work(client, campaign, organizer):
    first = person_invite(campaign=campaign, username="zoe", email="", role="annotator", by=None)
    zoe = User.objects.get(username="zoe")
    second = person_password_reset(user=zoe, by=organizer)
    response = client.get(path_of(first.url))
    assert response.status_code == 200 and not response.context["validlink"]
    assert response.context["reason"] == "pending"  # the newer link is the one to use
    zoe.is_active = False
    zoe.save()
    response = client.get(path_of(second.url))
    assert response.status_code == 200 and not response.context["validlink"]


# --- the API -----------------------------------------------------------------------------


def test_api_lists_and_invites(staff_api, campaign, annotator):
    response = staff_api.post(
        "/api/campaigns/cvpr/people/",
        {"username": "zoe", "email": "zoe@example.org", "role": "team", "team": "red"},
        format="json",
    )
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    assert response.json()["url"].startswith("http://testserver/accounts/invitation/")
    response = staff_api.post(
        "/api/campaigns/cvpr/people/", {"username": "zoe", "role": "annotator"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"username": ["'zoe' exists already"]}
    listed = staff_api.get("/api/campaigns/cvpr/people/").json()["results"]
    people = {row["username"]: row for row in listed}
    assert people["zoe"]["roles"] == ["team"] and people["zoe"]["team"] == "red"
    assert people["zoe"]["invitation"] == "pending"
    assert people["ann1"]["roles"] == [] and people["ann1"]["invitation"] == "none"


def test_api_imports_with_problems_by_line_and_column(staff_api, campaign):
    url = "/api/campaigns/cvpr/people/import/"
    bad = upload(b"username,email,role,team\nann,,team,\n")
    response = staff_api.post(url, {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"line": 2, "column": "team", "message": "a team member needs a team"}]
    }
    response = staff_api.post(url, {"file": upload(CSV)}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert body["teams_created"] == ["red"] and not body["dry_run"]
    assert [(p["line"], p["username"], p["created"]) for p in body["people"]] == [
        (2, "ann", True),
        (3, "tess", True),
    ]
    assert all(p["link"]["kind"] == "invite" for p in body["people"])


def test_api_resets_deactivates_and_sets_teams(staff_api, campaign, organizer, annotator):
    response = staff_api.post("/api/people/ann1/password-reset/")
    assert response.status_code == 201 and response.json()["kind"] == "reset"
    response = staff_api.put("/api/people/ann1/active/", {"is_active": False}, format="json")
    assert response.status_code == 204
    annotator.refresh_from_db()
    assert not annotator.is_active
    response = staff_api.put("/api/people/organizer/active/", {"is_active": False}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "username: you cannot deactivate yourself"}
    User.objects.create_superuser("root", password="pw")
    assert staff_api.post("/api/people/root/password-reset/").status_code == 403
    response = staff_api.put(
        "/api/campaigns/cvpr/people/ann1/team/", {"team": "red"}, format="json"
    )
    assert response.json() == {"team": "red", "team_created": True}
    assert staff_api.post("/api/people/nobody/password-reset/").status_code == 404


def test_the_people_endpoints_are_in_the_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/campaigns/{slug}/people/:",
        "/api/campaigns/{slug}/people/import/:",
        "/api/campaigns/{slug}/people/{username}/team/:",
        "/api/people/{username}/password-reset/:",
        "/api/people/{username}/active/:",
    ):
        assert path in schema
