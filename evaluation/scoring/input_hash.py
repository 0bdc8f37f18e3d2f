"""The input hash: sha256 of what a result was computed from, in one canonical form.

Every result computed from a campaign's scores carries it: the leaderboard and its
exports (``X-Refscore-Input-Hash``) and the agreement report (its data hash, also the
key its cache is looked up by). Equal hashes mean equal inputs, so a cached result may
be served and two files may be compared; a changed score, rated set, team, task,
verdict or parameter gives another hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import pandas as pd

# Bumped whenever the canonical form changes, so old hashes never silently match new data.
CANONICAL_FORM_VERSION = 1
_CLIP_KEYS = ["task", "team", "episode"]


def input_hash(
    *,
    ratings: pd.DataFrame,
    rated_set: Mapping[str, Sequence[str]],
    tasks: Sequence[str],
    teams: Sequence[str],
    parameters: Mapping[str, object],
    verdicts: pd.DataFrame | None = None,
) -> str:
    """sha256 of the scoring inputs in a canonical form, as a hex string.

    The canonical form is a JSON line (form version, ``parameters``, tasks, teams, the
    rated set with episodes in their order) followed by the ratings' five scoring
    columns as header-less CSV sorted by task, team, episode and rater; with
    ``verdicts``, a ``verdicts`` line and their four columns sorted by clip. Comments,
    timestamps and row order do not change the hash; anything that changes a score
    does.
    """
    head = json.dumps(
        {
            "form": CANONICAL_FORM_VERSION,
            "parameters": dict(parameters),
            "tasks": [str(task) for task in tasks],
            "teams": [str(team) for team in teams],
            "rated_set": {
                str(task): [str(episode) for episode in episodes]
                for task, episodes in rated_set.items()
            },
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(head.encode())
    digest.update(b"\n")
    digest.update(_canonical_csv(ratings, [*_CLIP_KEYS, "rater"]).encode())
    if verdicts is not None:
        digest.update(b"\nverdicts\n")
        digest.update(_canonical_csv(verdicts, _CLIP_KEYS).encode())
    return digest.hexdigest()


def _canonical_csv(frame: pd.DataFrame, keys: list[str]) -> str:
    canonical = frame.loc[:, [*keys, "score"]].astype({key: str for key in keys})
    canonical["score"] = canonical["score"].astype("int64")
    return canonical.sort_values(keys, kind="stable").to_csv(
        header=False, index=False, lineterminator="\n"
    )
