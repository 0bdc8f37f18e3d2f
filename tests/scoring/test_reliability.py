"""Rater reliability and the adjudication rule, checked against scikit-learn and plain pandas."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

from evaluation.scoring import point_scores
from evaluation.scoring.adjudication import DECISION_RATER, apply_decisions
from evaluation.scoring.reliability import (
    DISAGREES,
    FAST,
    GOLD,
    STRAIGHT_LINE,
    GoldScore,
    ReliabilityInputError,
    ReliabilityThresholds,
    clip_spreads,
    leave_one_out_consensus,
    quadratic_weighted_kappa,
    rater_reliability,
)

LABELS = [0, 1, 2, 3]


def _sklearn_qwk(a, b) -> float:
    # scikit-learn warns, then answers NaN, where kappa is undefined: so do we, silently.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return float(cohen_kappa_score(a, b, weights="quadratic", labels=LABELS))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40))
def test_kappa_matches_scikit_learn(pairs):
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    ours = quadratic_weighted_kappa(a, b)
    theirs = _sklearn_qwk(a, b)
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_kappa_of_a_constant_rater_is_zero_and_of_identical_raters_one():
    assert quadratic_weighted_kappa(np.array([3, 3, 3, 3]), np.array([0, 1, 2, 3])) == 0.0
    assert quadratic_weighted_kappa(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3])) == 1.0
    assert math.isnan(quadratic_weighted_kappa(np.array([2, 2]), np.array([2, 2])))


def test_kappa_refuses_mismatched_or_out_of_range_scores():
    with pytest.raises(ReliabilityInputError, match="one length"):
        quadratic_weighted_kappa(np.array([1, 2]), np.array([1]))
    with pytest.raises(ReliabilityInputError, match="0 to 3"):
        quadratic_weighted_kappa(np.array([4]), np.array([1]))


def _random_ratings(seed: int, *, n_clips: int = 30, n_raters: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for clip in range(n_clips):
        truth = int(rng.integers(0, 4))
        raters = rng.choice(n_raters, size=int(rng.integers(1, 5)), replace=False)
        for rater in raters:
            noise = int(rng.integers(-1, 2)) if rater < n_raters - 1 else int(rng.integers(-3, 4))
            rows.append(
                {
                    "task": f"task{clip % 3 + 1}",
                    "team": f"team-{clip % 2}",
                    "episode": f"episode_{clip}",
                    "rater": f"R{rater}",
                    "score": int(np.clip(truth + noise, 0, 3)),
                    "counted": bool(rng.random() > 0.15),
                    "seconds": float(rng.uniform(1, 20)),
                    "duration_s": 3.0,
                }
            )
    return pd.DataFrame(rows)


def _pandas_leave_one_out(ratings: pd.DataFrame) -> pd.DataFrame:
    """The consensus as a person would compute it: row by row, with pandas' own median."""
    records = []
    for _, row in ratings.iterrows():
        others = ratings[
            (ratings["task"] == row["task"])
            & (ratings["team"] == row["team"])
            & (ratings["episode"] == row["episode"])
            & (ratings["rater"] != row["rater"])
            & ratings["counted"]
        ]
        median = others["score"].median() if len(others) else np.nan
        records.append(
            {
                "rater": row["rater"],
                "score": row["score"],
                "median": median,
                "rounded": math.floor(median + 0.5) if len(others) else np.nan,
            }
        )
    return pd.DataFrame(records)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_leave_one_out_consensus_matches_a_row_by_row_recomputation(seed):
    ratings = _random_ratings(seed)
    ours = leave_one_out_consensus(ratings)
    expected = _pandas_leave_one_out(ratings)
    np.testing.assert_allclose(ours["consensus"].to_numpy(), expected["median"].to_numpy())
    ours_rounded = ours["consensus_score"].astype("float64").to_numpy(na_value=np.nan)
    np.testing.assert_allclose(ours_rounded, expected["rounded"].to_numpy(dtype=np.float64))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_per_rater_kappa_exact_and_bias_match_scikit_learn_and_pandas(seed):
    ratings = _random_ratings(seed)
    rows = {row.rater: row for row in rater_reliability(ratings=ratings)}
    expected = _pandas_leave_one_out(ratings).dropna(subset=["median"])
    expected["difference"] = expected["score"] - expected["median"]
    bias = expected.groupby("rater")["difference"].mean()
    for rater, group in expected.groupby("rater"):
        row = rows[rater]
        assert row.n_compared == len(group)
        assert row.bias == pytest.approx(bias[rater], abs=1e-12)
        assert row.exact == pytest.approx((group["score"] == group["rounded"]).mean())
        theirs = _sklearn_qwk(group["score"].astype(int), group["rounded"].astype(int))
        if math.isnan(theirs):
            assert row.kappa is None
        else:
            assert row.kappa == pytest.approx(theirs, abs=1e-12)
    assert sorted(rows) == sorted(ratings["rater"].unique())


def _clip(episode: int, rater: str, score: int, **extra) -> dict:
    return {"task": "task1", "team": "a", "episode": f"episode_{episode}", "rater": rater,
            "score": score, **extra}  # fmt: skip


def test_an_excluded_rating_is_compared_but_shapes_no_consensus():
    ratings = pd.DataFrame(
        [
            _clip(1, "A", 3, counted=True),
            _clip(1, "B", 1, counted=True),
            _clip(1, "X", 0, counted=False),
        ]
    )
    frame = leave_one_out_consensus(ratings)
    by_rater = dict(zip(frame["rater"], frame["consensus"], strict=True))
    assert by_rater == {"A": 1.0, "B": 3.0, "X": 2.0}  # X: median of A and B; A: B alone
    assert list(frame["consensus_score"]) == [1, 3, 2]


def test_time_per_clip_straight_lining_and_the_flags_at_their_thresholds():
    thresholds = ReliabilityThresholds(
        min_clips=4, fast_ratio=1.0, min_kappa=0.4, straight_line_share=0.75
    )
    truths = [0, 1, 2, 3, 0, 1, 2, 3]
    rows = []
    for episode, truth in enumerate(truths):
        rows.append(
            _clip(episode, "careful1", truth, seconds=9.0, duration_s=3.0, page_seconds=8.0)
        )
        for careful in ("careful2", "careful3", "careful4"):
            rows.append(_clip(episode, careful, truth, seconds=6.0, duration_s=3.0))
        # Exactly one viewing: not faster than the threshold, so not flagged.
        rows.append(_clip(episode, "threes", 3, seconds=3.0, duration_s=3.0))
        rows.append(_clip(episode, "hasty", (truth + 2) % 4, seconds=1.5, duration_s=3.0))
    result = {
        row.rater: row
        for row in rater_reliability(
            ratings=pd.DataFrame(rows),
            thresholds=thresholds,
            gold={"hasty": GoldScore(n=3, exact=1 / 3, within_one=2 / 3)},
        )
    }
    assert result["careful1"].median_seconds == 9.0
    assert result["careful1"].median_page_seconds == 8.0
    assert result["careful1"].time_ratio == 3.0
    assert result["careful1"].flags == ()
    assert result["careful2"].flags == () and result["careful3"].flags == ()
    assert result["careful1"].kappa == 1.0 and result["careful1"].bias == 0.0
    assert result["threes"].straight_line == 1.0 and result["threes"].modal_score == 3
    assert result["threes"].time_ratio == 1.0
    assert result["threes"].flags == (DISAGREES, STRAIGHT_LINE)
    assert result["hasty"].time_ratio == 0.5
    assert result["hasty"].straight_line == 0.25
    assert result["hasty"].flags == (FAST, GOLD, DISAGREES)
    assert result["hasty"].gold_exact == pytest.approx(1 / 3)


def test_too_few_clips_say_too_little_to_flag():
    rows = [_clip(episode, "threes", 3, seconds=0.5, duration_s=3.0) for episode in range(4)]
    rows += [_clip(episode, "other", episode % 4) for episode in range(4)]
    result = {row.rater: row for row in rater_reliability(ratings=pd.DataFrame(rows))}
    assert result["threes"].straight_line == 1.0
    assert result["threes"].flags == ()  # 4 clips, the default minimum is 5
    gold_only = rater_reliability(
        ratings=pd.DataFrame(rows), gold={"newcomer": GoldScore(n=2, exact=0.0, within_one=0.0)}
    )
    newcomer = [row for row in gold_only if row.rater == "newcomer"][0]
    assert newcomer.n_clips == 0 and newcomer.kappa is None and newcomer.flags == ()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("min_clips", 0),
        ("min_clips", 2.5),
        ("fast_ratio", -0.1),
        ("min_kappa", 1.5),
        ("straight_line_share", float("nan")),
        ("min_gold_accuracy", True),
    ],
)
def test_thresholds_out_of_range_are_refused_naming_the_setting(name, value):
    with pytest.raises(ReliabilityInputError, match=name):
        ReliabilityThresholds(**{name: value})


def test_clip_spreads_count_only_counted_ratings():
    ratings = pd.DataFrame(
        [
            _clip(1, "A", 0, counted=True),
            _clip(1, "B", 2, counted=True),
            _clip(2, "A", 1, counted=True),
            _clip(2, "X", 3, counted=False),
            _clip(3, "X", 3, counted=False),
        ]
    )
    spreads = {s.episode: s for s in clip_spreads(ratings=ratings, min_range=2)}
    assert (spreads["episode_1"].low, spreads["episode_1"].high) == (0, 2)
    assert spreads["episode_1"].disagrees and not spreads["episode_1"].has_excluded
    assert not spreads["episode_2"].disagrees and spreads["episode_2"].has_excluded
    assert spreads["episode_3"].n_counted == 0 and spreads["episode_3"].mean is None
    with pytest.raises(ReliabilityInputError, match="range"):
        clip_spreads(ratings=ratings, min_range=4)


def test_a_decision_replaces_each_counted_rating_so_the_clip_keeps_its_weight():
    ratings = pd.DataFrame(
        [
            _clip(1, "A", 0),
            _clip(1, "B", 3),
            _clip(1, "C", 3),
            _clip(2, "A", 2),
            _clip(2, "B", 2),
            _clip(2, "C", 2),
        ]
    )
    decisions = pd.DataFrame(
        [
            {"task": "task1", "team": "a", "episode": "episode_1", "score": 1},
            {"task": "task1", "team": "a", "episode": "episode_3", "score": 3},
        ]
    )
    applied = apply_decisions(ratings=ratings, decisions=decisions)
    first = applied[applied["episode"] == "episode_1"]
    assert list(first["score"]) == [1, 1, 1]
    assert list(first["rater_score"]) == [0, 3, 3]
    assert first["adjudicated"].all()
    assert not applied.loc[applied["episode"] == "episode_2", "adjudicated"].any()
    added = applied[applied["episode"] == "episode_3"]
    assert list(added["rater"]) == [DECISION_RATER] and list(added["score"]) == [3]
    assert added["rater_score"].isna().all()
    # S over the three rated episodes: (1 + 2 + 3) / 3, each clip at its own weight.
    scores = point_scores(
        ratings=applied,
        rated_set={"task1": ["episode_1", "episode_2", "episode_3"]},
        tasks=["task1"],
        teams=["a"],
    )
    assert scores.task_scores[0, 0] == pytest.approx(2.0)
    assert scores.counts[0, 0].tolist() == [0, 3, 3, 1]  # N0, N1, N2, N3


def test_decisions_are_checked():
    ratings = pd.DataFrame([_clip(1, "A", 0)])
    with pytest.raises(ValueError, match="two decisions"):
        apply_decisions(
            ratings=ratings,
            decisions=pd.DataFrame(
                [{"task": "task1", "team": "a", "episode": "episode_1", "score": 1}] * 2
            ),
        )
    with pytest.raises(ValueError, match="0-3"):
        apply_decisions(
            ratings=ratings,
            decisions=pd.DataFrame(
                [{"task": "task1", "team": "a", "episode": "episode_1", "score": 5}]
            ),
        )


def test_the_agreement_report_has_each_rater_against_the_others():
    from evaluation.scoring.agreement import agreement_report

    ratings = _random_ratings(7).drop(columns=["counted", "seconds", "duration_s"])
    report = agreement_report(ratings=ratings, n_boot=0)
    expected = _pandas_leave_one_out(ratings.assign(counted=True)).dropna(subset=["median"])
    bias = (expected["score"] - expected["median"]).groupby(expected["rater"]).mean()
    per_rater = {row["rater"]: row for row in report["per_rater"]}
    assert set(per_rater) == set(ratings["rater"])
    for rater, value in bias.items():
        assert per_rater[rater]["bias"] == pytest.approx(value, abs=1e-12)
