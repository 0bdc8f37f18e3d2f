"""The blinding crawl, with quality control on: a practice round first, gold clips in the
queue. The annotator passes the practice round through its pages, then crawls everything
as in test_blinding.py, rating gold and regular clips through the page and the API. No
response may name a team, a file or the judge (as before), nor tell a gold clip from any
other: no word, field, class or URL shape of its own; a gold clip's rating page, its JSON
and its API answers have exactly the shape of a regular clip's.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from annotate.models import Assignment, Clip, PracticeAttempt, QualityExample
from annotate.selectors import current_clips
from annotate.services import quality as quality_services
from tests.security.test_blinding import (
    WATCHED,
    Crawl,
    Marker,
    _form_fields,
    _json_keys,
    _json_values,
    forbidden_markers,
)

pytestmark = pytest.mark.django_db(transaction=True)

GOLD_WHY = "known answer kept from raters"
PRACTICE = [(3, "clean and the same outcome"), (1, "the outcome differs, the arm moves alike")]


class _Skeleton(HTMLParser):
    """A page's structure: each tag with its attribute names, id and classes, no values."""

    SHAPE = {"id", "class", "type", "name", "role", "method", "hidden", "disabled"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        shape = tuple(sorted((k, v if k in self.SHAPE else None) for k, v in attrs.items()))
        if tag == "input" and attrs.get("type") == "radio":
            shape += (("value", attrs.get("value")),)
        self.tags.append((tag, shape))


def skeleton(html: str) -> list[tuple]:
    parser = _Skeleton()
    parser.feed(html)
    return parser.tags


def shape(data):
    """The keys and value types of a JSON document, values left out."""
    if isinstance(data, dict):
        return {key: shape(value) for key, value in data.items()}
    if isinstance(data, list):
        return [shape(value) for value in data[:1]]
    return type(data).__name__


def rate_config(html: str) -> dict:
    match = re.search(r'<script id="rate-config" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1))


def setup_quality(world) -> tuple[list[int], list[int]]:
    """Two practice pairs, three gold clips outside the annotator's queue, one gold per 2."""
    campaign, annotator = world.campaign, world.users["annotator"]
    held = set(Assignment.objects.filter(annotator=annotator).values_list("clip_id", flat=True))
    free = [
        clip.pk
        for clip in current_clips(campaign=campaign).order_by("pk")
        if clip.pk not in held and clip.asset.status == "ready"
    ]
    gold, practice = free[:3], free[3:5]
    for clip_id, score in zip(gold, (3, 2, 0), strict=True):
        quality_services.quality_example_mark(
            campaign=campaign, clip_id=clip_id, kind="gold", score=score, explanation=GOLD_WHY
        )
    for clip_id, (score, why) in zip(practice, PRACTICE, strict=True):
        quality_services.quality_example_mark(
            campaign=campaign, clip_id=clip_id, kind="practice", score=score, explanation=why
        )
    quality_services.quality_settings_update(campaign=campaign, gold_every=2)
    result = quality_services.gold_plan_apply(campaign=campaign)
    assert Assignment.objects.filter(annotator=annotator, gold=True).count() >= 2, result
    return gold, practice


def test_gold_clips_and_the_practice_round_give_nothing_away(world):
    gold_clips, _ = setup_quality(world)
    annotator = world.users["annotator"]
    slug = world.campaign.slug
    client = Client()
    client.force_login(annotator)
    markers = forbidden_markers(world) + [
        Marker(b"gold", "the word gold"),
        Marker(GOLD_WHY.encode(), "a gold clip's explanation"),
    ]
    crawl = Crawl(client=client, markers=markers)

    # The queue sends them to the practice round; they pass it through its pages.
    crawl.get(reverse("home"))
    crawl.get(reverse("queue"))
    assert reverse("practice", args=[slug]) in crawl.seen
    crawl.post(reverse("practice-start", args=[slug]), {})
    attempt = PracticeAttempt.objects.get(annotator=annotator)
    for step, example_id in enumerate(attempt.examples, start=1):
        example = QualityExample.objects.get(pk=example_id)
        crawl.post(reverse("practice-answer", args=[slug, step]), {"score": example.score})
        page = client.get(reverse("practice-step", args=[slug, step])).content.decode()
        assert example.explanation in page, "the feedback gives the reason"
    attempt.refresh_from_db()
    assert attempt.passed
    crawl.check(
        reverse("api-practice", args=[slug]), client.get(reverse("api-practice", args=[slug]))
    )

    # The real work, as in test_blinding: pages, the API, media.
    crawl.seen.discard(reverse("queue"))
    crawl.get(reverse("queue"))
    crawl.get(reverse("api-my-queue"))
    crawl.get(reverse("api-my-ratings"))
    mine = list(
        Assignment.objects.filter(annotator=annotator, status="pending").select_related(
            "clip__episode__task"
        )
    )
    gold = [a for a in mine if a.gold]
    regular = [a for a in mine if not a.gold]
    assert len(gold) >= 2 and len(regular) >= 2
    for assignment in mine:
        crawl.get(reverse("rate", args=[assignment.pk]))

    # A gold clip's page has the shape of a regular clip's page of the same task.
    compared = 0
    for item in gold:
        twin = next(
            (a for a in regular if a.clip.episode.task_id == item.clip.episode.task_id), None
        )
        if twin is None:
            continue
        pages = [client.get(reverse("rate", args=[a.pk])).content.decode() for a in (item, twin)]
        assert skeleton(pages[0]) == skeleton(pages[1])
        assert shape(rate_config(pages[0])) == shape(rate_config(pages[1]))
        compared += 1
    assert compared, "a gold clip and a regular one of the same task were compared"
    for assignment in mine:
        assert re.fullmatch(r"/rate/\d+/", reverse("rate", args=[assignment.pk]))

    # Rated through the API and through the page: the answers have the same shape.
    answers = {}
    for label, assignment in (("gold", gold[0]), ("regular", regular[0])):
        url = reverse("api-my-rating", args=[assignment.pk])
        response = client.post(
            url,
            {"score": 2, "final_state": True, "clean": False, **WATCHED},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        crawl.check(url, response, method="POST")
        answers[label] = shape(response.json())
    assert answers["gold"] == answers["regular"]
    swaps = {}
    for label, assignment in (("gold", gold[1]), ("regular", regular[1])):
        page = client.get(reverse("rate", args=[assignment.pk])).content.decode()
        action = reverse("rate-submit", args=[assignment.pk])
        form = _form_fields(page, action) | {"score": 3, "final_state": "true", "clean": "true"}
        swap = client.post(action, form | WATCHED, HTTP_ACCEPT="application/json")
        crawl.check(action, swap, method="POST")
        swaps[label] = swap.json()
        for url in _json_values(swap.json()):
            if isinstance(url, str) and url.startswith(("/m/", "/rate/")):
                crawl.get(url)
    assert {key for key in _json_keys(swaps["gold"])} == {
        key for key in _json_keys(swaps["regular"])
    }
    for url in (reverse("queue"), reverse("api-my-ratings")):
        crawl.seen.discard(url)
        crawl.get(url)
    response = client.post(reverse("api-my-next"), {}, content_type="application/json")
    crawl.check(reverse("api-my-next"), response, method="POST")

    assert Assignment.objects.filter(annotator=annotator, gold=True, status="done").count() >= 2
    assert QualityExample.objects.filter(clip_id__in=gold_clips, kind="gold").count() == 3
    assert Clip.objects.filter(pk__in=gold_clips).count() == 3
    assert len(crawl.media) >= 4 and crawl.media_opened >= 4
    assert not crawl.leaks, f"{len(crawl.leaks)} leaks in {len(crawl.seen)} URLs:\n" + "\n".join(
        crawl.leaks
    )


# Drawn anew for every response: a form's CSRF token and a rating form's idempotency key.
PER_RESPONSE = re.compile(
    r'(csrfmiddlewaretoken" value=|"csrf_token": |csrftoken=|idempotency_key" id="f-idempotency'
    r'-key" value=|"idempotency_key": )"?[A-Za-z0-9]+'
)


def _annotator_views(client: Client, assignments: list[Assignment]) -> dict[str, str]:
    """Everything the annotator reads about their work, per-response tokens blanked."""
    urls = [reverse("queue"), reverse("api-my-queue"), reverse("api-my-ratings")]
    urls += [reverse("rate", args=[a.pk]) for a in assignments]
    views = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        views[url] = PER_RESPONSE.sub(r"\1", response.content.decode())
    return views


def test_an_annotators_pages_and_counts_do_not_change_when_the_gold_flags_go(world):
    """Gold rows are ordinary work to their annotator: the queue, its counts ("n of 10"),
    every rating page and the annotator API read the same, byte for byte, once the very
    same rows are plain work; so no count anywhere differs by the number of gold clips."""
    campaign, annotator = world.campaign, world.users["annotator"]
    held = set(Assignment.objects.filter(annotator=annotator).values_list("clip_id", flat=True))
    free = [
        clip.pk
        for clip in current_clips(campaign=campaign).order_by("pk")
        if clip.pk not in held and clip.asset.status == "ready"
    ]
    for clip_id, score in zip(free[:3], (3, 2, 0), strict=True):
        quality_services.quality_example_mark(
            campaign=campaign, clip_id=clip_id, kind="gold", score=score, explanation=GOLD_WHY
        )
    quality_services.quality_settings_update(campaign=campaign, gold_every=2)
    quality_services.gold_plan_apply(campaign=campaign)
    mine = list(Assignment.objects.filter(annotator=annotator).order_by("order_key", "pk"))
    gold = [a for a in mine if a.gold]
    regular = [a for a in mine if not a.gold]
    assert len(gold) >= 2 and len(regular) >= 2
    client = Client()
    client.force_login(annotator)
    for assignment in (gold[0], regular[0]):  # a rated gold check and a rated clip
        response = client.post(
            reverse("api-my-rating", args=[assignment.pk]),
            {"score": 2, "final_state": True, "clean": False, **WATCHED},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content

    # Each queue counts every row it holds, gold or not: "n of N" is the queue's own size.
    queue = client.get(reverse("api-my-queue")).json()["results"]
    total = sum(task["total"] for item in queue for task in item["tasks"])
    assert total == len(mine) and len(mine) > len(regular)

    _annotator_views(client, mine)  # opens each clip once, as the annotator would
    mine = list(Assignment.objects.filter(annotator=annotator).order_by("order_key", "pk"))
    with_gold = _annotator_views(client, mine)
    Assignment.objects.filter(annotator=annotator, gold=True).update(gold=False)
    without_gold = _annotator_views(client, mine)
    assert with_gold.keys() == without_gold.keys()
    for url, body in with_gold.items():
        assert body == without_gold[url], f"{url} tells gold rows apart"
