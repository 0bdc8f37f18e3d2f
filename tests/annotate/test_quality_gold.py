"""Gold clips: the planner's rate and rules (pure), their rows in the database, and that a
gold rating never reaches a team's score, the leaderboard or the exports."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict

import numpy as np
import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.models import Assignment, Clip, QualityExample, Rating
from annotate.notice import Notice
from annotate.planner import (
    GOLD_SHORT,
    Annotator,
    Cell,
    GoldClip,
    GoldHeld,
    PlannedAssignment,
    plan_assignments,
    plan_gold,
)
from annotate.selectors import quality as selectors
from annotate.services import (
    assignment_annotator_add,
    assignment_annotator_remove,
    assignment_move_pending,
    assignment_plan_apply,
)
from annotate.services import quality as services
from evaluation import selectors as evaluation_selectors
from tests.annotate.test_assignments_services import build_campaign
from tests.evaluation.test_leaderboard import rated_campaign
from tests.factories import RatingFactory, UserFactory

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the pure planner ---------------------------------------------------------------------


def work_rows(annotator: str, n: int, *, team: str = "red", task: str = "task1"):
    return [
        PlannedAssignment(annotator, f"{team}/{task}/w{annotator}{i}", team, task) for i in range(n)
    ]


def test_each_queue_gets_one_gold_clip_per_n_real_clips():
    annotators = [Annotator("a"), Annotator("b"), Annotator("c")]
    work = work_rows("a", 25) + work_rows("b", 9) + work_rows("c", 10)
    gold = [GoldClip(f"g{i}", "blue", "task1") for i in range(6)]
    plan = plan_gold(annotators=annotators, work=work, held=[], gold_clips=gold, gold_every=10)
    assert Counter(row.annotator for row in plan.add) == {"a": 2, "c": 1}  # 25//10, 9//10, 10//10
    assert plan.remove == () and plan.warnings == ()
    # Spread over the gold set: three different clips for three rows.
    assert len({row.clip for row in plan.add}) == 3
    off = plan_gold(annotators=annotators, work=work, held=[], gold_clips=gold, gold_every=0)
    assert off.add == ()


def test_never_a_clip_of_the_annotators_team_nor_one_they_hold():
    annotators = [Annotator("a", frozenset({"blue"})), Annotator("b")]
    gold = [GoldClip("blue1", "blue", "task1"), GoldClip("red1", "red", "task1")]
    work = work_rows("a", 4, team="green") + [PlannedAssignment("b", "red1", "red", "task1")]
    work += work_rows("b", 3, team="green")
    plan = plan_gold(annotators=annotators, work=work, held=[], gold_clips=gold, gold_every=2)
    given_to = defaultdict(set)
    for row in plan.add:
        given_to[row.annotator].add(row.clip)
    assert given_to["a"] == {"red1"}, "not blue1: a is on team blue"
    assert given_to["b"] == {"blue1"}, "not red1: b rates it as work"
    assert plan.warnings[0] == Notice(GOLD_SHORT, {"annotator": "a", "held": 1, "quota": 2})


def test_a_gold_clip_of_a_task_the_annotator_rates_comes_first():
    annotators = [Annotator("a")]
    gold = [GoldClip(f"t2-{i}", "blue", "task2") for i in range(5)] + [
        GoldClip("t1-0", "blue", "task1")
    ]
    plan = plan_gold(
        annotators=annotators, work=work_rows("a", 5), held=[], gold_clips=gold, gold_every=5
    )
    assert [row.clip for row in plan.add] == ["t1-0"]


def test_held_rows_count_surplus_and_stale_ones_come_back_only_unopened():
    annotators = [Annotator("a", frozenset({"red"}))]
    gold = [GoldClip(f"g{i}", "blue", "task1") for i in range(4)] + [
        GoldClip("own", "red", "task1")
    ]
    held = [
        GoldHeld("a", "g0", removable=False),
        GoldHeld("a", "g1", removable=True),
        GoldHeld("a", "g2", removable=True),
        GoldHeld("a", "gone", removable=True),  # no longer gold
        GoldHeld("a", "own", removable=False),  # of their team (they joined it since): opened
    ]
    work = work_rows("a", 4, team="green")
    plan = plan_gold(annotators=annotators, work=work, held=held, gold_clips=gold, gold_every=2)
    # Quota 2: g0 (opened) and one of g1, g2 count; the other and "gone" come back.
    removed = {row.clip for row in plan.remove}
    assert "gone" in removed and "g0" not in removed and "own" not in removed
    assert len(removed & {"g1", "g2"}) == 1 and plan.add == ()
    plan = plan_gold(annotators=annotators, work=work, held=held, gold_clips=gold, gold_every=0)
    assert {row.clip for row in plan.remove} == {"g1", "g2", "gone"}


@st.composite
def gold_cases(draw):
    teams = ["red", "blue", "green"]
    annotators = [
        Annotator(f"a{i}", frozenset(draw(st.lists(st.sampled_from(teams), max_size=1))))
        for i in range(draw(st.integers(1, 6)))
    ]
    gold = [
        GoldClip(f"g{i}", draw(st.sampled_from(teams)), draw(st.sampled_from(["task1", "task2"])))
        for i in range(draw(st.integers(0, 8)))
    ]
    work, held = [], []
    for annotator in annotators:
        for i in range(draw(st.integers(0, 30))):
            team = draw(st.sampled_from([t for t in teams if t not in annotator.teams]))
            work.append(PlannedAssignment(annotator.id, f"{annotator.id}w{i}", team, "task1"))
        for clip in draw(st.lists(st.sampled_from([g.clip for g in gold] or ["x"]), unique=True)):
            held.append(GoldHeld(annotator.id, clip, removable=draw(st.booleans())))
    return {
        "annotators": annotators,
        "work": work,
        "held": held,
        "gold_clips": gold,
        "gold_every": draw(st.integers(0, 12)),
        "seed": draw(st.integers(0, 2**32)),
    }


@FAST
@given(gold_cases())
def test_gold_plan_invariants(case):
    plan = plan_gold(**case)
    teams = {a.id: a.teams for a in case["annotators"]}
    pool = {g.clip: g for g in case["gold_clips"]}
    held = defaultdict(set)
    for row in case["held"]:
        held[row.annotator].add(row.clip)
    removed = {(row.annotator, row.clip) for row in plan.remove}
    assert all(row.removable for row in plan.remove), "an opened gold clip is never taken back"
    for annotator in case["annotators"]:
        mine = [row for row in plan.add if row.annotator == annotator.id]
        clips = [row.clip for row in mine]
        assert len(clips) == len(set(clips))
        assert not set(clips) & held[annotator.id]
        assert all(pool[clip].team not in teams[annotator.id] for clip in clips)
        n_work = sum(row.annotator == annotator.id for row in case["work"])
        quota = n_work // case["gold_every"] if case["gold_every"] else 0
        kept = {
            clip
            for clip in held[annotator.id]
            if (annotator.id, clip) not in removed
            and clip in pool
            and pool[clip].team not in teams[annotator.id]
        }
        opened = {
            row.clip
            for row in case["held"]
            if row.annotator == annotator.id and not row.removable and row.clip in kept
        }
        total = len(kept) + len(clips)
        if total > quota:
            assert not clips and kept == opened, "over the quota only opened rows stay"
        elif total < quota:
            eligible = {c for c, g in pool.items() if g.team not in teams[annotator.id]}
            assert eligible <= held[annotator.id] | set(clips), "short only when nothing is left"
            assert any(w.params["annotator"] == annotator.id for w in plan.warnings)
    # The seed and the contents decide, not the order of the inputs.
    shuffled = {key: value for key, value in case.items()}
    for key in ("annotators", "work", "held", "gold_clips"):
        shuffled[key] = random.Random(1).sample(case[key], len(case[key]))
    again = plan_gold(**shuffled)
    assert again.add == plan.add and set(again.remove) == set(plan.remove)


def test_the_planner_never_plans_a_pair_held_as_gold():
    annotators = [Annotator(f"a{i}") for i in range(3)]
    cells = [Cell("red", "task1", tuple(f"c{i}" for i in range(4)))]
    free = plan_assignments(
        annotators=annotators, cells=cells, raters_per_cell=3, max_clips_per_rater=4
    )
    assert ("a0", "c2") in {(row.annotator, row.clip) for row in free.assignments}
    blocked = {("a0", "c2"), ("a1", "c0")}
    plan = plan_assignments(
        annotators=annotators,
        cells=cells,
        raters_per_cell=3,
        max_clips_per_rater=4,
        unavailable=blocked,
    )
    pairs = {(row.annotator, row.clip) for row in plan.assignments}
    assert not pairs & blocked
    assert set(plan.clip_rating_counts()) == {"c0", "c1", "c2", "c3"}, "every clip still rated"


# --- rows in the database -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def gold_campaign(*, gold_every: int = 3, max_clips_per_rater: int = 3):
    """3 teams x 2 tasks x 4 episodes, 5 annotators (two in teams), 12 gold clips."""
    built = build_campaign(slug="gold", annotators=5, max_clips_per_rater=max_clips_per_rater)
    built.teams[0].members.add(built.users[0])
    built.teams[1].members.add(built.users[1])
    chosen = [
        Clip.objects.get(submission__team=team, episode__task=task, episode__number=number)
        for team in built.teams
        for task in built.tasks
        for number in (1, 2)
    ]
    for clip, score in zip(chosen, [3, 2, 1, 0] * 3, strict=True):
        services.quality_example_mark(
            campaign=built.campaign, clip_id=clip.pk, kind="gold", score=score
        )
    services.quality_settings_update(campaign=built.campaign, gold_every=gold_every)
    built.campaign.refresh_from_db()
    return built, chosen


def rows_of(campaign, *, gold: bool) -> set[tuple[int, int]]:
    return set(
        Assignment.objects.filter(campaign=campaign, gold=gold).values_list(
            "annotator_id", "clip_id"
        )
    )


@pytest.mark.django_db
def test_applying_the_plan_inserts_gold_at_the_rate_and_leaves_the_work_as_planned():
    built, chosen = gold_campaign(gold_every=3)
    # The same campaign planned without gold, for comparison.
    services.quality_settings_update(campaign=built.campaign, gold_every=0)
    result = assignment_plan_apply(campaign=built.campaign)
    assert result.gold_added == 0
    work = rows_of(built.campaign, gold=False)
    assert not rows_of(built.campaign, gold=True)

    services.quality_settings_update(campaign=built.campaign, gold_every=3)
    gold = services.gold_plan_apply(campaign=built.campaign)
    assert rows_of(built.campaign, gold=False) == work, "gold changes no row of real work"
    per_user = Counter(user for user, _ in work)
    held = Counter(user for user, _ in rows_of(built.campaign, gold=True))
    assert gold.added == sum(held.values()) > 0
    team_of_clip = dict(
        Assignment.objects.filter(campaign=built.campaign).values_list(
            "clip_id", "clip__submission__team__name"
        )
    )
    members = {user.pk: {team.name for team in user.teams.all()} for user in built.users}
    gold_clips = {clip.pk: clip.submission.team.name for clip in chosen}
    for user in built.users:
        available = {
            clip
            for clip, team in gold_clips.items()
            if team not in members[user.pk] and (user.pk, clip) not in work
        }
        expected = min(per_user[user.pk] // 3, len(available))
        assert held[user.pk] == expected, user.username
    assert sum(held.values()) >= len(built.users), "the rate is met for most queues here"
    for user_id, clip_id in rows_of(built.campaign, gold=True):
        assert team_of_clip[clip_id] not in members[user_id], "never a clip of their own team"
        assert clip_id in {clip.pk for clip in chosen}
    # Gold rows do not count towards the caps of real work (3 raters, 3 clips per cell).
    per_cell = Counter(
        Assignment.objects.filter(campaign=built.campaign, gold=False).values_list(
            "annotator_id", "clip__submission_id", "clip__episode__task_id"
        )
    )
    assert max(per_cell.values()) <= 3
    # Applying again adds nothing; applying the plan does the same as the gold button.
    assert services.gold_plan_apply(campaign=built.campaign).added == 0
    assert assignment_plan_apply(campaign=built.campaign).gold_added == 0
    # The ids of gold rows are drawn like any other.
    ids = sorted(Assignment.objects.filter(campaign=built.campaign).values_list("pk", flat=True))
    assert min(ids) > 2**20


@pytest.mark.django_db
def test_a_lower_rate_or_an_unmarked_clip_takes_back_only_unopened_gold():
    built, chosen = gold_campaign(gold_every=2)
    assignment_plan_apply(campaign=built.campaign)
    gold_rows = list(Assignment.objects.filter(campaign=built.campaign, gold=True))
    assert gold_rows
    opened = gold_rows[0]
    opened.status = Assignment.Status.IN_PROGRESS
    opened.save()
    services.quality_settings_update(campaign=built.campaign, gold_every=0)
    result = services.gold_plan_apply(campaign=built.campaign)
    assert result.removed == len(gold_rows) - 1
    assert list(Assignment.objects.filter(campaign=built.campaign, gold=True)) == [opened]

    services.quality_settings_update(campaign=built.campaign, gold_every=2)
    services.gold_plan_apply(campaign=built.campaign)
    victim = (
        Assignment.objects.filter(campaign=built.campaign, gold=True, status="pending")
        .exclude(clip=opened.clip)
        .first()
    )
    on_clip = Assignment.objects.filter(clip=victim.clip, gold=True, status="pending").count()
    removed = services.quality_example_unmark(campaign=built.campaign, clip_id=victim.clip_id)
    assert removed == on_clip > 0
    assert not Assignment.objects.filter(clip=victim.clip, gold=True).exists()


@pytest.mark.django_db
def test_planning_after_gold_never_collides_with_it_and_gold_never_moves():
    # Every rater rates a whole cell (4 clips); users 0 and 1 are in teams 0 and 1, so
    # without users 3 and 4 those teams' cells are short of a rater.
    built, chosen = gold_campaign(gold_every=1, max_clips_per_rater=4)
    late = built.users[4]
    built.campaign.annotators.remove(late, built.users[3])
    assignment_plan_apply(campaign=built.campaign)
    # The newcomer first holds gold only (as if planned before the clips came), then joins.
    services.quality_example_mark(
        campaign=built.campaign, clip_id=chosen[2].pk, kind="gold", score=1
    )
    Assignment.objects.create(campaign=built.campaign, annotator=late, clip=chosen[2], gold=True)
    result = assignment_annotator_add(campaign=built.campaign, user=late)
    assert result.created > 0
    assert not Assignment.objects.filter(annotator=late, clip=chosen[2], gold=False).exists()
    same_cell = Assignment.objects.filter(
        annotator=late,
        gold=False,
        clip__submission=chosen[2].submission,
        clip__episode__task=chosen[2].episode.task,
    )
    assert same_cell.count() == 3, "the rest of the cell, without the clip held as gold"
    assert Assignment.objects.filter(annotator=late, clip=chosen[2], gold=True).exists()


@pytest.mark.django_db
def test_gold_rows_are_never_moved_and_leave_with_their_annotator():
    built, _ = gold_campaign(gold_every=2)
    assignment_plan_apply(campaign=built.campaign)
    holders = {user for user, _ in rows_of(built.campaign, gold=True)}
    giver = next(user for user in built.users if user.pk in holders)
    taker = next(user for user in built.users if user != giver)
    gold_before = rows_of(built.campaign, gold=True)
    assignment_move_pending(campaign=built.campaign, from_user=giver, to_user=taker)
    assert rows_of(built.campaign, gold=True) == gold_before
    # Done with their real work, they may leave the roster: their unopened gold goes too.
    Assignment.objects.filter(annotator=giver, gold=False).update(status="done")
    assert Assignment.objects.filter(annotator=giver, gold=True, status="pending").exists()
    assignment_annotator_remove(campaign=built.campaign, user=giver)
    assert not Assignment.objects.filter(annotator=giver, gold=True, status="pending").exists()


# --- gold ratings never reach a team ---------------------------------------------------------


def _board(campaign):
    result = evaluation_selectors.campaign_leaderboard(
        campaign=campaign, parameters=evaluation_selectors.ScoringParameters(n_boot=200, seed=1)
    )
    return result, {
        standing.team: (
            standing.final_score,
            standing.rank,
            {key: (task.score, task.counts) for key, task in standing.tasks.items()},
        )
        for standing in result.board.teams
    }


def _add_gold_ratings(data, clips_scores):
    """Three new raters rate the given clips as gold, each score far from the clip's mean."""
    raters = [UserFactory(username=f"gold-rater-{i}") for i in range(3)]
    for clip, true_score in clips_scores:
        services.quality_example_mark(
            campaign=data.campaign, clip_id=clip.pk, kind="gold", score=true_score
        )
        key = (clip.submission.team.name, clip.episode.task.key, clip.episode.key)
        far = 0 if np.mean(data.scores[key]) >= 1.5 else 3
        for rater in raters:
            assignment = Assignment.objects.create(
                campaign=data.campaign, annotator=rater, clip=clip, gold=True, status="done"
            )
            RatingFactory(assignment=assignment, score=far)
    return raters


@pytest.mark.django_db
def test_gold_ratings_never_count_in_the_leaderboard_or_the_exports(staff_client):
    data = rated_campaign(n_teams=3, n_tasks=2, n_episodes=3, seed=5, slug="goldboard")
    before, scores_before = _board(data.campaign)
    downloads = {
        (what, fmt): staff_client.get(
            reverse("export-download", args=[data.campaign.slug, what, fmt])
        ).content
        for what in ("rankings", "ratings", "episodes")
        for fmt in ("csv", "json")
    }
    n_ratings = Rating.objects.count()

    clips = list(Clip.objects.filter(submission__team__campaign=data.campaign).order_by("pk"))
    _add_gold_ratings(data, [(clips[0], 3), (clips[7], 0), (clips[11], 2)])
    assert Rating.objects.count() == n_ratings + 9, "the gold ratings are stored"

    after, scores_after = _board(data.campaign)
    assert after.input_hash == before.input_hash
    assert scores_after == scores_before
    assert after.n_ratings == before.n_ratings
    assert {k: (c.n_ratings, c.n_expected) for k, c in after.coverage.items()} == {
        k: (c.n_ratings, c.n_expected) for k, c in before.coverage.items()
    }
    for (what, fmt), content in downloads.items():
        again = staff_client.get(reverse("export-download", args=[data.campaign.slug, what, fmt]))
        if fmt == "json":  # the same but for the moment it was made
            old, new = json.loads(content), json.loads(again.content)
            assert old.pop("generated_at") <= new.pop("generated_at")
            assert new == old, f"{what}.{fmt} changed"
        else:
            assert again.content == content, f"{what}.{fmt} changed"
    frame = evaluation_selectors.ratings_frame(campaign=data.campaign)
    assert len(frame) == n_ratings

    # Recomputed here from the scores the regular raters gave, without the app's scoring.
    for team, (final, _, tasks) in scores_after.items():
        task_scores = []
        for task in ("task1", "task2"):
            means = [np.mean(data.scores[(team, task, f"episode_{e}")]) for e in range(3)]
            assert tasks[task][0] == pytest.approx(sum(means) / 3)
            task_scores.append(sum(means) / 3)
        assert final == pytest.approx(np.mean(task_scores))

    # The drill-down lists the regular raters only.
    team = data.teams[0]
    details = evaluation_selectors.drilldown(
        campaign=data.campaign, team=team, task=clips[0].episode.task
    )
    assert all(len(detail.ratings) == 3 for detail in details)

    # The same rows counted as work would change the board: the filter is what holds it.
    Assignment.objects.filter(gold=True).update(gold=False)
    changed, scores_changed = _board(data.campaign)
    assert changed.input_hash != before.input_hash and scores_changed != scores_before


@pytest.mark.django_db
def test_gold_accuracy_counts_exact_and_within_one_per_annotator():
    data = rated_campaign(n_teams=2, n_tasks=1, n_episodes=3, seed=2, slug="goldacc")
    clips = list(Clip.objects.filter(submission__team__campaign=data.campaign).order_by("pk"))
    truth = {clips[0].pk: 3, clips[1].pk: 1, clips[2].pk: 0}
    for clip_id, score in truth.items():
        services.quality_example_mark(
            campaign=data.campaign, clip_id=clip_id, kind="gold", score=score
        )
    given = {"ann-x": [3, 2, 2], "ann-y": [1, 1, 0]}  # by clip, in the order above
    users = {}
    for name, scores in given.items():
        users[name] = UserFactory(username=name)
        for clip, score in zip(clips[:3], scores, strict=True):
            assignment = Assignment.objects.create(
                campaign=data.campaign, annotator=users[name], clip=clip, gold=True, status="done"
            )
            RatingFactory(assignment=assignment, score=score)
    # An unrated gold row, and a regular rating of a gold clip, do not count.
    Assignment.objects.create(
        campaign=data.campaign, annotator=UserFactory(username="ann-z"), clip=clips[0], gold=True
    )
    accuracy = selectors.gold_accuracy(campaign=data.campaign)
    expected = {}
    for name, scores in given.items():
        true = [truth[clip.pk] for clip in clips[:3]]
        expected[users[name].pk] = (
            len(scores),
            sum(a == b for a, b in zip(scores, true, strict=True)),
            sum(abs(a - b) <= 1 for a, b in zip(scores, true, strict=True)),
        )
    assert {k: (v.n, v.exact, v.within_one) for k, v in accuracy.items()} == expected
    assert accuracy[users["ann-x"].pk].exact_share == pytest.approx(1 / 3)
    # A corrected truth counts as corrected; an unmarked clip no longer counts.
    services.quality_example_mark(campaign=data.campaign, clip_id=clips[1].pk, kind="gold", score=2)
    corrected = selectors.gold_accuracy(campaign=data.campaign)[users["ann-x"].pk]
    assert (corrected.exact, corrected.within_one) == (2, 2)  # [3, 2, 2] against [3, 2, 0]
    services.quality_example_unmark(campaign=data.campaign, clip_id=clips[2].pk)
    assert selectors.gold_accuracy(campaign=data.campaign)[users["ann-y"].pk].n == 2
    assert not QualityExample.objects.filter(clip=clips[2]).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the cap trigger is PostgreSQL's (set DATABASE_URL)"
)
def test_the_database_guard_lets_gold_rows_past_the_caps_and_no_other_row():
    built = build_campaign(slug="pgold", annotators=4, raters_per_cell=1, max_clips_per_rater=2)
    assignment_plan_apply(campaign=built.campaign)
    cell = Assignment.objects.filter(campaign=built.campaign).select_related("clip").first()
    clip = cell.clip
    rater = cell.annotator
    others = [user for user in built.users if user != rater]
    # A full cell (1 rater, 2 clips each): a gold row of it for each other annotator passes.
    for user in others:
        Assignment.objects.create(campaign=built.campaign, annotator=user, clip=clip, gold=True)
    # ...and so does the rater's own gold row on another clip of the full cell beyond the cap.
    spare = (
        Clip.objects.filter(submission=clip.submission, episode__task=clip.episode.task)
        .exclude(assignments__annotator=rater)
        .first()
    )
    Assignment.objects.create(campaign=built.campaign, annotator=rater, clip=spare, gold=True)
    # A regular row over the caps is refused as before.
    with pytest.raises(DatabaseError, match="raters|clips"), transaction.atomic():
        Assignment.objects.create(campaign=built.campaign, annotator=others[0], clip=spare)
