"""Point scores, checked against cases computed by hand from the protocol text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.scoring import (
    ScoringInputError,
    clip_scores,
    competition_ranks,
    natural_sorted,
    point_scores,
)

pytestmark = []


def ratings_frame(rows: list[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])


def clip(task: str, team: str, episode: str, *scores: int) -> list[tuple[str, str, str, str, int]]:
    return [(task, team, episode, f"rater{i}", score) for i, score in enumerate(scores)]


def score_of(result, team: str, task: str) -> float:
    return float(result.task_scores[result.teams.index(team), result.tasks.index(task)])


def test_short_submission_uses_the_ground_truth_denominator() -> None:
    # 5 reference episodes, the team sent 3 clips scored 3, 2, 1 by all three raters:
    # (3*1 + 2*1 + 1*1) / 5 videos = 1.2, not 6 / 3 = 2.
    rows = clip("task1", "A", "e1", 3, 3, 3) + clip("task1", "A", "e2", 2, 2, 2)
    rows += clip("task1", "A", "e3", 1, 1, 1)
    result = point_scores(
        ratings=ratings_frame(rows), rated_set={"task1": ["e1", "e2", "e3", "e4", "e5"]}
    )
    assert score_of(result, "A", "task1") == pytest.approx(1.2)
    assert result.n_expected.tolist() == [5]
    assert result.n_clips_rated.tolist() == [[3]]
    assert result.n_ratings.tolist() == [[9]]
    # counts are stored as scores 0, 1, 2, 3
    assert result.counts[0, 0].tolist() == [0, 3, 3, 3]


def test_equal_rating_counts_match_the_protocol_formula() -> None:
    rows = clip("task1", "A", "e1", 3, 2, 3) + clip("task1", "A", "e2", 0, 1, 1)
    rows += clip("task1", "A", "e3", 2, 2, 3)
    result = point_scores(ratings=ratings_frame(rows))
    n3, n2, n1 = 3, 3, 2
    n_total = 9  # 3 clips x 3 ratings
    assert score_of(result, "A", "task1") == pytest.approx((3 * n3 + 2 * n2 + n1) / n_total)


def test_a_task_without_submission_counts_zero_in_the_final_score() -> None:
    rows = clip("task1", "A", "e1", 3, 3, 3) + clip("task1", "A", "e2", 1, 1, 1)
    rows += clip("task2", "B", "f1", 2, 2, 2)
    result = point_scores(
        ratings=ratings_frame(rows),
        rated_set={"task1": ["e1", "e2"], "task2": ["f1"], "task3": ["g1", "g2"]},
    )
    assert result.tasks == ("task1", "task2", "task3")
    assert score_of(result, "A", "task1") == pytest.approx(2.0)
    assert score_of(result, "A", "task2") == 0.0
    assert score_of(result, "A", "task3") == 0.0
    final = dict(zip(result.teams, result.final_scores, strict=True))
    assert final["A"] == pytest.approx(2.0 / 3)
    assert final["B"] == pytest.approx(2.0 / 3)


def test_campaign_tasks_without_any_rating_still_count() -> None:
    rows = clip("task1", "A", "e1", 3)
    result = point_scores(ratings=ratings_frame(rows), tasks=["task1", "task2", "task3", "task4"])
    assert result.final_scores.tolist() == [pytest.approx(0.75)]
    assert result.n_expected.tolist() == [1, 0, 0, 0]


def test_unequal_numbers_of_ratings_average_clip_means() -> None:
    # s = 2.5, 1.0, 3.0 -> S = 6.5 / 3; pooling the ratings would give 11 / 6.
    rows = clip("task1", "A", "e1", 3, 2) + clip("task1", "A", "e2", 0, 1, 2)
    rows += clip("task1", "A", "e3", 3)
    result = point_scores(ratings=ratings_frame(rows))
    assert score_of(result, "A", "task1") == pytest.approx(6.5 / 3)
    clips = clip_scores(ratings=ratings_frame(rows)).set_index("episode")
    assert clips.loc["e1", "score"] == 2.5
    assert clips.loc["e2", "n_ratings"] == 3


def test_ties_share_a_rank_competition_style() -> None:
    rows = clip("task1", "A", "e1", 3, 3) + clip("task1", "B", "e1", 2, 2)
    rows += clip("task1", "C", "e1", 1, 3) + clip("task1", "D", "e1", 1, 1)
    result = point_scores(ratings=ratings_frame(rows))
    assert dict(zip(result.teams, result.ranks.tolist(), strict=True)) == {
        "A": 1,
        "B": 2,
        "C": 2,
        "D": 4,
    }


def test_float_noise_does_not_break_a_tie() -> None:
    assert 0.1 + 0.2 != 0.3
    assert competition_ranks(np.array([0.1 + 0.2, 0.3, 0.5])).tolist() == [2, 2, 1]
    # but real differences are kept
    assert competition_ranks(np.array([0.3 + 1e-9, 0.3])).tolist() == [1, 2]


def test_tasks_and_teams_sort_naturally() -> None:
    assert natural_sorted(["task10", "task2", "task1"]) == ["task1", "task2", "task10"]
    rows = clip("task10", "team10", "e1", 1) + clip("task2", "team2", "e1", 1)
    result = point_scores(ratings=ratings_frame(rows))
    assert result.tasks == ("task2", "task10")
    assert result.teams == ("team2", "team10")


def test_listed_teams_without_ratings_score_zero() -> None:
    result = point_scores(ratings=ratings_frame(clip("task1", "A", "e1", 2)), teams=["A", "Z"])
    assert result.final_scores.tolist() == [2.0, 0.0]
    assert result.ranks.tolist() == [1, 2]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda frame: frame.drop(columns="rater"), "lack column"),
        (lambda frame: frame.assign(score=[4, 1]), "outside 0-3"),
        (lambda frame: frame.assign(score=[-1, 1]), "outside 0-3"),
        (lambda frame: frame.assign(score=[1.5, 1.0]), "not an integer"),
        (lambda frame: frame.assign(score=["2", "1"]), "must be integers"),
        (lambda frame: frame.assign(rater=["r", "r"]), "more than once"),
        (lambda frame: frame.assign(team=[None, "A"]), "is empty"),
    ],
)
def test_bad_ratings_are_rejected_with_the_reason(mutate, message: str) -> None:
    frame = ratings_frame([("task1", "A", "e1", "r1", 2), ("task1", "A", "e1", "r2", 1)])
    with pytest.raises(ScoringInputError, match=message):
        point_scores(ratings=mutate(frame))


def test_ratings_outside_the_campaign_are_rejected() -> None:
    frame = ratings_frame(clip("task1", "A", "e9", 2))
    with pytest.raises(ScoringInputError, match="not in its rated set"):
        point_scores(ratings=frame, rated_set={"task1": ["e1"]})
    with pytest.raises(ScoringInputError, match="has no rated set"):
        point_scores(ratings=frame, rated_set={"task2": ["e1"]})
    with pytest.raises(ScoringInputError, match="not listed"):
        point_scores(ratings=frame, teams=["B"])
    with pytest.raises(ScoringInputError, match="not in the campaign tasks"):
        point_scores(ratings=frame, tasks=["task2"])
    with pytest.raises(ScoringInputError, match="at least one task"):
        point_scores(ratings=frame.iloc[:0], teams=["A"])


# --- properties -------------------------------------------------------------------


@st.composite
def campaigns(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    n_tasks = draw(st.integers(1, 3))
    n_teams = draw(st.integers(1, 4))
    rated_set = {
        f"task{k}": [f"ep{e}" for e in range(draw(st.integers(1, 4)))] for k in range(n_tasks)
    }
    rows = []
    for task, episodes in rated_set.items():
        for team in range(n_teams):
            for episode in episodes:
                scores = draw(st.lists(st.integers(0, 3), min_size=0, max_size=4))
                rows += clip(task, f"team{team}", episode, *scores)
    # at least one rating so that some team exists
    rows.append(("task0", "team0", "ep0", "extra-rater", draw(st.integers(0, 3))))
    return ratings_frame(rows), rated_set


def reference_task_scores(frame: pd.DataFrame, rated_set: dict[str, list[str]]) -> pd.DataFrame:
    """The definitions read literally, with a pandas groupby."""
    clip_means = frame.groupby(["task", "team", "episode"])["score"].mean()
    per_task = clip_means.groupby(["team", "task"]).sum().unstack(fill_value=0.0)
    per_task = per_task.reindex(columns=list(rated_set), fill_value=0.0)
    return per_task / pd.Series({task: len(eps) for task, eps in rated_set.items()})


@settings(max_examples=60, deadline=None)
@given(campaign=campaigns())
def test_matches_a_plain_groupby_of_the_definitions(campaign) -> None:
    frame, rated_set = campaign
    result = point_scores(ratings=frame, rated_set=rated_set)
    expected = reference_task_scores(frame, rated_set).reindex(list(result.teams))
    np.testing.assert_allclose(result.task_scores, expected.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.final_scores, expected.mean(axis=1), rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(campaign=campaigns(), order_seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_matter(campaign, order_seed: int) -> None:
    frame, rated_set = campaign
    shuffled = frame.sample(frac=1.0, random_state=order_seed)
    first = point_scores(ratings=frame, rated_set=rated_set)
    second = point_scores(ratings=shuffled, rated_set=rated_set)
    np.testing.assert_allclose(first.task_scores, second.task_scores, rtol=0, atol=1e-12)
    assert first.ranks.tolist() == second.ranks.tolist()
    assert (first.counts == second.counts).all()


@settings(max_examples=60, deadline=None)
@given(campaign=campaigns())
def test_scores_stay_within_zero_and_three(campaign) -> None:
    frame, rated_set = campaign
    result = point_scores(ratings=frame, rated_set=rated_set)
    assert ((result.task_scores >= 0) & (result.task_scores <= 3)).all()
    assert ((result.final_scores >= 0) & (result.final_scores <= 3)).all()
    assert (result.counts.sum(axis=2) == result.n_ratings).all()
    assert (result.n_clips_rated <= result.n_expected[None, :]).all()


@settings(max_examples=60, deadline=None)
@given(campaign=campaigns(), pick=st.integers(0, 10_000))
def test_raising_one_rating_to_three_never_lowers_that_team(campaign, pick: int) -> None:
    frame, rated_set = campaign
    row = pick % len(frame)
    raised = frame.copy()
    raised.loc[raised.index[row], "score"] = 3
    team = frame.iloc[row]["team"]
    before = point_scores(ratings=frame, rated_set=rated_set)
    after = point_scores(ratings=raised, rated_set=rated_set)
    i = before.teams.index(team)
    assert (after.task_scores[i] >= before.task_scores[i] - 1e-12).all()
    assert after.final_scores[i] >= before.final_scores[i] - 1e-12
    assert after.ranks[i] <= before.ranks[i]
    others = [j for j in range(len(before.teams)) if j != i]
    np.testing.assert_array_equal(after.task_scores[others], before.task_scores[others])


def test_numeric_keys_are_read_as_strings() -> None:
    frame = pd.DataFrame(
        {
            "task": [1, 1, 1],
            "team": ["A", "A", "A"],
            "episode": [17, "17", 18],
            "rater": ["r1", "r2", "r1"],
            "score": [3, 1, 2],
        }
    )
    result = point_scores(ratings=frame, rated_set={"1": ["17", "18", "19"]})
    assert result.tasks == ("1",)
    assert result.task_scores[0, 0] == pytest.approx((2.0 + 2.0 + 0.0) / 3)
    with pytest.raises(ScoringInputError, match="more than once"):
        point_scores(ratings=frame.assign(rater=["r1", "r1", "r1"]))
