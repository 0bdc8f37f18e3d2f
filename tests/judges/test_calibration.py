from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from evaluation.judges.calibration import (
    Calibration,
    CalibrationError,
    RubricCalibration,
    agreement,
    consensus_scores,
    cross_validate,
    fit_calibration,
    load_calibration,
)


def _ordinal_data(*, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Scores cut from a latent variable that two of four features carry (one inverted)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(0, 1.5, n)
    features = pd.DataFrame(
        {
            "signal": latent + rng.normal(0, 0.3, n),
            "inverted": -2.0 * latent + rng.normal(0, 0.6, n),
            "noise_a": rng.normal(0, 1, n),
            "noise_b": rng.normal(5, 3, n),
        }
    )
    scores = np.digitize(latent + rng.logistic(0, 0.3, n), [-1.5, 0.0, 1.5])
    groups = np.arange(n) % 5
    return features, scores, groups


def test_the_fit_recovers_an_ordinal_relation() -> None:
    features, scores, _ = _ordinal_data(n=300, seed=1)
    model = fit_calibration(features=features, scores=scores, seed=0)
    assert model.coefficients[model.feature_names.index("signal")] > 0
    assert model.coefficients[model.feature_names.index("inverted")] < 0
    assert np.all(np.diff(model.thresholds) > 0)
    probabilities = model.predict_proba(features)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert cohen_kappa_score(scores, model.predict(features), weights="quadratic") > 0.8


def test_the_calibration_survives_json() -> None:
    features, scores, _ = _ordinal_data(n=80, seed=2)
    model = fit_calibration(features=features, scores=scores, seed=0)
    restored = Calibration.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.allclose(restored.predict_proba(features), model.predict_proba(features))
    one = restored.predict_proba_one(features.iloc[0].to_dict())
    assert np.allclose(one, model.predict_proba(features.iloc[:1])[0])


def test_held_out_groups_beat_the_majority_answer() -> None:
    features, scores, groups = _ordinal_data(n=200, seed=3)
    useless = np.zeros(len(scores))
    report = cross_validate(
        features=features, scores=scores, groups=groups, seed=0, uncalibrated_scores=useless
    )
    assert report["folds"] == 5 and report["pairs"] == 200
    assert report["calibrated"]["quadratic_kappa"] > 0.7
    assert report["calibrated"]["exact"] > report["majority"]["exact"] + 0.2
    assert report["uncalibrated"]["quadratic_kappa"] == 0.0


def test_fractional_scores_round_half_up() -> None:
    assert consensus_scores(np.array([0.4, 0.5, 1.5, 2.49, 2.5, 3.0])).tolist() == [
        0,
        1,
        2,
        2,
        3,
        3,
    ]
    with pytest.raises(CalibrationError, match=r"\[0, 3\]"):
        consensus_scores(np.array([3.5]))


def test_agreement_figures() -> None:
    figures = agreement(predicted=np.array([0, 1, 2, 3]), truth=np.array([0, 1, 3, 1]))
    assert figures.exact == 0.5 and figures.within_one == 0.75
    assert figures.quadratic_kappa == pytest.approx(
        cohen_kappa_score([0, 1, 3, 1], [0, 1, 2, 3], weights="quadratic")
    )


def test_bad_input_is_refused() -> None:
    features, scores, groups = _ordinal_data(n=20, seed=4)
    with pytest.raises(CalibrationError, match="feature rows"):
        fit_calibration(features=features, scores=scores[:-1])
    with pytest.raises(CalibrationError, match="2 groups"):
        cross_validate(
            features=features, scores=scores, groups=np.zeros(20), uncalibrated_scores=scores
        )
    with pytest.raises(CalibrationError, match="missing"):
        fit_calibration(features=features, scores=scores).predict(features.drop(columns="signal"))
    with pytest.raises(CalibrationError, match="unknown calibration model"):
        Calibration.from_dict({"model": "isotonic"})


def _rubric_data(*, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A judge whose final-state and motion answers are right, but whose "clean" answer is
    blind: only the feature `artifact` tells a clean episode (3) from a flawed one (2)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, n)
    passed = truth >= 2
    artifact = np.where(truth == 2, 1.0, 0.0) + rng.normal(0, 0.25, n)
    features = pd.DataFrame(
        {
            "p_final_state": np.where(passed, 0.9, 0.1) + rng.uniform(-0.05, 0.05, n),
            "p_clean": rng.uniform(0.55, 0.95, n),  # always says clean
            "p_motion": np.where(truth == 1, 0.9, 0.1) + rng.uniform(-0.05, 0.05, n),
            "artifact": artifact,
            "noise": rng.normal(0, 1, n),
        }
    )
    final, clean, motion = (
        features[c].to_numpy() for c in ("p_final_state", "p_clean", "p_motion")
    )
    features["tree_score"] = np.where(
        final >= 0.5, np.where(clean >= 0.5, 3, 2), np.where(motion >= 0.5, 1, 0)
    ).astype(float)
    features["tree_expected_score"] = (
        (1 - final) * motion + 2 * final * (1 - clean) + 3 * final * clean
    )
    return features, truth, np.arange(n) % 4


def test_a_strong_penalty_gives_back_the_uncalibrated_judge() -> None:
    features, truth, _ = _rubric_data(n=120, seed=5)
    model = fit_calibration(features=features, scores=truth, l2=1e4)
    assert isinstance(model, RubricCalibration)
    assert np.array_equal(model.predict(features), features["tree_score"].to_numpy())


def test_the_rubric_calibration_learns_what_the_judge_misses() -> None:
    features, truth, groups = _rubric_data(n=160, seed=6)
    report = cross_validate(features=features, scores=truth, groups=groups, seed=0)
    print(f"\nrubric heads, held out by group: {report}")
    # The uncalibrated judge calls every 2 a 3; the clean head learns `artifact`.
    assert report["uncalibrated"]["exact"] < 0.85
    assert report["calibrated"]["exact"] > report["uncalibrated"]["exact"] + 0.1
    assert max(report["penalties"]) < 1e4


def test_without_evidence_the_calibration_stays_with_the_judge() -> None:
    """Human scores that are the judge's own answers: nothing to learn, so nothing changes."""
    features, _, groups = _rubric_data(n=120, seed=7)
    scores = features["tree_score"].to_numpy()
    model = fit_calibration(features=features, scores=scores, groups=groups, seed=0)
    assert np.array_equal(model.predict(features), scores.astype(int))


def test_a_rubric_calibration_survives_json() -> None:
    features, truth, groups = _rubric_data(n=80, seed=8)
    model = fit_calibration(features=features, scores=truth, groups=groups, l2=0.01)
    restored = load_calibration(json.loads(json.dumps(model.to_dict())))
    assert isinstance(restored, RubricCalibration)
    assert np.allclose(restored.predict_proba(features), model.predict_proba(features))
    row = features.iloc[3].to_dict()
    assert np.allclose(restored.predict_proba_one(row), model.predict_proba(features.iloc[3:4])[0])
    assert set(restored.heads_one(row)) == {"final_state", "clean", "motion"}
    plain = fit_calibration(features=features[["artifact", "noise"]], scores=truth, l2=0.05)
    assert isinstance(load_calibration(plain.to_dict()), Calibration)
    with pytest.raises(CalibrationError, match="head coefficients"):
        broken = model.to_dict()
        broken["heads"]["clean"]["coefficients"] = [1.0]
        load_calibration(broken)


def test_the_penalty_is_chosen_from_the_grid() -> None:
    features, scores, groups = _ordinal_data(n=120, seed=9)
    model = fit_calibration(features=features, scores=scores, groups=groups, penalties=(0.01, 5.0))
    assert model.l2 in (0.01, 5.0)
    with pytest.raises(CalibrationError, match="penalties"):
        fit_calibration(features=features, scores=scores, penalties=())
