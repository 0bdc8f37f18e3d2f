"""Kendall's tau-b and quadratic-weighted kappa, written once, checked against scipy and
scikit-learn on random data, and the same numbers wherever the app shows them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau
from sklearn.metrics import cohen_kappa_score

from evaluation.scoring.agreement import kendall_tau, team_agreement, team_scores
from evaluation.scoring.agreement_judge import kendall_tau_b_from_tables
from evaluation.scoring.protocol import RANK_DECIMALS, ScoringInputError
from evaluation.scoring.statistics import (
    kendall_tau_b,
    quadratic_kappa_from_tables,
    quadratic_weighted_kappa,
    weighted_kendall_tau_b,
)

LEVELS = [0, 1, 2, 3]
scores = st.lists(st.integers(0, 3), min_size=2, max_size=40)


def _same(ours: float, theirs: float) -> bool:
    return (math.isnan(ours) and math.isnan(theirs)) or ours == pytest.approx(theirs, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_kendall_tau_b_is_scipys(data):
    n = data.draw(st.integers(2, 30))
    x = data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    y = data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    assert _same(kendall_tau_b(x, y), kendalltau(x, y).statistic)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_weighted_tau_is_tau_of_the_sample_with_the_copies(data):
    n = data.draw(st.integers(2, 12))
    x = np.array(data.draw(st.lists(st.floats(0, 3), min_size=n, max_size=n)))
    y = np.array(data.draw(st.lists(st.floats(0, 3), min_size=n, max_size=n)))
    counts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    drawn = np.repeat(np.arange(n), counts)
    expected = kendalltau(x[drawn], y[drawn]).statistic if len(drawn) >= 2 else math.nan
    assert _same(float(weighted_kendall_tau_b(x, y, counts[None, :])[0]), expected)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_quadratic_weighted_kappa_is_scikit_learns(data):
    n = data.draw(st.integers(2, 40))
    a = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    b = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    ours = quadratic_weighted_kappa(a, b)
    if len(set(a) | set(b)) == 1:  # both sides one same score: undefined
        assert math.isnan(ours)
    else:
        expected = cohen_kappa_score(a, b, weights="quadratic", labels=LEVELS)
        assert ours == pytest.approx(expected, abs=1e-12)


def test_the_table_forms_are_the_point_forms_of_the_same_kernel():
    rng = np.random.default_rng(4)
    human, judge = rng.integers(0, 4, size=50), rng.integers(0, 4, size=50)
    table = np.bincount(4 * human + judge, minlength=16)[None, :]
    assert kendall_tau_b_from_tables(table)[0] == pytest.approx(
        kendalltau(human, judge).statistic, abs=1e-12
    )
    assert quadratic_kappa_from_tables(table)[0] == pytest.approx(
        cohen_kappa_score(human, judge, weights="quadratic", labels=LEVELS), abs=1e-12
    )


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(ScoringInputError, match="one length"):
        kendall_tau_b([1, 2, 3], [1, 2])
    with pytest.raises(ScoringInputError, match="0-3"):
        quadratic_weighted_kappa([0, 4], [0, 1])
    with pytest.raises(ScoringInputError, match="integer"):
        quadratic_weighted_kappa([0.5, 1], [0, 1])


def test_the_final_score_tau_is_the_reports_team_tau():
    """What the judge run page shows is the agreement report's ``team.kendall_tau``."""
    import pandas as pd

    rng = np.random.default_rng(7)
    rows = [
        (f"task{k}", f"team{t}", f"episode_{e}", f"r{r}", int(rng.integers(0, 4)))
        for k in range(2)
        for t in range(5)
        for e in range(3)
        for r in range(3)
    ]
    ratings = pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])
    verdicts = ratings[ratings["rater"] == "r0"].drop(columns="rater").copy()
    verdicts["score"] = (verdicts["score"] + rng.integers(0, 2, size=len(verdicts))).clip(0, 3)
    scores = team_scores(ratings=ratings, verdicts=verdicts)
    report_tau = team_agreement(scores=scores, n_boot=0).stats["kendall_tau"].value
    assert kendall_tau(human=scores.human_final, judge=scores.judge_final) == report_tau
    # scipy on the scores as the ranking compares them: means equal on paper tie, which
    # float sums of different terms (1/3 + 1/3 + 1/3 against 1.0) would not.
    human, judge = (
        np.round(side, RANK_DECIMALS) for side in (scores.human_final, scores.judge_final)
    )
    assert report_tau == pytest.approx(kendalltau(human, judge).statistic, abs=1e-12)
    # Undefined where the report says why: three teams at least, and some variation.
    assert kendall_tau(human=[1.0, 2.0], judge=[2.0, 1.0]) is None
    assert kendall_tau(human=[1.0, 1.0, 1.0], judge=[0.0, 1.0, 2.0]) is None
