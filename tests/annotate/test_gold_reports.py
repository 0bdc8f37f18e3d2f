"""A gold clip reported as broken: no queue receives it while the report is open or after
it was excluded, its rows leave the queues like any reported pair's, the next gold pass
puts other gold clips in their place, and the organizer is told (planning result, gold
button, quality page, API, command)."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotate.models import Assignment
from annotate.notice_text import texts
from annotate.services import (
    RatingRefused,
    annotator_queue,
    assignment_next,
    assignment_open,
    assignment_plan_apply,
    assignment_upcoming,
    rating_submit,
)
from annotate.services import quality as services
from annotate.services.problems import problem_reopen, problem_report, problem_resolve
from tests.annotate.test_quality_gold import gold_campaign

pytestmark = pytest.mark.django_db

WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}


@pytest.fixture
def planned():
    """The gold campaign planned at one gold clip per 2, and a gold clip held unopened by
    at least one queue, with a planned (regular) rater of its own."""
    built, chosen = gold_campaign(gold_every=2)
    assignment_plan_apply(campaign=built.campaign)
    usage = Counter(
        Assignment.objects.filter(campaign=built.campaign, gold=True).values_list(
            "clip_id", flat=True
        )
    )
    target = next(
        clip
        for clip in chosen
        if usage[clip.pk] and Assignment.objects.filter(clip=clip, gold=False).exists()
    )
    return built, chosen, target


def _report_by_a_planned_rater(target):
    row = Assignment.objects.filter(clip=target, gold=False).order_by("pk").first()
    opened = assignment_open(assignment=row, user=row.annotator)
    return problem_report(assignment=opened, user=row.annotator, reason="black_frames")


def _usable_gold(user) -> set[int]:
    """The gold clips a queue holds that can still be handed out (not reported)."""
    return set(
        Assignment.objects.filter(annotator=user, gold=True)
        .exclude(clip__problem_reports__status__in=["open", "excluded"])
        .values_list("clip_id", flat=True)
    )


def test_a_reported_gold_clip_leaves_the_queues_and_the_next_pass_replaces_it(planned):
    built, chosen, target = planned
    campaign = built.campaign
    holders = list(Assignment.objects.filter(clip=target, gold=True).select_related("annotator"))
    gold_before = {row.annotator_id: _usable_gold(row.annotator) for row in holders}
    report = _report_by_a_planned_rater(target)

    # At once, like any reported pair: no holder is handed it, nor may rate it, and their
    # queue counts it as with the organizer, as it counts a reported regular pair.
    for row in holders:
        user = row.annotator
        seen = []
        while (work := assignment_next(user=user, campaign=campaign)) is not None:
            seen.append(work.clip_id)
            rating_submit(assignment=work, user=user, score=2, **WATCHED)
        assert target.pk not in seen
        assert assignment_upcoming(user=user, campaign=campaign) is None
        with pytest.raises(RatingRefused, match="reported as broken"):
            rating_submit(assignment=row, user=user, score=3, **WATCHED)
        (queue,) = annotator_queue(user=user)
        assert queue.held == 1 and queue.done == queue.total - 1

    # The next gold pass takes the unopened rows back, puts none in, and replaces them.
    result = services.gold_plan_apply(campaign=campaign)
    assert result.removed >= len(holders)
    assert not Assignment.objects.filter(clip=target, gold=True).exists()
    where = f"{target.episode.task.key}/{target.episode.key}, {target.submission.team.name}"
    assert (
        f"gold clip {target.pk} ({where}) is put into no queue while its problem report is "
        "open; it is used again once the report is marked fixed"
    ) in texts(result.warnings)
    for row in holders:
        now = _usable_gold(row.annotator)
        assert target.pk not in now
        assert len(now) == len(gold_before[row.annotator_id]), "the queue keeps its gold rate"

    # The planning result says it too, and raising the rate never picks the reported clip.
    services.quality_settings_update(campaign=campaign, gold_every=1)
    planned_again = assignment_plan_apply(campaign=campaign)
    assert any(f"gold clip {target.pk} " in w for w in texts(planned_again.warnings))
    assert not Assignment.objects.filter(clip=target, gold=True).exists()

    # Excluded: still none, and the organizer reads why; fixed (after a reopening): used again.
    problem_resolve(
        campaign=campaign, report_id=report.pk, resolution="excluded", note="black", by=None
    )
    excluded = services.gold_plan_apply(campaign=campaign)
    assert any(
        f"gold clip {target.pk} " in w and "excluded after a problem report" in w
        for w in texts(excluded.warnings)
    )
    problem_reopen(campaign=campaign, report_id=report.pk, reason="re-imported", by=None)
    problem_resolve(campaign=campaign, report_id=report.pk, resolution="fixed", by=None)
    fixed = services.gold_plan_apply(campaign=campaign)
    assert not any(f"gold clip {target.pk} " in w for w in texts(fixed.warnings))
    assert Assignment.objects.filter(clip=target, gold=True).exists()


def test_an_opened_gold_row_of_a_reported_clip_stays_but_no_longer_counts(planned):
    built, _, target = planned
    row = Assignment.objects.filter(clip=target, gold=True).select_related("annotator").first()
    assignment_open(assignment=row, user=row.annotator)  # opened: its clock runs
    usable = len(_usable_gold(row.annotator))
    _report_by_a_planned_rater(target)
    services.gold_plan_apply(campaign=built.campaign)
    assert Assignment.objects.filter(pk=row.pk).exists(), "an opened row is never taken back"
    assert len(_usable_gold(row.annotator)) == usable, "another gold clip counts in its place"


def test_the_organizer_reads_it_on_the_quality_page_the_api_and_the_command(
    planned, staff_client, staff_api
):
    built, _, target = planned
    campaign = built.campaign
    page = staff_client.get(reverse("quality", args=[campaign.slug])).content.decode()
    assert "gold-reported" not in page
    _report_by_a_planned_rater(target)

    page = staff_client.get(reverse("quality", args=[campaign.slug])).content.decode()
    assert f'class="warning gold-reported" data-clip="{target.pk}"' in page
    assert f"Gold clip {target.pk} (" in page and "while its problem report is open" in page
    examples = staff_api.get(f"/api/campaigns/{campaign.slug}/quality/examples/").json()
    reported = {row["clip"]: row["reported"] for row in examples}
    assert reported[target.pk] == "open"
    assert {value for clip, value in reported.items() if clip != target.pk} == {None}

    applied = staff_api.post(f"/api/campaigns/{campaign.slug}/quality/gold/apply/").json()
    assert any(f"gold clip {target.pk} " in warning for warning in applied["warnings"])
    assert "gold.held_reported" in applied["warning_codes"]
    assert len(applied["warning_codes"]) == len(applied["warnings"])
    shown = staff_client.post(reverse("gold-apply", args=[campaign.slug]), follow=True)
    assert f"gold clip {target.pk} (" in shown.content.decode()
    out = io.StringIO()
    call_command("quality_settings", campaign.slug, "--apply-gold", stdout=out)
    assert f"gold clip {target.pk} (" in out.getvalue()
