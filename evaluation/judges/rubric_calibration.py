"""Calibrating a judge through the rubric's own decision tree.

When a judge's features carry its probabilities of "yes" to the three rubric questions
(`p_final_state`, `p_clean`, `p_motion`, as the baseline's do), each question is
recalibrated on the human scores by a logistic model in torch anchored on the judge's
own answer:

    logit p' = a * logit p + b + x . gamma        (x: standardized features)

fitted on the clips whose human score answers that question (final state: every clip,
yes = 2 or 3; clean: clips scored 2-3, yes = 3; motion: clips scored 0-1, yes = 1), with
the penalty  l2 * ((a - 1)^2 + b^2 + |gamma|^2)  pulling it toward no change. The score
probabilities are then the decision tree's: P3 = pf pc, P2 = pf (1 - pc),
P1 = (1 - pf) pm, P0 = (1 - pf)(1 - pm). With a very strong penalty this is exactly the
uncalibrated judge, so a calibration can only move away from it as far as the ratings
support (`calibration.fit_calibration` chooses the penalty by cross-validation).

This keeps the rubric's structure: a feature may say "this clip is not clean" without
pulling a clip that failed its final state toward a 2, which a single ordinal scale
anchored on the expected score did (it read "1 or 3" as "2").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from annotate.rubric import ANSWERS_BY_SCORE, SCORES, scores_answering_yes, scores_asking

# Rubric question -> the feature holding the uncalibrated judge's probability of "yes".
HEAD_FEATURES = {"final_state": "p_final_state", "clean": "p_clean", "motion": "p_motion"}
# Probabilities are kept this far from 0 and 1 before taking logits.
PROBABILITY_FLOOR = 1e-4
MODEL_NAME = "rubric_heads"


class CalibrationError(Exception):
    """Calibration input or stored parameters are unusable."""


def has_rubric_heads(columns: Sequence[str] | pd.Index) -> bool:
    return all(column in columns for column in HEAD_FEATURES.values())


def _logit(probability: np.ndarray) -> np.ndarray:
    p = np.clip(probability, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return np.log(p / (1.0 - p))


def tree_probabilities(
    final_state: np.ndarray, clean: np.ndarray, motion: np.ndarray
) -> np.ndarray:
    """(n, 4) probabilities of the scores 0..3 under the rubric tree (as `base.rubric_tree`).

    A score's probability is that of the answers on its branch of the table.
    """
    yes = {"final_state": final_state, "clean": clean, "motion": motion}
    columns = []
    for score in SCORES:
        column = np.ones_like(final_state, dtype=np.float64)
        for question, answer in ANSWERS_BY_SCORE[score].asked().items():
            column = column * (yes[question] if answer else 1.0 - yes[question])
        columns.append(column)
    return np.stack(columns, axis=1)


@dataclass(frozen=True)
class Head:
    """One rubric question recalibrated: logit p' = a * logit p + b + x . coefficients."""

    a: float
    b: float
    coefficients: np.ndarray

    def apply(self, probability: np.ndarray, x: np.ndarray) -> np.ndarray:
        logits = self.a * _logit(probability) + self.b + x @ self.coefficients
        return 1.0 / (1.0 + np.exp(-logits))

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "coefficients": self.coefficients.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, features: int) -> Head:
        coefficients = np.asarray(data["coefficients"], dtype=np.float64)
        if coefficients.shape != (features,):
            raise CalibrationError(
                f"head coefficients have shape {coefficients.shape}, expected ({features},)"
            )
        return cls(a=float(data["a"]), b=float(data["b"]), coefficients=coefficients)


@dataclass(frozen=True)
class RubricCalibration:
    feature_names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    heads: Mapping[str, Head]
    l2: float

    @property
    def input_names(self) -> tuple[str, ...]:
        """Every feature the calibration reads."""
        heads = tuple(name for name in HEAD_FEATURES.values() if name not in self.feature_names)
        return self.feature_names + heads

    def _checked(self, features: pd.DataFrame) -> pd.DataFrame:
        missing = [name for name in self.input_names if name not in features.columns]
        if missing:
            raise CalibrationError(f"features missing for calibration: {', '.join(missing)}")
        values = features.loc[:, list(self.input_names)].to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise CalibrationError("features contain NaN or infinite values")
        return features

    def head_probabilities(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        """The recalibrated "yes" probability of each rubric question."""
        features = self._checked(features)
        values = features.loc[:, list(self.feature_names)].to_numpy(dtype=np.float64)
        x = (values - self.mean) / self.scale
        return {
            question: self.heads[question].apply(features[column].to_numpy(dtype=np.float64), x)
            for question, column in HEAD_FEATURES.items()
        }

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """(n, 4) probabilities of the scores 0..3."""
        heads = self.head_probabilities(features)
        return tree_probabilities(heads["final_state"], heads["clean"], heads["motion"])

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The tree's score per row: final state ? (clean ? 3 : 2) : (motion ? 1 : 0)."""
        said_yes = {question: p >= 0.5 for question, p in self.head_probabilities(features).items()}
        scores = np.zeros(len(features), dtype=np.int64)
        for answers in ANSWERS_BY_SCORE.values():
            on_branch = np.ones(len(features), dtype=bool)
            for question, answer in answers.asked().items():
                on_branch &= said_yes[question] == answer
            scores[on_branch] = answers.score
        return scores

    def _one(self, features: Mapping[str, float]) -> pd.DataFrame:
        return pd.DataFrame([{name: features.get(name, np.nan) for name in self.input_names}])

    def predict_proba_one(self, features: Mapping[str, float]) -> list[float]:
        return [float(p) for p in self.predict_proba(self._one(features))[0]]

    def heads_one(self, features: Mapping[str, float]) -> dict[str, float]:
        """The recalibrated rubric probabilities of one pair."""
        heads = self.head_probabilities(self._one(features))
        return {question: float(values[0]) for question, values in heads.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": MODEL_NAME,
            "feature_names": list(self.feature_names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "heads": {question: head.to_dict() for question, head in self.heads.items()},
            "l2": self.l2,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RubricCalibration:
        try:
            if data.get("model") != MODEL_NAME:
                raise CalibrationError(f"not a {MODEL_NAME} calibration: {data.get('model')!r}")
            names = tuple(str(name) for name in data["feature_names"])
            mean = np.asarray(data["mean"], dtype=np.float64)
            scale = np.asarray(data["scale"], dtype=np.float64)
            heads = {
                question: Head.from_dict(data["heads"][question], features=len(names))
                for question in HEAD_FEATURES
            }
            l2 = float(data["l2"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"malformed calibration: {exc!r}") from exc
        if mean.shape != (len(names),) or scale.shape != (len(names),):
            raise CalibrationError(f"mean and scale must hold {len(names)} values")
        if np.any(scale <= 0):
            raise CalibrationError("scales must be positive")
        return cls(feature_names=names, mean=mean, scale=scale, heads=heads, l2=l2)


def _fit_head(
    *, probability: np.ndarray, x: torch.Tensor, answer: np.ndarray, l2: float, total: int
) -> Head:
    if answer.size == 0:
        return Head(a=1.0, b=0.0, coefficients=np.zeros(x.shape[1]))
    z = torch.from_numpy(_logit(probability))
    y = torch.from_numpy(answer.astype(np.float64))
    scaling = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    gamma = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    prior = torch.tensor([1.0, 0.0], dtype=torch.float64)
    optimizer = torch.optim.LBFGS([scaling, gamma], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = scaling[0] * z + scaling[1] + x @ gamma
        # Summed over the question's clips and divided by all clips, so that one penalty
        # strength weighs a clip's evidence the same in every head.
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="sum")
        loss = loss / total + l2 * ((scaling - prior).pow(2).sum() + gamma.pow(2).sum())
        loss.backward()
        return loss

    optimizer.step(closure)
    a, b = scaling.detach().tolist()
    return Head(a=float(a), b=float(b), coefficients=gamma.detach().numpy().copy())


def fit_rubric_calibration(
    *, features: pd.DataFrame, targets: np.ndarray, feature_names: Sequence[str], l2: float
) -> RubricCalibration:
    """Fit the three heads with one penalty strength; `targets` are integer scores 0..3."""
    if not has_rubric_heads(features.columns):
        raise CalibrationError(
            f"features lack the rubric probabilities {', '.join(HEAD_FEATURES.values())}"
        )
    names = list(feature_names)
    values = features.loc[:, names].to_numpy(dtype=np.float64)
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale < 1e-12] = 1.0
    x = torch.from_numpy((values - mean) / scale)
    heads = {}
    for question in HEAD_FEATURES:
        # The clips whose human score asks this question, and those that answered yes.
        rows = np.isin(targets, scores_asking(question))
        answer = np.isin(targets, scores_answering_yes(question))
        probability = features[HEAD_FEATURES[question]].to_numpy(dtype=np.float64)
        heads[question] = _fit_head(
            probability=probability[rows],
            x=x[torch.from_numpy(rows)],
            answer=answer[rows],
            l2=l2,
            total=len(targets),
        )
    return RubricCalibration(feature_names=tuple(names), mean=mean, scale=scale, heads=heads, l2=l2)
