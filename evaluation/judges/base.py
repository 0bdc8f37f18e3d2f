"""The judge interface: what every backend takes and returns.

This module must import without torch so that web processes can list and
configure judges without the heavy dependency.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from annotate.rubric import (
    ANSWERS_BY_SCORE,
    SCORES,
    RubricAnswers,
    follow_up_question,
    rubric_score,
)


class JudgeError(Exception):
    """A judge is misconfigured or was given input it cannot use."""


@dataclass(frozen=True)
class Pair:
    """One reference clip and the generated clip to compare with it."""

    pair_id: str
    reference: Path
    generated: Path


@dataclass(frozen=True)
class JudgeVerdict:
    """A judge's answer for one pair.

    `final_state`, `clean` and `motion` are the probabilities of "yes" to the
    three rubric questions. When `error` is set the pair could not be judged and
    every number is 0 and carries no meaning.
    """

    pair_id: str
    score: int
    expected_score: float
    final_state: float
    clean: float
    motion: float
    confidence: float
    features: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.score, bool) or self.score not in SCORES:
            raise JudgeError(
                f"pair {self.pair_id!r}: score must be one of 0..3, got {self.score!r}"
            )
        if not 0.0 <= self.expected_score <= 3.0:
            raise JudgeError(
                f"pair {self.pair_id!r}: expected_score must lie in [0, 3], got {self.expected_score!r}"
            )
        for name in ("final_state", "clean", "motion", "confidence"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise JudgeError(f"pair {self.pair_id!r}: {name} must lie in [0, 1], got {value!r}")

    @classmethod
    def failed(cls, *, pair_id: str, error: str) -> JudgeVerdict:
        return cls(
            pair_id=pair_id,
            score=0,
            expected_score=0.0,
            final_state=0.0,
            clean=0.0,
            motion=0.0,
            confidence=0.0,
            features={},
            error=error,
        )

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class TreeOutcome:
    """The rubric's decision tree applied to three "yes" probabilities."""

    score: int
    expected_score: float
    probabilities: tuple[float, float, float, float]
    confidence: float


def rubric_tree(*, final_state: float, clean: float, motion: float) -> TreeOutcome:
    """Turn the three rubric probabilities into a 0-3 score.

    final state matches? yes -> clean? 3 : 2; no -> arm motion matches? 1 : 0 (the table
    in `annotate.rubric`). A score's probability is that of the answers on its branch.
    """
    yes = {"final_state": final_state, "clean": clean, "motion": motion}
    probabilities = tuple(_branch_probability(ANSWERS_BY_SCORE[s], yes) for s in SCORES)
    passed = final_state >= 0.5
    score = rubric_score(final_state=passed, clean=clean >= 0.5, motion=motion >= 0.5)
    branch = yes[follow_up_question(passed)]
    # Both questions on the path decide the score, so the least decided one bounds confidence.
    confidence = min(abs(2.0 * final_state - 1.0), abs(2.0 * branch - 1.0))
    p0, p1, p2, p3 = probabilities
    return TreeOutcome(
        score=score,
        expected_score=_clip(
            sum(s * p for s, p in zip(SCORES, probabilities, strict=True)), 0.0, 3.0
        ),
        probabilities=(p0, p1, p2, p3),
        confidence=_clip(confidence, 0.0, 1.0),
    )


def _branch_probability(answers: RubricAnswers, yes: Mapping[str, float]) -> float:
    """The probability of the answers `answers` gives, from each question's P(yes)."""
    probability = 1.0
    for question, answer in answers.asked().items():
        probability *= yes[question] if answer else 1.0 - yes[question]
    return probability


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def options_fingerprint(options: Mapping[str, Any]) -> str:
    """A short stable hash of a backend's options (JSON-able values)."""
    try:
        text = json.dumps(options, sort_keys=True, default=str, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise JudgeError(f"judge options are not serializable: {exc}") from exc
    return hashlib.sha256(text.encode()).hexdigest()[:12]


ProgressCallback = Callable[[int], None]


class Judge:
    """Base class of judge backends.

    A backend is built with its settings OPTIONS as keyword arguments and must
    call `super().__init__(name=..., options=...)` with the options that change
    its answers, so that `version` changes whenever they do (for example when a
    calibration is added).
    """

    #: Bumped whenever a backend's code changes its answers.
    code_version: ClassVar[str] = "1"

    def __init__(self, *, name: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.options = dict(options)

    @property
    def version(self) -> str:
        return f"{type(self).__name__}-{self.code_version}-{options_fingerprint(self.options)}"

    def judge(
        self, pairs: Sequence[Pair], *, progress: ProgressCallback | None = None
    ) -> list[JudgeVerdict]:
        """Judge every pair, in order. `progress(n)` is called as n more pairs are done."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} version={self.version!r}>"


def finite_or_error(*, pair_id: str, features: Mapping[str, float]) -> dict[str, float]:
    """Features as plain floats, refusing NaN/inf which would poison calibration."""
    clean_features: dict[str, float] = {}
    for key, value in features.items():
        number = float(value)
        if not math.isfinite(number):
            raise JudgeError(f"pair {pair_id!r}: feature {key!r} is not finite ({number})")
        clean_features[key] = number
    return clean_features
