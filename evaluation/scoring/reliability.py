"""Rater reliability: how far each rater agrees with the others, and the rules that flag one.

Pure: plain DataFrames in, dataclasses out, no Django.

**Consensus.** Each rating is compared with the *leave-that-rater-out consensus* of its
clip: the **median** of the other raters' scores on that clip, among the ratings that
count (an excluded rater never shapes anyone's consensus; their own ratings are still
compared with the counted ones). The median rather than the mean, because the raters
this report looks for are outliers: with three or more other raters, one who answers at
random or always says 3 cannot drag the median, while they would drag a mean towards
themselves and hide among the careful raters. With two other raters (three per clip,
the protocol's setting) the median and the mean are the same number. It is also the
consensus the judge is compared with (:func:`.agreement_judge.human_consensus`), so the
reports share one definition.

- quadratic-weighted kappa and exact agreement compare the rater's score with the
  consensus *rounded to a score*, halves up (others at 1 and 2 give 2), as the judge
  comparison rounds it;
- bias is the mean of ``score - median`` with the median *unrounded*, so that rounding
  halves up does not lend every rater a negative bias of its own.

**Flags** (:data:`FLAGS`), each with its threshold in :class:`ReliabilityThresholds`
(campaign settings in the app):

- ``fast``: the median of the rater's server-measured seconds per clip, divided by the
  pair's duration, is below ``fast_ratio`` (at least ``min_clips`` timed ratings);
- ``gold``: the share of gold clips scored exactly right is below ``min_gold_accuracy``
  (at least ``gold_min_clips`` gold clips rated);
- ``disagrees``: kappa with the consensus is below ``min_kappa`` (at least
  ``min_clips`` ratings with a consensus);
- ``straight_line``: the rater's most used score is at least ``straight_line_share``
  of their ratings (at least ``min_clips`` ratings).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from evaluation.scoring.agreement_raters import N_LEVELS, quadratic_kappa_from_tables
from evaluation.scoring.protocol import ScoringInputError, validate_ratings

CLIP_KEYS = ("task", "team", "episode")
FAST, GOLD, DISAGREES, STRAIGHT_LINE = "fast", "gold", "disagrees", "straight_line"
FLAGS = (FAST, GOLD, DISAGREES, STRAIGHT_LINE)
CONSENSUS_RULE = (
    "leave-that-rater-out consensus: the median of the other counted raters' scores on the "
    "clip; rounded to a score (halves up) for kappa and exact agreement, unrounded for bias"
)


class ReliabilityInputError(ScoringInputError):
    """Ratings or thresholds the reliability statistics cannot use; the message says why."""


@dataclass(frozen=True)
class ReliabilityThresholds:
    """The rules' thresholds; the defaults are the campaign's defaults."""

    min_clips: int = 5
    fast_ratio: float = 1.0
    min_kappa: float = 0.4
    straight_line_share: float = 0.8
    min_gold_accuracy: float = 0.7
    gold_min_clips: int = 3

    def __post_init__(self) -> None:
        for name in ("min_clips", "gold_min_clips"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ReliabilityInputError(
                    f"{name} must be an integer of 1 or more, not {value!r}"
                )
        ranges = {
            "fast_ratio": (0.0, math.inf),
            "min_kappa": (-1.0, 1.0),
            "straight_line_share": (0.0, 1.0),
            "min_gold_accuracy": (0.0, 1.0),
        }
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not low <= value <= high
            ):
                raise ReliabilityInputError(
                    f"{name} must be a number from {low} to {high}, not {value!r}"
                )

    def as_json(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class GoldScore:
    """A rater's answers on gold clips (clips with a known score): shares of ``n``."""

    n: int
    exact: float | None
    within_one: float | None


@dataclass(frozen=True)
class RaterReliability:
    """One rater's figures; None where a figure is undefined (see ``reasons``)."""

    rater: str
    n_clips: int  # ratings given (counted or not)
    n_counted: int  # of which count (not excluded)
    n_compared: int  # ratings with a consensus (the clip has another counted rating)
    kappa: float | None
    exact: float | None
    bias: float | None
    gold_n: int
    gold_exact: float | None
    gold_within_one: float | None
    n_timed: int  # ratings with a server-measured time and a known pair duration
    median_seconds: float | None  # server-measured seconds per clip
    median_page_seconds: float | None  # as the rating page reported them
    median_duration_s: float | None  # the pairs' durations
    time_ratio: float | None  # median of seconds / duration, per rating
    modal_score: int | None
    straight_line: float | None  # share of the most used score
    flags: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["flags"] = list(self.flags)
        return data


def _checked(ratings: pd.DataFrame) -> pd.DataFrame:
    """Validated keys and scores, plus ``counted`` (default true) and the optional timings."""
    frame = validate_ratings(ratings)
    if "counted" in ratings.columns:
        counted = ratings["counted"].reset_index(drop=True)
        if counted.isna().any() or not pd.api.types.is_bool_dtype(counted):
            raise ReliabilityInputError("ratings column 'counted' must be true or false")
        frame["counted"] = counted.to_numpy(dtype=bool)
    else:
        frame["counted"] = True
    for column in ("seconds", "page_seconds", "duration_s"):
        if column in ratings.columns:
            values = pd.to_numeric(ratings[column].reset_index(drop=True), errors="coerce")
            frame[column] = values.to_numpy(dtype=np.float64)
        else:
            frame[column] = np.nan
    return frame


def _median_from_counts(counts: np.ndarray) -> np.ndarray:
    """Per row, the median of a multiset of 0-3 scores given as ``(n, 4)`` counts; NaN if empty."""
    m = counts.sum(axis=1)
    cumulative = np.cumsum(counts, axis=1)

    def value_at(position: np.ndarray) -> np.ndarray:
        return (cumulative <= position[:, None]).sum(axis=1)

    lower, upper = value_at((m - 1) // 2), value_at(m // 2)
    return np.where(m > 0, (lower + upper) / 2.0, np.nan)


def leave_one_out_consensus(ratings: pd.DataFrame) -> pd.DataFrame:
    """Each rating with the consensus of the other counted raters of its clip.

    Adds ``consensus`` (the median of the others, NaN when no other counted rating) and
    ``consensus_score`` (that median rounded halves up, nullable integer). Accepts the
    columns of :func:`rater_reliability`.
    """
    frame = _checked(ratings)
    clip_codes, _ = pd.MultiIndex.from_frame(frame[list(CLIP_KEYS)]).factorize()
    clip = np.asarray(clip_codes, dtype=np.int64)
    scores = frame["score"].to_numpy(dtype=np.int64)
    counted = frame["counted"].to_numpy(dtype=bool)
    counts = np.zeros((clip.max(initial=-1) + 1, N_LEVELS), dtype=np.int64)
    np.add.at(counts, (clip[counted], scores[counted]), 1)
    others = counts[clip].copy()
    # A counted rating takes itself out; an excluded one was never in.
    others[np.flatnonzero(counted), scores[counted]] -= 1
    median = _median_from_counts(others)
    frame["consensus"] = median
    rounded = np.floor(median + 0.5)
    frame["consensus_score"] = pd.array(
        [int(value) if np.isfinite(value) else pd.NA for value in rounded], dtype="Int64"
    )
    return frame


def quadratic_weighted_kappa(first: np.ndarray, second: np.ndarray) -> float:
    """Cohen's quadratic-weighted kappa of two 0-3 score vectors on the full scale; NaN if undefined.

    The same as scikit-learn's ``cohen_kappa_score(a, b, weights="quadratic",
    labels=[0, 1, 2, 3])``.
    """
    a = np.asarray(first, dtype=np.int64)
    b = np.asarray(second, dtype=np.int64)
    if a.shape != b.shape:
        raise ReliabilityInputError(
            f"kappa needs two vectors of one length, got {a.shape} and {b.shape}"
        )
    if a.size and (a.min() < 0 or b.min() < 0 or a.max() >= N_LEVELS or b.max() >= N_LEVELS):
        raise ReliabilityInputError("kappa needs scores from 0 to 3")
    table = np.bincount(N_LEVELS * a + b, minlength=N_LEVELS * N_LEVELS)
    return float(quadratic_kappa_from_tables(table[None, :])[0])


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _median(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else None


def _flags(row: RaterReliability, thresholds: ReliabilityThresholds) -> tuple[str, ...]:
    flags = []
    if (
        row.n_timed >= thresholds.min_clips
        and row.time_ratio is not None
        and row.time_ratio < thresholds.fast_ratio
    ):
        flags.append(FAST)
    if (
        row.gold_n >= thresholds.gold_min_clips
        and row.gold_exact is not None
        and row.gold_exact < thresholds.min_gold_accuracy
    ):
        flags.append(GOLD)
    if (
        row.n_compared >= thresholds.min_clips
        and row.kappa is not None
        and row.kappa < thresholds.min_kappa
    ):
        flags.append(DISAGREES)
    if (
        row.n_clips >= thresholds.min_clips
        and row.straight_line is not None
        and row.straight_line >= thresholds.straight_line_share
    ):
        flags.append(STRAIGHT_LINE)
    return tuple(flags)


def rater_reliability(
    *,
    ratings: pd.DataFrame,
    gold: Mapping[str, GoldScore] | None = None,
    thresholds: ReliabilityThresholds | None = None,
) -> list[RaterReliability]:
    """Per rater: agreement with the leave-one-out consensus, bias, gold, time, straight-lining.

    ``ratings`` has task, team, episode, rater, score (0-3), and optionally ``counted``
    (false for an excluded rating: compared, never part of a consensus), ``seconds``
    (server-measured), ``page_seconds`` (as the page reported) and ``duration_s`` (the
    pair's duration). ``gold`` maps a rater to their gold answers; a rater who appears
    only there gets a row too. Raters come sorted by name.
    """
    thresholds = thresholds or ReliabilityThresholds()
    frame = leave_one_out_consensus(ratings)
    gold = dict(gold or {})
    rows = []
    for rater in sorted(set(frame["rater"]) | set(gold)):
        mine = frame[frame["rater"] == rater]
        scores = mine["score"].to_numpy(dtype=np.int64)
        compared = mine[mine["consensus_score"].notna()]
        own = compared["score"].to_numpy(dtype=np.int64)
        consensus = compared["consensus_score"].to_numpy(dtype=np.int64)
        seconds = mine["seconds"].to_numpy(dtype=np.float64)
        duration = mine["duration_s"].to_numpy(dtype=np.float64)
        timed = np.isfinite(seconds) & np.isfinite(duration) & (duration > 0)
        ratios = np.divide(seconds, duration, out=np.full(len(seconds), np.nan), where=timed)
        histogram = np.bincount(scores, minlength=N_LEVELS)
        answers = gold.get(rater)
        row = RaterReliability(
            rater=str(rater),
            n_clips=len(mine),
            n_counted=int(mine["counted"].sum()),
            n_compared=len(compared),
            kappa=_finite(quadratic_weighted_kappa(own, consensus)) if len(own) else None,
            exact=float((own == consensus).mean()) if len(own) else None,
            bias=float((own - compared["consensus"].to_numpy()).mean()) if len(own) else None,
            gold_n=answers.n if answers else 0,
            gold_exact=answers.exact if answers else None,
            gold_within_one=answers.within_one if answers else None,
            n_timed=int(timed.sum()),
            median_seconds=_median(seconds[timed]),
            median_page_seconds=_median(mine["page_seconds"].to_numpy(dtype=np.float64)),
            median_duration_s=_median(duration[timed]),
            time_ratio=_median(ratios[timed]),
            modal_score=int(histogram.argmax()) if len(scores) else None,
            straight_line=float(histogram.max() / len(scores)) if len(scores) else None,
        )
        rows.append(RaterReliability(**{**asdict(row), "flags": _flags(row, thresholds)}))
    return rows


def reliability_frame(rows: list[RaterReliability]) -> pd.DataFrame:
    """One row per rater; ``flags`` joined with ``;`` (empty: none), for CSV."""
    columns = [name for name in RaterReliability.__dataclass_fields__]
    records = [{**row.as_json(), "flags": ";".join(row.flags)} for row in rows]
    return pd.DataFrame(records, columns=columns)


@dataclass(frozen=True)
class ClipSpread:
    """A clip's counted ratings at a glance, for the adjudication queue."""

    task: str
    team: str
    episode: str
    n_ratings: int
    n_counted: int
    low: int | None  # over counted ratings
    high: int | None
    mean: float | None
    disagrees: bool  # high - low >= the campaign's range
    has_excluded: bool


def clip_spreads(*, ratings: pd.DataFrame, min_range: int) -> list[ClipSpread]:
    """Every rated clip with the range of its counted ratings and whether it goes to review."""
    if isinstance(min_range, bool) or not isinstance(min_range, int) or not 1 <= min_range <= 3:
        raise ReliabilityInputError(
            f"the adjudication range must be 1, 2 or 3 points, not {min_range!r}"
        )
    frame = _checked(ratings)
    spreads = []
    for (task, team, episode), clip in frame.groupby(list(CLIP_KEYS), sort=False):
        counted = clip.loc[clip["counted"], "score"]
        low = int(counted.min()) if len(counted) else None
        high = int(counted.max()) if len(counted) else None
        spreads.append(
            ClipSpread(
                task=str(task),
                team=str(team),
                episode=str(episode),
                n_ratings=len(clip),
                n_counted=len(counted),
                low=low,
                high=high,
                mean=float(counted.mean()) if len(counted) else None,
                disagrees=low is not None and high is not None and high - low >= min_range,
                has_excluded=bool((~clip["counted"]).any()),
            )
        )
    return spreads


PER_RATER_KEYS = ("rater", "n_clips", "n_compared", "kappa", "exact", "bias")


def per_rater_agreement(ratings: pd.DataFrame) -> list[dict[str, object]]:
    """Each rater's agreement with the leave-one-out consensus, for the agreement report.

    Every rating of ``ratings`` counts (the report's own choice of ratings decides who is
    in): rater, n_clips, n_compared, kappa, exact, bias, as in :func:`rater_reliability`.
    """
    frame = ratings.loc[:, [*CLIP_KEYS, "rater", "score"]]
    return [
        {key: row.as_json()[key] for key in PER_RATER_KEYS}
        for row in rater_reliability(ratings=frame)
    ]
