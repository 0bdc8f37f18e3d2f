"""Faults: a retried rating stores one rating; a database gone mid-write answers 503, writes nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Assignment, Rating, RatingRevision
from annotate.services import rating_submit
from tests.factories import AssignmentFactory

WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}


@pytest.fixture
def assignment(db, annotator):
    return AssignmentFactory(annotator=annotator)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def rate_url(assignment) -> str:
    return reverse("api-my-rating", args=[assignment.pk])


# ---- (a) idempotent submits --------------------------------------------------------------


def test_an_api_retry_with_the_same_key_returns_the_stored_rating(assignment, annotator):
    client = api(annotator)
    first = client.post(rate_url(assignment), {"score": 3, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    # The retry's body differs (even invalid): the stored rating answers, nothing is added.
    for body in ({"score": 0, "comment": "changed my mind", **WATCHED}, {"score": 9}):
        retry = client.post(rate_url(assignment), body, HTTP_IDEMPOTENCY_KEY="k-1")
        assert retry.status_code == 201
        assert retry.json() == first.json()
    rating = Rating.objects.get()
    assert (rating.score, rating.revision, rating.idempotency_key) == (3, 1, "k-1")
    assert RatingRevision.objects.count() == 1


def test_a_new_key_on_a_rated_clip_follows_the_usual_rules(assignment, annotator):
    client = api(annotator)
    client.post(rate_url(assignment), {"score": 3, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k-1")
    same = client.post(rate_url(assignment), {"score": 3, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert same.status_code == 201  # the same judgement again is accepted as before
    other = client.post(rate_url(assignment), {"score": 0, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k-3")
    assert other.status_code == 400
    assert "already rated" in str(other.json())
    assert Rating.objects.get().idempotency_key == "k-1"
    assert RatingRevision.objects.count() == 1


def test_a_key_is_per_annotator_and_per_clip(assignment, annotator):
    client = api(annotator)
    client.post(rate_url(assignment), {"score": 3, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k-1")
    # Another annotator's identical key finds nothing of the first one's and rates normally.
    stranger = AssignmentFactory()
    theirs = api(stranger.annotator).post(
        rate_url(stranger), {"score": 1, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert theirs.status_code == 201
    assert theirs.json()["score"] == 1
    # The same annotator reusing the key on another clip is refused, not answered with clip 1.
    second = AssignmentFactory(annotator=annotator, clip__submission=assignment.clip.submission)
    reused = client.post(rate_url(second), {"score": 2, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 400
    assert "another clip" in str(reused.json())
    assert Rating.objects.count() == 2


def test_the_rating_page_resubmitted_stores_one_rating(client, assignment, annotator):
    client.force_login(annotator)
    page = client.get(reverse("rate", args=[assignment.pk]))
    key = page.context["idempotency_key"]
    assert f'name="idempotency_key" id="f-idempotency-key" value="{key}"' in page.content.decode()
    form = {"score": "2", "idempotency_key": key, **WATCHED}
    url = reverse("rate-submit", args=[assignment.pk])
    assert client.post(url, form).status_code == 302
    # The browser sends the same form again, changed or not: no revision, no second rating.
    again = client.post(url, {**form, "score": "0", "comment": "second thoughts"}, follow=True)
    assert again.status_code == 200
    assert "revised" not in again.content.decode()
    rating = Rating.objects.get()
    assert (rating.score, rating.revision, rating.comment) == (2, 1, "")
    assert RatingRevision.objects.count() == 1
    # The header works as well as the field.
    assert client.post(url, {"score": "1", **WATCHED}, HTTP_IDEMPOTENCY_KEY=key).status_code == 302
    assert Rating.objects.get().revision == 1


def test_a_page_form_sent_for_another_clip_is_refused(client, assignment, annotator):
    rating_submit(assignment=assignment, user=annotator, score=3, idempotency_key="k-1", **WATCHED)
    second = AssignmentFactory(annotator=annotator, clip__submission=assignment.clip.submission)
    client.force_login(annotator)
    url = reverse("rate-submit", args=[second.pk])
    page = client.post(url, {"score": "1", "idempotency_key": "k-1", **WATCHED}, follow=True)
    assert "not saved: this idempotency key was already used for another clip" in (
        page.content.decode()
    )
    assert not Rating.objects.filter(assignment=second).exists()


def test_a_fresh_page_form_still_revises(client, assignment, annotator):
    rating_submit(assignment=assignment, user=annotator, score=3, idempotency_key="k-1", **WATCHED)
    client.force_login(annotator)
    key = client.get(reverse("rate", args=[assignment.pk])).context["idempotency_key"]
    url = reverse("rate-submit", args=[assignment.pk])
    client.post(url, {"score": "1", "idempotency_key": key})
    assert (Rating.objects.get().score, Rating.objects.get().revision) == (1, 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_retries_with_one_key_store_one_rating(annotator):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): concurrent writers and row locks")
    assignment = AssignmentFactory(annotator=annotator)
    start = threading.Barrier(2)
    answers: dict[int, object] = {}

    def send(score: int) -> None:
        try:
            start.wait(10)
            answers[score] = api(annotator).post(
                rate_url(assignment), {"score": score, **WATCHED}, HTTP_IDEMPOTENCY_KEY="same"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(score,)) for score in (3, 0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(r.status_code for r in answers.values()) == [201, 201]
    assert answers[3].json() == answers[0].json()
    rating = Rating.objects.get()
    assert rating.score == answers[3].json()["score"]
    assert RatingRevision.objects.count() == 1


# ---- (b) the database going away mid-request ------------------------------------------


class FailOnce:
    """Raise OperationalError on the first query whose SQL contains `marker`, as a dead server would."""

    def __init__(self, marker: str) -> None:
        self.marker, self.fired = marker, False

    def __call__(self, execute, sql, params, many, context):
        if not self.fired and self.marker in sql.lower():
            self.fired = True
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


# The rating row is written, then its first revision: the fault falls between the two.
MID_RATING = 'insert into "annotate_ratingrevision"'


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_503_and_keeps_no_part_of_the_rating(annotator):
    assignment = AssignmentFactory(annotator=annotator)
    client = api(annotator)
    fault = FailOnce(MID_RATING)
    with connection.execute_wrapper(fault):
        response = client.post(
            rate_url(assignment), {"score": 2, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k"
        )
    assert fault.fired
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "unavailable" in response.json()["detail"]
    assert Rating.objects.count() == 0
    assert RatingRevision.objects.count() == 0
    assert Assignment.objects.get().status != Assignment.Status.DONE
    # The client's retry with its key then stores the rating, once.
    retry = client.post(rate_url(assignment), {"score": 2, **WATCHED}, HTTP_IDEMPOTENCY_KEY="k")
    assert retry.status_code == 201
    assert (Rating.objects.count(), RatingRevision.objects.count()) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_the_page_answers_503_as_html_and_keeps_no_part_of_the_rating(client, annotator):
    assignment = AssignmentFactory(annotator=annotator)
    client.force_login(annotator)
    fault = FailOnce(MID_RATING)
    with connection.execute_wrapper(fault):
        response = client.post(
            reverse("rate-submit", args=[assignment.pk]), {"score": "3", **WATCHED}
        )
    assert fault.fired
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "Retry-After" in response
    assert b"nothing was saved" in response.content
    assert (Rating.objects.count(), RatingRevision.objects.count()) == (0, 0)
    assert Assignment.objects.get().completed_at is None


@pytest.mark.django_db(transaction=True)
def test_other_errors_are_not_turned_into_503(client, annotator):
    """A programming error stays a 500: only a lost database is 'try again later'."""
    from django.db import IntegrityError

    assignment = AssignmentFactory(annotator=annotator)
    client.force_login(annotator)
    client.raise_request_exception = False

    def broken(execute, sql, params, many, context):
        if MID_RATING in sql.lower():
            raise IntegrityError("not an outage")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(broken):
        response = client.post(rate_url_page(assignment), {"score": "3", **WATCHED})
    assert response.status_code == 500
    assert Rating.objects.count() == 0


def rate_url_page(assignment) -> str:
    return reverse("rate-submit", args=[assignment.pk])
