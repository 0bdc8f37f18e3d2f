"""Bootstrap intervals, rank probabilities and the paired release gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.scoring import (
    ScoringInputError,
    bootstrap_replicates,
    leaderboard,
    paired_comparison,
    prepare_ratings,
)

pytestmark = []


def synthetic_ratings(
    *, n_teams: int = 6, n_tasks: int = 3, n_episodes: int = 12, n_raters: int = 3, seed: int = 7
) -> pd.DataFrame:
    """Teams of graded quality; raters mostly agree; some clips are missing."""
    rng = np.random.default_rng(seed)
    quality = np.linspace(0.5, 2.5, n_teams)
    rows = []
    for k in range(n_tasks):
        for t in range(n_teams):
            for e in range(n_episodes):
                if rng.random() < 0.1:
                    continue  # not submitted
                true_score = np.clip(np.round(quality[t] + rng.normal(0, 0.8)), 0, 3)
                for r in range(n_raters):
                    noisy = true_score + (rng.random() < 0.25) * rng.choice([-1, 1])
                    rows.append(
                        (f"task{k}", f"team{t}", f"ep{e}", f"rater{r}", int(np.clip(noisy, 0, 3)))
                    )
    return pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])


def full_rated_set(*, n_tasks: int = 3, n_episodes: int = 12) -> dict[str, list[str]]:
    return {f"task{k}": [f"ep{e}" for e in range(n_episodes)] for k in range(n_tasks)}


def test_same_seed_same_result_other_seed_other_result() -> None:
    ratings = synthetic_ratings()
    first = leaderboard(ratings=ratings, rated_set=full_rated_set(), n_boot=300, seed=11)
    again = leaderboard(ratings=ratings, rated_set=full_rated_set(), n_boot=300, seed=11)
    other = leaderboard(ratings=ratings, rated_set=full_rated_set(), n_boot=300, seed=12)
    assert first == again
    assert [s.ci_low for s in first.teams] != [s.ci_low for s in other.teams]
    # the seed moves intervals, never point scores
    assert [s.final_score for s in first.teams] == [s.final_score for s in other.teams]


def test_intervals_contain_the_point_estimates() -> None:
    board = leaderboard(ratings=synthetic_ratings(), rated_set=full_rated_set(), n_boot=500)
    for standing in board.teams:
        assert standing.ci_low <= standing.final_score <= standing.ci_high
        assert standing.ci_low < standing.ci_high
        for task_score in standing.tasks.values():
            assert task_score.ci_low <= task_score.score <= task_score.ci_high


def test_all_equal_scores_give_zero_width_intervals() -> None:
    rows = [
        (task, team, f"ep{e}", f"r{r}", 2)
        for task in ("task1", "task2")
        for team in ("A", "B")
        for e in range(5)
        for r in range(3)
    ]
    board = leaderboard(
        ratings=pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"]),
        n_boot=200,
    )
    for standing in board.teams:
        assert standing.rank == 1
        assert standing.ci_low == standing.ci_high == standing.final_score == 2.0
        assert standing.rank_probability == 1.0
        assert standing.rank_distribution == {1: 1.0}


def test_rank_probabilities_form_distributions() -> None:
    board = leaderboard(ratings=synthetic_ratings(), rated_set=full_rated_set(), n_boot=400)
    n_teams = len(board.teams)
    for standing in board.teams:
        assert sum(standing.rank_distribution.values()) == pytest.approx(1.0)
        assert set(standing.rank_distribution) <= set(range(1, n_teams + 1))
        assert standing.rank_probability == standing.rank_distribution.get(standing.rank, 0.0)
    # graded quality: the best team is the most likely first
    best = board.teams[0]
    assert best.team == "team5"
    assert best.rank_distribution[1] == max(s.rank_distribution.get(1, 0.0) for s in board.teams)


def test_a_dominant_team_holds_first_place_in_every_replicate() -> None:
    rows = [("task1", "A", f"ep{e}", f"r{r}", 3) for e in range(6) for r in range(3)]
    rows += [
        ("task1", "B", f"ep{e}", f"r{r}", [0, 1][(e + r) % 2]) for e in range(6) for r in range(3)
    ]
    board = leaderboard(
        ratings=pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"]),
        n_boot=300,
    )
    assert [(s.team, s.rank, s.rank_probability) for s in board.teams] == [
        ("A", 1, 1.0),
        ("B", 2, 1.0),
    ]


@pytest.mark.parametrize("n_raters", [3, 6])  # 6 ratings per clip takes the slot-by-slot path
def test_replicates_are_unbiased_with_the_two_stage_variance(n_raters: int) -> None:
    """Var(S*) = (var over episodes of s + mean over episodes of var(ratings) / n) / E."""
    rng = np.random.default_rng(3)
    n_episodes = 8
    ratings_by_episode = [rng.integers(0, 4, size=n_raters) for _ in range(n_episodes)]
    rows = [
        ("task1", "A", f"ep{e}", f"r{r}", int(score))
        for e, scores in enumerate(ratings_by_episode)
        for r, score in enumerate(scores)
    ]
    prepared = prepare_ratings(
        ratings=pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])
    )
    replicates = bootstrap_replicates(prepared=prepared, n_boot=40_000, seed=5).task_scores[:, 0, 0]
    clip_means = np.array([scores.mean() for scores in ratings_by_episode])
    within = np.array([scores.var() / len(scores) for scores in ratings_by_episode])
    expected_variance = (clip_means.var() + within.mean()) / n_episodes
    assert replicates.mean() == pytest.approx(
        clip_means.mean(), abs=4 * np.sqrt(expected_variance / 40_000)
    )
    assert replicates.var() == pytest.approx(expected_variance, rel=0.05)


def test_missing_clips_count_zero_in_every_replicate() -> None:
    # the team rated 3 on 2 of 4 episodes: S* = 3 * (share of drawn episodes it sent)
    rows = [("task1", "A", f"ep{e}", f"r{r}", 3) for e in range(2) for r in range(3)]
    prepared = prepare_ratings(
        ratings=pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"]),
        rated_set={"task1": ["ep0", "ep1", "ep2", "ep3"]},
    )
    replicates = bootstrap_replicates(prepared=prepared, n_boot=2000, seed=1).task_scores[:, 0, 0]
    assert set(np.round(replicates, 9)) <= {0.0, 0.75, 1.5, 2.25, 3.0}
    assert replicates.mean() == pytest.approx(1.5, abs=0.05)


# --- paired comparison ------------------------------------------------------------------


def two_teams(candidate_offset: int) -> pd.DataFrame:
    """Incumbent varies by episode; candidate is incumbent + offset on every clip."""
    rows = []
    for task in ("task1", "task2"):
        for e in range(10):
            base = e % 3
            for r in range(3):
                rows.append((task, "inc", f"ep{e}", f"r{r}", base))
                rows.append((task, "cand", f"ep{e}", f"r{r}", min(3, base + candidate_offset)))
    return pd.DataFrame(rows, columns=["task", "team", "episode", "rater", "score"])


def test_paired_comparison_is_paired_on_episodes() -> None:
    # A shift of exactly one point on every clip survives every paired replicate,
    # although both teams' own scores vary a lot across replicates.
    result = paired_comparison(
        ratings=two_teams(1), rated_set=None, candidate="cand", incumbent="inc", n_boot=500
    )
    assert result.difference == pytest.approx(1.0)
    assert result.ci_low == pytest.approx(1.0) and result.ci_high == pytest.approx(1.0)
    assert result.beats_incumbent and result.verdict == "pass"
    assert result.p_value_two_sided < 0.01
    assert result.task_differences == {"task1": pytest.approx(1.0), "task2": pytest.approx(1.0)}
    board = leaderboard(ratings=two_teams(1), n_boot=500)
    assert board.standing("cand").ci_high - board.standing("cand").ci_low > 0.3


def test_paired_comparison_sign_and_margin() -> None:
    ratings = synthetic_ratings(n_teams=4)
    better = paired_comparison(
        ratings=ratings, rated_set=full_rated_set(), candidate="team3", incumbent="team0"
    )
    worse = paired_comparison(
        ratings=ratings, rated_set=full_rated_set(), candidate="team0", incumbent="team3"
    )
    assert better.difference > 0 and worse.difference == pytest.approx(-better.difference)
    assert better.verdict == "pass" and worse.verdict == "fail"
    assert better.candidate_score - better.incumbent_score == pytest.approx(better.difference)
    too_high = paired_comparison(
        ratings=ratings,
        rated_set=full_rated_set(),
        candidate="team3",
        incumbent="team0",
        margin=better.difference + 0.5,
    )
    assert too_high.verdict == "fail" and too_high.p_value_one_sided > 0.5
    assert "is not shown to beat" in too_high.summary


def test_identical_teams_do_not_pass_the_gate() -> None:
    ratings = two_teams(0)
    result = paired_comparison(ratings=ratings, rated_set=None, candidate="cand", incumbent="inc")
    assert result.difference == 0.0
    assert result.p_value_two_sided == 1.0 and result.p_value_one_sided == 1.0
    assert result.verdict == "fail"


def test_paired_comparison_rejects_bad_teams_and_arguments() -> None:
    ratings = two_teams(1)
    with pytest.raises(ScoringInputError, match="different teams"):
        paired_comparison(ratings=ratings, rated_set=None, candidate="inc", incumbent="inc")
    with pytest.raises(ScoringInputError, match="candidate team 'nobody' has no ratings"):
        paired_comparison(ratings=ratings, rated_set=None, candidate="nobody", incumbent="inc")
    with pytest.raises(ScoringInputError, match="n_boot"):
        leaderboard(ratings=ratings, n_boot=0)
    with pytest.raises(ScoringInputError, match="confidence"):
        leaderboard(ratings=ratings, confidence=1.5)
