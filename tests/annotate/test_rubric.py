"""The rubric table and the natural order: pure modules, tested without a database."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.db.models import Q
from hypothesis import given
from hypothesis import strategies as st

from annotate.models import RUBRIC_CONSISTENT
from annotate.natural_order import natural_key, natural_sorted
from annotate.rubric import (
    ANSWERS_BY_SCORE,
    SCORES,
    rubric_json,
    rubric_score,
    scores_answering_yes,
    scores_asking,
)


# The protocol's tree, written out independently of the table.
def protocol_score(final_state: bool, clean: bool, motion: bool) -> int:
    if final_state:
        return 3 if clean else 2
    return 1 if motion else 0


@pytest.mark.parametrize(
    ("final_state", "clean", "motion"), itertools.product([True, False], repeat=3)
)
def test_the_table_gives_the_protocols_score_for_every_answer(final_state, clean, motion):
    score = rubric_score(final_state=final_state, clean=clean, motion=motion)
    assert score == protocol_score(final_state, clean, motion)
    answers = ANSWERS_BY_SCORE[score]
    assert answers.score == score and answers.final_state == final_state
    # Only the question on the branch carries an answer.
    assert (answers.clean is None) != final_state and (answers.motion is None) == final_state


def test_an_unanswered_follow_up_has_no_score():
    with pytest.raises(ValueError, match="clean"):
        rubric_score(final_state=True, motion=True)
    with pytest.raises(ValueError, match="motion"):
        rubric_score(final_state=False, clean=True)


def test_the_questions_each_score_asks():
    assert SCORES == (0, 1, 2, 3) and list(ANSWERS_BY_SCORE) == [3, 2, 1, 0]
    assert scores_asking("final_state") == (0, 1, 2, 3)
    assert (scores_asking("clean"), scores_answering_yes("clean")) == ((2, 3), (3,))
    assert (scores_asking("motion"), scores_answering_yes("motion")) == ((0, 1), (1,))
    assert scores_answering_yes("final_state") == (2, 3)


def test_the_page_table_is_json_keyed_by_score():
    assert rubric_json()["1"] == {"final_state": False, "clean": None, "motion": True}
    assert list(rubric_json()) == ["3", "2", "1", "0"]


def test_the_database_check_is_the_protocols_tree():
    # As the constraint stood when written out by hand: the migrations hold this one.
    assert (
        Q(score=3, final_state=True, clean=True)
        | Q(score=2, final_state=True, clean=False)
        | Q(score=1, final_state=False, motion=True)
        | Q(score=0, final_state=False, motion=False)
    ) == RUBRIC_CONSISTENT


def test_the_judges_tree_follows_the_table():
    from evaluation.judges.base import rubric_tree
    from evaluation.judges.rubric_calibration import tree_probabilities

    f, c, m = 0.7, 0.2, 0.9
    outcome = rubric_tree(final_state=f, clean=c, motion=m)
    expected = ((1 - f) * (1 - m), (1 - f) * m, f * (1 - c), f * c)
    assert outcome.probabilities == pytest.approx(expected)
    assert outcome.score == 2 and outcome.expected_score == pytest.approx(
        sum(s * p for s, p in zip(range(4), expected, strict=True))
    )
    vector = tree_probabilities(np.array([f]), np.array([c]), np.array([m]))
    assert vector[0].tolist() == pytest.approx(list(expected))


def test_the_pure_modules_import_without_django():
    code = (
        "import sys, annotate.rubric, annotate.natural_order; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


def test_names_sort_by_their_numbers_whatever_the_case():
    names = ["task10", "Task2", "task1", "episode_1a", "Episode_1", "episode_2"]
    assert natural_sorted(names) == [
        "Episode_1",
        "episode_1a",
        "episode_2",
        "task1",
        "Task2",
        "task10",
    ]
    # Names equal but for case or zeros still get one order, the same from any input order.
    twins = ["task01", "Task1", "task1"]
    assert natural_sorted(twins) == natural_sorted(reversed(twins)) == ["Task1", "task01", "task1"]


@given(st.lists(st.text(alphabet="ab1Z0_²", max_size=6), max_size=8))
def test_any_names_compare_without_error_and_sort_stably(names):
    once = sorted(names, key=natural_key)
    assert sorted(reversed(names), key=natural_key) == once
    assert sorted(once, key=natural_key) == once


def test_the_scoring_core_uses_the_same_order():
    from evaluation import scoring

    assert scoring.natural_key is natural_key
