from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.factories import AssignmentFactory, ClipFactory, RatingFactory

pytestmark = pytest.mark.django_db


def test_factories_build_a_consistent_graph():
    clip = ClipFactory()
    assert clip.episode.task.campaign == clip.submission.team.campaign
    rating = RatingFactory(score=1)
    assert (rating.final_state, rating.motion) == (False, True)


@pytest.mark.parametrize(
    "fields",
    [
        {"score": 4, "final_state": True, "clean": True},
        {"score": 3, "final_state": True, "clean": False},
        {"score": 1, "final_state": True, "clean": True},
        {"score": 0, "final_state": False, "motion": True},
    ],
)
def test_the_database_refuses_scores_out_of_range_or_against_the_rubric(fields):
    assignment = AssignmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RatingFactory(assignment=assignment, **fields)


def test_one_assignment_per_annotator_and_clip():
    first = AssignmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentFactory(clip=first.clip, annotator=first.annotator)
