"""The campaign leaderboard service and its selectors, on ratings stored in the database."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.models import Assignment, Campaign, Clip, Episode, Rating, Team
from evaluation import selectors
from evaluation.scoring import point_scores
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    ClipFactory,
    EpisodeFactory,
    MediaAssetFactory,
    RatingFactory,
    SubmissionFactory,
    TaskFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class RatedCampaign:
    campaign: Campaign
    teams: list[Team]
    raters: list
    scores: dict[tuple[str, str, str], list[int]]  # (team, task, episode) -> scores given


def rated_campaign(
    *,
    n_teams: int = 3,
    n_tasks: int = 2,
    n_episodes: int = 3,
    n_raters: int = 3,
    seed: int = 0,
    slug: str | None = None,
    skip: set[tuple[int, int, int]] = frozenset(),
) -> RatedCampaign:
    """A campaign whose every current clip carries ``n_raters`` random ratings.

    ``skip`` lists (team, task, episode) indices the team did not submit.
    """
    rng = np.random.default_rng(seed)
    campaign = CampaignFactory(**({"slug": slug} if slug else {}), seed=seed)
    tasks = [
        TaskFactory(campaign=campaign, number=k + 1, key=f"task{k + 1}") for k in range(n_tasks)
    ]
    episodes = [
        [EpisodeFactory(task=task, number=e, key=f"episode_{e}") for e in range(n_episodes)]
        for task in tasks
    ]
    raters = [UserFactory(username=f"rater-{campaign.slug}-{r}") for r in range(n_raters)]
    teams = [TeamFactory(campaign=campaign, name=f"team{t}") for t in range(n_teams)]
    asset = MediaAssetFactory()  # content does not matter here: one stored file for all clips
    scores: dict[tuple[str, str, str], list[int]] = {}
    given_by_clip = []
    for t, team in enumerate(teams):
        submission = SubmissionFactory(team=team, version=1)
        for k, task in enumerate(tasks):
            for e, episode in enumerate(episodes[k]):
                if (t, k, e) in skip:
                    continue
                clip = ClipFactory(submission=submission, episode=episode, asset=asset)
                given = [int(score) for score in rng.integers(0, 4, size=n_raters)]
                given_by_clip.append((clip, given))
                scores[(team.name, task.key, episode.key)] = given
    add_ratings(campaign=campaign, raters=raters, given_by_clip=given_by_clip)
    return RatedCampaign(campaign=campaign, teams=teams, raters=raters, scores=scores)


ANSWERS = {
    3: (True, True, None),
    2: (True, False, None),
    1: (False, None, True),
    0: (False, None, False),
}


def add_ratings(*, campaign: Campaign, raters: list, given_by_clip: list) -> None:
    """One assignment and rating per rater and clip, in two bulk inserts."""
    assignments = Assignment.objects.bulk_create(
        Assignment(campaign=campaign, annotator=rater, clip=clip, status=Assignment.Status.DONE)
        for clip, given in given_by_clip
        for rater in raters[: len(given)]
    )
    scores = [score for _, given in given_by_clip for score in given]
    Rating.objects.bulk_create(
        Rating(
            assignment=assignment,
            clip_id=assignment.clip_id,
            annotator_id=assignment.annotator_id,
            score=score,
            final_state=ANSWERS[score][0],
            clean=ANSWERS[score][1],
            motion=ANSWERS[score][2],
        )
        for assignment, score in zip(assignments, scores, strict=True)
    )


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_scores_follow_the_protocol_with_missing_clips_counting_zero():
    data = rated_campaign(n_teams=2, n_tasks=2, n_episodes=3, skip={(1, 0, 2)})
    result = selectors.campaign_leaderboard(
        campaign=data.campaign, parameters=selectors.ScoringParameters(n_boot=200)
    )
    for standing in result.board.teams:
        task_scores = []
        for task in ("task1", "task2"):
            clip_means = [
                np.mean(data.scores[(standing.team, task, f"episode_{e}")])
                if (standing.team, task, f"episode_{e}") in data.scores
                else 0.0
                for e in range(3)
            ]
            expected = sum(clip_means) / 3  # the ground-truth denominator
            assert standing.tasks[task].score == pytest.approx(expected)
            task_scores.append(expected)
        assert standing.final_score == pytest.approx(np.mean(task_scores))
        assert standing.ci_low <= standing.final_score <= standing.ci_high
    counts = result.board.standing("team1").tasks["task1"].counts
    assert counts.n0 + counts.n1 + counts.n2 + counts.n3 == 2 * 3  # two clips x three raters


def test_only_current_clips_of_the_rated_set_count():
    data = rated_campaign(n_teams=2, n_tasks=1, n_episodes=3)
    team = data.teams[0]
    newer = SubmissionFactory(team=team, version=2)
    episode = Episode.objects.get(task__campaign=data.campaign, key="episode_0")
    clip = ClipFactory(submission=newer, episode=episode)
    for rater in data.raters:
        RatingFactory(
            assignment=AssignmentFactory(clip=clip, campaign=data.campaign, annotator=rater),
            score=3,
        )
    Episode.objects.filter(task__campaign=data.campaign, key="episode_2").update(in_rated_set=False)
    frame = selectors.ratings_frame(campaign=data.campaign)
    mine = frame[frame["team"] == team.name]
    # Version 2 holds only episode_0 (rated 3 by all); episode_1 was not resubmitted.
    assert set(mine["episode"]) == {"episode_0"}
    assert set(mine["submission_version"]) == {2}
    assert "episode_2" not in set(frame["episode"])
    result = selectors.campaign_leaderboard(
        campaign=data.campaign, parameters=selectors.ScoringParameters(n_boot=50)
    )
    # S = (3 + 0) / 2 over the rated set {episode_0, episode_1}.
    assert result.board.standing(team.name).final_score == pytest.approx(1.5)


def test_service_agrees_with_the_core_on_the_same_frame():
    data = rated_campaign(n_teams=4, n_tasks=2, n_episodes=4, seed=3)
    result = selectors.campaign_leaderboard(
        campaign=data.campaign, parameters=selectors.ScoringParameters(n_boot=100, seed=3)
    )
    frame = selectors.ratings_frame(campaign=data.campaign, detailed=False)
    points = point_scores(ratings=frame, rated_set=selectors.rated_set(campaign=data.campaign))
    by_team = dict(zip(points.teams, points.final_scores, strict=True))
    for standing in result.board.teams:
        assert standing.final_score == pytest.approx(by_team[standing.team])


def test_coverage_counts_ratings_in_against_clips_times_raters():
    data = rated_campaign(n_teams=2, n_tasks=1, n_episodes=3, skip={(0, 0, 1)})
    Rating.objects.filter(clip__submission__team=data.teams[1]).first().delete()
    coverage = selectors.coverage(campaign=data.campaign)
    assert coverage[("team0", "task1")] == selectors.Coverage(n_ratings=6, n_expected=6)
    assert coverage[("team1", "task1")] == selectors.Coverage(n_ratings=8, n_expected=9)


def test_a_team_without_ratings_is_ranked_at_zero_and_flagged():
    data = rated_campaign(n_teams=2, n_tasks=1, n_episodes=2)
    SubmissionFactory(team=TeamFactory(campaign=data.campaign, name="late"), version=1)
    result = selectors.campaign_leaderboard(
        campaign=data.campaign, parameters=selectors.ScoringParameters(n_boot=50)
    )
    assert result.teams_without_ratings == ["late"]
    assert result.board.standing("late").final_score == 0.0


def test_empty_campaign_gives_a_clear_error():
    campaign = CampaignFactory()
    TaskFactory(campaign=campaign)
    with pytest.raises(selectors.ScoringRequestError, match="no team with a submission"):
        selectors.campaign_leaderboard(campaign=campaign)


def _leaderboard_queries(campaign: Campaign) -> int:
    with CaptureQueriesContext(connection) as queries:
        selectors.campaign_leaderboard(
            campaign=campaign, parameters=selectors.ScoringParameters(n_boot=20)
        )
    return len(queries)


def test_query_count_does_not_grow_with_the_data(django_assert_max_num_queries):
    small = rated_campaign(n_teams=2, n_tasks=1, n_episodes=2, n_raters=2, slug="small")
    large = rated_campaign(n_teams=6, n_tasks=3, n_episodes=4, n_raters=3, slug="large")
    assert Rating.objects.filter(clip__submission__team__campaign=large.campaign).count() == 216
    with django_assert_max_num_queries(6):
        selectors.campaign_leaderboard(
            campaign=small.campaign, parameters=selectors.ScoringParameters(n_boot=20)
        )
    with django_assert_max_num_queries(6):
        selectors.campaign_leaderboard(
            campaign=large.campaign, parameters=selectors.ScoringParameters(n_boot=20)
        )
    assert _leaderboard_queries(small.campaign) == _leaderboard_queries(large.campaign)


def test_drilldown_query_count_does_not_grow_with_the_clips(django_assert_max_num_queries):
    data = rated_campaign(n_teams=1, n_tasks=1, n_episodes=6)
    task = data.campaign.tasks.get()
    with django_assert_max_num_queries(3):
        clips = selectors.drilldown(campaign=data.campaign, team=data.teams[0], task=task)
    assert len(clips) == 6
    assert all(len(clip.ratings) == 3 for clip in clips)


def test_pseudonyms_are_stable_per_campaign_and_never_the_username():
    first = rated_campaign(n_teams=1, n_tasks=1, n_episodes=1, slug="first")
    frame = selectors.ratings_frame(campaign=first.campaign)
    again = selectors.ratings_frame(campaign=first.campaign)
    assert list(frame["rater"]) == list(again["rater"])
    usernames = {rater.username for rater in first.raters}
    assert not usernames & set(frame["rater"])
    assert all(not any(name in rater for name in usernames) for rater in frame["rater"])
    assert frame["rater"].str.fullmatch(r"R[0-9a-f]{10}").all()
    assert frame["rater"].nunique() == len(first.raters)
    rater = first.raters[0]
    here = selectors.rater_pseudonym(user_id=rater.pk, campaign_slug="first")
    elsewhere = selectors.rater_pseudonym(user_id=rater.pk, campaign_slug="second")
    assert here != elsewhere  # not linkable across campaigns


def test_pseudonyms_depend_on_the_secret_key(settings):
    before = selectors.rater_pseudonym(user_id=1, campaign_slug="c")
    settings.SECRET_KEY = "another-secret-" + "y" * 40
    assert selectors.rater_pseudonym(user_id=1, campaign_slug="c") != before


def test_input_hash_changes_with_a_score_and_not_with_a_comment():
    data = rated_campaign(n_teams=2, n_tasks=1, n_episodes=2)
    parameters = selectors.ScoringParameters(n_boot=20)

    def current_hash() -> str:
        return selectors.campaign_leaderboard(
            campaign=data.campaign, parameters=parameters
        ).input_hash

    original = current_hash()
    assert current_hash() == original
    rating = Rating.objects.filter(clip__submission__team=data.teams[0]).order_by("pk").first()
    Rating.objects.filter(pk=rating.pk).update(comment="looks fine")
    assert current_hash() == original
    new_score = 3 if rating.score != 3 else 0
    answers = {3: (True, True, None), 0: (False, None, False)}[new_score]
    Rating.objects.filter(pk=rating.pk).update(
        score=new_score, final_state=answers[0], clean=answers[1], motion=answers[2]
    )
    assert current_hash() != original
    seeded = selectors.campaign_leaderboard(
        campaign=data.campaign, parameters=selectors.ScoringParameters(n_boot=20, seed=9)
    )
    assert seeded.input_hash != current_hash()


def test_comparison_of_a_team_with_itself_or_a_stranger_is_refused():
    data = rated_campaign(n_teams=2, n_tasks=1, n_episodes=2)
    with pytest.raises(selectors.ScoringRequestError, match="nobody"):
        selectors.campaign_comparison(campaign=data.campaign, candidate="nobody", incumbent="team0")
    with pytest.raises(selectors.ScoringRequestError, match="margin"):
        selectors.campaign_comparison(
            campaign=data.campaign, candidate="team1", incumbent="team0", margin=-1.0
        )


def test_clearly_better_team_passes_the_gate():
    data = rated_campaign(n_teams=2, n_tasks=2, n_episodes=6, seed=1)
    Rating.objects.filter(clip__submission__team=data.teams[0]).update(
        score=3, final_state=True, clean=True, motion=None
    )
    Rating.objects.filter(clip__submission__team=data.teams[1]).update(
        score=0, final_state=False, clean=None, motion=False
    )
    result = selectors.campaign_comparison(
        campaign=data.campaign, candidate="team0", incumbent="team1", margin=1.0, n_boot=500
    )
    assert result.comparison.difference == pytest.approx(3.0)
    assert result.comparison.verdict == "pass"
    reverse = selectors.campaign_comparison(
        campaign=data.campaign, candidate="team1", incumbent="team0", n_boot=500
    )
    assert reverse.comparison.verdict == "fail"


def test_clip_rows_of_other_campaigns_are_never_read():
    data = rated_campaign(n_teams=2, n_tasks=1, n_episodes=2, slug="mine")
    rated_campaign(n_teams=3, n_tasks=1, n_episodes=2, slug="theirs", seed=5)
    frame = selectors.ratings_frame(campaign=data.campaign)
    assert len(frame) == 2 * 2 * 3
    assert set(frame["team"]) == {"team0", "team1"}
    assert Clip.objects.count() == 2 * 2 + 3 * 2
