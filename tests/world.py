"""One real small campaign seen by six actors: the world the security tests probe and the
translation crawl reads (registered for every test by tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from annotate.models import Assignment, Campaign, ImportJob, Team
from annotate.selectors import user_may_see_asset
from demo.campaign import demo_ratings_simulate
from evaluation import services as evaluation_services
from evaluation.models import JudgeRun

ANNOTATOR = "annotator1"  # the demo leaves this one's queue unrated
OTHER_ANNOTATOR = "annotator2"


@dataclass
class World:
    campaign: Campaign
    users: dict  # actor name -> user, None for anonymous
    assignment: Assignment  # the annotator's, pending, its clip not seen by the other one
    run: JudgeRun  # a completed judge run: verdicts exist
    job: ImportJob
    team: Team


@pytest.fixture
def world(demo_campaign) -> World:
    """The demo campaign, rated by everyone but annotator1, judged once by the baseline."""
    User = get_user_model()
    demo_ratings_simulate(campaign=demo_campaign, seed=3, leave_for=(ANNOTATOR,))
    version = evaluation_services.judge_version_for(name="baseline")
    # Not in a transaction: the eager Celery task runs the whole judge run right here.
    run = evaluation_services.judge_run_create(
        campaign=demo_campaign, judge_version=version, chunk_size=64
    )
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.DONE and run.verdicts.exists()
    annotator = User.objects.get(username=ANNOTATOR)
    other = User.objects.get(username=OTHER_ANNOTATOR)
    pending = Assignment.objects.filter(
        annotator=annotator, status=Assignment.Status.PENDING
    ).select_related("clip__asset")
    assignment = next(
        item for item in pending if not user_may_see_asset(user=other, asset=item.clip.asset)
    )
    users = {
        "anonymous": None,
        "annotator": annotator,
        "other_annotator": other,
        # Not "organizer": the demo made that account a superuser.
        "organizer": User.objects.create_user("staff-only", password="pw", is_staff=True),
        "admin": User.objects.create_superuser("root", password="pw"),
        # A member of the world's team (the `team` role): sees its own team's pages only.
        "team_member": User.objects.create_user("team-member", password="pw"),
    }
    job = ImportJob.objects.create(
        campaign=demo_campaign, kind=ImportJob.Kind.REFERENCE, source="upload.zip"
    )
    team = Team.objects.filter(campaign=demo_campaign).order_by("name").first()
    team.members.add(users["team_member"])
    return World(
        campaign=demo_campaign,
        users=users,
        assignment=assignment,
        run=run,
        job=job,
        team=team,
    )
