"""How an organizer's decided score enters the protocol's counts. Pure: no Django.

The rule (also in docs/quality-review.md and in every export's metadata):

- exclusions come first: an excluded rater's ratings are gone before decisions apply;
- a decided score **replaces each counted rating** of its clip: a clip with three
  counted ratings counts as three ratings of the decided score, so it keeps its weight
  in ``N3/N2/N1/N0`` and ``N_total``, and ``s(clip)`` is the decided score;
- a decided clip with no counted rating left (all its raters excluded) counts as one
  rating of the decided score, by the rater :data:`DECISION_RATER`;
- the ratings keep the rater's own score beside it (``rater_score``) and say
  ``adjudicated``; rater and agreement reports read the raters' own scores only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.scoring.protocol import ScoringInputError

CLIP_KEYS = ["task", "team", "episode"]
DECISION_RATER = "decision"
ADJUDICATION_RULE = (
    "a decided score replaces each counted rating of its clip (the clip keeps its weight); "
    f"a decided clip with no counted rating counts as one rating by rater {DECISION_RATER!r}; "
    "excluded raters' ratings are left out before decisions apply; rater_score keeps the "
    "rater's own score"
)


def apply_decisions(*, ratings: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """``ratings`` with the decided scores applied (the rule in the module docstring).

    ``decisions`` has task, team, episode, score (0-3), one row per decided clip. The
    result has every column of ``ratings`` plus ``rater_score`` (nullable integer) and
    ``adjudicated`` (bool); a row added for a decided clip without ratings has the
    clip, the rater :data:`DECISION_RATER` and the score, other columns empty.
    """
    missing = [column for column in [*CLIP_KEYS, "score"] if column not in decisions.columns]
    if missing:
        raise ScoringInputError(f"decisions lack column(s) {', '.join(missing)}")
    decided = decisions.loc[:, [*CLIP_KEYS, "score"]].astype({key: str for key in CLIP_KEYS})
    if decided.duplicated(CLIP_KEYS).any():
        row = decided[decided.duplicated(CLIP_KEYS)].iloc[0]
        raise ScoringInputError(
            f"clip {row['team']}/{row['task']}/{row['episode']} has two decisions"
        )
    scores = decided["score"].to_numpy(dtype=np.int64)
    if len(scores) and (scores.min() < 0 or scores.max() > 3):
        raise ScoringInputError("decided scores must be 0-3")
    result = ratings.copy()
    result["rater_score"] = pd.array(result["score"], dtype="Int64")
    keys = result.loc[:, CLIP_KEYS].astype(str)
    lookup = dict(zip(map(tuple, decided[CLIP_KEYS].to_numpy()), scores.tolist(), strict=True))
    replaced = [lookup.get(tuple(key)) for key in keys.to_numpy()]
    hit = np.array([value is not None for value in replaced], dtype=bool)
    result["adjudicated"] = hit
    if hit.any():
        result.loc[hit, "score"] = [value for value in replaced if value is not None]
    result["score"] = result["score"].astype("int64")
    rated = set(map(tuple, keys.to_numpy()))
    unrated = [key for key in lookup if key not in rated]
    if unrated:
        added = pd.DataFrame(
            [
                {
                    "task": task,
                    "team": team,
                    "episode": episode,
                    "rater": DECISION_RATER,
                    "score": lookup[(task, team, episode)],
                    "adjudicated": True,
                }
                for task, team, episode in unrated
            ]
        )
        added["rater_score"] = pd.array([pd.NA] * len(added), dtype="Int64")
        result = pd.concat([result, added.reindex(columns=result.columns)], ignore_index=True)
        result["score"] = result["score"].astype("int64")
        result["adjudicated"] = result["adjudicated"].astype(bool)
    return result
