"""The rating form's JSON answer: the next clip as its page would show it, or a page to load."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from annotate.models import Assignment, Rating
from tests.annotate.test_queue_pages import WATCHED, world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

AS_SCRIPT = {"HTTP_ACCEPT": "application/json"}


def page_config(client, url: str) -> dict:
    html = client.get(url).content.decode()
    return json.loads(
        re.search(r'id="rate-config" type="application/json">(.*?)</script>', html)[1]
    )


def media(assignment: Assignment) -> tuple[str, str]:
    return (
        f"/m/{assignment.clip.episode.reference.token}/video",
        f"/m/{assignment.clip.asset.token}/video",
    )


def test_the_answer_holds_the_next_clip_as_its_page_shows_it(client, annotator, world):  # noqa: F811
    client.force_login(annotator)
    first, second, third = world["ordered"]
    response = client.post(
        reverse("rate-submit", args=[first.pk]),
        {"score": "2", "final_state": "true", "clean": "false", "idempotency_key": "k1", **WATCHED},
        **AS_SCRIPT,
    )

    assert response.status_code == 200
    answer = response.json()
    location = reverse("rate", args=[second.pk]) + f"?done={first.pk}"
    assert answer["location"] == location
    assert Rating.objects.get(assignment=first).score == 2
    assert Assignment.objects.get(pk=second.pk).status == Assignment.Status.IN_PROGRESS
    page = answer["page"]
    assert page["config"] == page_config(client, location)
    config = page["config"]
    assert (config["reference"]["video"], config["generated"]["video"]) == media(second)
    upcoming = config["upcoming"]
    assert (upcoming["reference"]["video"], upcoming["generated"]["video"]) == media(third)
    assert config["cleared_draft"] == str(first.pk) and not config["rated"]
    assert page["action"] == reverse("rate-submit", args=[second.pk])
    assert page["task"] == {
        "number": 3,
        "title": "Banana",
        "instruction": "put the banana in the basket",
    }
    assert page["position"] == {"position": 2, "total": 3, "done": 1}
    assert page["idempotency_key"] and page["idempotency_key"] != "k1"

    # The same form again (a retry): stored once, the same next clip.
    again = client.post(
        reverse("rate-submit", args=[first.pk]),
        {"score": "3", "final_state": "true", "clean": "true", "idempotency_key": "k1", **WATCHED},
        **AS_SCRIPT,
    ).json()
    assert again["location"] == location and again["page"]["config"]["assignment"] == second.pk
    assert Rating.objects.filter(assignment=first).count() == 1
    assert Rating.objects.get(assignment=first).score == 2


def test_refusals_revisions_and_the_end_of_the_queue_answer_with_a_page_to_load(
    client,
    annotator,
    world,  # noqa: F811
):
    client.force_login(annotator)
    first, second, third = world["ordered"]
    submit = reverse("rate-submit", args=[first.pk])

    refused = client.post(submit, {"score": "3", "final_state": "false", **WATCHED}, **AS_SCRIPT)
    assert refused.json() == {"location": reverse("rate", args=[first.pk])}
    assert not Rating.objects.exists()
    assert (
        "score 3 needs final_state=True" in client.get(refused.json()["location"]).content.decode()
    )

    for assignment in (first, second):
        client.post(reverse("rate-submit", args=[assignment.pk]), {"score": "1", **WATCHED})
    revised = client.post(submit, {"score": "0", "motion": "false", **WATCHED}, **AS_SCRIPT)
    # A revision's message comes with the next page load: no page in the answer.
    assert revised.json() == {"location": reverse("rate", args=[third.pk]) + f"?done={first.pk}"}
    assert "Rating revised" in client.get(revised.json()["location"]).content.decode()

    last = client.post(
        reverse("rate-submit", args=[third.pk]), {"score": "1", **WATCHED}, **AS_SCRIPT
    )
    assert last.json() == {"location": reverse("queue") + f"?done={third.pk}"}
    assert "every clip assigned to you is rated" in client.get(reverse("queue")).content.decode()
