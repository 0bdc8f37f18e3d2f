"""Human-among-human agreement, checked against reference implementations."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from evaluation.scoring.agreement_raters import (
    NO_SHARED_CLIPS,
    NO_VARIATION,
    TOO_FEW_ITEMS,
    AgreementInputError,
    ClipRatings,
    Stat,
    alpha_from_coincidences,
    clip_ratings,
    coincidence_contributions,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_agreement,
    pairwise_kappas,
    pairwise_qwk,
    rater_agreement,
    resample_weights,
)

LEVELS = [0, 1, 2, 3]


def random_ratings(
    *,
    seed: int,
    n_clips: int = 120,
    n_raters: int = 8,
    min_per_clip: int = 1,
    max_per_clip: int = 4,
    n_tasks: int = 2,
    n_teams: int = 3,
    allowed_scores: tuple[int, ...] = (0, 1, 2, 3),
) -> pd.DataFrame:
    """Noisy ratings around a per-clip truth, a varying number of raters per clip."""
    rng = np.random.default_rng(seed)
    rows = []
    for clip in range(n_clips):
        truth = rng.integers(0, 4)
        count = rng.integers(min_per_clip, max_per_clip + 1)
        for rater in rng.choice(n_raters, size=count, replace=False):
            score = int(np.clip(truth + rng.integers(-1, 2), 0, 3))
            if score not in allowed_scores:
                score = allowed_scores[int(np.argmin([abs(score - a) for a in allowed_scores]))]
            rows.append(
                {
                    "task": f"task{clip % n_tasks + 1}",
                    "team": f"team{clip % n_teams + 1}",
                    "episode": f"episode_{clip}",
                    "rater": f"ann{rater}",
                    "score": score,
                }
            )
    return pd.DataFrame(rows)


def reliability_matrix(indexed: ClipRatings) -> np.ndarray:
    """Raters x clips, NaN where a rater did not rate a clip (the krippendorff layout)."""
    matrix = np.full((len(indexed.rater_names), indexed.n_clips), np.nan)
    matrix[indexed.rater, indexed.clip] = indexed.score
    return matrix


def frame(rows: list[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])


# --- Krippendorff's alpha ------------------------------------------------------------------


@pytest.mark.parametrize("level", ["ordinal", "interval"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_alpha_matches_krippendorff_package(level: str, seed: int) -> None:
    indexed = clip_ratings(random_ratings(seed=seed))
    expected = krippendorff.alpha(
        reliability_data=reliability_matrix(indexed),
        level_of_measurement=level,
        value_domain=LEVELS,
    )
    stat = krippendorff_alpha(ratings=indexed, level=level, n_boot=0)
    assert stat.value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("level", ["ordinal", "interval"])
def test_alpha_with_an_unused_score_matches_the_package(level: str) -> None:
    # Nobody gave a 1: the ordinal metric must still count 0 -> 2 as two steps apart.
    indexed = clip_ratings(random_ratings(seed=5, allowed_scores=(0, 2, 3)))
    assert 1 not in set(indexed.score.tolist())
    expected = krippendorff.alpha(
        reliability_data=reliability_matrix(indexed), level_of_measurement=level
    )
    assert krippendorff_alpha(ratings=indexed, level=level, n_boot=0).value == pytest.approx(
        expected, abs=1e-12
    )


def test_alpha_bootstrap_replicate_equals_alpha_of_the_resampled_clips() -> None:
    indexed = clip_ratings(random_ratings(seed=7, n_clips=40, min_per_clip=2))
    weights = resample_weights(n_items=indexed.n_clips, n_boot=3, seed=11)
    replicate = alpha_from_coincidences(
        weights @ coincidence_contributions(indexed.counts()), level="ordinal"
    )
    matrix = reliability_matrix(indexed)
    for row in range(3):
        # The resample as explicit data: each drawn clip repeated as a new unit.
        drawn = np.repeat(np.arange(indexed.n_clips), weights[row].astype(int))
        expected = krippendorff.alpha(
            reliability_data=matrix[:, drawn], level_of_measurement="ordinal", value_domain=LEVELS
        )
        assert replicate[row] == pytest.approx(expected, abs=1e-12)


def test_alpha_interval_brackets_the_estimate_and_is_seeded() -> None:
    indexed = clip_ratings(random_ratings(seed=3, n_clips=200))
    first = krippendorff_alpha(ratings=indexed, level="ordinal", n_boot=300, seed=4)
    again = krippendorff_alpha(ratings=indexed, level="ordinal", n_boot=300, seed=4)
    other = krippendorff_alpha(ratings=indexed, level="ordinal", n_boot=300, seed=5)
    assert first == again
    assert first.ci_low != other.ci_low
    assert first.ci_low is not None and first.ci_high is not None and first.value is not None
    assert first.ci_low < first.value < first.ci_high


def test_alpha_is_one_when_raters_always_agree_on_varied_clips() -> None:
    rows = [
        ("t1", "a", f"e{clip}", rater, clip % 4)
        for clip in range(8)
        for rater in ("r1", "r2", "r3")
    ]
    stat = krippendorff_alpha(ratings=clip_ratings(frame(rows)), level="ordinal", n_boot=50)
    assert stat.value == pytest.approx(1.0)
    assert stat.reason is None


# --- undefined cases ------------------------------------------------------------------------


def test_identical_ratings_are_no_variation() -> None:
    rows = [("t1", "a", f"e{clip}", rater, 2) for clip in range(6) for rater in ("r1", "r2")]
    indexed = clip_ratings(frame(rows))
    for stat in (
        krippendorff_alpha(ratings=indexed, level="ordinal", n_boot=10),
        krippendorff_alpha(ratings=indexed, level="interval", n_boot=10),
        fleiss_kappa(ratings=indexed, n_boot=10),
        pairwise_qwk(ratings=indexed, min_shared_clips=2, n_boot=10),
    ):
        assert stat.value is None
        assert stat.reason == NO_VARIATION
    # Agreement shares stay defined: everybody agrees.
    assert pairwise_agreement(ratings=indexed, n_boot=10).value == 1.0


def test_one_clip_is_too_few_items() -> None:
    indexed = clip_ratings(frame([("t1", "a", "e1", "r1", 0), ("t1", "a", "e1", "r2", 3)]))
    for stat in (
        krippendorff_alpha(ratings=indexed, level="ordinal"),
        fleiss_kappa(ratings=indexed),
        pairwise_agreement(ratings=indexed),
    ):
        assert stat.value is None
        assert stat.reason == TOO_FEW_ITEMS
        assert stat.n == 1


def test_clips_with_a_single_rating_are_not_pairable() -> None:
    rows = [("t1", "a", f"e{clip}", f"r{clip}", clip % 4) for clip in range(10)]
    stat = krippendorff_alpha(ratings=clip_ratings(frame(rows)), level="ordinal")
    assert stat.reason == TOO_FEW_ITEMS
    assert stat.n == 0


def test_undefined_stat_json_carries_the_reason() -> None:
    assert Stat.undefined(reason=TOO_FEW_ITEMS, n=1).as_json() == {
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "n": 1,
        "reason": TOO_FEW_ITEMS,
    }
    assert "reason" not in Stat(value=0.5, ci_low=0.4, ci_high=0.6, n=9).as_json()


# --- Fleiss' kappa --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fleiss_matches_statsmodels_with_equal_raters_per_clip(seed: int) -> None:
    indexed = clip_ratings(random_ratings(seed=seed, min_per_clip=3, max_per_clip=3))
    expected = statsmodels_fleiss_kappa(indexed.counts(), method="fleiss")
    assert fleiss_kappa(ratings=indexed, n_boot=0).value == pytest.approx(expected, abs=1e-12)


def test_fleiss_with_varying_raters_follows_the_generalized_formula() -> None:
    # Hand-computed: clip 1 = [0, 0, 1], clip 2 = [2, 2], clip 3 = [3, 2, 3, 3].
    rows = [
        ("t", "a", "e1", "r1", 0),
        ("t", "a", "e1", "r2", 0),
        ("t", "a", "e1", "r3", 1),
        ("t", "a", "e2", "r1", 2),
        ("t", "a", "e2", "r2", 2),
        ("t", "a", "e3", "r1", 3),
        ("t", "a", "e3", "r2", 2),
        ("t", "a", "e3", "r3", 3),
        ("t", "a", "e3", "r4", 3),
    ]
    p_clip = [2 / 6, 2 / 2, 6 / 12]
    p_bar = sum(p_clip) / 3
    proportions = np.array([2, 1, 3, 3]) / 9
    chance = float((proportions**2).sum())
    expected = (p_bar - chance) / (1 - chance)
    assert fleiss_kappa(ratings=clip_ratings(frame(rows)), n_boot=0).value == pytest.approx(
        expected
    )


# --- pairwise agreement ---------------------------------------------------------------------


@pytest.mark.parametrize("tolerance", [0, 1])
def test_pairwise_agreement_matches_brute_force(tolerance: int) -> None:
    ratings = random_ratings(seed=9)
    agreeing = pairs = 0
    for _, group in ratings.groupby(["task", "team", "episode"]):
        for a, b in itertools.combinations(group["score"].tolist(), 2):
            pairs += 1
            agreeing += abs(a - b) <= tolerance
    stat = pairwise_agreement(ratings=clip_ratings(ratings), tolerance=tolerance, n_boot=0)
    assert stat.value == pytest.approx(agreeing / pairs)


def test_pairwise_qwk_matches_sklearn_per_pair_and_on_average() -> None:
    ratings = random_ratings(seed=2, n_clips=200, n_raters=6)
    indexed = clip_ratings(ratings)
    wide = ratings.pivot_table(
        index=["task", "team", "episode"], columns="rater", values="score", aggfunc="first"
    )
    expected = []
    for a, b in itertools.combinations(sorted(wide.columns), 2):
        both = wide[[a, b]].dropna()
        if len(both) >= 10:
            expected.append(cohen_kappa_score(both[a], both[b], weights="quadratic", labels=LEVELS))
    table = pairwise_kappas(ratings=indexed, min_shared_clips=10)
    assert sorted(table["qwk"]) == pytest.approx(sorted(expected), abs=1e-12)
    stat = pairwise_qwk(ratings=indexed, min_shared_clips=10, n_boot=0)
    assert stat.n == len(expected)
    assert stat.value == pytest.approx(float(np.mean(expected)), abs=1e-12)


def test_pairwise_qwk_without_enough_shared_clips() -> None:
    indexed = clip_ratings(random_ratings(seed=1, n_clips=6))
    stat = pairwise_qwk(ratings=indexed, min_shared_clips=50)
    assert stat.value is None
    assert stat.reason == NO_SHARED_CLIPS


# --- the bundle, inputs ---------------------------------------------------------------------


def test_rater_agreement_counts_and_pairs_intervals() -> None:
    indexed = clip_ratings(random_ratings(seed=4, n_clips=150))
    result = rater_agreement(ratings=indexed, min_shared_clips=5, n_boot=200, seed=1)
    assert result.n_clips == 150
    assert result.n_ratings == len(indexed.score)
    data = result.as_json()
    for key in (
        "raters.krippendorff_alpha_ordinal",
        "raters.krippendorff_alpha_interval",
        "raters.fleiss_kappa",
        "raters.pairwise_qwk",
        "raters.exact",
        "raters.within1",
    ):
        stat = data[key]
        assert isinstance(stat, dict)
        assert stat["ci_low"] <= stat["value"] <= stat["ci_high"]


def test_resample_weights_draw_every_clip_count_once_per_row() -> None:
    weights = resample_weights(n_items=50, n_boot=20, seed=3)
    assert weights.shape == (20, 50)
    assert (weights.sum(axis=1) == 50).all()
    assert not weights.flags.writeable
    assert resample_weights(n_items=5, n_boot=0, seed=3).shape == (0, 5)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("t", "a", "e1", "r1", 4)], "outside 0-3"),
        ([("t", "a", "e1", "r1", 1.5)], "not an integer"),
        ([("t", "a", "e1", "r1", 1), ("t", "a", "e1", "r1", 2)], "more than once"),
    ],
)
def test_bad_ratings_are_rejected(
    rows: list[tuple[str, str, str, str, float]], message: str
) -> None:
    with pytest.raises(AgreementInputError, match=message):
        clip_ratings(frame(rows))


def test_missing_column_is_named() -> None:
    with pytest.raises(AgreementInputError, match="rater"):
        clip_ratings(pd.DataFrame({"task": ["t"], "team": ["a"], "episode": ["e"], "score": [1]}))
