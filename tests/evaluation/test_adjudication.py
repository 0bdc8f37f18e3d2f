"""Adjudication: the queue, one more rater, a decided score, a withdrawal, the record.

Each leaderboard after an action is checked against an independent recomputation with
plain pandas: over the exported ratings file, and over the raters' own scores with the
rule applied by hand (a decided score replaces each counted rating of its clip).
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.db import connection
from django.urls import reverse

from annotate.models import AdjudicationAction, Assignment, Campaign, Rating
from annotate.services import assignment_open, assignment_plan_apply, rating_save, review
from evaluation import exports
from evaluation.scoring.adjudication import DECISION_RATER
from evaluation.selectors import adjudication as queue_selectors
from evaluation.selectors import leaderboard as leaderboard_selectors
from evaluation.selectors.ratings import rater_pseudonym
from tests.evaluation.test_exclusion import FAST, finals, pandas_finals, recomputed
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    ClipFactory,
    EpisodeFactory,
    RatingFactory,
    SubmissionFactory,
    TaskFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Scores of raters a, b, c on each clip (team, episode): clip (alpha, 0) spans 3 points,
# (beta, 1) spans 2, the others 1 or 0.
SCORES = {
    ("alpha", 0): (0, 3, 3),
    ("alpha", 1): (2, 2, 3),
    ("alpha", 2): (1, 1, 1),
    ("beta", 0): (3, 3, 3),
    ("beta", 1): (0, 2, 1),
    ("beta", 2): (2, 1, 2),
}
RATERS = ("a", "b", "c")


@pytest.fixture
def world():
    campaign = CampaignFactory(slug="adj", raters_per_cell=3, seed=3)
    users = {name: UserFactory(username=name) for name in (*RATERS, "d", "e", "f")}
    campaign.annotators.add(*users.values())
    task = TaskFactory(campaign=campaign, number=1)
    episodes = [EpisodeFactory(task=task, number=n, key=f"episode_{n}") for n in range(3)]
    clips = {}
    for name in ("alpha", "beta"):
        team = TeamFactory(campaign=campaign, name=name)
        submission = SubmissionFactory(team=team)
        for n, episode in enumerate(episodes):
            clips[(name, n)] = ClipFactory(submission=submission, episode=episode)
    users["e"].teams.add(campaign.teams.get(name="alpha"))  # e may never rate alpha
    for key, scores in SCORES.items():
        for name, score in zip(RATERS, scores, strict=True):
            RatingFactory(
                assignment=AssignmentFactory(
                    clip=clips[key], annotator=users[name], status=Assignment.Status.DONE
                ),
                score=score,
            )
    return campaign, users, clips


def own_scores(campaign: Campaign) -> pd.DataFrame:
    """The raters' own scores straight from the database, with pseudonyms."""
    rows = Rating.objects.filter(clip__submission__team__campaign=campaign).values_list(
        "clip__episode__task__key",
        "clip__submission__team__name",
        "clip__episode__key",
        "annotator_id",
        "score",
    )
    frame = pd.DataFrame(list(rows), columns=["task", "team", "episode", "rater", "score"])
    frame["rater"] = [
        rater_pseudonym(user_id=u, campaign_slug=campaign.slug) for u in frame["rater"]
    ]
    return frame


EPISODES = pd.DataFrame({"task": ["task1"] * 3, "episode": [f"episode_{n}" for n in range(3)]})


def board(campaign):
    return leaderboard_selectors.campaign_leaderboard(campaign=campaign, parameters=FAST)


def test_the_queue_holds_the_disagreements_and_the_excluded_raters_clips(world, organizer):
    campaign, users, clips = world
    queue = queue_selectors.adjudication_queue(campaign=campaign)
    assert {(item.team, item.episode) for item in queue} == {
        ("alpha", "episode_0"),
        ("beta", "episode_1"),
    }
    assert all(item.status == queue_selectors.OPEN for item in queue)
    assert all(item.reasons == (queue_selectors.DISAGREE,) for item in queue)
    campaign.adjudication_range = 3
    campaign.save()
    assert len(queue_selectors.adjudication_queue(campaign=campaign)) == 1
    review.rater_exclude(campaign=campaign, annotator=users["b"], reason="off", by=organizer)
    queue = {(i.team, i.episode): i for i in queue_selectors.adjudication_queue(campaign=campaign)}
    assert len(queue) == 6  # b rated every clip
    first = queue[("alpha", "episode_0")]
    assert first.reasons == (queue_selectors.DISAGREE, queue_selectors.EXCLUDED_RATER)
    assert [r.counted for r in first.ratings] == [True, False, True]  # 0 and 3 left
    assert queue[("alpha", "episode_1")].reasons == (queue_selectors.EXCLUDED_RATER,)


def test_a_decision_replaces_each_counted_rating_and_the_leaderboard_follows(
    world, staff_client, organizer
):
    campaign, users, clips = world
    before = board(campaign)
    clip = clips[("alpha", 0)]
    answer = staff_client.post(
        reverse("adjudication-decide", args=[campaign.slug, clip.pk]),
        {"score": 1, "reason": "the banana vanishes at the end; arm motion matches"},
    )
    assert answer.status_code == 302
    after = board(campaign)
    assert after.input_hash != before.input_hash
    # By hand: the clip's three own scores each replaced by the decision.
    own = own_scores(campaign)
    decided = (own["team"] == "alpha") & (own["episode"] == "episode_0")
    own.loc[decided, "score"] = 1
    assert finals(after) == pytest.approx(
        pandas_finals(own, EPISODES, ["alpha", "beta"]), abs=1e-12
    )
    assert finals(after) == pytest.approx(recomputed(campaign), abs=1e-12)
    # alpha: (1 + 7/3 + 1) / 3; the clip keeps its three ratings in the counts.
    assert finals(after)["alpha"] == pytest.approx((1 + 7 / 3 + 1) / 3)
    alpha = next(s for s in after.board.teams if s.team == "alpha")
    assert alpha.tasks["task1"].counts.n1 == 3 + 3  # the decision's three, and clip 2's
    ratings = pd.read_csv(
        io.BytesIO(exports.campaign_export(campaign=campaign, what="ratings", fmt="csv").content)
    )
    rows = ratings[(ratings["team"] == "alpha") & (ratings["episode"] == "episode_0")]
    assert list(rows["score"]) == [1, 1, 1]
    assert sorted(rows["rater_score"]) == [0, 3, 3]
    assert (
        rows["adjudicated"].all()
        and not ratings.loc[~ratings.index.isin(rows.index), "adjudicated"].any()
    )
    item = next(
        i for i in queue_selectors.adjudication_queue(campaign=campaign) if i.clip_id == clip.pk
    )
    assert item.status == queue_selectors.DECIDED and item.decided_score == 1
    # The drill-down shows the clip as the leaderboard counts it.
    from evaluation.selectors.ratings import drilldown

    details = drilldown(campaign=campaign, team=clip.submission.team, task=clip.episode.task)
    assert details[0].clip_score == 1.0 and details[0].decided_score == 1

    # Withdrawn: the raters' scores count again, to the very hash.
    withdrawn = staff_client.post(
        reverse("adjudication-withdraw", args=[campaign.slug, clip.pk]), {"reason": "re-watched"}
    )
    assert withdrawn.status_code == 302
    assert board(campaign).input_hash == before.input_hash


def test_a_later_decision_replaces_an_earlier_one(world, organizer):
    campaign, users, clips = world
    clip = clips[("beta", 1)]
    at = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    review.adjudication_decide(
        campaign=campaign, clip_id=clip.pk, score=0, reason="x", by=organizer, now=at
    )
    review.adjudication_decide(
        campaign=campaign,
        clip_id=clip.pk,
        score=2,
        reason="y",
        by=organizer,
        now=at + dt.timedelta(minutes=1),
    )
    own = own_scores(campaign)
    own.loc[(own["team"] == "beta") & (own["episode"] == "episode_1"), "score"] = 2
    assert finals(board(campaign)) == pytest.approx(
        pandas_finals(own, EPISODES, ["alpha", "beta"]), abs=1e-12
    )


def test_a_decided_clip_whose_raters_are_all_excluded_counts_once(world, organizer):
    campaign, users, clips = world
    for name in RATERS:
        review.rater_exclude(campaign=campaign, annotator=users[name], reason="test", by=organizer)
    assert board(campaign).n_ratings == 0
    review.adjudication_decide(
        campaign=campaign,
        clip_id=clips[("beta", 0)].pk,
        score=3,
        reason="plain success",
        by=organizer,
    )
    result = board(campaign)
    assert result.n_ratings == 1
    ratings = pd.read_csv(
        io.BytesIO(exports.campaign_export(campaign=campaign, what="ratings", fmt="csv").content)
    )
    assert list(ratings["rater"]) == [DECISION_RATER]
    assert finals(result) == pytest.approx({"alpha": 0.0, "beta": 1.0})
    assert finals(result) == pytest.approx(recomputed(campaign), abs=1e-12)


def test_one_more_rater_is_eligible_is_not_topped_up_and_counts_once_rated(world, staff_api):
    campaign, users, clips = world
    clip = clips[("alpha", 0)]
    answer = staff_api.post(
        f"/api/campaigns/{campaign.slug}/adjudication/{clip.pk}/extra-rater/",
        {"reason": "0 against 3, 3"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    extra = Assignment.objects.get(clip=clip, extra_rater=True)
    # Never the clip's team (e), never who rated it (a, b, c): d or f, by the seeded draw.
    assert extra.annotator.username in {"d", "f"}
    assert answer.json()["extra_rater"] == rater_pseudonym(
        user_id=extra.annotator_id, campaign_slug=campaign.slug
    )
    action = AdjudicationAction.objects.get()
    assert action.by.username == "organizer" and action.reason == "0 against 3, 3"
    waiting = staff_api.post(
        f"/api/campaigns/{campaign.slug}/adjudication/{clip.pk}/extra-rater/", {}, format="json"
    )
    assert waiting.status_code == 400 and "has not yet" in waiting.json()["detail"]
    item = next(
        i for i in queue_selectors.adjudication_queue(campaign=campaign) if i.clip_id == clip.pk
    )
    assert item.status == queue_selectors.WAITING

    # Planning again hands the extra rater nothing more of that cell.
    assignment_plan_apply(campaign=campaign)
    held = Assignment.objects.filter(
        annotator=extra.annotator,
        clip__submission=clip.submission,
        clip__episode__task=clip.episode.task,
    )
    assert held.count() == 1

    # The extra rater rates through the ordinary flow.
    user = extra.annotator
    opened = assignment_open(
        assignment=Assignment.objects.select_related(
            "campaign", "clip__asset", "clip__episode__reference"
        ).get(pk=extra.pk),
        user=user,
    )
    rating_save(
        assignment=opened,
        user=user,
        score=2,
        final_state=True,
        clean=False,
        watched_reference=1,
        watched_generated=1,
    )
    item = next(
        i for i in queue_selectors.adjudication_queue(campaign=campaign) if i.clip_id == clip.pk
    )
    assert item.status == queue_selectors.RATED_AGAIN
    assert item.actions[0].extra_rater_score == 2
    assert [r.extra for r in item.ratings] == [False, False, False, True]
    # The clip's mean is now over four ratings.
    own = own_scores(campaign)
    assert len(own) == 19
    assert finals(board(campaign)) == pytest.approx(
        pandas_finals(own, EPISODES, ["alpha", "beta"]), abs=1e-12
    )
    assert finals(board(campaign))["alpha"] == pytest.approx(((0 + 3 + 3 + 2) / 4 + 7 / 3 + 1) / 3)


def test_no_eligible_rater_is_refused_with_the_reason(world, organizer):
    campaign, users, clips = world
    campaign.annotators.remove(users["d"], users["f"])
    with pytest.raises(review.ReviewRefused, match="no eligible rater"):
        review.adjudication_extra_rater(
            campaign=campaign, clip_id=clips[("alpha", 0)].pk, by=organizer
        )
    # For beta, e is eligible (on alpha only), but not once excluded.
    action = review.adjudication_extra_rater(
        campaign=campaign, clip_id=clips[("beta", 1)].pk, by=organizer
    )
    assert action.assignment.annotator == users["e"]


def test_refusals(world, staff_api, organizer):
    campaign, users, clips = world
    base = f"/api/campaigns/{campaign.slug}/adjudication/{clips[('alpha', 0)].pk}"
    assert (
        staff_api.post(f"{base}/decision/", {"score": 5, "reason": "x"}, format="json").status_code
        == 400
    )
    no_reason = staff_api.post(f"{base}/decision/", {"score": 1, "reason": " "}, format="json")
    assert no_reason.status_code == 400
    nothing = staff_api.post(f"{base}/withdrawal/", {"reason": "x"}, format="json")
    assert nothing.status_code == 400 and "no decision" in nothing.json()["detail"]
    other = CampaignFactory(slug="other")
    foreign = staff_api.post(
        f"/api/campaigns/{other.slug}/adjudication/{clips[('alpha', 0)].pk}/decision/",
        {"score": 1, "reason": "x"},
        format="json",
    )
    assert foreign.status_code == 400 and "not a scored clip" in foreign.json()["detail"]
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.LOCKED)
    locked = staff_api.post(f"{base}/extra-rater/", {}, format="json")
    assert locked.status_code == 400 and "takes no rating" in locked.json()["detail"]
    # Locked: deciding is how a disagreement is settled now.
    assert (
        staff_api.post(f"{base}/decision/", {"score": 1, "reason": "x"}, format="json").status_code
        == 201
    )
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.PUBLISHED)
    published = staff_api.post(f"{base}/decision/", {"score": 2, "reason": "x"}, format="json")
    assert published.status_code == 400 and "published" in published.json()["detail"]


def test_unrated_clip_cannot_be_decided(world, organizer):
    campaign, users, clips = world
    episode = EpisodeFactory(task=campaign.tasks.get(), number=9, key="episode_9")
    clip = ClipFactory(submission=clips[("alpha", 0)].submission, episode=episode)
    with pytest.raises(review.ReviewRefused, match="no rating yet"):
        review.adjudication_decide(
            campaign=campaign, clip_id=clip.pk, score=1, reason="x", by=organizer
        )


def test_the_record_is_exported_with_who_when_why(world, staff_client, staff_api, organizer):
    campaign, users, clips = world
    at = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
    review.adjudication_decide(
        campaign=campaign,
        clip_id=clips[("beta", 1)].pk,
        score=1,
        reason="split the difference",
        by=organizer,
        now=at,
    )
    review.adjudication_withdraw(
        campaign=campaign,
        clip_id=clips[("beta", 1)].pk,
        reason="asked again",
        by=organizer,
        now=at + dt.timedelta(hours=1),
    )
    csv_file = staff_client.get(reverse("adjudication-actions", args=[campaign.slug, "csv"]))
    table = pd.read_csv(io.BytesIO(csv_file.content))
    assert list(table["kind"]) == ["decision", "withdrawal"]
    assert list(table["by"]) == ["organizer", "organizer"]
    assert list(table["reason"]) == ["split the difference", "asked again"]
    assert table["at"][0].startswith("2026-05-04T10:00")
    document = json.loads(
        staff_client.get(reverse("adjudication-actions", args=[campaign.slug, "json"])).content
    )
    assert "replaces each counted rating" in document["adjudication_rule"]
    assert document["rows"][0]["score"] == 1 and document["rows"][1]["score"] is None
    api_rows = staff_api.get(f"/api/campaigns/{campaign.slug}/adjudication/actions/").json()
    assert [row["kind"] for row in api_rows] == ["decision", "withdrawal"]
    queue = staff_api.get(f"/api/campaigns/{campaign.slug}/adjudication/").json()
    assert {item["status"] for item in queue["items"]} == {"open"}
    assert (
        staff_client.get(reverse("adjudication-actions", args=[campaign.slug, "xml"])).status_code
        == 404
    )


def test_the_adjudication_page(world, staff_client):
    campaign, users, clips = world
    page = staff_client.get(reverse("adjudication", args=[campaign.slug]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="clip-{clips[("alpha", 0)].pk}"' in html and "2 open" in html
    refused = staff_client.post(
        reverse("adjudication-decide", args=[campaign.slug, clips[("alpha", 0)].pk]), {"score": 1}
    )
    assert refused.status_code == 400 and "reason" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the cap trigger is PostgreSQL's")
def test_the_database_guard_lets_an_extra_rater_in_and_no_one_else(world, organizer):
    from django.db import IntegrityError, transaction

    campaign, users, clips = world
    clip = clips[("alpha", 0)]
    with pytest.raises(IntegrityError), transaction.atomic():  # a fourth planned rater
        AssignmentFactory(clip=clip, annotator=users["d"])
    action = review.adjudication_extra_rater(campaign=campaign, clip_id=clip.pk, by=organizer)
    assert action.assignment.extra_rater


def test_pick_extra_rater_is_least_loaded_first_seeded_and_never_the_team():
    from annotate.planner import Annotator, pick_extra_rater

    people = [Annotator("p"), Annotator("q"), Annotator("r", frozenset({"alpha"})), Annotator("s")]
    pick = dict(annotators=people, team="alpha", clip="7", ineligible=["s"], seed=1)
    assert pick_extra_rater(**pick, load={"p": 3, "q": 1}) == "q"
    assert pick_extra_rater(**pick, load={"p": 0, "q": 1}) == "p"
    tied = {pick_extra_rater(**{**pick, "clip": str(clip)}, load={}) for clip in range(20)}
    assert tied == {"p", "q"}  # the draw differs between clips, never r (team) nor s
    assert pick_extra_rater(**pick, load={}) == pick_extra_rater(**pick, load={})
    assert pick_extra_rater(annotators=people[2:3], team="alpha", clip="7") is None
