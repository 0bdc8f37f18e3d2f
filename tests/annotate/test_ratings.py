from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from annotate.models import Assignment, Campaign, MediaAsset, Rating, RatingRevision
from annotate.services import (
    RatingRefused,
    annotator_queue,
    assignment_next,
    assignment_open,
    assignment_position,
    assignment_upcoming,
    assignments_current,
    campaign_state_change,
    rating_revise,
    rating_submit,
    rubric_resolve,
)
from tests.factories import (
    AssignmentFactory,
    ClipFactory,
    EpisodeFactory,
    SubmissionFactory,
    TaskFactory,
    UserFactory,
)

WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


# The rubric as the protocol states it, written out independently of the service.
def protocol_score(final_state: bool, clean: bool, motion: bool) -> int:
    if final_state:
        return 3 if clean else 2
    return 1 if motion else 0


@given(st.booleans(), st.booleans(), st.booleans())
def test_answers_determine_the_score_and_the_score_the_answers(final_state, clean, motion):
    answers = rubric_resolve(score=None, final_state=final_state, clean=clean, motion=motion)
    assert answers.score == protocol_score(final_state, clean, motion)
    back = rubric_resolve(score=answers.score)
    assert back == answers
    assert back.final_state == final_state
    assert (back.clean if final_state else back.motion) == (clean if final_state else motion)


@pytest.mark.parametrize(
    ("score", "answers", "named"),
    [
        (3, {"final_state": False}, "final_state"),
        (2, {"final_state": True, "clean": True}, "clean"),
        (1, {"motion": False}, "motion"),
        (0, {"final_state": True}, "final_state"),
    ],
)
def test_answers_against_the_score_are_refused_naming_the_question(score, answers, named):
    with pytest.raises(RatingRefused, match=named):
        rubric_resolve(score=score, **answers)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"score": 4}, "0, 1, 2 or 3"),
        ({"score": None}, "final state"),
        ({"score": None, "final_state": True}, "clean"),
        ({"score": None, "final_state": False, "clean": True}, "motion"),
    ],
)
def test_incomplete_or_out_of_range_input_is_refused(kwargs, message):
    with pytest.raises(RatingRefused, match=message):
        rubric_resolve(**kwargs)


def test_a_question_off_the_chosen_branch_is_dropped():
    assert rubric_resolve(score=3, final_state=True, clean=True, motion=False).motion is None


@pytest.fixture
def queue_of_three(db):
    """One annotator, three clips of one campaign in a seeded order (order_key 2, 0, 1)."""
    user = UserFactory()
    first = AssignmentFactory(annotator=user, order_key=2)
    submission = first.clip.submission
    task = first.clip.episode.task
    others = [
        AssignmentFactory(
            annotator=user,
            order_key=key,
            clip=ClipFactory(submission=submission, episode=EpisodeFactory(task=task)),
        )
        for key in (0, 1)
    ]
    return user, [others[0], others[1], first]


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_next_follows_the_order_key_and_marks_the_clip_in_progress(queue_of_three):
    user, ordered = queue_of_three
    taken = assignment_next(user=user, now=NOW)
    assert taken == ordered[0]
    taken.refresh_from_db()
    assert taken.status == Assignment.Status.IN_PROGRESS and taken.started_at == NOW


def test_next_resumes_the_clip_in_progress_before_taking_a_new_one(queue_of_three):
    user, ordered = queue_of_three
    assignment_open(assignment=ordered[2], user=user)
    assert assignment_next(user=user) == ordered[2]
    assert assignment_next(user=user) == ordered[2]
    assert Assignment.objects.filter(status=Assignment.Status.IN_PROGRESS).count() == 1


def test_upcoming_peeks_at_the_next_clip_without_taking_it(queue_of_three):
    user, ordered = queue_of_three
    current = assignment_next(user=user)
    upcoming = assignment_upcoming(user=user, exclude=current)
    assert upcoming == ordered[1]
    upcoming.refresh_from_db()
    assert upcoming.status == Assignment.Status.PENDING


def test_a_rating_moves_the_queue_on_and_the_last_one_empties_it(queue_of_three):
    user, ordered = queue_of_three
    for expected in ordered:
        assignment = assignment_next(user=user)
        assert assignment == expected
        rating_submit(assignment=assignment, user=user, score=2, **WATCHED)
    assert assignment_next(user=user) is None
    [queue] = annotator_queue(user=user)
    assert (queue.done, queue.total, queue.has_open_work) == (3, 3, False)


def test_only_the_newest_submission_of_a_team_is_in_the_queue(db):
    user = UserFactory()
    old = AssignmentFactory(annotator=user, order_key=0)
    newer = SubmissionFactory(team=old.clip.submission.team, version=2)
    new = AssignmentFactory(
        annotator=user, order_key=5, clip=ClipFactory(submission=newer, episode=old.clip.episode)
    )
    assert assignment_next(user=user) == new
    [queue] = annotator_queue(user=user)
    assert queue.total == 1


def test_clips_whose_media_is_not_ready_are_not_handed_out(db):
    user = UserFactory()
    waiting = AssignmentFactory(annotator=user, order_key=0)
    MediaAsset.objects.filter(pk=waiting.clip.asset_id).update(status=MediaAsset.Status.PENDING)
    ready = AssignmentFactory(
        annotator=user,
        order_key=1,
        clip=ClipFactory(
            submission=waiting.clip.submission,
            episode=EpisodeFactory(task=waiting.clip.episode.task),
        ),
    )
    assert assignment_next(user=user) == ready


def test_submit_stores_the_rating_marks_done_and_keeps_revision_one(queue_of_three):
    user, ordered = queue_of_three
    assignment = assignment_next(user=user)
    rating = rating_submit(
        assignment=assignment,
        user=user,
        score=1,
        comment="  banana vanishes  ",
        time_on_page_s=42.5,
        watched_reference=0.97,
        watched_generated=1.0,
        now=NOW,
    )
    assert (rating.score, rating.final_state, rating.clean, rating.motion) == (1, False, None, True)
    assert rating.comment == "banana vanishes" and rating.time_on_page_s == 42.5
    assert (rating.watched_reference, rating.watched_generated) == (0.97, 1.0)
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.DONE and assignment.completed_at == NOW
    assert list(rating.revisions.values_list("revision", "score")) == [(1, 1)]


def test_submit_from_answers_alone_derives_the_score(queue_of_three):
    user, ordered = queue_of_three
    rating = rating_submit(
        assignment=ordered[0], user=user, score=None, final_state=True, clean=False, **WATCHED
    )
    assert rating.score == 2


def test_double_submission_is_idempotent(queue_of_three):
    user, ordered = queue_of_three
    first = rating_submit(assignment=ordered[0], user=user, score=3, comment="ok", **WATCHED)
    again = rating_submit(assignment=ordered[0], user=user, score=3, comment="ok", **WATCHED)
    assert again.pk == first.pk and again.revision == 1
    assert Rating.objects.count() == 1 and RatingRevision.objects.count() == 1


def test_a_different_second_submission_is_refused(queue_of_three):
    user, ordered = queue_of_three
    rating_submit(assignment=ordered[0], user=user, score=3, **WATCHED)
    with pytest.raises(RatingRefused, match="revise"):
        rating_submit(assignment=ordered[0], user=user, score=0, **WATCHED)


def test_someone_elses_assignment_is_refused(queue_of_three):
    _, ordered = queue_of_three
    intruder = UserFactory()
    with pytest.raises(RatingRefused, match="not assigned to you"):
        rating_submit(assignment=ordered[0], user=intruder, score=3, **WATCHED)
    with pytest.raises(RatingRefused, match="not assigned to you"):
        assignment_open(assignment=ordered[0], user=intruder)
    assert not Rating.objects.exists()


def test_a_locked_campaign_takes_no_rating_and_no_revision(queue_of_three):
    user, ordered = queue_of_three
    rating_submit(assignment=ordered[0], user=user, score=3, **WATCHED)
    campaign_state_change(campaign=ordered[0].campaign, to_state=Campaign.State.LOCKED, by=None)
    with pytest.raises(RatingRefused, match="locked"):
        rating_submit(assignment=ordered[1], user=user, score=3, **WATCHED)
    with pytest.raises(RatingRefused, match="locked"):
        rating_revise(assignment=ordered[0], user=user, score=0)
    assert Rating.objects.get().score == 3


def test_full_watch_is_required_when_the_campaign_says_so(queue_of_three):
    user, ordered = queue_of_three
    with pytest.raises(RatingRefused, match=r"reference 50%, generated 100%"):
        rating_submit(
            assignment=ordered[0], user=user, score=3, watched_reference=0.5, watched_generated=1
        )
    campaign = ordered[0].campaign
    campaign.require_full_watch = False
    campaign.save()
    assert rating_submit(assignment=ordered[0], user=user, score=3).score == 3


def test_watch_fractions_outside_zero_one_are_refused(queue_of_three):
    user, ordered = queue_of_three
    with pytest.raises(RatingRefused, match="watched_generated"):
        rating_submit(
            assignment=ordered[0], user=user, score=3, watched_reference=1, watched_generated=1.5
        )


def test_every_revision_is_kept(queue_of_three):
    user, ordered = queue_of_three
    rating_submit(assignment=ordered[0], user=user, score=3, comment="fine", **WATCHED, now=NOW)
    later = NOW + dt.timedelta(minutes=5)
    rating = rating_revise(assignment=ordered[0], user=user, score=2, time_on_page_s=10, now=later)
    rating = rating_revise(
        assignment=ordered[0], user=user, score=None, final_state=False, motion=False, comment="no"
    )
    assert (rating.score, rating.revision, rating.comment) == (0, 3, "no")
    assert rating.updated_at > later
    history = list(rating.revisions.values_list("revision", "score", "comment"))
    assert history == [(1, 3, "fine"), (2, 2, "fine"), (3, 0, "no")]


def test_a_revision_that_changes_nothing_adds_no_revision(queue_of_three):
    user, ordered = queue_of_three
    rating_submit(assignment=ordered[0], user=user, score=3, time_on_page_s=5, **WATCHED)
    rating = rating_revise(assignment=ordered[0], user=user, score=3, time_on_page_s=7)
    assert rating.revision == 1 and rating.time_on_page_s == 12
    assert RatingRevision.objects.count() == 1


def test_revising_needs_a_rating_and_the_owner(queue_of_three):
    user, ordered = queue_of_three
    with pytest.raises(RatingRefused, match="submit one first"):
        rating_revise(assignment=ordered[0], user=user, score=3)
    rating_submit(assignment=ordered[0], user=user, score=3, **WATCHED)
    with pytest.raises(RatingRefused, match="not assigned to you"):
        rating_revise(assignment=ordered[0], user=UserFactory(), score=1)


def test_progress_is_counted_per_task_and_position_follows_the_order(db):
    user = UserFactory()
    first = AssignmentFactory(annotator=user, order_key=3)
    campaign, submission = first.campaign, first.clip.submission
    task_b = TaskFactory(campaign=campaign, number=first.clip.episode.task.number + 1)
    for key, task in ((1, first.clip.episode.task), (0, task_b), (2, task_b), (4, task_b)):
        AssignmentFactory(
            annotator=user,
            order_key=key,
            clip=ClipFactory(submission=submission, episode=EpisodeFactory(task=task)),
        )
    taken = assignment_next(user=user)
    rating_submit(assignment=taken, user=user, score=0, **WATCHED)
    [queue] = annotator_queue(user=user)
    assert [(t.task_number, t.done, t.total) for t in queue.tasks] == [
        (first.clip.episode.task.number, 0, 2),
        (task_b.number, 1, 3),
    ]
    position = assignment_position(assignment=first)
    assert (position.position, position.total, position.done) == (2, 2, 0)


def test_started_at_defaults_to_the_current_time(queue_of_three):
    user, _ = queue_of_three
    before = timezone.now()
    assert assignment_next(user=user).started_at >= before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_asking_at_once_get_different_clips(queue_of_three):
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): row locks with SKIP LOCKED")
    import threading

    user, ordered = queue_of_three
    holding, release = threading.Event(), threading.Event()
    taken: dict[str, Assignment | None] = {}

    def first_tab() -> None:
        try:
            with transaction.atomic():
                taken["first"] = assignment_next(user=user)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_tab)
    thread.start()
    assert holding.wait(10)
    try:
        taken["second"] = assignment_next(user=user)
    finally:
        release.set()
        thread.join(10)
    assert taken["first"] == ordered[0]
    assert taken["second"] == ordered[1]


def test_a_newer_submission_takes_the_older_ones_clips_out_of_every_queue(queue_of_three):
    user, ordered = queue_of_three
    team = ordered[0].clip.submission.team
    elsewhere = AssignmentFactory(annotator=user)  # another campaign, untouched
    newer = SubmissionFactory(team=team, version=2)
    fresh = AssignmentFactory(
        annotator=user,
        campaign=ordered[0].campaign,
        clip=ClipFactory(submission=newer, episode=ordered[0].clip.episode),
    )
    assert set(assignments_current(user=user)) == {fresh, elsewhere}
    assert list(assignments_current(user=user, campaign=fresh.campaign)) == [fresh]


def test_opening_a_stale_copy_keeps_the_first_start(queue_of_three):
    user, ordered = queue_of_three
    stale = Assignment.objects.get(pk=ordered[0].pk)
    assignment_open(assignment=ordered[0], user=user, now=NOW)
    later = NOW + dt.timedelta(minutes=5)
    opened = assignment_open(assignment=stale, user=user, now=later)
    assert (opened.status, opened.started_at) == (Assignment.Status.IN_PROGRESS, NOW)
    stored = Assignment.objects.get(pk=stale.pk)
    assert (stored.status, stored.started_at) == (Assignment.Status.IN_PROGRESS, NOW)


@pytest.fixture
def superseded(queue_of_three):
    """The annotator's first clip, after its team imported a newer version of that episode."""
    user, ordered = queue_of_three
    old = ordered[0]
    newer = SubmissionFactory(team=old.clip.submission.team, version=2)
    ClipFactory(submission=newer, episode=old.clip.episode)
    return user, old


def test_a_superseded_clip_takes_no_rating_and_does_not_open(superseded):
    user, old = superseded
    with pytest.raises(RatingRefused, match="newer one has replaced"):
        rating_submit(assignment=old, user=user, score=3, **WATCHED)
    with pytest.raises(RatingRefused, match="newer one has replaced"):
        assignment_open(assignment=old, user=user)
    old.refresh_from_db()
    assert old.status == Assignment.Status.PENDING and not Rating.objects.exists()


def test_a_superseded_clip_is_refused_by_the_api_and_the_page(superseded, client):
    from rest_framework.test import APIClient

    user, old = superseded
    api = APIClient()
    api.force_authenticate(user)
    response = api.post(f"/api/me/assignments/{old.pk}/rating/", {"score": 3, **WATCHED})
    assert response.status_code == 400
    assert "newer one has replaced" in str(response.json()["detail"])
    client.force_login(user)
    page = client.get(f"/rate/{old.pk}/", follow=True)
    assert page.redirect_chain[-1][0] == "/queue/"
    assert "newer one has replaced" in page.content.decode()
    assert not Rating.objects.exists()


def test_a_locked_campaign_hands_out_and_starts_no_clip(queue_of_three):
    from rest_framework.test import APIClient

    user, ordered = queue_of_three
    campaign_state_change(campaign=ordered[0].campaign, to_state=Campaign.State.LOCKED, by=None)
    api = APIClient()
    api.force_authenticate(user)
    assert api.post("/api/me/next/", {}).status_code == 204
    assert assignment_next(user=user) is None
    assert assignment_upcoming(user=user) is None
    # The page may still show a clip, read-only, but it starts nothing.
    assignment_open(assignment=ordered[0], user=user)
    assert set(Assignment.objects.values_list("status", "started_at")) == {
        (Assignment.Status.PENDING, None)
    }


def test_the_server_measures_the_time_from_opening_to_each_stored_rating(queue_of_three):
    user, ordered = queue_of_three
    opened = assignment_next(user=user, now=NOW)
    rating = rating_submit(
        assignment=opened,
        user=user,
        score=3,
        time_on_page_s=500,  # the page's own figure, kept beside the server's
        now=NOW + dt.timedelta(seconds=90),
        **WATCHED,
    )
    rating_revise(assignment=opened, user=user, score=1, now=NOW + dt.timedelta(minutes=5))
    rating.refresh_from_db()
    assert (rating.time_on_page_s, rating.server_time_s) == (500, 90)
    history = list(rating.revisions.values_list("revision", "server_time_s"))
    assert history == [(1, 90), (2, 300)]


def test_a_rating_of_a_clip_never_opened_has_no_server_time(queue_of_three):
    user, ordered = queue_of_three
    rating = rating_submit(assignment=ordered[1], user=user, score=3, **WATCHED)
    assert rating.watched_reference == 1.0 and rating.server_time_s is None


@pytest.mark.parametrize(
    ("score", "accepted"), [("3 ", True), (" 2", True), ("1.0", True), ("3.5", False), ("4", False)]
)
def test_the_page_and_the_api_read_a_score_the_same_way(queue_of_three, client, score, accepted):
    from rest_framework.test import APIClient

    user, ordered = queue_of_three
    api = APIClient()
    api.force_authenticate(user)
    by_api = api.post(f"/api/me/assignments/{ordered[0].pk}/rating/", {"score": score, **WATCHED})
    client.force_login(user)
    client.post(f"/rate/{ordered[1].pk}/submit", {"score": score, **WATCHED})
    stored = dict(Rating.objects.values_list("assignment_id", "score"))
    assert (by_api.status_code == 201) is accepted
    assert (ordered[1].pk in stored) is accepted
    if accepted:
        assert stored[ordered[0].pk] == stored[ordered[1].pk] == int(float(score))


def test_the_page_says_no_change_when_a_revision_changes_nothing(queue_of_three, client):
    user, ordered = queue_of_three
    rating_submit(assignment=ordered[0], user=user, score=2, comment="fine", **WATCHED)
    client.force_login(user)
    form = {"score": "2", "comment": "fine", **WATCHED}
    page = client.post(f"/rate/{ordered[0].pk}/submit", form, follow=True)
    text = page.content.decode()
    assert "No change" in text and "Rating revised" not in text
    assert RatingRevision.objects.count() == 1
    page = client.post(f"/rate/{ordered[0].pk}/submit", {**form, "score": "1"}, follow=True)
    assert "Rating revised" in page.content.decode()
    assert RatingRevision.objects.count() == 2
