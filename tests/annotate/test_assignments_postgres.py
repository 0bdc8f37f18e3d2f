"""The caps under concurrency, on PostgreSQL: the campaign lock and the database trigger.

Run with DATABASE_URL=postgres://... ; on SQLite these tests are skipped (SQLite has
one writer at a time and no trigger is installed there).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import IntegrityError, connection, connections, transaction

from annotate.models import Assignment
from annotate.services import (
    AssignmentError,
    assignment_annotator_add,
    assignment_plan_apply,
)
from tests.annotate.test_assignments_services import assert_caps_hold, build_campaign
from tests.factories import AssignmentFactory, ClipFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (set DATABASE_URL): the cap trigger and row locks are PostgreSQL's",
    ),
]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_at_once(jobs) -> list[BaseException | None]:
    """Start every job in its own thread and connection at the same moment."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[BaseException | None] = [None] * len(jobs)

    def runner(index, job):
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # noqa: BLE001 - the test inspects every outcome
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_trigger_refuses_rows_over_the_caps():
    built = build_campaign(
        teams=1, tasks=1, episodes=4, annotators=2, raters_per_cell=1, max_clips_per_rater=2
    )
    clips = list(built.teams[0].submissions.get().clips.order_by("pk"))
    first, second = built.users
    AssignmentFactory(clip=clips[0], annotator=first)
    AssignmentFactory(clip=clips[1], annotator=first)
    with pytest.raises(IntegrityError, match="already has 2 clips"), transaction.atomic():
        AssignmentFactory(clip=clips[2], annotator=first)
    with pytest.raises(IntegrityError, match="already has 1 raters"), transaction.atomic():
        AssignmentFactory(clip=clips[2], annotator=second)
    elsewhere = ClipFactory()
    with pytest.raises(IntegrityError, match="belongs to campaign"), transaction.atomic():
        AssignmentFactory(clip=elsewhere, annotator=first, campaign=built.campaign)
    # A move (an update of the annotator) may add a rater but not exceed the clip cap.
    moved = Assignment.objects.get(clip=clips[0])
    moved.annotator = second
    moved.save()
    assert Assignment.objects.filter(annotator=second).count() == 1


def test_trigger_serialises_concurrent_inserts_that_bypass_the_services():
    built = build_campaign(teams=1, tasks=1, episodes=4, annotators=6, raters_per_cell=2)
    clip = built.teams[0].submissions.get().clips.order_by("pk").first()

    def insert_for(user):
        def job():
            with transaction.atomic():
                Assignment.objects.create(campaign=built.campaign, annotator=user, clip=clip)
                # Hold the transaction open: without the trigger's lock every writer would
                # count the committed rows before any other had committed.
                time.sleep(0.3)

        return job

    outcomes = run_at_once([insert_for(user) for user in built.users])
    refused = [exc for exc in outcomes if exc is not None]
    assert all(isinstance(exc, IntegrityError) for exc in refused), refused
    assert len(refused) == 4
    assert Assignment.objects.filter(clip=clip).count() == 2


def test_concurrent_applies_and_additions_never_exceed_the_caps():
    built = build_campaign(
        teams=4, tasks=2, episodes=6, annotators=3, raters_per_cell=3, max_clips_per_rater=4
    )
    latecomers = [UserFactory(username=f"late{i}") for i in range(4)]
    jobs = [lambda: assignment_plan_apply(campaign=built.campaign) for _ in range(6)]
    jobs += [
        (lambda user=user: assignment_annotator_add(campaign=built.campaign, user=user))
        for user in latecomers
    ]
    outcomes = run_at_once(jobs)
    assert [exc for exc in outcomes if exc is not None] == []

    assert_caps_hold(built.campaign)
    per_cell_raters = Counter(
        (sub, task)
        for sub, task, _ in set(
            Assignment.objects.values_list(
                "clip__submission_id", "clip__episode__task_id", "annotator_id"
            )
        )
    )
    assert set(per_cell_raters.values()) == {3}
    coverage = Counter(Assignment.objects.values_list("clip_id", flat=True))
    assert len(coverage) == 4 * 2 * 6
    assert assignment_plan_apply(campaign=built.campaign).created == 0


def test_concurrent_additions_to_a_planned_campaign_keep_the_caps():
    built = build_campaign(teams=3, tasks=1, episodes=5, annotators=2, raters_per_cell=3)
    assignment_plan_apply(campaign=built.campaign)
    latecomers = [UserFactory(username=f"joiner{i}") for i in range(6)]
    outcomes = run_at_once(
        [
            (lambda user=user: assignment_annotator_add(campaign=built.campaign, user=user))
            for user in latecomers
        ]
    )
    assert [
        exc for exc in outcomes if exc is not None and not isinstance(exc, AssignmentError)
    ] == []
    assert_caps_hold(built.campaign)
    assert (
        Assignment.objects.filter(annotator__in=latecomers).values("annotator").distinct().count()
        == 1
    )
