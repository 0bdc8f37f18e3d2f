"""Organizer counts leave gold checks out of the protocol's progress: the assignments page,
the progress API, the roster's per-annotator load, the clip browser's status and the
review of one pair. Each count is compared with a plain recount of the assignment rows
without gold; gold checks are shown apart, to organizers only."""

from __future__ import annotations

from collections import Counter

import pytest
from django.urls import reverse

from annotate.models import Assignment, Clip
from annotate.selectors import assignments as assignment_selectors
from annotate.selectors import clips as clip_selectors
from annotate.selectors import current_clips
from annotate.services import assignment_open, assignment_plan_apply, rating_submit
from tests.annotate.test_quality_gold import gold_campaign

pytestmark = pytest.mark.django_db

WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}


def _rate(assignment: Assignment, score: int = 2) -> None:
    opened = assignment_open(assignment=assignment, user=assignment.annotator)
    rating_submit(assignment=opened, user=assignment.annotator, score=score, **WATCHED)


@pytest.fixture
def rated():
    """The gold campaign planned with one gold clip per 2, gold and regular work rated."""
    built, chosen = gold_campaign(gold_every=2)
    result = assignment_plan_apply(campaign=built.campaign)
    assert result.gold_added > 0
    for user in built.users:
        mine = list(Assignment.objects.filter(annotator=user).order_by("order_key", "pk"))
        gold = [row for row in mine if row.gold]
        regular = [row for row in mine if not row.gold]
        assert gold and len(regular) >= 3
        _rate(gold[0], score=3)
        for row in regular[:2]:
            _rate(row)
        assignment_open(assignment=regular[2], user=user)  # in progress, not rated
    # One gold clip whose planned raters are all done while a gold check of it waits.
    waiting = (
        Assignment.objects.filter(campaign=built.campaign, gold=True, status="pending")
        .order_by("clip_id")
        .first()
    )
    for row in Assignment.objects.filter(clip=waiting.clip, gold=False).exclude(status="done"):
        _rate(row)
    return built, waiting.clip


def _recount(rows: list[tuple], key) -> dict[str, tuple[int, int, int]]:
    """(done, in progress, total) per key, from plain (status, key fields) rows."""
    done, started, total = Counter(), Counter(), Counter()
    for row in rows:
        name = key(row)
        total[name] += 1
        done[name] += row[0] == "done"
        started[name] += row[0] == "in_progress"
    return {name: (done[name], started[name], total[name]) for name in total}


def _as_dict(rows) -> dict[str, tuple[int, int, int]]:
    return {row.label: (row.done, row.in_progress, row.total) for row in rows}


def test_progress_counts_equal_a_recount_without_gold(rated, staff_client, staff_api):
    built, _ = rated
    campaign = built.campaign
    rows = list(
        Assignment.objects.filter(
            campaign=campaign, clip__in=current_clips(campaign=campaign)
        ).values_list(
            "status",
            "gold",
            "clip__submission__team__name",
            "clip__episode__task__key",
            "annotator__username",
        )
    )
    work = [row for row in rows if not row[1]]
    gold = [row for row in rows if row[1]]
    assert any(row[0] == "done" for row in gold), "gold checks were rated"

    progress = assignment_selectors.assignment_progress(campaign=campaign)
    overall = _recount(work, lambda row: "all")["all"]
    assert (progress.overall.done, progress.overall.in_progress, progress.overall.total) == overall
    assert _as_dict(progress.by_team) == _recount(work, lambda row: row[2])
    assert _as_dict(progress.by_task) == _recount(work, lambda row: row[3])
    assert _as_dict(progress.by_annotator) == _recount(work, lambda row: row[4])
    # The protocol's ceiling: raters per cell x at most the cap, gold never adding to it.
    per_cell = Counter((row[4], row[2], row[3]) for row in work)
    assert max(per_cell.values()) <= campaign.max_clips_per_rater
    assert overall[2] <= campaign.raters_per_cell * sum(1 for _ in current_clips(campaign=campaign))
    # Gold apart, overall and per annotator.
    gold_all = _recount(gold, lambda row: "gold")["gold"]
    assert (progress.gold.done, progress.gold.in_progress, progress.gold.total) == gold_all
    assert _as_dict(progress.gold_by_annotator) == _recount(gold, lambda row: row[4])

    # The API says the same.
    body = staff_api.get(f"/api/campaigns/{campaign.slug}/assignments/progress/").json()
    assert (body["overall"]["done"], body["overall"]["total"]) == (overall[0], overall[2])
    assert {row["label"]: row["total"] for row in body["by_annotator"]} == {
        name: counts[2] for name, counts in _recount(work, lambda row: row[4]).items()
    }
    assert (body["gold"]["done"], body["gold"]["total"]) == (gold_all[0], gold_all[2])
    assert {row["label"]: row["done"] for row in body["gold_by_annotator"]} == {
        name: counts[0] for name, counts in _recount(gold, lambda row: row[4]).items()
    }

    # The page: the heading, the gold line, and each annotator's row.
    page = staff_client.get(reverse("assignments", args=[campaign.slug])).content.decode()
    assert f"Progress: {overall[0]} of {overall[2]} done" in page
    assert f"Gold checks, not counted here: {gold_all[0]} of {gold_all[2]} done." in page
    roster = {
        entry.username: entry for entry in assignment_selectors.campaign_roster(campaign=campaign)
    }
    per_annotator = _recount(work, lambda row: row[4])
    per_annotator_gold = _recount(gold, lambda row: row[4])
    for name, entry in roster.items():
        assert (entry.progress.done, entry.progress.in_progress, entry.progress.total) == (
            per_annotator[name]
        )
        assert (entry.gold.done, entry.gold.total) == (
            per_annotator_gold[name][0],
            per_annotator_gold[name][2],
        )


def test_the_clip_browser_and_review_count_only_the_work_that_scores(rated, staff_client):
    built, waiting_clip = rated
    campaign = built.campaign
    rows = list(
        Assignment.objects.filter(campaign=campaign).values_list("clip_id", "gold", "status")
    )
    expected: dict[int, tuple[int, int, int, int]] = {}
    for clip_id, is_gold, status in rows:
        n_rated, n_assigned, n_gold_rated, n_gold = expected.get(clip_id, (0, 0, 0, 0))
        if is_gold:
            n_gold += 1
            n_gold_rated += status == "done"
        else:
            n_assigned += 1
            n_rated += status == "done"
        expected[clip_id] = (n_rated, n_assigned, n_gold_rated, n_gold)

    def status_of(n_rated: int, n_assigned: int) -> str:
        if n_rated == 0:
            return "unrated"
        return "fully" if n_rated >= n_assigned else "partly"

    _, browsed = clip_selectors.clip_browser_rows(campaign=campaign, params={})
    clips = [row for row in browsed[: len(browsed)] if isinstance(row, Clip)]
    assert len(clips) == Clip.objects.filter(submission__team__campaign=campaign).count()
    for clip in clips:
        n_rated, n_assigned, n_gold_rated, n_gold = expected.get(clip.pk, (0, 0, 0, 0))
        assert (clip.n_rated, clip.n_assigned, clip.n_gold_rated, clip.n_gold) == (
            n_rated,
            n_assigned,
            n_gold_rated,
            n_gold,
        )
        assert clip.status == status_of(n_rated, n_assigned), clip.pk

    # The clip whose planned raters are done is fully rated, its waiting gold check aside.
    n_rated, n_assigned, n_gold_rated, n_gold = expected[waiting_clip.pk]
    assert n_rated == n_assigned > 0 and n_gold_rated < n_gold
    _, fully = clip_selectors.clip_browser_rows(campaign=campaign, params={"status": "fully"})
    assert waiting_clip.pk in {row.pk for row in fully[: len(fully)]}

    review = staff_client.get(
        reverse("clip-review", args=[campaign.slug, waiting_clip.pk])
    ).content.decode()
    assert f"{n_rated} of {n_assigned} rated" in review
    assert f"(and {n_gold_rated} of {n_gold} gold checks, not counted)" in review
    # A clip with a rated gold check lists it, marked as such.
    rated_gold = Assignment.objects.filter(campaign=campaign, gold=True, status="done").first()
    review = staff_client.get(
        reverse("clip-review", args=[campaign.slug, rated_gold.clip_id])
    ).content.decode()
    assert "gold check, not counted" in review
    browser = staff_client.get(reverse("clip-browser", args=[campaign.slug])).content.decode()
    assert "+ gold" in browser
