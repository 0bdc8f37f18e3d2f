"""Organizer pages: the app's own login for strangers, the app's own 403 page for annotators."""

from __future__ import annotations

import pytest
from django.urls import reverse

ORGANIZER_PAGES = ("campaign-list", "tokens")


@pytest.mark.parametrize("name", ORGANIZER_PAGES)
def test_an_annotator_gets_the_apps_403_page_with_a_way_back(client, annotator, name):
    client.force_login(annotator)
    response = client.get(reverse(name))
    assert response.status_code == 403
    assert [t.name for t in response.templates][:2] == ["403.html", "base.html"]
    page = response.content.decode()
    assert "You have no access to this page" in page
    assert f'href="{reverse("queue")}"' in page
    assert "ann1" in page  # whose account it is, in the app's own top bar
    assert "/admin/login/" not in page


def test_an_evaluation_page_refuses_an_annotator_the_same_way(client, annotator, campaign):
    client.force_login(annotator)
    response = client.get(reverse("leaderboard", args=[campaign.slug]))
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]


def test_a_refused_post_changes_nothing(client, annotator):
    from rest_framework.authtoken.models import Token

    client.force_login(annotator)
    response = client.post(reverse("token-issue"), {"username": "ann1"})
    assert response.status_code == 403
    assert not Token.objects.exists()


@pytest.mark.parametrize("name", ORGANIZER_PAGES)
def test_an_anonymous_visitor_is_sent_to_the_apps_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse(name)}"


def test_an_organizer_gets_the_page(staff_client):
    assert staff_client.get(reverse("campaign-list")).status_code == 200


def test_the_api_still_answers_json(client, annotator):
    client.force_login(annotator)
    response = client.get("/api/campaigns/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
