"""Kendall's tau-b and quadratic-weighted kappa: each written once, used everywhere.

Both come in two forms sharing one kernel:

- for a *weight matrix* ``(replicates, items)`` of bootstrap draw counts, so that the
  point value (every weight 1) and a thousand resamples are a few matrix products
  (:func:`weighted_kendall_tau_b`, :func:`quadratic_kappa_from_tables`);
- for two plain lists (:func:`kendall_tau_b`, :func:`quadratic_weighted_kappa`), the
  first row of the same kernel with every weight 1.

They match ``scipy.stats.kendalltau`` (tau-b) and
``sklearn.metrics.cohen_kappa_score(weights="quadratic", labels=[0, 1, 2, 3])``
(``tests/scoring/test_statistics.py``), and return NaN where those are undefined (a
side with a single value).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evaluation.scoring.protocol import SCORE_MAX, SCORE_MIN, ScoringInputError

N_LEVELS = SCORE_MAX - SCORE_MIN + 1  # scores 0, 1, 2, 3

_QUADRATIC = ((np.arange(N_LEVELS)[:, None] - np.arange(N_LEVELS)[None, :]) ** 2.0).reshape(
    N_LEVELS * N_LEVELS
)


def weighted_kendall_tau_b(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of the sample holding item ``i`` ``weights[b, i]`` times, per row ``b``.

    Copies of one item tie with each other on both sides. NaN where a side is constant
    among the drawn items.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    concordance = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    score = np.einsum("bi,ij,bj->b", weights, concordance, weights) / 2.0
    total = weights.sum(axis=1)
    all_pairs = total * (total - 1.0) / 2.0

    def tied_pairs(values: np.ndarray) -> np.ndarray:
        same = (values[:, None] == values[None, :]).astype(np.float64)
        return (np.einsum("bi,ij,bj->b", weights, same, weights) - total) / 2.0

    denominator = np.sqrt((all_pairs - tied_pairs(x)) * (all_pairs - tied_pairs(y)))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = score / denominator
    return np.where(denominator > 0, tau, np.nan)


def kendall_tau_b(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Kendall's tau-b of two paired lists; NaN when a side is constant or too short."""
    first, second = _paired(x, y)
    if len(first) < 2:
        return float("nan")
    return float(weighted_kendall_tau_b(first, second, np.ones((1, len(first))))[0])


def quadratic_kappa_from_tables(tables: np.ndarray) -> np.ndarray:
    """Cohen's quadratic-weighted kappa on the full 0-3 scale for ``(..., 16)`` tables.

    Cell ``4 * a + b`` of a table counts the items scored ``a`` by one side and ``b``
    by the other. NaN where undefined (both sides constant on the same score, or an
    empty table).
    """
    tables = np.asarray(tables, dtype=np.float64)
    matrices = tables.reshape(*tables.shape[:-1], N_LEVELS, N_LEVELS)
    total = matrices.sum(axis=(-1, -2))
    rows = matrices.sum(axis=-1)
    columns = matrices.sum(axis=-2)
    expected = rows[..., :, None] * columns[..., None, :]
    expected = expected.reshape(*tables.shape[:-1], N_LEVELS * N_LEVELS)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed_cost = (tables * _QUADRATIC).sum(axis=-1) / total
        expected_cost = (expected * _QUADRATIC).sum(axis=-1) / total**2
        kappa = 1.0 - observed_cost / expected_cost
    return np.where(expected_cost > 0, kappa, np.nan)


def quadratic_weighted_kappa(
    first: Sequence[int] | np.ndarray, second: Sequence[int] | np.ndarray
) -> float:
    """Quadratic-weighted kappa of two paired lists of 0-3 scores; NaN where undefined."""
    a, b = _paired(first, second)
    if ((a != np.round(a)) | (b != np.round(b))).any():
        raise ScoringInputError("quadratic-weighted kappa takes integer scores 0-3")
    a, b = a.astype(np.int64), b.astype(np.int64)
    if ((a < SCORE_MIN) | (a > SCORE_MAX) | (b < SCORE_MIN) | (b > SCORE_MAX)).any():
        raise ScoringInputError(f"quadratic-weighted kappa takes scores {SCORE_MIN}-{SCORE_MAX}")
    table = np.bincount(N_LEVELS * a + b, minlength=N_LEVELS * N_LEVELS)
    return float(quadratic_kappa_from_tables(table[None, :])[0])


def _paired(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    first = np.asarray(x, dtype=np.float64)
    second = np.asarray(y, dtype=np.float64)
    if first.ndim != 1 or first.shape != second.shape:
        raise ScoringInputError(
            f"a statistic of paired values needs two lists of one length, got shapes "
            f"{first.shape} and {second.shape}"
        )
    if not (np.isfinite(first).all() and np.isfinite(second).all()):
        raise ScoringInputError("a statistic of paired values needs finite numbers")
    return first, second
