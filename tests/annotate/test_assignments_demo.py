"""Planning a real imported campaign (rendered footage through the ingest services)."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth import get_user_model
from django.urls import reverse

from annotate.models import Assignment, Team
from annotate.selectors import current_clips
from annotate.services import assignment_plan_apply
from tests.annotate.test_assignments_services import assert_caps_hold


def test_real_campaign_is_planned_and_annotators_reach_their_media(demo_campaign, client):
    annotators = list(get_user_model().objects.filter(username__startswith="annotator"))
    result = assignment_plan_apply(campaign=demo_campaign, with_annotators=annotators)
    assert result.warnings == ()
    assert_caps_hold(demo_campaign)

    # Every accepted clip (some demo files are missing or rejected on purpose) is rated
    # by 3 annotators: each cell has at most 3 clips, under the cap of 10.
    clips = set(current_clips(campaign=demo_campaign).values_list("pk", flat=True))
    coverage = Counter(Assignment.objects.values_list("clip_id", flat=True))
    assert set(coverage) == clips
    assert len(clips) > 3 * 2 * 2
    assert set(coverage.values()) == {3}
    member_teams = Team.objects.filter(campaign=demo_campaign, members__isnull=False)
    for team in member_teams:
        assert not Assignment.objects.filter(
            clip__submission__team=team, annotator__in=team.members.all()
        ).exists()
    assert member_teams.exists()

    row = Assignment.objects.select_related("clip__asset", "annotator").first()
    outsider = get_user_model().objects.create_user("outsider", password="pw-outsider-1")
    client.force_login(row.annotator)
    assert client.get(reverse("media", args=[row.clip.asset.token, "video"])).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("media", args=[row.clip.asset.token, "video"])).status_code in (
        403,
        404,
    )
