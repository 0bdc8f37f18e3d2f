"""Excluding a rater's ratings: the leaderboard, exports and agreement leave them out, say
so, and the input hash changes; nothing is deleted, and lifting brings everything back.

Every expected leaderboard here is recomputed independently, with plain pandas, from the
exported ratings and episodes files.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from annotate.models import Campaign, RaterExclusion, Rating
from annotate.services import review
from evaluation import exports
from evaluation.selectors import agreement as agreement_selectors
from evaluation.selectors import leaderboard as leaderboard_selectors
from evaluation.selectors import reliability
from evaluation.selectors.ratings import rater_pseudonym
from tests.evaluation.test_reliability import build_world

pytestmark = pytest.mark.django_db

FAST = leaderboard_selectors.ScoringParameters(n_boot=20)


@pytest.fixture
def world():
    return build_world(n_tasks=2, n_episodes=5)


def board(campaign: Campaign) -> leaderboard_selectors.CampaignLeaderboard:
    return leaderboard_selectors.campaign_leaderboard(campaign=campaign, parameters=FAST)


def finals(result) -> dict[str, float]:
    return {standing.team: standing.final_score for standing in result.board.teams}


def exported(campaign: Campaign, what: str, fmt: str = "csv") -> bytes:
    return exports.campaign_export(campaign=campaign, what=what, fmt=fmt, parameters=FAST).content


def pandas_finals(ratings: pd.DataFrame, episodes: pd.DataFrame, teams) -> dict[str, float]:
    """The protocol by hand: s = a clip's mean, S = mean over E(task) (missing = 0), mean of S."""
    clip = ratings.groupby(["task", "team", "episode"])["score"].mean()
    result = {}
    for team in teams:
        task_scores = []
        for task, rated in episodes.groupby("task")["episode"]:
            task_scores.append(sum(clip.get((task, team, e), 0.0) for e in rated) / len(rated))
        result[team] = sum(task_scores) / len(task_scores)
    return result


def recomputed(campaign: Campaign) -> dict[str, float]:
    ratings = pd.read_csv(io.BytesIO(exported(campaign, "ratings")))
    episodes = pd.read_csv(io.BytesIO(exported(campaign, "episodes")))
    return pandas_finals(ratings, episodes, ["alpha", "beta"])


def pseudonym(world, name: str) -> str:
    return rater_pseudonym(user_id=world.users[name].pk, campaign_slug=world.campaign.slug)


def test_excluding_a_rater_changes_the_leaderboard_as_dropping_their_rows_does(
    world, staff_api, organizer
):
    campaign = world.campaign
    before = board(campaign)
    assert finals(before) == pytest.approx(recomputed(campaign), abs=1e-12)
    ratings_before = pd.read_csv(io.BytesIO(exported(campaign, "ratings")))
    episodes = pd.read_csv(io.BytesIO(exported(campaign, "episodes")))
    n_ratings = Rating.objects.count()

    answer = staff_api.post(
        f"/api/campaigns/{campaign.slug}/raters/exclusions/",
        {"rater": "threes", "reason": "always answers 3"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["rater"] == pseudonym(world, "threes")
    assert answer.json()["excluded_by"] == organizer.username

    after = board(campaign)
    assert after.input_hash != before.input_hash
    assert after.n_ratings == before.n_ratings - 20
    # Independent: the pre-exclusion export without that rater's rows, by hand.
    dropped = ratings_before[ratings_before["rater"] != pseudonym(world, "threes")]
    expected = pandas_finals(dropped, episodes, ["alpha", "beta"])
    assert finals(after) == pytest.approx(expected, abs=1e-12)
    assert finals(after) == pytest.approx(recomputed(campaign), abs=1e-12)
    assert finals(after) != pytest.approx(finals(before), abs=1e-6)
    # The ratings file no longer holds them; nothing was deleted.
    ratings_after = pd.read_csv(io.BytesIO(exported(campaign, "ratings")))
    assert pseudonym(world, "threes") not in set(ratings_after["rater"])
    assert Rating.objects.count() == n_ratings
    # The same hash on the rankings file and the leaderboard.
    ranking = exports.campaign_export(
        campaign=campaign, what="rankings", fmt="csv", parameters=FAST
    )
    assert ranking.input_hash == after.input_hash


def test_exports_say_who_is_excluded_and_how_decisions_count(world, organizer):
    review.rater_exclude(
        campaign=world.campaign, annotator=world.users["random"], reason="2 s a clip", by=organizer
    )
    for what in ("rankings", "ratings", "episodes"):
        document = json.loads(exported(world.campaign, what, "json"))
        (note,) = document["excluded_raters"]
        assert note["rater"] == pseudonym(world, "random")
        assert note["reason"] == "2 s a clip"
        assert "username" not in note
        assert "replaces each counted rating" in document["adjudication_rule"]
    xlsx = exports.campaign_export(campaign=world.campaign, what="ratings", fmt="xlsx")
    from openpyxl import load_workbook

    meta = dict(load_workbook(io.BytesIO(xlsx.content))["meta"].iter_rows(values_only=True))
    assert pseudonym(world, "random") in meta["excluded_raters"]


def test_pages_show_a_banner_and_the_leaderboard_side_by_side(world, staff_client, organizer):
    campaign = world.campaign
    with_everyone = finals(board(campaign))
    review.rater_exclude(
        campaign=campaign, annotator=world.users["threes"], reason="straight line", by=organizer
    )
    without = finals(board(campaign))
    page = staff_client.get(reverse("leaderboard", args=[campaign.slug]))
    html = page.content.decode()
    assert 'id="exclusion-banner"' in html and pseudonym(world, "threes") in html
    assert 'id="exclusion-effect"' in html
    effect = reliability.exclusion_effect(campaign=campaign)
    assert effect.n_excluded_ratings == 20
    for row in effect.rows:
        assert row.final_score == pytest.approx(without[row.team], abs=1e-12)
        assert row.final_score_with == pytest.approx(with_everyone[row.team], abs=1e-12)
        assert f"{row.final_score_with:.3f}" in html
    for name in ("exports", "raters", "adjudication"):
        assert (
            'id="exclusion-banner"'
            in staff_client.get(reverse(name, args=[campaign.slug])).content.decode()
        )


def test_exclusion_from_a_moment_leaves_out_only_later_ratings(world, organizer):
    random_ratings = Rating.objects.filter(annotator=world.users["random"]).order_by("updated_at")
    since = random_ratings[12].updated_at
    kept_before = sum(rating.updated_at < since for rating in random_ratings)
    assert kept_before == 12
    review.rater_exclude(
        campaign=world.campaign,
        annotator=world.users["random"],
        reason="went careless",
        since=since,
        by=organizer,
    )
    frame = pd.read_csv(io.BytesIO(exported(world.campaign, "ratings")))
    assert (frame["rater"] == pseudonym(world, "random")).sum() == kept_before


def test_lifting_restores_the_hash_and_both_steps_stay_on_record(world, organizer):
    campaign = world.campaign
    before = board(campaign).input_hash
    out = io.StringIO()
    call_command(
        "rater_exclude",
        campaign.slug,
        pseudonym(world, "threes"),
        reason="always 3",
        by=organizer.username,
        stdout=out,
    )
    assert "Excluded threes" in out.getvalue()
    assert board(campaign).input_hash != before
    call_command(
        "rater_exclude", campaign.slug, "threes", reason="was fine after all", lift=True, stdout=out
    )
    assert board(campaign).input_hash == before
    (row,) = RaterExclusion.objects.filter(campaign=campaign)
    assert row.created_by == organizer and row.reason == "always 3"
    assert row.lifted_at is not None and row.lift_reason == "was fine after all"
    notes = reliability.exclusion_notes(campaign=campaign)
    assert [note.active for note in notes] == [False]
    # Excluding again is a new row, with its own reason.
    call_command("rater_exclude", campaign.slug, "threes", reason="again", since="2026-05-04")
    assert RaterExclusion.objects.filter(campaign=campaign).count() == 2
    active = RaterExclusion.objects.get(campaign=campaign, lifted_at__isnull=True)
    assert active.since == dt.datetime(2026, 5, 4, tzinfo=active.since.tzinfo)


def test_exclusion_refusals(world, organizer, staff_api):
    campaign = world.campaign
    url = f"/api/campaigns/{campaign.slug}/raters/exclusions/"
    assert (
        staff_api.post(url, {"rater": "threes", "reason": "  "}, format="json").status_code == 400
    )
    unknown = staff_api.post(url, {"rater": "nobody", "reason": "x"}, format="json")
    assert unknown.status_code == 400 and "rater" in unknown.json()
    assert staff_api.post(url, {"rater": "threes", "reason": "x"}, format="json").status_code == 201
    again = staff_api.post(url, {"rater": "threes", "reason": "y"}, format="json")
    assert again.status_code == 400 and "already excluded" in again.json()["detail"]
    exclusion = RaterExclusion.objects.get()
    lift = f"/api/campaigns/{campaign.slug}/raters/exclusions/{exclusion.pk}/lift/"
    assert staff_api.post(lift, {"reason": ""}, format="json").status_code == 400
    assert staff_api.post(lift, {"reason": "ok"}, format="json").status_code == 200
    twice = staff_api.post(lift, {"reason": "ok"}, format="json")
    assert twice.status_code == 400 and "lifted already" in twice.json()["detail"]
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.PUBLISHED)
    published = staff_api.post(url, {"rater": "random", "reason": "x"}, format="json")
    assert published.status_code == 400 and "published" in published.json()["detail"]
    with pytest.raises(CommandError, match="nobody with work"):
        call_command("rater_exclude", campaign.slug, "ghost", reason="x")
    with pytest.raises(CommandError, match="not a date"):
        call_command("rater_exclude", campaign.slug, "random", reason="x", since="yesterday")
    assert staff_api.get(url).json()[0]["lifted_by"] == "organizer"


def test_exclusion_pages_exclude_and_lift(world, staff_client):
    slug = world.campaign.slug
    refused = staff_client.post(
        reverse("rater-exclude", args=[slug]), {"rater": "ghost", "reason": "x"}
    )
    assert refused.status_code == 400
    done = staff_client.post(
        reverse("rater-exclude", args=[slug]), {"rater": "threes", "reason": "always 3"}
    )
    assert done.status_code == 302
    exclusion = RaterExclusion.objects.get()
    page = staff_client.get(reverse("raters", args=[slug])).content.decode()
    assert "always 3" in page and "excluded" in page
    lifted = staff_client.post(
        reverse("rater-exclusion-lift", args=[slug, exclusion.pk]), {"reason": "fine"}
    )
    assert lifted.status_code == 302
    exclusion.refresh_from_db()
    assert exclusion.lifted_by.username == "organizer"


def test_agreement_with_and_without_excluded_raters_and_per_rater(world, organizer):
    campaign = world.campaign
    review.rater_exclude(
        campaign=campaign, annotator=world.users["threes"], reason="always 3", by=organizer
    )
    without = agreement_selectors.campaign_agreement(campaign=campaign, run=None, n_boot=0)
    with_them = agreement_selectors.campaign_agreement(
        campaign=campaign, run=None, n_boot=0, with_excluded=True
    )
    assert without.data_hash != with_them.data_hash
    assert without.excluded_raters == (pseudonym(world, "threes"),)
    assert with_them.with_excluded and not without.with_excluded
    assert without.report["raters.n_ratings"] == with_them.report["raters.n_ratings"] - 20
    raters_without = {row["rater"] for row in without.report["per_rater"]}
    raters_with = {row["rater"]: row for row in with_them.report["per_rater"]}
    assert pseudonym(world, "threes") not in raters_without
    assert raters_with[pseudonym(world, "threes")]["bias"] > 0.5
    # Careful raters agree better once the straight-liner is out.
    alpha = "raters.krippendorff_alpha_ordinal"
    assert without.report[alpha]["value"] > with_them.report[alpha]["value"]


def test_agreement_page_and_api_take_the_options(world, organizer, staff_client, staff_api):
    review.rater_exclude(
        campaign=world.campaign, annotator=world.users["threes"], reason="always 3", by=organizer
    )
    slug = world.campaign.slug
    answer = staff_api.get(
        f"/api/campaigns/{slug}/agreement/?run=humans&bootstrap=0&with_excluded=true"
    )
    assert answer.status_code == 200
    assert answer.json()["with_excluded"] is True
    assert answer.json()["excluded_raters"] == [pseudonym(world, "threes")]
    report = answer.json()["report"]
    assert pseudonym(world, "threes") in {row["rater"] for row in report["per_rater"]}
    page = staff_client.get(
        reverse("agreement", args=[slug]) + "?run=humans&boot=0&compute=1&with_excluded=1"
    )
    html = page.content.decode()
    assert page.status_code == 200 and 'id="per-rater"' in html
    assert "excluded raters put back in" in html


def test_agreement_with_gold_checks_puts_their_ratings_in(world):
    from annotate.models import Assignment
    from tests.factories import AssignmentFactory, RatingFactory, UserFactory

    checker = UserFactory(username="checker")
    clip, truth = world.clips[0]
    RatingFactory(
        assignment=AssignmentFactory(
            clip=clip, annotator=checker, gold=True, status=Assignment.Status.DONE
        ),
        score=truth,
    )
    campaign = world.campaign
    plain = agreement_selectors.campaign_agreement(campaign=campaign, run=None, n_boot=0)
    with_gold = agreement_selectors.campaign_agreement(
        campaign=campaign, run=None, n_boot=0, with_gold=True
    )
    assert with_gold.report["raters.n_ratings"] == plain.report["raters.n_ratings"] + 1
    checker_name = rater_pseudonym(user_id=checker.pk, campaign_slug=campaign.slug)
    assert checker_name in {row["rater"] for row in with_gold.report["per_rater"]}
    assert checker_name not in {row["rater"] for row in plain.report["per_rater"]}
    # Never scored for the team.
    assert board(campaign).n_ratings == 6 * 20
