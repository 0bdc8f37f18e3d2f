"""The input hash: one canonical form for the leaderboard's inputs and the agreement report's."""

from __future__ import annotations

import hashlib

import pandas as pd

from evaluation.scoring.input_hash import input_hash

RATINGS = pd.DataFrame(
    [
        ("task1", "team0", "episode_0", "R1", 3),
        ("task1", "team0", "episode_0", "R2", 2),
        ("task1", "team1", "episode_0", "R1", 0),
    ],
    columns=["task", "team", "episode", "rater", "score"],
)
VERDICTS = pd.DataFrame(
    [("task1", "team0", "episode_0", 3), ("task1", "team1", "episode_0", 1)],
    columns=["task", "team", "episode", "score"],
)
INPUTS = {
    "rated_set": {"task1": ["episode_0"]},
    "tasks": ["task1"],
    "teams": ["team0", "team1"],
    "parameters": {"n_boot": 100, "seed": 0, "confidence": 0.95},
}


def test_the_canonical_form_is_the_documented_one():
    """A JSON line, then the ratings as header-less CSV sorted by task, team, episode, rater."""
    head = (
        '{"form":1,"parameters":{"confidence":0.95,"n_boot":100,"seed":0},'
        '"rated_set":{"task1":["episode_0"]},"tasks":["task1"],"teams":["team0","team1"]}'
    )
    body = "task1,team0,episode_0,R1,3\ntask1,team0,episode_0,R2,2\ntask1,team1,episode_0,R1,0\n"
    expected = hashlib.sha256(f"{head}\n{body}".encode()).hexdigest()
    assert input_hash(ratings=RATINGS, **INPUTS) == expected
    with_verdicts = hashlib.sha256(
        f"{head}\n{body}\nverdicts\ntask1,team0,episode_0,3\ntask1,team1,episode_0,1\n".encode()
    ).hexdigest()
    assert input_hash(ratings=RATINGS, verdicts=VERDICTS, **INPUTS) == with_verdicts


def test_row_order_and_extra_columns_do_not_count_scores_do():
    plain = input_hash(ratings=RATINGS, verdicts=VERDICTS, **INPUTS)
    shuffled = RATINGS.iloc[::-1].assign(comment="fine")
    assert input_hash(ratings=shuffled, verdicts=VERDICTS.iloc[::-1], **INPUTS) == plain
    changed = VERDICTS.assign(score=[3, 2])
    assert input_hash(ratings=RATINGS, verdicts=changed, **INPUTS) != plain
    assert input_hash(ratings=RATINGS, **{**INPUTS, "teams": ["team0"]}) != input_hash(
        ratings=RATINGS, **INPUTS
    )
