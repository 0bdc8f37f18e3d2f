"""Agreement of a judge with the human raters, clip by clip.

Each clip's human *consensus* is the median of its ratings with halves rounded up
(ratings 1 and 2 give 2): on the 0-3 scale a tie between "outcome wrong" (1) and
"outcome right" (2) goes to the side the protocol treats as a pass.

Every clip-level statistic is a function of the 4x4 table (rows: consensus 0-3,
columns: judge 0-3), so a bootstrap replicate is one ``(weights @ one-hot)`` product
and the statistics are read off ``(replicates, 16)`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.scoring.agreement_raters import (
    CLIP_KEYS,
    MIN_ITEMS,
    N_LEVELS,
    NO_VARIATION,
    TOO_FEW_ITEMS,
    AgreementInputError,
    ClipRatings,
    Stat,
    alpha_from_coincidences,
    coincidence_contributions,
    resample_weights,
    stat_from_values,
)
from evaluation.scoring.protocol import natural_key
from evaluation.scoring.statistics import quadratic_kappa_from_tables, weighted_kendall_tau_b

VERDICT_COLUMNS = (*CLIP_KEYS, "score")
PASS_SCORE = 2  # 2 and 3 mean the final object state matches the reference

_ROW = np.repeat(np.arange(N_LEVELS), N_LEVELS)  # consensus score of each table cell
_COLUMN = np.tile(np.arange(N_LEVELS), N_LEVELS)  # judge score of each table cell


def consensus_from_counts(counts: np.ndarray) -> np.ndarray:
    """Per clip, the median of its ratings with halves rounded up.

    ``counts`` is ``(n_clips, 4)``: how many ratings are 0, 1, 2, 3. Every clip needs
    at least one rating.
    """
    counts = np.asarray(counts, dtype=np.int64)
    m = counts.sum(axis=1)
    if (m < 1).any():
        raise AgreementInputError("every clip needs at least one rating for a consensus")
    cumulative = np.cumsum(counts, axis=1)

    def value_at(position: np.ndarray) -> np.ndarray:
        return np.argmax(cumulative > position[:, None], axis=1)

    lower, upper = value_at((m - 1) // 2), value_at(m // 2)
    return (lower + upper + 1) // 2


def human_consensus(scores: list[int] | np.ndarray) -> int:
    """The consensus of one clip's ratings (median, halves rounded up)."""
    values = np.asarray(scores, dtype=np.int64)
    if values.size == 0:
        raise AgreementInputError("a consensus needs at least one rating")
    if ((values < 0) | (values >= N_LEVELS)).any():
        raise AgreementInputError(f"ratings must be 0-3, got {values.tolist()}")
    counts = np.bincount(values, minlength=N_LEVELS)[None, :]
    return int(consensus_from_counts(counts)[0])


def validate_verdicts(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Checked copy of ``verdicts`` (task, team, episode, score 0-3), one per clip."""
    if not isinstance(verdicts, pd.DataFrame):
        raise AgreementInputError(f"verdicts must be a pandas DataFrame, got {type(verdicts)!r}")
    missing = [column for column in VERDICT_COLUMNS if column not in verdicts.columns]
    if missing:
        raise AgreementInputError(f"verdicts lack column(s) {', '.join(missing)}")
    frame = verdicts.loc[:, list(VERDICT_COLUMNS)].reset_index(drop=True)
    for column in VERDICT_COLUMNS:
        empty = frame.index[frame[column].isna()]
        if len(empty):
            raise AgreementInputError(f"verdicts column {column!r} is empty in row {empty[0]}")
    for column in CLIP_KEYS:
        frame[column] = frame[column].astype(str)
    scores = frame["score"]
    if pd.api.types.is_bool_dtype(scores) or not pd.api.types.is_numeric_dtype(scores):
        raise AgreementInputError(
            f"verdicts column 'score' must be integers 0-3, got {scores.dtype}"
        )
    values = scores.to_numpy(dtype=np.float64)
    bad = (values != np.round(values)) | (values < 0) | (values > N_LEVELS - 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise AgreementInputError(
            f"verdict score {values[row]!r} in row {row} is not an integer 0-3"
        )
    frame["score"] = values.astype(np.int64)
    duplicated = frame.duplicated(list(CLIP_KEYS))
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise AgreementInputError(
            f"clip {row['team']}/{row['task']}/{row['episode']} has more than one verdict"
        )
    return frame


# --- statistics of (k, 16) consensus x judge tables -----------------------------------------


def _share(tables: np.ndarray, cells: np.ndarray) -> np.ndarray:
    return (tables * cells).sum(axis=-1) / tables.sum(axis=-1)


def exact_from_tables(tables: np.ndarray) -> np.ndarray:
    return _share(tables, _ROW == _COLUMN)


def within1_from_tables(tables: np.ndarray) -> np.ndarray:
    return _share(tables, np.abs(_ROW - _COLUMN) <= 1)


def mae_from_tables(tables: np.ndarray) -> np.ndarray:
    return _share(tables, np.abs(_ROW - _COLUMN).astype(np.float64))


def outcome_agreement_from_tables(tables: np.ndarray) -> np.ndarray:
    return _share(tables, (_ROW >= PASS_SCORE) == (_COLUMN >= PASS_SCORE))


def _midranks(marginals: np.ndarray) -> np.ndarray:
    """Average rank (1-based) of the values in each of the 4 categories."""
    before = np.cumsum(marginals, axis=-1) - marginals
    return before + (marginals + 1.0) / 2.0


def spearman_from_tables(tables: np.ndarray) -> np.ndarray:
    """Spearman's rho (midranks for ties) of consensus vs judge; NaN if a side is constant."""
    matrices = tables.reshape(-1, N_LEVELS, N_LEVELS)
    rows, columns = matrices.sum(axis=2), matrices.sum(axis=1)
    total = rows.sum(axis=1, keepdims=True)
    row_ranks = _midranks(rows) - (total + 1.0) / 2.0
    column_ranks = _midranks(columns) - (total + 1.0) / 2.0
    covariance = np.einsum("bkl,bk,bl->b", matrices, row_ranks, column_ranks)
    row_variance = (rows * row_ranks**2).sum(axis=1)
    column_variance = (columns * column_ranks**2).sum(axis=1)
    # Midranks of a single occupied category are exactly the mean rank, so a constant
    # side gives an exact zero variance rather than float noise.
    defined = ((rows > 0).sum(axis=1) > 1) & ((columns > 0).sum(axis=1) > 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = covariance / np.sqrt(row_variance * column_variance)
    return np.where(defined, rho, np.nan)


def kendall_tau_b_from_tables(tables: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of consensus vs judge; NaN if a side is constant.

    A table is the 16 (consensus, judge) cells drawn as many times as they count clips.
    """
    return weighted_kendall_tau_b(_ROW, _COLUMN, tables.reshape(-1, N_LEVELS * N_LEVELS))


TABLE_STATISTICS = {
    "qwk": quadratic_kappa_from_tables,
    "spearman": spearman_from_tables,
    "kendall_tau_b": kendall_tau_b_from_tables,
    "exact": exact_from_tables,
    "within1": within1_from_tables,
    "mae": mae_from_tables,
    "outcome_agreement": outcome_agreement_from_tables,
}
_NEEDS_VARIATION = {"qwk", "spearman", "kendall_tau_b"}


@dataclass(frozen=True)
class JudgeAgreement:
    """A judge against the human consensus on the clips that have both.

    ``clips`` has one row per paired clip: task, team, episode, ratings (sorted list),
    n_ratings, human_mean, consensus, judge, abs_diff. ``confusion[h, j]`` counts clips
    with consensus ``h`` and judge score ``j``.
    """

    stats: dict[str, Stat]
    confusion: np.ndarray
    alpha_humans: Stat
    alpha_with_judge: Stat
    alpha_delta: Stat
    clips: pd.DataFrame
    n_missing_verdicts: int
    n_unrated_verdicts: int

    def largest_disagreements(self, *, limit: int = 50) -> pd.DataFrame:
        """Clips sorted by ``|consensus - judge|``, largest first, then by clip."""
        ordered = self.clips.assign(
            _order=[
                (-diff, natural_key(task), natural_key(team), natural_key(episode))
                for diff, task, team, episode in zip(
                    self.clips["abs_diff"],
                    self.clips["task"],
                    self.clips["team"],
                    self.clips["episode"],
                    strict=True,
                )
            ]
        ).sort_values("_order", kind="stable")
        return ordered.drop(columns="_order").head(limit).reset_index(drop=True)

    def as_json(self) -> dict[str, object]:
        """Flat ``video.*`` keys."""
        data: dict[str, object] = {
            f"video.{key}": stat.as_json() for key, stat in self.stats.items()
        }
        data["video.confusion"] = self.confusion.astype(int).tolist()
        data["video.krippendorff_alpha_ordinal_humans"] = self.alpha_humans.as_json()
        data["video.krippendorff_alpha_ordinal_with_judge"] = self.alpha_with_judge.as_json()
        data["video.krippendorff_alpha_ordinal_delta"] = self.alpha_delta.as_json()
        data["video.n_clips"] = len(self.clips)
        data["video.n_missing_verdicts"] = self.n_missing_verdicts
        data["video.n_unrated_verdicts"] = self.n_unrated_verdicts
        return data


def _paired_clips(
    *, ratings: ClipRatings, verdicts: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, int]:
    """Clip numbers that have a verdict, their judge scores, and the unmatched verdict count."""
    keyed = ratings.clips.assign(_clip=np.arange(ratings.n_clips))
    joined = keyed.merge(verdicts, on=list(CLIP_KEYS), how="inner")
    clip_numbers = joined["_clip"].to_numpy(dtype=np.int64)
    order = np.argsort(clip_numbers)
    return (
        clip_numbers[order],
        joined["score"].to_numpy(dtype=np.int64)[order],
        len(verdicts) - len(joined),
    )


def _alpha_comparison(
    *, human_counts: np.ndarray, judge: np.ndarray, weights: np.ndarray
) -> tuple[Stat, Stat, Stat]:
    """Ordinal alpha of humans alone, with the judge as one more rater, and the change."""
    n = len(judge)
    with_judge = human_counts + np.eye(N_LEVELS, dtype=np.int64)[judge]
    humans = coincidence_contributions(human_counts)
    combined = coincidence_contributions(with_judge)

    def undefined_reason(counts: np.ndarray) -> str | None:
        pairable = counts.sum(axis=1) >= 2
        if pairable.sum() < MIN_ITEMS:
            return TOO_FEW_ITEMS
        if (counts[pairable].sum(axis=0) > 0).sum() < 2:
            return NO_VARIATION
        return None

    with np.errstate(divide="ignore", invalid="ignore"):
        points = {
            key: alpha_from_coincidences(contributions.sum(axis=0, keepdims=True), level="ordinal")
            for key, contributions in (("humans", humans), ("combined", combined))
        }
        replicates = {
            key: alpha_from_coincidences(weights @ contributions, level="ordinal")
            for key, contributions in (("humans", humans), ("combined", combined))
        }

    def alpha_of(key: str, counts: np.ndarray) -> Stat:
        reason = undefined_reason(counts)
        n_pairable = int((counts.sum(axis=1) >= 2).sum())
        if reason is not None:
            return Stat.undefined(reason=reason, n=n_pairable)
        return stat_from_values(
            point=float(points[key][0]), replicates=replicates[key], n=n_pairable
        )

    alpha_humans = alpha_of("humans", human_counts)
    alpha_with_judge = alpha_of("combined", with_judge)
    if alpha_humans.value is None or alpha_with_judge.value is None:
        reason = alpha_humans.reason or alpha_with_judge.reason or NO_VARIATION
        return alpha_humans, alpha_with_judge, Stat.undefined(reason=reason, n=n)
    delta = stat_from_values(
        point=float(points["combined"][0] - points["humans"][0]),
        replicates=replicates["combined"] - replicates["humans"],
        n=n,
    )
    return alpha_humans, alpha_with_judge, delta


def judge_agreement(
    *, ratings: ClipRatings, verdicts: pd.DataFrame, n_boot: int = 1000, seed: int = 0
) -> JudgeAgreement:
    """Judge vs human consensus on the rated clips that have a verdict.

    ``n`` of every statistic is the number of such clips; the interval resamples
    them. Verdicts of clips nobody rated are counted in ``n_unrated_verdicts`` and
    otherwise ignored; rated clips without a verdict in ``n_missing_verdicts``.
    """
    checked = validate_verdicts(verdicts)
    clip_numbers, judge, n_unrated = _paired_clips(ratings=ratings, verdicts=checked)
    n = len(clip_numbers)
    counts = ratings.counts()[clip_numbers]
    consensus = consensus_from_counts(counts) if n else np.zeros(0, dtype=np.int64)
    cells = np.eye(N_LEVELS * N_LEVELS)[N_LEVELS * consensus + judge]
    confusion = cells.sum(axis=0).reshape(N_LEVELS, N_LEVELS).astype(np.int64)
    weights = resample_weights(n_items=n, n_boot=n_boot, seed=seed)

    point_table = cells.sum(axis=0, keepdims=True)
    replicate_tables = weights @ cells
    stats: dict[str, Stat] = {}
    for name, statistic in TABLE_STATISTICS.items():
        if n < MIN_ITEMS:
            stats[name] = Stat.undefined(reason=TOO_FEW_ITEMS, n=n)
        elif name in _NEEDS_VARIATION and (
            len(np.unique(consensus)) < 2 or len(np.unique(judge)) < 2
        ):
            stats[name] = Stat.undefined(reason=NO_VARIATION, n=n)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                stats[name] = stat_from_values(
                    point=float(statistic(point_table)[0]),
                    replicates=statistic(replicate_tables),
                    n=n,
                )
    alpha_humans, alpha_with_judge, alpha_delta = _alpha_comparison(
        human_counts=counts, judge=judge, weights=weights
    )
    return JudgeAgreement(
        stats=stats,
        confusion=confusion,
        alpha_humans=alpha_humans,
        alpha_with_judge=alpha_with_judge,
        alpha_delta=alpha_delta,
        clips=_clip_table(
            ratings=ratings, clip_numbers=clip_numbers, consensus=consensus, judge=judge
        ),
        n_missing_verdicts=ratings.n_clips - n,
        n_unrated_verdicts=n_unrated,
    )


def _clip_table(
    *, ratings: ClipRatings, clip_numbers: np.ndarray, consensus: np.ndarray, judge: np.ndarray
) -> pd.DataFrame:
    order = np.lexsort((ratings.score, ratings.clip))
    by_clip = np.split(
        ratings.score[order], np.cumsum(np.bincount(ratings.clip, minlength=ratings.n_clips))[:-1]
    )
    table = ratings.clips.iloc[clip_numbers].reset_index(drop=True)
    table["ratings"] = [by_clip[number].tolist() for number in clip_numbers]
    table["n_ratings"] = [len(scores) for scores in table["ratings"]]
    table["human_mean"] = [float(np.mean(scores)) for scores in table["ratings"]]
    table["consensus"] = consensus.astype(np.int64)
    table["judge"] = judge.astype(np.int64)
    table["abs_diff"] = np.abs(consensus - judge).astype(np.int64)
    return table
