"""Judge against the human consensus, clip by clip."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, spearmanr
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from evaluation.scoring.agreement_judge import (
    consensus_from_counts,
    human_consensus,
    judge_agreement,
    kendall_tau_b_from_tables,
    spearman_from_tables,
)
from evaluation.scoring.agreement_raters import (
    NO_VARIATION,
    TOO_FEW_ITEMS,
    AgreementInputError,
    clip_ratings,
    resample_weights,
)
from tests.scoring.test_agreement_raters import LEVELS, random_ratings, reliability_matrix


def verdicts_for(ratings: pd.DataFrame, *, seed: int, noise: int = 1) -> pd.DataFrame:
    """One judge score per rated clip, the clip's first rating plus noise."""
    rng = np.random.default_rng(seed)
    clips = ratings.groupby(["task", "team", "episode"], as_index=False)["score"].first()
    clips["score"] = np.clip(clips["score"] + rng.integers(-noise, noise + 1, len(clips)), 0, 3)
    return clips


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([2], 2),
        ([1, 2], 2),  # median 1.5 rounds up
        ([0, 3], 2),  # median 1.5 rounds up
        ([0, 1], 1),  # median 0.5 rounds up
        ([1, 1, 2, 3], 2),
        ([0, 1, 3], 1),
        ([3, 3, 0, 0], 2),
        ([2, 2, 3, 3], 3),
    ],
)
def test_consensus_is_the_median_with_halves_rounded_up(scores: list[int], expected: int) -> None:
    assert human_consensus(scores) == expected


def test_consensus_matches_numpy_median_rounded_up_on_random_clips() -> None:
    rng = np.random.default_rng(0)
    clips = [rng.integers(0, 4, size=rng.integers(1, 7)) for _ in range(500)]
    counts = np.stack([np.bincount(scores, minlength=4) for scores in clips])
    expected = [int(np.ceil(np.median(scores))) for scores in clips]
    assert consensus_from_counts(counts).tolist() == expected


def test_consensus_needs_a_rating() -> None:
    with pytest.raises(AgreementInputError, match="at least one rating"):
        human_consensus([])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clip_statistics_match_reference_implementations(seed: int) -> None:
    ratings = random_ratings(seed=seed, n_clips=300)
    verdicts = verdicts_for(ratings, seed=seed)
    result = judge_agreement(ratings=clip_ratings(ratings), verdicts=verdicts, n_boot=0)
    clips = result.clips
    human, judge = clips["consensus"].to_numpy(), clips["judge"].to_numpy()
    # The consensus column is itself checked independently.
    expected_consensus = [int(np.ceil(np.median(scores))) for scores in clips["ratings"]]
    assert human.tolist() == expected_consensus
    stats = result.stats
    assert stats["qwk"].value == pytest.approx(
        cohen_kappa_score(human, judge, weights="quadratic", labels=LEVELS), abs=1e-12
    )
    assert stats["spearman"].value == pytest.approx(spearmanr(human, judge).statistic, abs=1e-12)
    assert stats["kendall_tau_b"].value == pytest.approx(
        kendalltau(human, judge).statistic, abs=1e-12
    )
    assert stats["exact"].value == pytest.approx(np.mean(human == judge))
    assert stats["within1"].value == pytest.approx(np.mean(np.abs(human - judge) <= 1))
    assert stats["mae"].value == pytest.approx(np.mean(np.abs(human - judge)))
    assert stats["outcome_agreement"].value == pytest.approx(np.mean((human >= 2) == (judge >= 2)))
    assert result.confusion.tolist() == confusion_matrix(human, judge, labels=LEVELS).tolist()
    assert all(stat.n == len(clips) for stat in stats.values())


def test_table_statistics_of_a_weighted_table_equal_those_of_the_resample() -> None:
    rng = np.random.default_rng(5)
    human, judge = rng.integers(0, 4, 80), rng.integers(0, 4, 80)
    weights = resample_weights(n_items=80, n_boot=4, seed=1)
    cells = np.eye(16)[4 * human + judge]
    tables = weights @ cells
    for row in range(4):
        drawn = np.repeat(np.arange(80), weights[row].astype(int))
        assert spearman_from_tables(tables[row : row + 1])[0] == pytest.approx(
            spearmanr(human[drawn], judge[drawn]).statistic, abs=1e-12
        )
        assert kendall_tau_b_from_tables(tables[row : row + 1])[0] == pytest.approx(
            kendalltau(human[drawn], judge[drawn]).statistic, abs=1e-12
        )


def test_alpha_with_the_judge_as_one_more_rater_matches_the_package() -> None:
    ratings = random_ratings(seed=3, n_clips=150)
    verdicts = verdicts_for(ratings, seed=3)
    indexed = clip_ratings(ratings)
    result = judge_agreement(ratings=indexed, verdicts=verdicts, n_boot=100, seed=2)
    matrix = reliability_matrix(indexed)
    keyed = indexed.clips.merge(verdicts, on=["task", "team", "episode"], how="left")
    with_judge = np.vstack([matrix, keyed["score"].to_numpy(dtype=float)[None, :]])
    expected_humans = krippendorff.alpha(
        reliability_data=matrix, level_of_measurement="ordinal", value_domain=LEVELS
    )
    expected_with_judge = krippendorff.alpha(
        reliability_data=with_judge, level_of_measurement="ordinal", value_domain=LEVELS
    )
    assert result.alpha_humans.value == pytest.approx(expected_humans, abs=1e-12)
    assert result.alpha_with_judge.value == pytest.approx(expected_with_judge, abs=1e-12)
    assert result.alpha_delta.value == pytest.approx(expected_with_judge - expected_humans)
    assert result.alpha_delta.ci_low is not None


def test_unmatched_clips_are_counted_not_compared() -> None:
    ratings = random_ratings(seed=1, n_clips=60)
    verdicts = verdicts_for(ratings, seed=1)
    stranger = pd.DataFrame(
        [{"task": "task1", "team": "team9", "episode": "episode_999", "score": 3}]
    )
    partial = pd.concat([verdicts.iloc[:50], stranger], ignore_index=True)
    result = judge_agreement(ratings=clip_ratings(ratings), verdicts=partial, n_boot=0)
    assert len(result.clips) == 50
    assert result.n_missing_verdicts == 10
    assert result.n_unrated_verdicts == 1
    assert result.stats["exact"].n == 50


def test_constant_judge_has_no_rank_statistics_but_has_agreement_shares() -> None:
    ratings = random_ratings(seed=2, n_clips=40)
    verdicts = verdicts_for(ratings, seed=2).assign(score=2)
    result = judge_agreement(ratings=clip_ratings(ratings), verdicts=verdicts, n_boot=20)
    for name in ("qwk", "spearman", "kendall_tau_b"):
        assert result.stats[name].value is None
        assert result.stats[name].reason == NO_VARIATION
    assert result.stats["exact"].value is not None


def test_one_clip_is_too_few_items() -> None:
    ratings = pd.DataFrame(
        [
            {"task": "t", "team": "a", "episode": "e1", "rater": "r1", "score": 1},
            {"task": "t", "team": "a", "episode": "e1", "rater": "r2", "score": 2},
        ]
    )
    verdicts = pd.DataFrame([{"task": "t", "team": "a", "episode": "e1", "score": 3}])
    result = judge_agreement(ratings=clip_ratings(ratings), verdicts=verdicts)
    assert all(stat.reason == TOO_FEW_ITEMS for stat in result.stats.values())
    assert result.confusion[2, 3] == 1  # consensus of [1, 2] is 2


def test_largest_disagreements_come_first() -> None:
    ratings = random_ratings(seed=6, n_clips=80)
    verdicts = verdicts_for(ratings, seed=6, noise=3)
    result = judge_agreement(ratings=clip_ratings(ratings), verdicts=verdicts, n_boot=0)
    top = result.largest_disagreements(limit=10)
    assert len(top) == 10
    gaps = top["abs_diff"].tolist()
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[0] == result.clips["abs_diff"].max()
    assert (top["abs_diff"] == (top["consensus"] - top["judge"]).abs()).all()


@pytest.mark.parametrize(
    ("verdicts", "message"),
    [
        (pd.DataFrame({"task": ["t"], "team": ["a"], "score": [1]}), "episode"),
        (pd.DataFrame({"task": ["t"], "team": ["a"], "episode": ["e1"], "score": [5]}), "0-3"),
        (pd.DataFrame({"task": ["t"], "team": ["a"], "episode": ["e1"], "score": [1.5]}), "0-3"),
        (
            pd.DataFrame(
                {"task": ["t", "t"], "team": ["a", "a"], "episode": ["e1", "e1"], "score": [1, 2]}
            ),
            "more than one verdict",
        ),
    ],
)
def test_bad_verdicts_are_rejected(verdicts: pd.DataFrame, message: str) -> None:
    ratings = clip_ratings(
        pd.DataFrame([{"task": "t", "team": "a", "episode": "e1", "rater": "r1", "score": 1}])
    )
    with pytest.raises(AgreementInputError, match=message):
        judge_agreement(ratings=ratings, verdicts=verdicts)
