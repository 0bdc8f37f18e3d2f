"""Assignment services on real rows: rated set, plan, roster, moves, reclaims, progress."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest
from django.utils import timezone

from annotate.models import Assignment, Campaign, Episode, Task, Team
from annotate.notice_text import text
from annotate.selectors.assignments import (
    annotator_candidates,
    assignment_progress,
    campaign_roster,
    plan_summary,
)
from annotate.services import (
    AssignmentError,
    assignment_annotator_add,
    assignment_annotator_remove,
    assignment_move_pending,
    assignment_plan_apply,
    assignment_plan_preview,
    assignment_reclaim_stale,
    rated_set_update,
)
from annotate.services.assignments import order_key
from tests.factories import (
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


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The factories set a password per user; the default hasher makes that the slow part.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Built:
    campaign: Campaign
    tasks: list[Task]
    teams: list[Team]
    users: list


def build_campaign(
    *,
    slug: str = "plan",
    teams: int = 3,
    tasks: int = 2,
    episodes: int = 4,
    annotators: int = 5,
    raters_per_cell: int = 3,
    max_clips_per_rater: int = 10,
    seed: int = 7,
) -> Built:
    """A campaign with one submission per team covering every episode of every task."""
    campaign = CampaignFactory(
        slug=slug,
        raters_per_cell=raters_per_cell,
        max_clips_per_rater=max_clips_per_rater,
        seed=seed,
    )
    task_rows = [
        TaskFactory(campaign=campaign, number=k + 1, key=f"task{k + 1}") for k in range(tasks)
    ]
    episode_rows = [
        EpisodeFactory(task=task, number=n, key=f"episode_{n}")
        for task in task_rows
        for n in range(episodes)
    ]
    team_rows = [TeamFactory(campaign=campaign, name=f"{slug}-team-{i}") for i in range(teams)]
    for team in team_rows:
        submission = SubmissionFactory(team=team, version=1)
        for episode in episode_rows:
            ClipFactory(submission=submission, episode=episode)
    users = [UserFactory(username=f"{slug}-rater{i}") for i in range(annotators)]
    campaign.annotators.add(*users)
    return Built(campaign, task_rows, team_rows, users)


def assert_caps_hold(campaign: Campaign) -> None:
    rows = list(
        Assignment.objects.filter(campaign=campaign).values_list(
            "annotator_id", "clip_id", "clip__submission_id", "clip__episode__task_id"
        )
    )
    assert len(rows) == len({(user, clip) for user, clip, _, _ in rows}), "duplicate row"
    per_rater = Counter((user, sub, task) for user, _, sub, task in rows)
    assert max(per_rater.values(), default=0) <= campaign.max_clips_per_rater
    raters: dict[tuple[int, int], set[int]] = defaultdict(set)
    for user, _, sub, task in rows:
        raters[(sub, task)].add(user)
    assert max((len(r) for r in raters.values()), default=0) <= campaign.raters_per_cell


def test_apply_stores_a_full_plan_within_the_caps_and_is_idempotent():
    built = build_campaign(max_clips_per_rater=3)
    result = assignment_plan_apply(campaign=built.campaign)
    assert result.warnings == ()
    # 3 teams x 2 tasks, 3 raters per cell, each with min(3, 4 clips) = 3 clips.
    assert result.created == 3 * 2 * 3 * 3
    assert Assignment.objects.count() == result.created
    assert_caps_hold(built.campaign)
    coverage = Counter(Assignment.objects.values_list("clip_id", flat=True))
    assert len(coverage) == 3 * 2 * 4, "every rated clip has a rater"
    assert max(coverage.values()) - min(coverage.values()) <= 1
    for row in Assignment.objects.all():
        assert row.order_key == order_key(
            seed=built.campaign.seed, annotator_id=row.annotator_id, clip_id=row.clip_id
        )
        assert row.status == Assignment.Status.PENDING

    again = assignment_plan_apply(campaign=built.campaign)
    assert again.created == 0
    assert Assignment.objects.count() == result.created


def test_preview_writes_nothing_and_matches_what_apply_stores():
    built = build_campaign()
    Episode.objects.update(in_rated_set=False)
    plan = assignment_plan_preview(campaign=built.campaign)
    assert Assignment.objects.count() == 0
    assert not Episode.objects.filter(in_rated_set=True).exists()
    planned = {(row.annotator, int(row.clip)) for row in plan.assignments}

    assignment_plan_apply(campaign=built.campaign)
    stored = set(Assignment.objects.values_list("annotator__username", "clip_id"))
    assert stored == planned
    assert Episode.objects.filter(in_rated_set=True).count() == 2 * 4


def test_the_plan_is_reproducible_from_the_seed():
    first = assignment_plan_preview(campaign=build_campaign(slug="one", seed=3).campaign)
    second = assignment_plan_preview(campaign=build_campaign(slug="two", seed=3).campaign)

    def shape(plan):
        return sorted(
            (row.annotator.split("-")[-1], row.team.split("-")[-1], row.task)
            for row in plan.assignments
        )

    assert shape(first) == shape(second)


def test_nobody_rates_their_own_team():
    built = build_campaign(annotators=4)
    built.teams[0].members.add(built.users[0], built.users[1])
    assignment_plan_apply(campaign=built.campaign)
    own = Assignment.objects.filter(
        annotator__in=built.users[:2], clip__submission__team=built.teams[0]
    )
    assert not own.exists()
    assert Assignment.objects.filter(annotator=built.users[0]).exists()


def test_rated_set_is_the_same_for_every_team_and_capped():
    built = build_campaign(episodes=12, raters_per_cell=1, max_clips_per_rater=5)
    result = rated_set_update(campaign=built.campaign)
    for task_set in result.tasks:
        assert task_set.episodes == 12
        assert len(task_set.rated) == 5
        assert not task_set.kept
    chosen = {
        task.key: set(task.episodes.filter(in_rated_set=True).values_list("key", flat=True))
        for task in built.tasks
    }
    assert {task_set.task: set(task_set.rated) for task_set in result.tasks} == chosen
    # The same draw again writes nothing.
    assert rated_set_update(campaign=built.campaign).changed == 0

    assignment_plan_apply(campaign=built.campaign)
    rated_per_team = defaultdict(set)
    for team, task, episode in Assignment.objects.values_list(
        "clip__submission__team__name", "clip__episode__task__key", "clip__episode__key"
    ):
        rated_per_team[team].add((task, episode))
    expected = {(task, key) for task, keys in chosen.items() for key in keys}
    assert all(pairs == expected for pairs in rated_per_team.values())
    assert len(rated_per_team) == 3


def test_rated_set_of_a_task_under_way_is_kept():
    built = build_campaign(episodes=12, raters_per_cell=1, max_clips_per_rater=5)
    assignment_plan_apply(campaign=built.campaign)
    before = set(Episode.objects.filter(in_rated_set=True).values_list("pk", flat=True))
    built.campaign.max_clips_per_rater = 2
    built.campaign.save()
    result = rated_set_update(campaign=built.campaign)
    assert all(task_set.kept for task_set in result.tasks)
    assert result.changed == 0
    assert set(Episode.objects.filter(in_rated_set=True).values_list("pk", flat=True)) == before


def test_adding_annotators_before_the_first_plan_only_fills_the_roster():
    built = build_campaign(annotators=0)
    newcomer = UserFactory(username="newcomer")
    result = assignment_annotator_add(campaign=built.campaign, user=newcomer)
    assert result.created == 0
    assert not Assignment.objects.exists()
    assert list(built.campaign.annotators.all()) == [newcomer]


def test_adding_an_annotator_to_a_planned_campaign_plans_only_what_is_missing():
    built = build_campaign(annotators=2)
    first = assignment_plan_apply(campaign=built.campaign)
    assert any("2 of 3 raters" in text(warning) for warning in first.warnings)
    stored = set(Assignment.objects.values_list("pk", "annotator_id", "clip_id"))

    third = UserFactory(username="third")
    result = assignment_annotator_add(campaign=built.campaign, user=third)
    assert result.created == 3 * 2 * 4  # a third rater joins every cell, every clip
    assert result.warnings == ()
    assert stored <= set(Assignment.objects.values_list("pk", "annotator_id", "clip_id"))
    assert set(
        Assignment.objects.exclude(pk__in=[pk for pk, _, _ in stored]).values_list(
            "annotator_id", flat=True
        )
    ) == {third.pk}
    assert_caps_hold(built.campaign)


def test_staff_and_inactive_users_are_refused_as_annotators():
    built = build_campaign(annotators=1)
    with pytest.raises(AssignmentError, match="staff"):
        assignment_annotator_add(
            campaign=built.campaign, user=UserFactory(username="boss", is_staff=True)
        )
    with pytest.raises(AssignmentError, match="inactive"):
        assignment_plan_apply(
            campaign=built.campaign, with_annotators=[UserFactory(username="gone", is_active=False)]
        )


def test_move_takes_pending_work_only_and_respects_team_membership():
    built = build_campaign(teams=2, annotators=3, max_clips_per_rater=4)
    assignment_plan_apply(campaign=built.campaign)
    leaver = built.users[0]
    mine = list(Assignment.objects.filter(annotator=leaver).order_by("pk"))
    mine[0].status = Assignment.Status.DONE
    mine[0].save()
    RatingFactory(assignment=mine[0])
    mine[1].status = Assignment.Status.IN_PROGRESS
    mine[1].started_at = timezone.now()
    mine[1].save()
    receiver = UserFactory(username="receiver")
    receiver_team = built.teams[0]
    receiver_team.members.add(receiver)

    with pytest.raises(AssignmentError, match="not on the roster"):
        assignment_move_pending(campaign=built.campaign, from_user=leaver, to_user=receiver)
    built.campaign.annotators.add(receiver)
    result = assignment_move_pending(campaign=built.campaign, from_user=leaver, to_user=receiver)

    pending = [row for row in mine if row.status == Assignment.Status.PENDING]
    of_own_team = [row for row in pending if row.clip.submission.team_id == receiver_team.pk]
    assert result.moved == len(pending) - len(of_own_team) > 0
    assert len(result.blocked) == len(of_own_team) > 0
    assert all("belongs to team" in text(blocked.reason) for blocked in result.blocked)
    assert Assignment.objects.get(pk=mine[0].pk).annotator_id == leaver.pk
    assert Assignment.objects.get(pk=mine[1].pk).annotator_id == leaver.pk
    moved = Assignment.objects.filter(annotator=receiver)
    assert moved.count() == result.moved
    assert all(
        row.order_key
        == order_key(seed=built.campaign.seed, annotator_id=receiver.pk, clip_id=row.clip_id)
        for row in moved
    )
    with pytest.raises(AssignmentError, match="same annotator"):
        assignment_move_pending(campaign=built.campaign, from_user=receiver, to_user=receiver)


def test_removal_waits_until_open_work_is_moved():
    built = build_campaign(teams=1, tasks=1, annotators=2, raters_per_cell=1)
    assignment_plan_apply(campaign=built.campaign)
    holder = Assignment.objects.first().annotator
    other = next(user for user in built.users if user != holder)
    with pytest.raises(AssignmentError, match="open assignments"):
        assignment_annotator_remove(campaign=built.campaign, user=holder)
    assignment_move_pending(campaign=built.campaign, from_user=holder, to_user=other)
    assignment_annotator_remove(campaign=built.campaign, user=holder)
    assert holder not in built.campaign.annotators.all()
    assert holder in annotator_candidates(campaign=built.campaign)


def test_reclaim_returns_stale_unsaved_work_to_pending():
    built = build_campaign(teams=1, tasks=1, annotators=1, raters_per_cell=1)
    built.campaign.reclaim_after_minutes = 30
    built.campaign.save()
    assignment_plan_apply(campaign=built.campaign)
    now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    stale, fresh, rated, waiting = Assignment.objects.order_by("pk")[:4]
    for row, minutes_ago in ((stale, 31), (fresh, 29), (rated, 120)):
        row.status = Assignment.Status.IN_PROGRESS
        row.started_at = now - dt.timedelta(minutes=minutes_ago)
        row.save()
    RatingFactory(assignment=rated)

    result = assignment_reclaim_stale(campaign=built.campaign, now=now)
    assert result.reclaimed == 1
    assert result.by_annotator == {built.users[0].username: 1}
    assert result.cutoff == now - dt.timedelta(minutes=30)
    statuses = dict(Assignment.objects.values_list("pk", "status"))
    assert statuses[stale.pk] == Assignment.Status.PENDING
    assert Assignment.objects.get(pk=stale.pk).started_at is None
    assert statuses[fresh.pk] == Assignment.Status.IN_PROGRESS
    assert statuses[rated.pk] == Assignment.Status.IN_PROGRESS
    assert statuses[waiting.pk] == Assignment.Status.PENDING

    shorter = assignment_reclaim_stale(campaign=built.campaign, now=now, minutes=10)
    assert shorter.reclaimed == 1
    assert Assignment.objects.get(pk=fresh.pk).status == Assignment.Status.PENDING
    for minutes in (-1, 10**12):  # the second would overflow the cutoff's date
        with pytest.raises(AssignmentError, match="minutes must be between 0 and"):
            assignment_reclaim_stale(campaign=built.campaign, minutes=minutes)


def test_progress_counts_done_of_assigned():
    built = build_campaign(teams=2, tasks=2, annotators=3, raters_per_cell=1)
    assignment_plan_apply(campaign=built.campaign)
    team_a_task1 = Assignment.objects.filter(
        clip__submission__team=built.teams[0], clip__episode__task=built.tasks[0]
    )
    finished = list(team_a_task1[:3])
    for row in finished:
        row.status = Assignment.Status.DONE
        row.save()
    progress = assignment_progress(campaign=built.campaign)
    assert progress.overall.total == 2 * 2 * 4
    assert progress.overall.done == 3
    by_team = {row.label: row for row in progress.by_team}
    assert by_team[built.teams[0].name].done == 3
    assert by_team[built.teams[0].name].total == 8
    assert by_team[built.teams[1].name].done == 0
    assert [row.label for row in progress.by_task] == ["task1", "task2"]
    assert progress.by_task[0].percent == pytest.approx(100 * 3 / 8)
    by_annotator = {row.label: row for row in progress.by_annotator}
    assert sum(row.done for row in by_annotator.values()) == 3
    assert sum(row.total for row in by_annotator.values()) == 16

    roster = campaign_roster(campaign=built.campaign)
    assert [entry.username for entry in roster] == sorted(user.username for user in built.users)
    assert all(entry.on_roster for entry in roster)


def test_plan_summary_describes_loads_and_cells():
    built = build_campaign(annotators=4, max_clips_per_rater=2)
    summary = plan_summary(plan=assignment_plan_preview(campaign=built.campaign))
    assert summary.new_rows == 3 * 2 * 3 * 2
    assert sum(load.new for load in summary.loads) == summary.new_rows
    assert summary.load_spread <= 2
    assert len(summary.cells) == 6
    for cell in summary.cells:
        assert len(cell.raters) == 3
        assert cell.new_raters == cell.raters
        assert cell.clips == 4  # 3 raters x 2 clips cover the 4 clips
        assert cell.ratings == 6

    assignment_plan_apply(campaign=built.campaign)
    after = plan_summary(plan=assignment_plan_preview(campaign=built.campaign))
    assert after.new_rows == 0
    assert all(cell.new_raters == () for cell in after.cells)
    assert sum(load.existing for load in after.loads) == summary.new_rows


def test_only_the_newest_submission_is_planned():
    built = build_campaign(teams=1, tasks=1, annotators=3)
    assignment_plan_apply(campaign=built.campaign)
    old_rows = Assignment.objects.count()
    newer = SubmissionFactory(team=built.teams[0], version=2)
    for episode in Episode.objects.filter(task=built.tasks[0]):
        ClipFactory(submission=newer, episode=episode)
    result = assignment_plan_apply(campaign=built.campaign)
    assert result.created == old_rows
    assert Assignment.objects.filter(clip__submission=newer).count() == old_rows
    assert assignment_progress(campaign=built.campaign).overall.total == old_rows
