"""The demo campaign: rendered synthetic footage brought in through the real ingest.

Only the footage goes through the ingest, as an organizer's would; its true labels stay
in the footage folder's truth.json (demo.truth), out of the production schema.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from annotate.models import Assignment, Campaign, ImportJob, Rating, Team
from annotate.services.assignments import assignment_plan_apply
from annotate.services.campaigns import campaign_create, campaign_state_change, task_update
from annotate.services.imports import ImportReport, import_recorded
from annotate.services.ratings import rating_submit
from demo import truth as demo_truth
from demo.render import DEFAULT_TEAMS, TeamSpec, render_demo
from demo.scene import task_look, task_texts

DEMO_ORGANIZER = ("organizer", "refscore-organizer")
DEMO_PASSWORD = "refscore-demo"
DEMO_ANNOTATOR_PREFIX = "annotator"


class DemoCampaignExists(Exception):
    """A campaign with the demo's slug is there already; it is replaced only when asked."""


class DemoWorkdirServed(Exception):
    """The footage folder lies where files are served; its truth.json would be readable."""


def _check_workdir(workdir: Path) -> None:
    """Refuse a footage folder under MEDIA_ROOT or STATIC_ROOT: the truth file written
    beside the footage must never be where a web server may send files from."""
    where = workdir.resolve()
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        root = getattr(settings, name, None)
        if root and where.is_relative_to(Path(root).resolve()):
            raise DemoWorkdirServed(
                f"the demo footage folder {workdir} lies under {name} ({root}); "
                "choose a folder outside the served ones"
            )


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str
    to_rate: int | None  # clips of the demo campaign not rated yet; None for the organizer


@dataclass
class DemoResult:
    campaign: Campaign
    reference: ImportReport
    submissions: dict[str, ImportReport]
    credentials: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (role, username, password)


def _user(username: str, password_hash: str, *, staff: bool = False):
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = user.is_superuser = staff
    user.password = password_hash
    user.save()
    return user


def demo_campaign_create(
    *,
    workdir: Path,
    slug: str = "demo",
    seed: int = 0,
    n_tasks: int = 8,
    episodes_per_task: int = 6,
    teams: tuple[TeamSpec, ...] = DEFAULT_TEAMS,
    n_annotators: int = 6,
    seconds: float = 3.0,
    render: bool = True,
    replace: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> DemoResult:
    """Render the footage, import it as an organizer would, and create the demo accounts.

    A campaign with the same slug is replaced only with `replace=True` (its ratings and
    judge runs go with it); otherwise DemoCampaignExists is raised and nothing changes.
    With `render=False` the footage already in `workdir` (from render_demo with the same
    arguments) is used. The footage's truth.json stays in `workdir`: demo.truth.load reads
    it back for the campaign.
    """
    workdir = Path(workdir).resolve()  # the import history keeps it: demo.truth finds it there
    _check_workdir(workdir)
    if replace:
        demo_campaign_delete(slug=slug)
    elif Campaign.objects.filter(slug=slug).exists():
        raise DemoCampaignExists(f"a campaign {slug!r} exists already")
    if render:
        log(f"rendering {n_tasks} tasks x {episodes_per_task} episodes for {len(teams)} teams")
        render_demo(
            out_dir=workdir,
            seed=seed,
            n_tasks=n_tasks,
            episodes_per_task=episodes_per_task,
            teams=teams,
            seconds=seconds,
            overwrite=True,
        )
    demo_truth.load(workdir)  # no truth file: refused before the campaign is created
    campaign = campaign_create(
        slug=slug,
        name="Demo: world models as policy evaluators",
        description="Synthetic footage rendered by refscore's demo generator.",
        seed=seed,
    )
    log("importing the reference episodes")
    reference = import_recorded(
        kind=ImportJob.Kind.REFERENCE,
        origin=ImportJob.Origin.DEMO,
        campaign=campaign,
        path=workdir / "reference",
    )
    for task in campaign.tasks.all():
        texts = task_texts(task_look(task_index=task.number, n_tasks=n_tasks, seed=seed))
        task_update(task=task, **dataclasses.asdict(texts))
    submissions = {}
    team_names = [team.name for team in teams]
    for team in team_names:
        log(f"importing team {team}")
        submissions[team] = import_recorded(
            kind=ImportJob.Kind.SUBMISSION,
            origin=ImportJob.Origin.DEMO,
            campaign=campaign,
            team_name=team,
            path=workdir / "submissions" / team,
        )
    credentials = [("organizer", *DEMO_ORGANIZER)]
    _user(DEMO_ORGANIZER[0], make_password(DEMO_ORGANIZER[1]), staff=True)
    annotator_hash = make_password(DEMO_PASSWORD)  # hashing is slow on purpose: once for all
    annotators = []
    for index in range(1, n_annotators + 1):
        username = f"{DEMO_ANNOTATOR_PREFIX}{index}"
        annotators.append(_user(username, annotator_hash))
        credentials.append(("annotator", username, DEMO_PASSWORD))
    # One annotator belongs to a team, so the planner has to keep them off it.
    Team.objects.get(campaign=campaign, name=team_names[0]).members.add(annotators[-1])
    log("planning the assignments")
    assignment_plan_apply(campaign=campaign, with_annotators=annotators)
    campaign_state_change(campaign=campaign, to_state=Campaign.State.OPEN, by=None)
    return DemoResult(
        campaign=campaign, reference=reference, submissions=submissions, credentials=credentials
    )


@transaction.atomic
def demo_campaign_delete(*, slug: str = "demo") -> int:
    """Delete the demo campaign with everything in it; return how many ratings went with it."""
    ratings = Rating.objects.filter(assignment__campaign__slug=slug).count()
    Campaign.objects.filter(slug=slug).delete()
    return ratings


def demo_accounts(*, slug: str = "demo") -> list[DemoAccount]:
    """The demo accounts that still log in with the demo's passwords, organizer first.

    Annotators come in their number's order, each with the clips of the demo campaign
    left for them to rate. An account whose password was changed is left out.
    """
    users = get_user_model().objects.filter(
        username__regex=rf"^({DEMO_ORGANIZER[0]}|{DEMO_ANNOTATOR_PREFIX}[0-9]+)$"
    )
    checked: dict[tuple[str, str], bool] = {}  # the annotators share one hash: check it once

    def logs_in(user, password: str) -> bool:
        key = (user.password, password)
        if key not in checked:
            checked[key] = user.is_active and check_password(password, user.password)
        return checked[key]

    accounts = []
    for user in users:
        if user.username == DEMO_ORGANIZER[0]:
            if user.is_staff and logs_in(user, DEMO_ORGANIZER[1]):
                accounts.append(DemoAccount("organizer", user.username, DEMO_ORGANIZER[1], None))
        elif logs_in(user, DEMO_PASSWORD):
            to_rate = (
                Assignment.objects.filter(campaign__slug=slug, annotator=user)
                .exclude(status=Assignment.Status.DONE)
                .count()
            )
            accounts.append(DemoAccount("annotator", user.username, DEMO_PASSWORD, to_rate))

    def order(account: DemoAccount) -> tuple[int, int]:
        if account.role == "organizer":
            return (0, 0)
        return (1, int(account.username.removeprefix(DEMO_ANNOTATOR_PREFIX)))

    return sorted(accounts, key=order)


def demo_ratings_simulate(
    *, campaign: Campaign, seed: int = 0, leave_for: tuple[str, ...] = ("annotator1",)
) -> int:
    """Rate the demo's assignments as plausible, imperfect humans would; return how many.

    Each simulated rater gives the clip's true category most of the time, is off by one
    now and then (more often in their own direction of severity), and rarely by two.
    The annotators in `leave_for` keep their queue, to try the rating page.
    """
    truth = demo_truth.load(campaign)
    rng = np.random.default_rng(seed)
    assignments = (
        Assignment.objects.filter(campaign=campaign)
        .exclude(annotator__username__in=leave_for)
        .select_related("clip__episode__task", "clip__submission__team", "annotator")
        .order_by("annotator__username", "order_key")
    )
    severity = {}
    count = 0
    for assignment in assignments:
        category = truth.category(assignment.clip)
        if category is None:  # a clip that did not come from the demo's footage
            continue
        user = assignment.annotator
        lean = severity.setdefault(user.pk, rng.choice([-1, 1]))
        error = rng.choice([0, lean, -lean, 2 * lean], p=[0.74, 0.15, 0.08, 0.03])
        score = int(np.clip(category + error, 0, 3))
        rating_submit(
            assignment=assignment,
            user=user,
            score=score,
            time_on_page_s=float(rng.uniform(15, 70)),
            watched_reference=1.0,
            watched_generated=1.0,
        )
        count += 1
    return count
