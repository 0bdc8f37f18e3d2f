"""Calibrating a judge on human ratings, with the strength of the fit chosen by cross-validation.

Two models, both fitted in torch (float64, L-BFGS) with an L2 penalty:

- When the features carry the judge's probabilities for the three rubric questions
  (`p_final_state`, `p_clean`, `p_motion`, as the baseline's do), each question is
  recalibrated, anchored on the judge's own answer, and the score follows the rubric's
  decision tree (`rubric_calibration.py`). A strong penalty gives back the uncalibrated
  judge.
- Otherwise, a proportional-odds model on standardized features:
  P(score <= k | x) = sigmoid(theta_k - x . beta).

The penalty strength is chosen among `PENALTY_GRID` (whose strongest value is, for the
rubric model, the uncalibrated judge itself) by an inner cross-validation that leaves
groups (teams) out, scored by the ranked probability score (the proper score for ordered
outcomes; bounded, so a few mislabelled clips do not decide it). With few ratings the
fit therefore stays near the uncalibrated judge.

The fitted parameters are a small JSON-able dict, stored as the options of a new
judge version; `load_calibration` rebuilds either model from it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut

from evaluation.judges.rubric_calibration import (
    MODEL_NAME as RUBRIC_MODEL_NAME,
)
from evaluation.judges.rubric_calibration import (
    CalibrationError,
    RubricCalibration,
    fit_rubric_calibration,
    has_rubric_heads,
)
from evaluation.scoring.statistics import quadratic_weighted_kappa

SCORE_LEVELS = 4
# Derived or bookkeeping values that would let the model read the answer's format, not the footage.
EXCLUDED_FEATURES = frozenset({"views"})
# Penalty strengths tried by the inner cross-validation, weakest to strongest.
PENALTY_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 1e4)
INNER_FOLDS = 5
# The seeds numpy and scikit-learn's shuffled folds accept.
MAX_SEED = 2**32 - 1

__all__ = [
    "AgreementFigures",
    "Calibration",
    "CalibrationError",
    "FittedCalibration",
    "RubricCalibration",
    "agreement",
    "checked_seed",
    "choose_penalty",
    "consensus_scores",
    "cross_validate",
    "fit_calibration",
    "load_calibration",
    "usable_feature_names",
]


class FittedCalibration(Protocol):
    """What both calibration models offer."""

    l2: float

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray: ...

    def predict(self, features: pd.DataFrame) -> np.ndarray: ...

    def predict_proba_one(self, features: Mapping[str, float]) -> list[float]: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Calibration:
    feature_names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    thresholds: np.ndarray  # increasing, one fewer than the score levels
    l2: float

    def _matrix(self, features: pd.DataFrame) -> np.ndarray:
        missing = [name for name in self.feature_names if name not in features.columns]
        if missing:
            raise CalibrationError(f"features missing for calibration: {', '.join(missing)}")
        values = features.loc[:, list(self.feature_names)].to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise CalibrationError("features contain NaN or infinite values")
        return (values - self.mean) / self.scale

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """(n, 4) probabilities of the scores 0..3."""
        linear = self._matrix(features) @ self.coefficients
        return _level_probabilities(
            torch.from_numpy(linear), torch.from_numpy(self.thresholds)
        ).numpy()

    def predict_proba_one(self, features: Mapping[str, float]) -> list[float]:
        frame = pd.DataFrame([{name: features.get(name, np.nan) for name in self.feature_names}])
        return [float(p) for p in self.predict_proba(frame)[0]]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Most probable score per row."""
        return self.predict_proba(features).argmax(axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "proportional_odds",
            "feature_names": list(self.feature_names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coefficients": self.coefficients.tolist(),
            "thresholds": self.thresholds.tolist(),
            "l2": self.l2,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        try:
            if data.get("model") != "proportional_odds":
                raise CalibrationError(f"unknown calibration model {data.get('model')!r}")
            names = tuple(str(name) for name in data["feature_names"])
            arrays = {
                key: np.asarray(data[key], dtype=np.float64)
                for key in ("mean", "scale", "coefficients", "thresholds")
            }
            l2 = float(data["l2"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"malformed calibration: {exc!r}") from exc
        for key in ("mean", "scale", "coefficients"):
            if arrays[key].shape != (len(names),):
                raise CalibrationError(
                    f"{key} has shape {arrays[key].shape}, expected ({len(names)},)"
                )
        if arrays["thresholds"].shape != (SCORE_LEVELS - 1,):
            raise CalibrationError("thresholds must hold 3 values")
        if np.any(np.diff(arrays["thresholds"]) < 0):
            raise CalibrationError("thresholds must be increasing")
        if np.any(arrays["scale"] <= 0):
            raise CalibrationError("scales must be positive")
        return cls(feature_names=names, l2=l2, **arrays)


def _level_probabilities(linear: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    cumulative = torch.sigmoid(thresholds.unsqueeze(0) - linear.unsqueeze(1))  # (n, 3)
    ones = torch.ones_like(cumulative[:, :1])
    zeros = torch.zeros_like(cumulative[:, :1])
    return (torch.cat([cumulative, ones], 1) - torch.cat([zeros, cumulative], 1)).clamp_min(1e-12)


def consensus_scores(scores: np.ndarray) -> np.ndarray:
    """Integer 0..3 scores from possibly fractional means, rounding halves up."""
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or not np.isfinite(values).all():
        raise CalibrationError("scores must be a 1-D array of finite numbers")
    if np.any((values < 0) | (values > SCORE_LEVELS - 1)):
        raise CalibrationError("scores must lie in [0, 3]")
    return np.floor(values + 0.5).astype(np.int64)


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Fit on one torch thread, then restore the process's setting.

    The tensors hold one row per rated clip: too small for intra-op threads to help, and
    their synchronization made a cross-validated calibration of 14 clips ten times slower
    (52 s instead of 5 s on two busy cores), which a page or API request waits for.
    """
    previous = torch.get_num_threads()
    if previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def checked_seed(seed: int) -> int:
    """The seed, if the random folds and the torch generator can take it."""
    if (
        isinstance(seed, bool)
        or not isinstance(seed, int | np.integer)
        or not 0 <= seed <= MAX_SEED
    ):
        raise CalibrationError(f"seed must be an integer in 0..{MAX_SEED}, got {seed!r}")
    return int(seed)


def usable_feature_names(features: pd.DataFrame) -> list[str]:
    """Numeric, finite, non-constant columns, in a stable order."""
    names = []
    for name in sorted(features.columns):
        if name in EXCLUDED_FEATURES or not pd.api.types.is_numeric_dtype(features[name]):
            continue
        column = features[name].to_numpy(dtype=np.float64)
        if np.isfinite(column).all() and column.std() > 1e-12:
            names.append(str(name))
    return names


def _fit_proportional_odds(
    *, features: pd.DataFrame, targets: np.ndarray, names: Sequence[str], l2: float, seed: int
) -> Calibration:
    values = features.loc[:, list(names)].to_numpy(dtype=np.float64)
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale < 1e-12] = 1.0
    x = torch.from_numpy((values - mean) / scale)
    y = torch.from_numpy(targets)

    generator = torch.Generator().manual_seed(seed)
    beta = (
        0.01 * torch.randn(len(names), generator=generator, dtype=torch.float64)
    ).requires_grad_()
    first_threshold = torch.tensor([-1.0], dtype=torch.float64, requires_grad=True)
    log_gaps = torch.zeros(SCORE_LEVELS - 2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [beta, first_threshold, log_gaps], max_iter=500, line_search_fn="strong_wolfe"
    )

    def thresholds() -> torch.Tensor:
        # Increasing by construction: each threshold is the previous plus a positive gap.
        return torch.cat([first_threshold, first_threshold + torch.cumsum(log_gaps.exp(), 0)])

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        probabilities = _level_probabilities(x @ beta, thresholds())
        # A faint pull on the thresholds keeps them finite when a score level is never used.
        loss = (
            -probabilities.gather(1, y.unsqueeze(1)).log().mean()
            + l2 * beta.pow(2).sum()
            + 1e-4 * thresholds().pow(2).sum()
        )
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        fitted_thresholds = thresholds().numpy().copy()
    return Calibration(
        feature_names=tuple(names),
        mean=mean,
        scale=scale,
        coefficients=beta.detach().numpy().copy(),
        thresholds=fitted_thresholds,
        l2=l2,
    )


def _fit_fixed(
    *, features: pd.DataFrame, targets: np.ndarray, names: Sequence[str], l2: float, seed: int
) -> FittedCalibration:
    """Fit with one penalty strength: the rubric model when the features allow it."""
    if has_rubric_heads(features.columns):
        return fit_rubric_calibration(
            features=features, targets=targets, feature_names=names, l2=l2
        )
    return _fit_proportional_odds(features=features, targets=targets, names=names, l2=l2, seed=seed)


def ranked_probability_score(*, probabilities: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per row: squared distance between predicted and observed cumulative distributions."""
    predicted = np.cumsum(probabilities, axis=1)[:, :-1]
    observed = (np.arange(SCORE_LEVELS - 1)[None, :] >= targets[:, None]).astype(np.float64)
    return ((predicted - observed) ** 2).sum(axis=1)


def _inner_splits(*, targets: np.ndarray, groups: np.ndarray | None, seed: int) -> list[Any]:
    if groups is not None and np.unique(groups).size >= 3:
        if np.unique(groups).size <= INNER_FOLDS:
            return list(LeaveOneGroupOut().split(targets, targets, groups))
        return list(GroupKFold(n_splits=INNER_FOLDS).split(targets, targets, groups))
    folds = min(INNER_FOLDS, len(targets))
    return list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(targets))


def choose_penalty(
    *,
    features: pd.DataFrame,
    targets: np.ndarray,
    names: Sequence[str],
    groups: np.ndarray | None,
    seed: int,
    grid: Sequence[float] = PENALTY_GRID,
) -> float:
    """The strongest penalty whose held-out ranked probability score is within one standard
    error of the best one (the "one-standard-error rule": with little evidence, stay close
    to the uncalibrated judge).

    Folds leave groups out when there are at least 3 groups, else they are 5 random folds.
    """
    splits = _inner_splits(targets=targets, groups=groups, seed=seed)
    strengths = sorted(grid, reverse=True)
    scores = np.zeros((len(strengths), len(targets)))
    for index, l2 in enumerate(strengths):
        for train, test in splits:
            model = _fit_fixed(
                features=features.iloc[train], targets=targets[train], names=names, l2=l2, seed=seed
            )
            scores[index, test] = ranked_probability_score(
                probabilities=model.predict_proba(features.iloc[test]), targets=targets[test]
            )
    means = scores.mean(axis=1)
    best = int(np.argmin(means))
    standard_error = scores[best].std(ddof=1) / np.sqrt(len(targets))
    eligible = np.flatnonzero(means <= means[best] + standard_error)
    return float(strengths[int(eligible.min())])


@_one_torch_thread()
def fit_calibration(
    *,
    features: pd.DataFrame,
    scores: np.ndarray,
    groups: np.ndarray | None = None,
    seed: int = 0,
    l2: float | None = None,
    feature_names: Sequence[str] | None = None,
    penalties: Sequence[float] = PENALTY_GRID,
) -> FittedCalibration:
    """Fit a calibration to human scores (fractional means are rounded half up).

    `l2` fixes the penalty strength; None (the default) chooses it among `penalties` by
    an inner cross-validation over `groups` (teams). Returns a `RubricCalibration` when
    the features carry the rubric probabilities, else a proportional-odds `Calibration`.
    """
    targets = consensus_scores(scores)
    if len(features) != len(targets):
        raise CalibrationError(f"{len(features)} feature rows but {len(targets)} scores")
    if len(targets) < 4:
        raise CalibrationError(f"at least 4 rated pairs are needed, got {len(targets)}")
    seed = checked_seed(seed)
    if l2 is not None and l2 < 0:
        raise CalibrationError(f"l2 must be >= 0, got {l2}")
    if l2 is None and (not penalties or min(penalties) < 0):
        raise CalibrationError("penalties must be a non-empty list of numbers >= 0")
    if groups is not None and len(groups) != len(targets):
        raise CalibrationError(f"{len(groups)} groups but {len(targets)} scores")
    names = list(feature_names) if feature_names is not None else usable_feature_names(features)
    if not names:
        raise CalibrationError("no usable feature columns")
    missing = [name for name in names if name not in features.columns]
    if missing:
        raise CalibrationError(f"features missing for calibration: {', '.join(missing)}")
    if not np.isfinite(features.loc[:, names].to_numpy(dtype=np.float64)).all():
        raise CalibrationError("features contain NaN or infinite values")
    features = features.reset_index(drop=True)
    if l2 is None:
        l2 = choose_penalty(
            features=features,
            targets=targets,
            names=names,
            groups=None if groups is None else np.asarray(groups),
            seed=seed,
            grid=penalties,
        )
    return _fit_fixed(features=features, targets=targets, names=names, l2=l2, seed=seed)


def load_calibration(data: Mapping[str, Any]) -> FittedCalibration:
    """Rebuild a stored calibration (either model) from its `to_dict()`."""
    if not isinstance(data, Mapping):
        raise CalibrationError(f"a calibration must be a dict, got {type(data).__name__}")
    if data.get("model") == RUBRIC_MODEL_NAME:
        return RubricCalibration.from_dict(data)
    return Calibration.from_dict(data)


@dataclass(frozen=True)
class AgreementFigures:
    exact: float
    within_one: float
    quadratic_kappa: float

    def as_dict(self) -> dict[str, float]:
        return {
            "exact": self.exact,
            "within_one": self.within_one,
            "quadratic_kappa": self.quadratic_kappa,
        }


def agreement(*, predicted: np.ndarray, truth: np.ndarray) -> AgreementFigures:
    """Exact agreement, agreement within one point, and quadratic-weighted Cohen's kappa."""
    predicted = np.asarray(predicted, dtype=np.int64)
    truth = np.asarray(truth, dtype=np.int64)
    if predicted.shape != truth.shape or predicted.size == 0:
        raise CalibrationError("predicted and true scores must be non-empty and of equal length")
    kappa = quadratic_weighted_kappa(truth, predicted)
    if not np.isfinite(kappa):  # both sides one same score: they agree on every clip
        kappa = 1.0
    return AgreementFigures(
        exact=float(np.mean(predicted == truth)),
        within_one=float(np.mean(np.abs(predicted - truth) <= 1)),
        quadratic_kappa=kappa,
    )


@_one_torch_thread()
def cross_validate(
    *,
    features: pd.DataFrame,
    scores: np.ndarray,
    groups: np.ndarray,
    seed: int = 0,
    l2: float | None = None,
    uncalibrated_scores: np.ndarray | None = None,
    max_folds: int = 10,
) -> dict[str, Any]:
    """Held-out agreement with humans, each group (team) left out of the fit that scores it.

    Compares the calibrated model with the uncalibrated judge (`uncalibrated_scores`,
    default the features' `tree_score` column) and with always answering the
    training folds' most common score. With `l2` None each fit chooses its penalty by
    an inner cross-validation on its own training groups only; `penalties` in the result
    lists the penalty each outer fold chose.
    """
    truth = consensus_scores(scores)
    seed = checked_seed(seed)
    groups = np.asarray(groups)
    if len(groups) != len(truth) or len(features) != len(truth):
        raise CalibrationError("features, scores and groups must have the same length")
    distinct = np.unique(groups)
    if distinct.size < 2:
        raise CalibrationError("cross-validation needs at least 2 groups")
    if uncalibrated_scores is None:
        if "tree_score" not in features.columns:
            raise CalibrationError("no uncalibrated scores given and no tree_score column")
        uncalibrated_scores = features["tree_score"].to_numpy()
    uncalibrated = consensus_scores(np.asarray(uncalibrated_scores, dtype=np.float64))
    names = usable_feature_names(features)
    if distinct.size <= max_folds:
        splitter: Any = LeaveOneGroupOut()
    else:
        splitter = GroupKFold(n_splits=max_folds)
    calibrated = np.zeros_like(truth)
    majority = np.zeros_like(truth)
    chosen: list[float] = []
    for train, test in splitter.split(features, truth, groups):
        model = fit_calibration(
            features=features.iloc[train],
            scores=truth[train],
            groups=groups[train],
            seed=seed,
            l2=l2,
            feature_names=names,
        )
        calibrated[test] = model.predict(features.iloc[test])
        majority[test] = np.bincount(truth[train], minlength=SCORE_LEVELS).argmax()
        chosen.append(model.l2)
    return {
        "pairs": int(len(truth)),
        "groups": int(distinct.size),
        "folds": len(chosen),
        "penalties": chosen,
        "calibrated": agreement(predicted=calibrated, truth=truth).as_dict(),
        "uncalibrated": agreement(predicted=uncalibrated, truth=truth).as_dict(),
        "majority": agreement(predicted=majority, truth=truth).as_dict(),
    }
