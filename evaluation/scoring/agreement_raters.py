"""Agreement of human raters among themselves on 0-3 clip scores.

Every statistic is a :class:`Stat` with a seeded percentile-bootstrap 95% interval
that resamples clips. Each estimator is written as a function of a *weight matrix*
``(replicates, clips)`` holding how many times each clip is drawn, so that the
point estimate (all weights 1) and a thousand resamples are the same few matrix
products instead of a Python loop.

A clip is ``(task, team, episode)``; ratings are the rows of a DataFrame with
columns task, team, episode, rater, score (integers 0-3).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from evaluation.scoring.protocol import ScoringInputError, validate_ratings
from evaluation.scoring.statistics import N_LEVELS, quadratic_kappa_from_tables

CLIP_KEYS = ("task", "team", "episode")
CONFIDENCE = 0.95
# Below two clips a reliability coefficient describes one clip, not the raters.
MIN_ITEMS = 2
DEFAULT_MIN_SHARED_CLIPS = 5

NO_VARIATION = "no variation"
TOO_FEW_ITEMS = "too few items"
NO_SHARED_CLIPS = "no rater pair shares enough clips"

Level = Literal["ordinal", "interval"]
Estimator = Callable[[np.ndarray], np.ndarray]


class AgreementInputError(ScoringInputError):
    """Ratings or verdicts the agreement statistics cannot use; the message says why."""


@dataclass(frozen=True)
class Stat:
    """A statistic with its bootstrap interval.

    ``value`` is None when the statistic is undefined, and ``reason`` says why
    (``"no variation"``, ``"too few items"``, ...). ``n`` counts the units the
    statistic was computed over (clips, rater pairs or teams, as documented by the
    function that returns it). The interval is None when there was no bootstrap or
    no resample gave a defined value.
    """

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    reason: str | None = None

    @classmethod
    def undefined(cls, *, reason: str, n: int) -> Stat:
        return cls(value=None, ci_low=None, ci_high=None, n=n, reason=reason)

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
        }
        if self.value is None:
            data["reason"] = self.reason
        return data


@functools.lru_cache(maxsize=16)
def resample_weights(*, n_items: int, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n_items)`` draw counts of a nonparametric bootstrap, seeded.

    Read-only and cached: statistics over the same items with the same seed share
    their resamples, which keeps their intervals paired and saves the draws.
    """
    if n_boot < 0:
        raise AgreementInputError(f"n_boot must be 0 or more, got {n_boot}")
    if n_boot == 0 or n_items == 0:
        weights = np.zeros((0, n_items))
    else:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, n_items, size=(n_boot, n_items))
        offsets = (np.arange(n_boot) * n_items)[:, None]
        counts = np.bincount((draws + offsets).ravel(), minlength=n_boot * n_items)
        weights = counts.reshape(n_boot, n_items).astype(np.float64)
    weights.setflags(write=False)
    return weights


def stat_from_values(*, point: float, replicates: np.ndarray, n: int) -> Stat:
    """A Stat from a point value and bootstrap replicate values (NaN = undefined)."""
    if not np.isfinite(point):
        return Stat.undefined(reason=NO_VARIATION, n=n)
    finite = replicates[np.isfinite(replicates)]
    if len(finite) == 0:
        return Stat(value=float(point), ci_low=None, ci_high=None, n=n)
    tail = (1.0 - CONFIDENCE) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return Stat(value=float(point), ci_low=float(low), ci_high=float(high), n=n)


def bootstrap_stat(*, estimator: Estimator, weights: np.ndarray, n: int) -> Stat:
    """Point value (every item once) and percentile interval over ``weights`` rows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        point = float(estimator(np.ones((1, weights.shape[1])))[0])
        replicates = estimator(weights) if len(weights) else np.empty(0)
    return stat_from_values(point=point, replicates=replicates, n=n)


@dataclass(frozen=True)
class ClipRatings:
    """Validated ratings indexed by clip and rater number.

    ``clips`` has one row per clip (task, team, episode), in first-seen order;
    ``clip``, ``rater`` and ``score`` have one entry per rating.
    """

    clips: pd.DataFrame
    clip: np.ndarray
    rater: np.ndarray
    score: np.ndarray
    rater_names: tuple[str, ...]

    @property
    def n_clips(self) -> int:
        return len(self.clips)

    def counts(self) -> np.ndarray:
        """``(n_clips, 4)``: how many ratings of each clip are 0, 1, 2, 3."""
        counts = np.zeros((self.n_clips, N_LEVELS), dtype=np.int64)
        np.add.at(counts, (self.clip, self.score), 1)
        return counts

    def subset(self, clip_mask: np.ndarray) -> ClipRatings:
        """The ratings of the clips where ``clip_mask`` is true, renumbered."""
        new_number = np.cumsum(clip_mask) - 1
        keep = clip_mask[self.clip]
        return ClipRatings(
            clips=self.clips[clip_mask].reset_index(drop=True),
            clip=new_number[self.clip[keep]],
            rater=self.rater[keep],
            score=self.score[keep],
            rater_names=self.rater_names,
        )


def clip_ratings(ratings: pd.DataFrame) -> ClipRatings:
    """Validate a ratings DataFrame (see :func:`protocol.validate_ratings`) and index it."""
    try:
        frame = validate_ratings(ratings)
    except AgreementInputError:
        raise
    except ScoringInputError as error:
        raise AgreementInputError(str(error)) from error
    clip_codes, clips = pd.MultiIndex.from_frame(frame[list(CLIP_KEYS)]).factorize()
    rater_codes, rater_names = pd.factorize(frame["rater"])
    return ClipRatings(
        clips=clips.to_frame(index=False, name=list(CLIP_KEYS)),
        clip=np.asarray(clip_codes, dtype=np.int64),
        rater=np.asarray(rater_codes, dtype=np.int64),
        score=frame["score"].to_numpy(dtype=np.int64),
        rater_names=tuple(str(name) for name in rater_names),
    )


# --- Krippendorff's alpha ---------------------------------------------------------------


def coincidence_contributions(counts: np.ndarray) -> np.ndarray:
    """``(n_clips, 16)``: each clip's share of the coincidence matrix.

    A clip with ``m >= 2`` values adds ``(n_k n_l - [k == l] n_k) / (m - 1)`` to cell
    ``(k, l)``; clips with fewer than two values are not pairable and add nothing.
    """
    counts = np.asarray(counts, dtype=np.float64)
    m = counts.sum(axis=1)
    pairs = counts[:, :, None] * counts[:, None, :]
    pairs -= counts[:, :, None] * np.eye(N_LEVELS)[None]
    scale = np.divide(1.0, m - 1.0, out=np.zeros_like(m), where=m >= 2)
    return (pairs * scale[:, None, None]).reshape(len(counts), N_LEVELS * N_LEVELS)


def _squared_distances(marginals: np.ndarray, level: Level) -> np.ndarray:
    """``(k, 4, 4)`` squared metric differences given ``(k, 4)`` value marginals."""
    levels = np.arange(N_LEVELS)
    if level == "interval":
        interval = (levels[:, None] - levels[None, :]) ** 2.0
        return np.broadcast_to(interval, (len(marginals), N_LEVELS, N_LEVELS))
    if level == "ordinal":
        # Ordinal distance of k < l: (n_k + ... + n_l - (n_k + n_l) / 2)^2.
        low = np.minimum(levels[:, None], levels[None, :])
        high = np.maximum(levels[:, None], levels[None, :])
        cumulative = np.cumsum(marginals, axis=1)
        between = cumulative[:, high] - cumulative[:, low] + marginals[:, low]
        ends = (marginals[:, :, None] + marginals[:, None, :]) / 2.0
        return (between - ends) ** 2
    raise AgreementInputError(f"level must be 'ordinal' or 'interval', got {level!r}")


def alpha_from_coincidences(coincidences: np.ndarray, *, level: Level) -> np.ndarray:
    """Krippendorff's alpha for each ``(k, 16)`` coincidence matrix; NaN if undefined."""
    matrices = coincidences.reshape(-1, N_LEVELS, N_LEVELS)
    marginals = matrices.sum(axis=2)
    total = marginals.sum(axis=1)
    distances = _squared_distances(marginals, level)
    observed = (matrices * distances).sum(axis=(1, 2))
    expected = (marginals[:, :, None] * marginals[:, None, :] * distances).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (total - 1.0) * observed / expected
    return np.where(expected > 0, alpha, np.nan)


def krippendorff_alpha(
    *, ratings: ClipRatings, level: Level, n_boot: int = 1000, seed: int = 0
) -> Stat:
    """Krippendorff's alpha (``"ordinal"`` or ``"interval"``) of the 0-3 ratings.

    ``n`` is the number of pairable clips (two ratings or more).
    """
    counts = ratings.counts()
    pairable = counts.sum(axis=1) >= 2
    n = int(pairable.sum())
    if n < MIN_ITEMS:
        return Stat.undefined(reason=TOO_FEW_ITEMS, n=n)
    contributions = coincidence_contributions(counts[pairable])
    if (counts[pairable].sum(axis=0) > 0).sum() < 2:
        return Stat.undefined(reason=NO_VARIATION, n=n)
    weights = resample_weights(n_items=n, n_boot=n_boot, seed=seed)
    return bootstrap_stat(
        estimator=lambda w: alpha_from_coincidences(w @ contributions, level=level),
        weights=weights,
        n=n,
    )


# --- Fleiss' kappa ----------------------------------------------------------------------


def fleiss_kappa(*, ratings: ClipRatings, n_boot: int = 1000, seed: int = 0) -> Stat:
    """Fleiss' kappa, generalized to a varying number of ratings per clip.

    Per clip ``P_i = sum_k n_ik (n_ik - 1) / (m_i (m_i - 1))``; ``P_bar`` is their
    mean; chance agreement uses the pooled proportions ``p_k = sum_i n_ik / sum_i m_i``.
    With the same ``m`` on every clip this is the textbook Fleiss' kappa.
    ``n`` is the number of clips with two ratings or more.
    """
    counts = ratings.counts().astype(np.float64)
    m = counts.sum(axis=1)
    pairable = m >= 2
    n = int(pairable.sum())
    if n < MIN_ITEMS:
        return Stat.undefined(reason=TOO_FEW_ITEMS, n=n)
    counts, m = counts[pairable], m[pairable]
    if (counts.sum(axis=0) > 0).sum() < 2:
        return Stat.undefined(reason=NO_VARIATION, n=n)
    per_clip = (counts * (counts - 1.0)).sum(axis=1) / (m * (m - 1.0))

    def estimator(w: np.ndarray) -> np.ndarray:
        observed = (w @ per_clip) / w.sum(axis=1)
        proportions = (w @ counts) / (w @ m)[:, None]
        chance = (proportions**2).sum(axis=1)
        return np.where(chance < 1.0, (observed - chance) / (1.0 - chance), np.nan)

    weights = resample_weights(n_items=n, n_boot=n_boot, seed=seed)
    return bootstrap_stat(estimator=estimator, weights=weights, n=n)


# --- pairwise agreement -------------------------------------------------------------------


def _agreeing_pairs(counts: np.ndarray, *, tolerance: int) -> np.ndarray:
    """Per clip, the number of rating pairs at most ``tolerance`` points apart."""
    same = (counts * (counts - 1.0)).sum(axis=1) / 2.0
    near = sum((counts[:, :-gap] * counts[:, gap:]).sum(axis=1) for gap in range(1, tolerance + 1))
    return same + near


def pairwise_agreement(
    *, ratings: ClipRatings, tolerance: int = 0, n_boot: int = 1000, seed: int = 0
) -> Stat:
    """Share of pairs of ratings on the same clip that agree within ``tolerance`` points.

    ``tolerance=0`` is exact agreement, ``tolerance=1`` within-1 agreement; pairs are
    pooled over clips. ``n`` is the number of clips with two ratings or more.
    """
    if tolerance not in (0, 1, 2, 3):
        raise AgreementInputError(f"tolerance must be 0-3 points, got {tolerance}")
    counts = ratings.counts().astype(np.float64)
    m = counts.sum(axis=1)
    pairable = m >= 2
    n = int(pairable.sum())
    if n < MIN_ITEMS:
        return Stat.undefined(reason=TOO_FEW_ITEMS, n=n)
    pairs = m[pairable] * (m[pairable] - 1.0) / 2.0
    agreeing = _agreeing_pairs(counts[pairable], tolerance=tolerance)
    weights = resample_weights(n_items=n, n_boot=n_boot, seed=seed)
    return bootstrap_stat(estimator=lambda w: (w @ agreeing) / (w @ pairs), weights=weights, n=n)


# --- quadratic-weighted kappa (the kernel is :mod:`evaluation.scoring.statistics`) ---------------


@dataclass(frozen=True)
class RaterPairs:
    """Pairs of raters with the clips they both rated.

    ``pairs`` has columns rater_a, rater_b, shared_clips; ``entry_*`` have one row per
    (pair, shared clip) with the table cell ``4 * score_a + score_b``.
    """

    pairs: pd.DataFrame
    entry_pair: np.ndarray
    entry_clip: np.ndarray
    entry_cell: np.ndarray


def rater_pairs(*, ratings: ClipRatings, min_shared_clips: int) -> RaterPairs:
    """Rater pairs sharing at least ``min_shared_clips`` clips."""
    order = np.lexsort((ratings.rater, ratings.clip))
    clip, rater, score = ratings.clip[order], ratings.rater[order], ratings.score[order]
    firsts, seconds = [], []
    # Sorted by clip then rater, the pairs of a clip are the ratings a few rows apart.
    for offset in range(1, int(np.bincount(clip).max(initial=0))):
        first = np.flatnonzero(clip[:-offset] == clip[offset:])
        firsts.append(first)
        seconds.append(first + offset)
    first = np.concatenate(firsts) if firsts else np.zeros(0, dtype=np.int64)
    second = np.concatenate(seconds) if seconds else np.zeros(0, dtype=np.int64)
    n_raters = len(ratings.rater_names)
    pair_codes, entry_pair, shared = np.unique(
        rater[first] * n_raters + rater[second], return_inverse=True, return_counts=True
    )
    kept_pairs = np.flatnonzero(shared >= min_shared_clips)
    renumber = np.full(len(pair_codes), -1)
    renumber[kept_pairs] = np.arange(len(kept_pairs))
    entry_pair = renumber[entry_pair]
    kept_entries = entry_pair >= 0
    names = np.asarray(ratings.rater_names, dtype=object)
    pairs = pd.DataFrame(
        {
            "rater_a": names[pair_codes[kept_pairs] // n_raters],
            "rater_b": names[pair_codes[kept_pairs] % n_raters],
            "shared_clips": shared[kept_pairs],
        }
    )
    cells = N_LEVELS * score[first] + score[second]
    return RaterPairs(
        pairs=pairs,
        entry_pair=entry_pair[kept_entries].astype(np.int64),
        entry_clip=clip[first][kept_entries].astype(np.int64),
        entry_cell=cells[kept_entries].astype(np.int64),
    )


def _pair_kappas(found: RaterPairs) -> np.ndarray:
    n_cells = N_LEVELS * N_LEVELS
    tables = np.bincount(
        found.entry_pair * n_cells + found.entry_cell, minlength=len(found.pairs) * n_cells
    )
    return quadratic_kappa_from_tables(tables.reshape(len(found.pairs), n_cells))


def pairwise_qwk(
    *,
    ratings: ClipRatings,
    min_shared_clips: int = DEFAULT_MIN_SHARED_CLIPS,
    n_boot: int = 1000,
    seed: int = 0,
) -> Stat:
    """Mean quadratic-weighted kappa over rater pairs sharing ``min_shared_clips`` clips.

    Pairs whose kappa is undefined (both raters gave one same score throughout) are
    left out of the mean. ``n`` is the number of rater pairs averaged, and the
    interval resamples those pairs: pairs typically share only a handful of clips,
    and a kappa recomputed on resampled clips of so few items is biased downwards
    (duplicated clips concentrate the marginals), enough to push the interval off
    the point estimate.
    """
    if min_shared_clips < 1:
        raise AgreementInputError(f"min_shared_clips must be 1 or more, got {min_shared_clips}")
    found = rater_pairs(ratings=ratings, min_shared_clips=min_shared_clips)
    if len(found.pairs) == 0:
        return Stat.undefined(reason=NO_SHARED_CLIPS, n=0)
    kappas = _pair_kappas(found)
    kappas = kappas[np.isfinite(kappas)]
    n = len(kappas)
    if n == 0:
        return Stat.undefined(reason=NO_VARIATION, n=0)
    weights = resample_weights(n_items=n, n_boot=n_boot, seed=seed)
    return bootstrap_stat(estimator=lambda w: (w @ kappas) / w.sum(axis=1), weights=weights, n=n)


def pairwise_kappas(
    *, ratings: ClipRatings, min_shared_clips: int = DEFAULT_MIN_SHARED_CLIPS
) -> pd.DataFrame:
    """Each rater pair's quadratic-weighted kappa: rater_a, rater_b, shared_clips, qwk."""
    found = rater_pairs(ratings=ratings, min_shared_clips=min_shared_clips)
    result = found.pairs.copy()
    result["qwk"] = [float(k) if np.isfinite(k) else None for k in _pair_kappas(found)]
    return result


@dataclass(frozen=True)
class RaterAgreement:
    """Humans among themselves on one set of clips."""

    krippendorff_alpha_ordinal: Stat
    krippendorff_alpha_interval: Stat
    fleiss_kappa: Stat
    pairwise_qwk: Stat
    exact: Stat
    within1: Stat
    n_clips: int
    n_ratings: int
    n_raters: int

    def as_json(self) -> dict[str, object]:
        """Flat ``raters.*`` keys."""
        stats = {
            "krippendorff_alpha_ordinal": self.krippendorff_alpha_ordinal,
            "krippendorff_alpha_interval": self.krippendorff_alpha_interval,
            "fleiss_kappa": self.fleiss_kappa,
            "pairwise_qwk": self.pairwise_qwk,
            "exact": self.exact,
            "within1": self.within1,
        }
        data: dict[str, object] = {f"raters.{key}": stat.as_json() for key, stat in stats.items()}
        data["raters.n_clips"] = self.n_clips
        data["raters.n_ratings"] = self.n_ratings
        data["raters.n_raters"] = self.n_raters
        return data


def rater_agreement(
    *,
    ratings: ClipRatings,
    min_shared_clips: int = DEFAULT_MIN_SHARED_CLIPS,
    n_boot: int = 1000,
    seed: int = 0,
) -> RaterAgreement:
    """All human-among-human statistics on ``ratings``, sharing one seed.

    Statistics over the same clips use the same resamples (same seed), so their
    intervals are paired.
    """
    bootstrap = {"n_boot": n_boot, "seed": seed}
    return RaterAgreement(
        krippendorff_alpha_ordinal=krippendorff_alpha(
            ratings=ratings, level="ordinal", **bootstrap
        ),
        krippendorff_alpha_interval=krippendorff_alpha(
            ratings=ratings, level="interval", **bootstrap
        ),
        fleiss_kappa=fleiss_kappa(ratings=ratings, **bootstrap),
        pairwise_qwk=pairwise_qwk(ratings=ratings, min_shared_clips=min_shared_clips, **bootstrap),
        exact=pairwise_agreement(ratings=ratings, tolerance=0, **bootstrap),
        within1=pairwise_agreement(ratings=ratings, tolerance=1, **bootstrap),
        n_clips=ratings.n_clips,
        n_ratings=len(ratings.score),
        n_raters=len(np.unique(ratings.rater)),
    )
