"""Every URL of the project against six actors, from one explicit table.

A route added without a row here fails `test_every_route_has_a_row`. Each request runs
in a transaction that is rolled back, so the table's probes do not depend on each
other's side effects (and work queued with `on_commit`, a judge run say, never starts).
No probe may answer 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver

from tests.security.conftest import OTHER_ANNOTATOR, World

pytestmark = pytest.mark.django_db(transaction=True)

ACTORS = ("anonymous", "annotator", "other_annotator", "organizer", "admin", "team_member")

OK = "ok"  # 2xx, or a redirect somewhere other than a login page
LOGIN = "login"  # a redirect to the app's login page, /accounts/login/
ADMIN_LOGIN = "admin login"  # a redirect to the admin site's own, /admin/login/

# Common rows, in the order of ACTORS.
ANYONE = (OK, OK, OK, OK, OK)
SIGNED_IN = (LOGIN, OK, OK, OK, OK)
OWNER_ONLY = (LOGIN, OK, 404, 404, 404)  # someone else's assignment is not confirmed
# Organizer pages: a signed-in annotator gets the app's 403 page, never the admin login.
STAFF_PAGE = (LOGIN, 403, 403, OK, OK)
STAFF_FORM_400 = (LOGIN, 403, 403, 400, 400)  # past the gate, refused for its data
API_SIGNED_IN = (401, OK, OK, OK, OK)
API_OWNER_ONLY = (401, OK, 404, 404, 404)
API_STAFF = (401, 403, 403, OK, OK)
API_STAFF_400 = (401, 403, 403, 400, 400)


@dataclass(frozen=True)
class Probe:
    # In the order of ACTORS; without a sixth outcome the team member, signed in with no
    # assignment and no staff rights, gets what the other annotator gets.
    expect: tuple
    method: str = "get"
    kwargs: dict = field(default_factory=dict)  # URL kwargs beyond the defaults of the world
    data: dict | None = None
    query: str = ""
    json: bool = False
    path: str | None = None  # a fixed path instead of the pattern (admin)

    @property
    def outcomes(self) -> tuple:
        return self.expect if len(self.expect) == len(ACTORS) else (*self.expect, self.expect[2])


WATCHED = {"score": 2, "watched_reference": 1, "watched_generated": 1}
MOVE = {"from_annotator": OTHER_ANNOTATOR, "to_annotator": "annotator3"}
# Team pages and team API: the world's team member only (six outcomes, in ACTORS order).
TEAM_PAGE = (LOGIN, 403, 403, 403, 403, OK)
API_TEAM = (401, 403, 403, 403, 403, OK)

TABLE: dict[str, Probe | list[Probe]] = {
    # The whole admin site, on its index and one model's changelist.
    "admin/": [
        Probe((ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK, OK), path="/admin/"),
        Probe((ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, OK), path="/admin/annotate/campaign/"),
    ],
    "accounts/login/": Probe(ANYONE),
    # The interface language: anyone may choose it (kept for the person when signed in),
    # and the scripts' translation catalogue is public text.
    "i18n/setlang/": Probe(ANYONE, "post", data={"language": "zh-hans", "next": "/"}),
    "jsi18n/": Probe(ANYONE),
    # Signing out (POST only) sends everyone back to the login page.
    "accounts/logout/": Probe((LOGIN,) * 5, "post"),
    "m/<uuid:token>/<str:kind>": Probe((404, OK, 404, OK, OK)),
    # The OpenAPI schema and its viewer describe the API, never its data: public.
    "api/schema/": Probe(ANYONE),
    "api/docs/": Probe(ANYONE),
    # Annotator API (annotate/api/annotator.py).
    "api/me/queue/": Probe(API_SIGNED_IN),
    "api/me/next/": Probe(API_SIGNED_IN, "post"),
    "api/me/assignments/<int:assignment_id>/rating/": Probe(
        API_OWNER_ONLY, "post", data=WATCHED, json=True
    ),
    "api/me/ratings/": Probe(API_SIGNED_IN),
    # A problem report (annotate/services/problems.py): the annotator's own clip only.
    "api/me/assignments/<int:assignment_id>/problem/": Probe(
        API_OWNER_ONLY, "post", data={"reason": "does_not_play"}, json=True
    ),
    "api/campaigns/<slug:slug>/problems/": Probe(API_STAFF),
    # The world has no report: resolving one is refused past the gate.
    "api/campaigns/<slug:slug>/problems/<int:report_id>/resolve/": Probe(
        API_STAFF_400, "post", kwargs={"report_id": 1}, data={"resolution": "fixed"}, json=True
    ),
    "api/campaigns/<slug:slug>/problems/<int:report_id>/reopen/": Probe(
        API_STAFF_400, "post", kwargs={"report_id": 1}, data={"reason": "looked again"}, json=True
    ),
    # Organizer API, annotate.
    "api/campaigns/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/": [
        Probe(API_STAFF),
        Probe(API_STAFF_400, "patch", data={"raters_per_cell": 0}, json=True),
    ],
    # The world's campaign is open: it cannot go back to draft.
    "api/campaigns/<slug:slug>/state/": [
        Probe(API_STAFF),
        Probe(API_STAFF_400, "post", data={"state": "draft"}, json=True),
    ],
    "api/campaigns/<slug:slug>/tasks/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/tasks/import/": Probe(API_STAFF_400, "post", data={}),
    "api/campaigns/<slug:slug>/tasks/<int:number>/": [
        Probe(API_STAFF, kwargs={"number": 1}),
        Probe(API_STAFF, "patch", kwargs={"number": 1}, data={"title": "Towel"}, json=True),
    ],
    # Both annotators rate in the world's campaign, so both may read its guideline.
    "api/campaigns/<slug:slug>/guideline/": [
        Probe((*API_SIGNED_IN, 404)),  # the team member rates nothing here
        Probe(API_STAFF, "put", data={"text": "# Rate\nWatch both."}, json=True),
    ],
    "api/campaigns/<slug:slug>/imports/": Probe(API_STAFF_400, "post", data={}),
    "api/imports/<int:job_id>/": Probe(API_STAFF),
    # The world's submission is the rated one already: nothing to confirm.
    "api/campaigns/<slug:slug>/submissions/<int:submission_id>/confirm/": Probe(
        API_STAFF_400, "post"
    ),
    "api/campaigns/<slug:slug>/assignments/preview/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/assignments/apply/": Probe(API_STAFF, "post", data={}, json=True),
    "api/campaigns/<slug:slug>/assignments/move/": Probe(API_STAFF, "post", data=MOVE, json=True),
    "api/campaigns/<slug:slug>/assignments/reclaim/": Probe(API_STAFF, "post", data={}, json=True),
    "api/campaigns/<slug:slug>/assignments/progress/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/annotators/": Probe(
        API_STAFF, "post", data={"username": OTHER_ANNOTATOR}, json=True
    ),
    "api/campaigns/<slug:slug>/annotators/<str:username>/": Probe(API_STAFF, "delete"),
    "api/campaigns/<slug:slug>/people/": [
        Probe(API_STAFF),
        Probe(API_STAFF_400, "post", data={"username": OTHER_ANNOTATOR, "role": "annotator"}),
    ],
    "api/campaigns/<slug:slug>/people/import/": Probe(API_STAFF_400, "post", data={}),
    "api/campaigns/<slug:slug>/people/<str:username>/team/": Probe(
        API_STAFF, "put", data={"team": "a-new-team"}, json=True
    ),
    "api/people/<str:username>/password-reset/": Probe(API_STAFF, "post"),
    "api/people/<str:username>/active/": Probe(
        API_STAFF, "put", data={"is_active": True}, json=True
    ),
    "api/tokens/": Probe(API_STAFF, "post", data={"username": OTHER_ANNOTATOR}, json=True),
    "api/tokens/<str:username>/": Probe(API_STAFF, "delete"),
    # Quality control API (annotate/api/quality.py). The world has no practice example and
    # no attempt: refusals past the gate are 400s.
    "api/campaigns/<slug:slug>/quality/settings/": [
        Probe(API_STAFF),
        Probe(API_STAFF_400, "put", data={"gold_every": -1}, json=True),
    ],
    "api/campaigns/<slug:slug>/quality/examples/": [
        Probe(API_STAFF),
        Probe(API_STAFF_400, "post", data={}, json=True),
    ],
    "api/campaigns/<slug:slug>/quality/examples/import/": Probe(API_STAFF_400, "post", data={}),
    "api/campaigns/<slug:slug>/quality/examples/<int:clip_id>/": Probe(API_STAFF_400, "delete"),
    "api/campaigns/<slug:slug>/quality/qualifications/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/quality/qualifications/<str:username>/reset/": Probe(
        API_STAFF_400, "post"
    ),
    "api/campaigns/<slug:slug>/quality/gold/apply/": Probe(API_STAFF, "post"),
    "api/campaigns/<slug:slug>/quality/gold-accuracy/": Probe(API_STAFF),
    # The practice round is the campaign's annotators' own; organizers and the team member
    # take no part in it (404).
    "api/campaigns/<slug:slug>/practice/": Probe((401, OK, OK, 404, 404, 404)),
    "api/campaigns/<slug:slug>/practice/start/": Probe((401, 400, 400, 404, 404, 404), "post"),
    "api/campaigns/<slug:slug>/practice/answers/": Probe(
        (401, 400, 400, 404, 404, 404), "post", data={"step": 1, "score": 2}, json=True
    ),
    # Team API (annotate/api/teams.py, evaluation/api/team_results.py). The world's job is a
    # reference import, not the team's; its campaign is open, so no result is out.
    "api/campaigns/<slug:slug>/submissions/": [
        Probe(API_TEAM),
        Probe((401, 403, 403, 403, 403, 400), "post", data={}),
    ],
    "api/campaigns/<slug:slug>/submissions/uploads/<int:job_id>/": Probe(
        (401, 403, 403, 403, 403, 404)
    ),
    "api/campaigns/<slug:slug>/submissions/final/": Probe(
        API_TEAM, "put", data={"version": None}, json=True
    ),
    # Organizers choose a team's rated version (the newest: a no-op on the world's team).
    "api/campaigns/<slug:slug>/teams/<int:team_id>/final/": Probe(
        API_STAFF, "put", data={"version": None}, json=True
    ),
    "api/campaigns/<slug:slug>/submission-window/": [
        Probe((*API_STAFF, 403)),
        Probe((*API_STAFF, 403), "put", data={"leaderboard_public": True}, json=True),
    ],
    "api/campaigns/<slug:slug>/results/": Probe((401, 403, 403, 403, 403, 409)),
    # The world's campaign does not offer the judge to teams.
    "api/campaigns/<slug:slug>/judge/pair/": Probe((401, 403, 403, 403, 403, 403), "post", data={}),
    # Organizer API, evaluation.
    "api/campaigns/<slug:slug>/rankings/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/exports/": Probe(API_STAFF, query="what=rankings&format=csv"),
    "api/campaigns/<slug:slug>/compare/": Probe(API_STAFF_400, "post", data={}, json=True),
    "api/campaigns/<slug:slug>/judge-runs/": Probe(API_STAFF),
    "api/judge-runs/<int:run_id>/": Probe(API_STAFF),
    # The run is complete: nothing to cancel, nothing to resume.
    "api/judge-runs/<int:run_id>/cancel/": Probe(API_STAFF_400, "post"),
    "api/judge-runs/<int:run_id>/resume/": Probe(API_STAFF_400, "post"),
    "api/judge-runs/<int:run_id>/ranking/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/judge-calibrations/": Probe(
        API_STAFF_400, "post", data={"l2": -1}, json=True
    ),
    "api/judge/pair/": Probe(API_STAFF_400, "post", data={}, json=True),
    "api/campaigns/<slug:slug>/agreement/": Probe(API_STAFF, query="bootstrap=20"),
    "api/campaigns/<slug:slug>/agreement/figures/<str:name>.<str:fmt>": Probe(
        API_STAFF, kwargs={"name": "task-agreement", "fmt": "svg"}, query="bootstrap=20"
    ),
    # Quality review API (evaluation/api/raters.py). The world has no exclusion and no
    # decision: lifting finds nothing (404), withdrawing is refused (400).
    "api/campaigns/<slug:slug>/raters/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/raters/thresholds/": [
        Probe(API_STAFF),
        Probe(API_STAFF_400, "patch", data={"adjudication_range": 9}, json=True),
    ],
    "api/campaigns/<slug:slug>/raters/exclusions/": [
        Probe(API_STAFF),
        Probe(API_STAFF_400, "post", data={}, json=True),
    ],
    "api/campaigns/<slug:slug>/raters/exclusions/<int:exclusion_id>/lift/": Probe(
        (401, 403, 403, 404, 404), "post", kwargs={"exclusion_id": 1}, data={"reason": "x"}
    ),
    "api/campaigns/<slug:slug>/adjudication/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/adjudication/actions/": Probe(API_STAFF),
    "api/campaigns/<slug:slug>/adjudication/<int:clip_id>/extra-rater/": Probe(
        API_STAFF, "post", data={}, json=True
    ),
    "api/campaigns/<slug:slug>/adjudication/<int:clip_id>/decision/": Probe(
        API_STAFF_400, "post", data={"score": 9, "reason": "x"}, json=True
    ),
    "api/campaigns/<slug:slug>/adjudication/<int:clip_id>/withdrawal/": Probe(
        API_STAFF_400, "post", data={"reason": "x"}, json=True
    ),
    # Annotator pages.
    "queue/": Probe(SIGNED_IN),
    "rate/next": Probe(SIGNED_IN, "post"),
    "rate/<int:assignment_id>/": Probe(OWNER_ONLY),
    "rate/<int:assignment_id>/submit": Probe(OWNER_ONLY, "post", data=WATCHED),
    "rate/<int:assignment_id>/problem": Probe(OWNER_ONLY, "post", data={"reason": "black_frames"}),
    "": Probe(SIGNED_IN),
    # Organizer pages, annotate.
    "organize/": Probe(STAFF_PAGE),
    "organize/tokens/": Probe(STAFF_PAGE),
    "organize/tokens/issue": Probe(STAFF_PAGE, "post", data={"username": OTHER_ANNOTATOR}),
    "organize/tokens/revoke": Probe(STAFF_PAGE, "post", data={"username": OTHER_ANNOTATOR}),
    "organize/new/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/settings/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/state": Probe(STAFF_PAGE, "post", data={"state": "locked"}),
    "organize/<slug:slug>/tasks/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/tasks/add": Probe(STAFF_FORM_400, "post", data={}),
    "organize/<slug:slug>/tasks/upload": Probe(STAFF_FORM_400, "post", data={}),
    "organize/<slug:slug>/tasks/<int:number>/edit": Probe(
        STAFF_PAGE, "post", kwargs={"number": 1}, data={"title": "Towel"}
    ),
    "organize/<slug:slug>/guideline/": Probe(STAFF_PAGE),
    "campaigns/<slug:slug>/guideline/": Probe((*SIGNED_IN, 404)),
    # The practice round (annotate/views/quality.py); organizers are sent to their own page.
    "campaigns/<slug:slug>/practice/": Probe((*SIGNED_IN, 404)),
    "campaigns/<slug:slug>/practice/start": Probe((LOGIN, OK, OK, 404, 404, 404), "post"),
    "campaigns/<slug:slug>/practice/<int:step>/": Probe(
        (LOGIN, OK, OK, 404, 404, 404), kwargs={"step": 1}
    ),
    "campaigns/<slug:slug>/practice/<int:step>/answer": Probe(
        (LOGIN, OK, OK, 404, 404, 404), "post", kwargs={"step": 1}, data={"score": 2}
    ),
    "organize/<slug:slug>/import": Probe(STAFF_FORM_400, "post", data={}),
    "organize/<slug:slug>/people/": Probe(STAFF_PAGE),
    # A refusal (no such report) is said on the adjudication page it goes back to.
    "organize/<slug:slug>/problems/<int:report_id>/resolve": Probe(
        STAFF_PAGE, "post", kwargs={"report_id": 1}, data={"resolution": "fixed"}
    ),
    "organize/<slug:slug>/problems/<int:report_id>/reopen": Probe(
        STAFF_PAGE, "post", kwargs={"report_id": 1}, data={"reason": "looked again"}
    ),
    "organize/<slug:slug>/people/import": Probe(STAFF_FORM_400, "post", data={}),
    "organize/<slug:slug>/people/invite": Probe(STAFF_FORM_400, "post", data={}),
    "organize/<slug:slug>/people/<str:username>/reset": Probe(STAFF_PAGE, "post"),
    "organize/<slug:slug>/people/<str:username>/active": Probe(
        STAFF_PAGE, "post", data={"active": "1"}
    ),
    "organize/<slug:slug>/people/<str:username>/team": Probe(
        STAFF_PAGE, "post", data={"team": "a-new-team"}
    ),
    "organize/<slug:slug>/people/<str:username>/annotator": Probe(
        STAFF_PAGE, "post", data={"member": "1"}
    ),
    # A link to set a password opens for anyone; this one is not valid, and says so.
    "accounts/invitation/<uidb64>/<token>/": Probe(
        ANYONE, kwargs={"uidb64": "MQ", "token": "not-a-token"}
    ),
    "organize/<slug:slug>/submissions/<int:submission_id>/confirm": Probe(STAFF_PAGE, "post"),
    "organize/<slug:slug>/clips/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/clips/<int:clip_id>/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/imports/<int:job_id>/": Probe(STAFF_PAGE),
    "organize/imports/<int:job_id>.json": Probe(STAFF_PAGE),
    "organize/<slug:slug>/assignments/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/assignments/apply": Probe(STAFF_PAGE, "post"),
    "organize/<slug:slug>/assignments/annotators/add": Probe(
        STAFF_PAGE, "post", data={"username": OTHER_ANNOTATOR}
    ),
    "organize/<slug:slug>/assignments/annotators/remove": Probe(
        STAFF_PAGE, "post", data={"username": OTHER_ANNOTATOR}
    ),
    "organize/<slug:slug>/assignments/move": Probe(STAFF_PAGE, "post", data=MOVE),
    "organize/<slug:slug>/assignments/reclaim": Probe(STAFF_PAGE, "post"),
    # Quality control pages (annotate/views/quality.py): a refusal is said on the page.
    "organize/<slug:slug>/quality/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/quality/settings": Probe(
        STAFF_PAGE,
        "post",
        data={"practice_pass_count": 4, "practice_pass_mode": "exact", "gold_every": 10},
    ),
    "organize/<slug:slug>/quality/examples/mark": Probe(STAFF_PAGE, "post", data={}),
    "organize/<slug:slug>/quality/examples/upload": Probe(STAFF_PAGE, "post", data={}),
    "organize/<slug:slug>/quality/examples/<int:clip_id>/unmark": Probe(STAFF_PAGE, "post"),
    "organize/<slug:slug>/quality/qualifications/<str:username>/reset": Probe(STAFF_PAGE, "post"),
    "organize/<slug:slug>/quality/gold/apply": Probe(STAFF_PAGE, "post"),
    # Team pages (annotate/views/teams.py, evaluation/views/teams.py).
    "teams/<slug:slug>/": Probe(TEAM_PAGE),
    "teams/<slug:slug>/upload": Probe(TEAM_PAGE, "post", data={}),
    "teams/<slug:slug>/uploads/<int:job_id>.json": Probe((LOGIN, 403, 403, 403, 403, 404)),
    "teams/<slug:slug>/final": Probe(TEAM_PAGE, "post", data={}),
    "teams/<slug:slug>/results/": Probe(TEAM_PAGE),
    "teams/<slug:slug>/results.<str:fmt>": Probe(
        (LOGIN, 403, 403, 403, 403, 404), kwargs={"fmt": "csv"}
    ),
    "organize/<slug:slug>/teams/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/teams/<int:team_id>/final": Probe(
        STAFF_PAGE, "post", data={"version": ""}
    ),
    "organize/<slug:slug>/teams/window": Probe(
        STAFF_PAGE, "post", data={"closes_at": "2030-01-01T00:00"}
    ),
    # Not published: no leaderboard for anyone.
    "leaderboard/<slug:slug>/": Probe((404,) * 6),
    # Organizer pages, evaluation.
    "organize/<slug:slug>/leaderboard/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/leaderboard/figure.<str:fmt>": Probe(STAFF_PAGE, kwargs={"fmt": "svg"}),
    "organize/<slug:slug>/leaderboard/<int:team_id>/<str:task_key>/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/exports/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/exports/<str:what>.<str:fmt>": Probe(
        STAFF_PAGE, kwargs={"what": "rankings", "fmt": "csv"}
    ),
    "organize/<slug:slug>/judge/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/judge/runs": Probe(
        STAFF_PAGE, "post", data={"judge": "baseline", "chunk_size": 8}
    ),
    "organize/<slug:slug>/judge/calibrate": Probe(STAFF_FORM_400, "post", data={}),
    "organize/<slug:slug>/judge/runs/<int:run_id>/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/judge/runs/<int:run_id>.json": Probe(STAFF_PAGE),
    "organize/<slug:slug>/judge/runs/<int:run_id>/cancel": Probe(STAFF_PAGE, "post"),
    "organize/<slug:slug>/judge/runs/<int:run_id>/resume": Probe(STAFF_PAGE, "post"),
    "organize/<slug:slug>/agreement/": Probe(STAFF_PAGE, query="boot=20"),
    "organize/<slug:slug>/agreement/figure/<str:name>.<str:fmt>": Probe(
        STAFF_PAGE, kwargs={"name": "task-agreement", "fmt": "svg"}, query="boot=20"
    ),
    "organize/<slug:slug>/agreement/report.<str:fmt>": Probe(
        STAFF_PAGE, kwargs={"fmt": "csv"}, query="boot=20"
    ),
    "organize/<slug:slug>/agreement/pair/<int:clip_id>/": Probe(STAFF_PAGE),
    # Quality review pages (evaluation/views/raters.py): a refusal is said on the page.
    "organize/<slug:slug>/raters/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/raters/report.<str:fmt>": Probe(STAFF_PAGE, kwargs={"fmt": "csv"}),
    "organize/<slug:slug>/raters/figure.<str:fmt>": Probe(STAFF_PAGE, kwargs={"fmt": "svg"}),
    "organize/<slug:slug>/raters/thresholds": Probe(STAFF_FORM_400, "post", data={}),
    "organize/<slug:slug>/raters/exclude": Probe(STAFF_FORM_400, "post", data={}),
    "organize/<slug:slug>/raters/exclusions/<int:exclusion_id>/lift": Probe(
        (LOGIN, 403, 403, 404, 404), "post", kwargs={"exclusion_id": 1}, data={"reason": "x"}
    ),
    "organize/<slug:slug>/adjudication/": Probe(STAFF_PAGE),
    "organize/<slug:slug>/adjudication/actions.<str:fmt>": Probe(STAFF_PAGE, kwargs={"fmt": "csv"}),
    "organize/<slug:slug>/adjudication/<int:clip_id>/extra-rater": Probe(STAFF_PAGE, "post"),
    "organize/<slug:slug>/adjudication/<int:clip_id>/decide": Probe(
        STAFF_FORM_400, "post", data={}
    ),
    "organize/<slug:slug>/adjudication/<int:clip_id>/withdraw": Probe(
        STAFF_FORM_400, "post", data={"reason": "x"}
    ),
}


def enumerated_routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route of the URLconf as its full pattern; the admin site counts as one."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                found.append(route)
            else:
                found.extend(enumerated_routes(entry.url_patterns, route))
        else:
            found.append(route)
    return found


def test_every_route_has_a_row():
    routes = enumerated_routes()
    assert len(routes) == len(set(routes)), "a route pattern appears twice"
    assert set(routes) - set(TABLE) == set(), "routes without a row in TABLE"
    assert set(TABLE) - set(routes) == set(), "rows in TABLE for no route"


def _url(route: str, probe: Probe, world: World) -> str:
    if probe.path:
        return probe.path
    a = world.assignment
    values = {
        "slug": world.campaign.slug,
        "assignment_id": a.pk,
        "token": a.clip.asset.token,
        "kind": "video",
        "job_id": world.job.pk,
        "run_id": world.run.pk,
        "team_id": world.team.pk,
        "task_key": a.clip.episode.task.key,
        "clip_id": a.clip_id,
        "submission_id": a.clip.submission_id,
        "username": OTHER_ANNOTATOR,
        **probe.kwargs,
    }
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    return "/" + path + (f"?{probe.query}" if probe.query else "")


class _Rollback(Exception):
    pass


def _outcome(response) -> str | int:
    if response.status_code in (301, 302, 303, 307, 308):
        location = response["Location"]
        if location.startswith("/accounts/login/"):
            return LOGIN
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
        return OK
    if 200 <= response.status_code < 300:
        return OK
    return response.status_code


def _probe(client: Client, probe: Probe, url: str) -> str | int:
    """The outcome of one request, whose writes are rolled back; a crash reads as 500."""
    outcome: str | int = 500
    send = getattr(client, probe.method)
    options = {"content_type": "application/json"} if probe.json else {}
    try:
        with transaction.atomic():
            response = send(url) if probe.data is None else send(url, probe.data, **options)
            outcome = _outcome(response)
            response.close()
            raise _Rollback
    except _Rollback:
        pass
    except Exception as exc:  # noqa: BLE001 - reported below as the 500 it would be
        return f"500 ({type(exc).__name__}: {exc})"
    return outcome


def test_permission_matrix(world):
    failures = []
    probes = 0
    for route, entry in TABLE.items():
        for probe in entry if isinstance(entry, list) else [entry]:
            url = _url(route, probe, world)
            for actor, expected in zip(ACTORS, probe.outcomes, strict=True):
                client = Client()
                if world.users[actor] is not None:
                    client.force_login(world.users[actor])
                got = _probe(client, probe, url)
                probes += 1
                if got != expected:
                    failures.append(
                        f"{probe.method.upper()} {url} as {actor}: {got}, want {expected}"
                    )
    assert not failures, f"{len(failures)} of {probes} probes:\n" + "\n".join(failures)
