"""rating_save: the one write behind the rating page and the rating API."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Rating, RatingRevision
from annotate.services import RatingOutcome, RatingRefused, rating_save
from tests.factories import AssignmentFactory, ClipFactory, EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}


@pytest.fixture
def two_clips(db):
    user = UserFactory()
    first = AssignmentFactory(annotator=user)
    second = AssignmentFactory(
        annotator=user,
        clip=ClipFactory(
            submission=first.clip.submission, episode=EpisodeFactory(task=first.clip.episode.task)
        ),
    )
    return user, first, second


def test_the_clip_decides_create_then_revise(two_clips):
    user, first, _ = two_clips
    made = rating_save(assignment=first, user=user, score=2, comment="ok", **WATCHED)
    assert made.outcome == RatingOutcome.CREATED and made.rating.revision == 1
    revised = rating_save(assignment=first, user=user, score=1)
    assert revised.outcome == RatingOutcome.REVISED
    # comment=None keeps the comment; the answers follow the new score.
    assert (revised.rating.score, revised.rating.comment, revised.rating.motion) == (1, "ok", True)
    same = rating_save(assignment=first, user=user, score=1, time_on_page_s=5)
    assert same.outcome == RatingOutcome.UNCHANGED and same.rating.revision == 2
    assert same.rating.time_on_page_s == 5  # the work time still adds up
    assert RatingRevision.objects.filter(rating=made.rating).count() == 2


def test_a_first_rating_asked_for_is_refused_on_a_rated_clip_unless_it_is_the_same(two_clips):
    user, first, _ = two_clips
    rating_save(assignment=first, user=user, score=3, revise=False, **WATCHED)
    again = rating_save(assignment=first, user=user, score=3, revise=False, **WATCHED)
    assert again.outcome == RatingOutcome.REPLAYED and again.rating.revision == 1
    with pytest.raises(RatingRefused, match="already rated"):
        rating_save(assignment=first, user=user, score=0, revise=False, **WATCHED)
    with pytest.raises(RatingRefused, match="submit one first"):
        rating_save(assignment=AssignmentFactory(annotator=user), user=user, score=3, revise=True)


def test_a_key_replays_its_rating_whatever_the_body(two_clips):
    user, first, second = two_clips
    made = rating_save(assignment=first, user=user, score=3, idempotency_key="k", **WATCHED)
    retry = rating_save(assignment=first, user=user, score=0, idempotency_key="k")
    assert retry.outcome == RatingOutcome.REPLAYED and retry.rating.pk == made.rating.pk
    assert Rating.objects.get().score == 3
    with pytest.raises(RatingRefused, match="another clip"):
        rating_save(assignment=second, user=user, score=1, idempotency_key="k", **WATCHED)


def test_keep_judgement_applies_only_when_nothing_is_answered(two_clips):
    user, first, _ = two_clips
    rating_save(assignment=first, user=user, score=2, **WATCHED)
    kept = rating_save(assignment=first, user=user, score=None, comment="x", keep_judgement=True)
    assert (kept.rating.score, kept.rating.comment, kept.outcome) == (2, "x", RatingOutcome.REVISED)
    # An answer given is a new judgement: the score follows from the answers.
    moved = rating_save(
        assignment=first,
        user=user,
        score=None,
        final_state=False,
        motion=False,
        keep_judgement=True,
    )
    assert moved.rating.score == 0
    with pytest.raises(RatingRefused, match="give a score"):
        rating_save(assignment=first, user=user, score=None, comment="y")


def test_the_api_patch_keeps_the_judgement_and_put_does_not(two_clips):
    user, first, _ = two_clips
    rating_save(assignment=first, user=user, score=2, **WATCHED)
    api = APIClient()
    api.force_authenticate(user)
    url = reverse("api-my-rating", args=[first.pk])
    patched = api.patch(url, {"comment": "blurry end"}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["score"], patched.json()["comment"]) == (2, "blurry end")
    put = api.put(url, {"comment": "again"}, format="json")
    assert put.status_code == 400 and "give a score" in put.json()["detail"][0]


def test_the_page_carries_the_rubric_table_for_its_script(client, two_clips):
    user, first, _ = two_clips
    client.force_login(user)
    html = client.get(reverse("rate", args=[first.pk])).content.decode()
    table = json.loads(
        re.search(r'id="rubric-answers" type="application/json">(.*?)</script>', html)[1]
    )
    # The protocol's tree, written out here: final state, then clean (3/2) or motion (1/0).
    assert table == {
        "3": {"final_state": True, "clean": True, "motion": None},
        "2": {"final_state": True, "clean": False, "motion": None},
        "1": {"final_state": False, "clean": None, "motion": True},
        "0": {"final_state": False, "clean": None, "motion": False},
    }
