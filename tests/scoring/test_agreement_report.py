"""Team-level agreement, ranking statistics and the assembled report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, pearsonr, spearmanr

from evaluation.scoring.agreement import (
    CORRELATIONS,
    _weighted_mmrv,
    _weighted_top_k,
    agreement_report,
    mmrv,
    team_agreement,
    team_scores,
    top_k_agreement,
)
from evaluation.scoring.agreement_raters import (
    NO_VARIATION,
    TOO_FEW_ITEMS,
    AgreementInputError,
    resample_weights,
)
from evaluation.scoring.protocol import point_scores

REQUIRED_RATER_KEYS = [
    "raters.krippendorff_alpha_ordinal",
    "raters.krippendorff_alpha_interval",
    "raters.fleiss_kappa",
    "raters.pairwise_qwk",
    "raters.exact",
    "raters.within1",
]
REQUIRED_JUDGE_KEYS = [
    "video.qwk",
    "video.spearman",
    "video.kendall_tau_b",
    "video.exact",
    "video.within1",
    "video.mae",
    "video.outcome_agreement",
    "team.pearson",
    "team.spearman",
    "team.kendall_tau",
    "team.mmrv",
    "team.top1_agree",
    "team.top3_agree",
]


def campaign(
    *, seed: int, n_teams: int = 6, n_tasks: int = 3, n_episodes: int = 8
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings (3 raters per clip) and verdicts of a campaign where teams differ in skill."""
    rng = np.random.default_rng(seed)
    ratings, verdicts = [], []
    for team in range(n_teams):
        skill = rng.normal(scale=1.0)
        for task in range(n_tasks):
            for episode in range(n_episodes):
                truth = int(np.clip(np.round(1.5 + skill + rng.normal(scale=0.7)), 0, 3))
                key = {
                    "task": f"task{task + 1}",
                    "team": f"team{team + 1}",
                    "episode": f"episode_{episode}",
                }
                for rater in rng.choice(12, size=3, replace=False):
                    noisy = int(np.clip(truth + rng.integers(-1, 2), 0, 3))
                    ratings.append({**key, "rater": f"ann{rater}", "score": noisy})
                verdicts.append({**key, "score": int(np.clip(truth + rng.integers(-1, 2), 0, 3))})
    return pd.DataFrame(ratings), pd.DataFrame(verdicts)


def simpler_mmrv(real: list[float], sim: list[float]) -> float:
    """The definition as published with SIMPLER (Li et al. 2024), written as loops."""
    violations = []
    for i in range(len(real)):
        worst = 0.0
        for j in range(len(real)):
            if (sim[i] > sim[j]) != (real[i] > real[j]):
                worst = max(worst, abs(real[i] - real[j]))
        violations.append(worst)
    return float(np.mean(violations))


# --- MMRV and top-k --------------------------------------------------------------------------


def test_mmrv_on_three_teams_by_hand() -> None:
    # Humans: A 0.9 > B 0.5 > C 0.1; the judge swaps A and B (0.2 < 0.6) and keeps C last.
    # A's worst violation is |0.9 - 0.5| = 0.4 (vs B), B's is 0.4 (vs A), C has none.
    assert mmrv(human=[0.9, 0.5, 0.1], judge=[0.2, 0.6, 0.1]) == pytest.approx(0.8 / 3)
    assert mmrv(human=[0.9, 0.5, 0.1], judge=[3.0, 2.0, 1.0]) == 0.0
    # Fully reversed: A vs C 0.8, B vs A 0.4, C vs A 0.8.
    assert mmrv(human=[0.9, 0.5, 0.1], judge=[0.1, 0.5, 0.9]) == pytest.approx(2.0 / 3)


@pytest.mark.parametrize("seed", range(5))
def test_mmrv_matches_the_published_definition_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    human = rng.integers(0, 5, 9) / 4.0  # coarse values, so ties happen
    judge = rng.integers(0, 5, 9) / 4.0
    assert mmrv(human=human, judge=judge) == pytest.approx(
        simpler_mmrv(human.tolist(), judge.tolist())
    )


def test_top_k_by_hand() -> None:
    human = [3.0, 2.0, 1.0, 0.5, 0.1]
    assert top_k_agreement(human=human, judge=[3.0, 2.0, 1.0, 0.5, 0.1], k=1) == 1.0
    assert top_k_agreement(human=human, judge=[2.0, 3.0, 1.0, 0.5, 0.1], k=1) == 0.0
    # Judge top 3 = {1, 2, 4}; humans' = {1, 2, 3}: two shared of three.
    assert top_k_agreement(human=human, judge=[3.0, 2.0, 0.2, 0.5, 1.0], k=3) == pytest.approx(
        2 / 3
    )
    # A tie across the cut puts four teams in the judge's top 3: 3 shared of 4.
    assert top_k_agreement(human=human, judge=[3.0, 2.0, 1.0, 1.0, 0.1], k=3) == pytest.approx(
        3 / 4
    )


def test_weighted_ranking_statistics_equal_those_of_the_resampled_teams() -> None:
    rng = np.random.default_rng(1)
    human, judge = rng.random(8), rng.random(8)
    weights = resample_weights(n_items=8, n_boot=6, seed=2)
    for row in range(6):
        drawn = np.repeat(np.arange(8), weights[row].astype(int))
        w = weights[row : row + 1]
        assert _weighted_mmrv(human, judge, w)[0] == pytest.approx(
            simpler_mmrv(human[drawn].tolist(), judge[drawn].tolist())
        )
        for k in (1, 3):
            assert _weighted_top_k(k)(human, judge, w)[0] == pytest.approx(
                top_k_agreement(human=human[drawn], judge=judge[drawn], k=k)
            )
        assert CORRELATIONS["pearson"](human, judge, w)[0] == pytest.approx(
            pearsonr(human[drawn], judge[drawn]).statistic
        )
        assert CORRELATIONS["spearman"](human, judge, w)[0] == pytest.approx(
            spearmanr(human[drawn], judge[drawn]).statistic
        )
        assert CORRELATIONS["kendall_tau"](human, judge, w)[0] == pytest.approx(
            kendalltau(human[drawn], judge[drawn]).statistic
        )


# --- team scores and team agreement ----------------------------------------------------------


def test_judge_scores_go_through_the_protocol_core() -> None:
    ratings, verdicts = campaign(seed=0)
    scores = team_scores(ratings=ratings, verdicts=verdicts)
    expected = point_scores(ratings=verdicts.assign(rater="judge"))
    assert scores.teams == expected.teams
    np.testing.assert_allclose(scores.judge_task_scores, expected.task_scores)
    np.testing.assert_allclose(scores.human_final, point_scores(ratings=ratings).final_scores)


def test_a_missing_verdict_counts_zero_like_a_missing_clip() -> None:
    ratings = pd.DataFrame(
        [
            {"task": "t1", "team": "a", "episode": "e1", "rater": "r1", "score": 3},
            {"task": "t1", "team": "a", "episode": "e2", "rater": "r1", "score": 3},
            {"task": "t1", "team": "b", "episode": "e1", "rater": "r1", "score": 1},
        ]
    )
    verdicts = pd.DataFrame(
        [
            {"task": "t1", "team": "a", "episode": "e1", "score": 2},
            {"task": "t1", "team": "b", "episode": "e1", "score": 2},
            {"task": "t1", "team": "b", "episode": "e2", "score": 2},
            {"task": "t9", "team": "b", "episode": "e2", "score": 2},  # outside the rated set
        ]
    )
    scores = team_scores(ratings=ratings, verdicts=verdicts)
    assert scores.human_final.tolist() == [3.0, 0.5]
    assert scores.judge_final.tolist() == [1.0, 2.0]
    assert scores.n_verdicts_outside == 1
    assert scores.rank_changes() == [
        {"team": "a", "human_rank": 1, "judge_rank": 2},
        {"team": "b", "human_rank": 2, "judge_rank": 1},
    ]


def test_a_judge_that_copies_the_humans_agrees_perfectly() -> None:
    ratings, _ = campaign(seed=2)
    unanimous = ratings.groupby(["task", "team", "episode"], as_index=False)["score"].first()
    ratings = unanimous.merge(pd.DataFrame({"rater": ["r1", "r2", "r3"]}), how="cross")
    scores = team_scores(ratings=ratings, verdicts=unanimous)
    result = team_agreement(scores=scores, n_boot=100, seed=0)
    for name in ("pearson", "spearman", "kendall_tau"):
        assert result.stats[name].value == pytest.approx(1.0)
        assert result.cell_stats[name].value == pytest.approx(1.0)
    assert result.stats["mmrv"].value == 0.0
    assert result.stats["top1_agree"].value == 1.0
    assert result.stats["top3_agree"].value == 1.0
    assert scores.rank_changes() == []


def test_point_correlations_match_scipy() -> None:
    ratings, verdicts = campaign(seed=4, n_teams=9)
    scores = team_scores(ratings=ratings, verdicts=verdicts)
    result = team_agreement(scores=scores, n_boot=0)
    human, judge = scores.human_final, scores.judge_final
    assert result.stats["pearson"].value == pytest.approx(pearsonr(human, judge).statistic)
    assert result.stats["spearman"].value == pytest.approx(spearmanr(human, judge).statistic)
    assert result.stats["kendall_tau"].value == pytest.approx(kendalltau(human, judge).statistic)
    cells_h, cells_j = scores.human_task_scores.ravel(), scores.judge_task_scores.ravel()
    assert result.cell_stats["pearson"].value == pytest.approx(pearsonr(cells_h, cells_j).statistic)
    assert result.stats["mmrv"].value == pytest.approx(simpler_mmrv(list(human), list(judge)))
    assert result.stats["pearson"].n == 9
    assert result.cell_stats["pearson"].n == 27


def test_too_few_teams_and_no_variation() -> None:
    ratings, verdicts = campaign(seed=1, n_teams=2)
    result = team_agreement(scores=team_scores(ratings=ratings, verdicts=verdicts), n_boot=10)
    assert result.stats["pearson"].reason == TOO_FEW_ITEMS
    assert result.stats["top3_agree"].reason == TOO_FEW_ITEMS
    assert result.stats["mmrv"].value is not None
    ratings5, verdicts5 = campaign(seed=1, n_teams=5)
    flat = verdicts5.assign(score=2)
    constant = team_agreement(scores=team_scores(ratings=ratings5, verdicts=flat), n_boot=10)
    assert constant.stats["spearman"].reason == NO_VARIATION


def test_ranking_inputs_are_checked() -> None:
    with pytest.raises(AgreementInputError, match="one length"):
        mmrv(human=[1.0, 2.0], judge=[1.0])
    with pytest.raises(AgreementInputError, match="k must be"):
        top_k_agreement(human=[1.0], judge=[1.0], k=0)


# --- the report ------------------------------------------------------------------------------


def test_report_has_the_documented_keys_and_is_strict_json() -> None:
    ratings, verdicts = campaign(seed=3)
    report = agreement_report(ratings=ratings, verdicts=verdicts, n_boot=200, seed=1)
    for key in REQUIRED_RATER_KEYS + REQUIRED_JUDGE_KEYS:
        stat = report[key]
        assert isinstance(stat, dict)
        assert set(stat) >= {"value", "ci_low", "ci_high", "n"}
        if stat["value"] is None:
            assert stat["reason"]
    confusion = report["video.confusion"]
    assert np.asarray(confusion).shape == (4, 4)
    assert int(np.sum(confusion)) == report["video.n_clips"] == len(verdicts)
    assert set(report["per_task"]) == {"task1", "task2", "task3"}
    assert "team.spearman" in report["per_task"]["task1"]
    assert (
        report["largest_disagreements"][0]["abs_diff"]
        >= report["largest_disagreements"][-1]["abs_diff"]
    )
    json.dumps(report, allow_nan=False)


def test_report_without_judge_has_only_rater_keys() -> None:
    ratings, _ = campaign(seed=3)
    report = agreement_report(ratings=ratings, n_boot=50)
    assert all(key in report for key in REQUIRED_RATER_KEYS)
    assert not any(key.startswith(("video.", "team.")) for key in report)
    assert "video.qwk" not in report["per_task"]["task1"]


def test_report_is_deterministic_by_seed() -> None:
    ratings, verdicts = campaign(seed=5)
    first = agreement_report(ratings=ratings, verdicts=verdicts, n_boot=100, seed=7)
    again = agreement_report(ratings=ratings, verdicts=verdicts, n_boot=100, seed=7)
    other = agreement_report(ratings=ratings, verdicts=verdicts, n_boot=100, seed=8)
    assert json.dumps(first) == json.dumps(again)
    assert first["video.qwk"]["value"] == other["video.qwk"]["value"]
    assert first["video.qwk"]["ci_low"] != other["video.qwk"]["ci_low"]


def test_report_rejects_empty_ratings() -> None:
    empty = pd.DataFrame({column: [] for column in ("task", "team", "episode", "rater")}).assign(
        score=pd.Series([], dtype="int64")
    )
    with pytest.raises(AgreementInputError, match="no ratings"):
        agreement_report(ratings=empty)
