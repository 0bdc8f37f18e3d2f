"""Every list of the annotate API comes in pages, documented as such in the schema."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from annotate.models import Task
from annotate.services import rating_submit
from tests.factories import AssignmentFactory, ClipFactory, EpisodeFactory

pytestmark = pytest.mark.django_db

WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
LISTS = (
    "/api/me/queue/",
    "/api/me/ratings/",
    "/api/campaigns/",
    "/api/campaigns/{slug}/state/",
    "/api/campaigns/{slug}/tasks/",
    "/api/campaigns/{slug}/imports/",
    "/api/campaigns/{slug}/people/",
)


def test_a_list_longer_than_the_limit_is_paged_and_next_leads_to_the_rest(annotator):
    first = AssignmentFactory(annotator=annotator)
    same = {"submission": first.clip.submission}
    assignments = [first] + [
        AssignmentFactory(
            annotator=annotator,
            clip=ClipFactory(**same, episode=EpisodeFactory(task=first.clip.episode.task)),
        )
        for _ in range(2)
    ]
    for minutes, assignment in enumerate(assignments):
        now = NOW + dt.timedelta(minutes=minutes)
        rating_submit(assignment=assignment, user=annotator, score=2, now=now, **WATCHED)
    api = APIClient()
    api.force_authenticate(annotator)

    page = api.get("/api/me/ratings/", {"limit": 2}).json()
    assert page["count"] == 3 and page["previous"] is None
    newest_first = [a.pk for a in reversed(assignments)]
    assert [row["assignment"] for row in page["results"]] == newest_first[:2]
    rest = api.get(page["next"]).json()
    assert [row["assignment"] for row in rest["results"]] == newest_first[2:]
    assert rest["next"] is None and rest["previous"]


def test_without_a_limit_a_page_holds_page_size_rows(staff_api, campaign, settings):
    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    Task.objects.bulk_create(
        Task(campaign=campaign, number=n, key=f"task{n}") for n in range(1, page_size + 2)
    )
    page = staff_api.get(f"/api/campaigns/{campaign.slug}/tasks/").json()
    assert page["count"] == page_size + 1 and len(page["results"]) == page_size
    assert [row["number"] for row in staff_api.get(page["next"]).json()["results"]] == [
        page_size + 1
    ]


def test_the_schema_documents_every_list_as_pages():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    for path in LISTS:
        operation = schema["paths"][path]["get"]
        assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}, path
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        paged = components[body["$ref"].rsplit("/", 1)[-1]]
        assert set(paged["properties"]) == {"count", "next", "previous", "results"}, path
        assert paged["properties"]["results"]["type"] == "array", path
