"""Schemathesis against the OpenAPI schema, as an annotator and as an organizer.

Every operation of the schema is called with generated inputs (valid and invalid) on the
real WSGI app, over a real small campaign, authenticated by an API token the way a
script is. Checks: no 5xx, the status code is declared, the body matches its schema.
Path parameters name real rows most of the time, so the views get past their 404s.
Bounded (few examples per operation, derandomized) to run in a couple of minutes.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from annotate.models import Assignment, ImportJob, Submission
from annotate.services import api_token_issue
from annotate.services.problems import problem_report
from annotate.services.review import rater_exclude
from demo.campaign import demo_ratings_simulate

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 15
# What our path converters accept: int for *_id and a task's number, slug and str (narrowed
# to a slug) otherwise.
_ROUTABLE_ID = re.compile(r"[0-9]+")
_ROUTABLE = re.compile(r"[-a-zA-Z0-9_]+")


def _real_rows(campaign) -> dict[str, list]:
    """Values of each path parameter that name a row of the campaign."""
    from evaluation import services as evaluation_services

    version = evaluation_services.judge_version_for(name="baseline")
    run = evaluation_services.judge_run_create(
        campaign=campaign, judge_version=version, chunk_size=64
    )
    job = ImportJob.objects.create(
        campaign=campaign, kind=ImportJob.Kind.REFERENCE, source="upload.zip"
    )
    annotator_assignments = Assignment.objects.filter(
        campaign=campaign, annotator__username="annotator1"
    ).order_by("pk")
    exclusion = rater_exclude(
        campaign=campaign,
        annotator=Assignment.objects.filter(campaign=campaign, annotator__username="annotator2")
        .first()
        .annotator,
        reason="a row for the lift endpoint",
        by=None,
    )
    # A problem report, for the endpoints that resolve and reopen one.
    reported = annotator_assignments.last()
    report = problem_report(assignment=reported, user=reported.annotator, reason="black_frames")
    return {
        "slug": [campaign.slug],
        "run_id": [run.pk],
        "job_id": [job.pk],
        "assignment_id": list(annotator_assignments.values_list("pk", flat=True)[:5]),
        "username": ["annotator1", "annotator2"],
        "number": list(campaign.tasks.values_list("number", flat=True)),
        "submission_id": list(
            Submission.objects.filter(team__campaign=campaign).values_list("pk", flat=True)
        ),
        "clip_id": list(
            Assignment.objects.filter(campaign=campaign)
            .order_by("clip_id")
            .values_list("clip_id", flat=True)
            .distinct()[:5]
        ),
        "exclusion_id": [exclusion.pk],
        "report_id": [report.pk],
        "team_id": list(campaign.teams.values_list("pk", flat=True)),
    }


@pytest.fixture
def fuzz_world(demo_campaign):
    from django.contrib.auth import get_user_model

    demo_ratings_simulate(campaign=demo_campaign, seed=3, leave_for=("annotator1",))
    users = get_user_model().objects
    # The demo's "organizer" is a superuser; fuzz as a plain staff account.
    organizer = users.create_user("staff-fuzz", password="pw", is_staff=True)
    annotator = users.get(username="annotator1")
    return {
        "rows": _real_rows(demo_campaign),
        "keys": {
            "organizer": api_token_issue(user=organizer, by=None),
            "annotator": api_token_issue(user=annotator, by=None),
        },
    }


def _schema_for(rows: dict[str, list]):
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

    @schema.hook
    def map_path_parameters(context, path_parameters):
        # Three in four examples name a real row; the rest keep the generated value, unless
        # Django's path converter would refuse it (negative mode): the resolver's HTML 404
        # is not the API's, and never reaches a view.
        for name, value in (path_parameters or {}).items():
            real = rows.get(name)
            routable = _ROUTABLE_ID if name.endswith("_id") or name == "number" else _ROUTABLE
            if real and (len(str(value)) % 4 or not routable.fullmatch(str(value))):
                path_parameters[name] = real[len(str(value)) % len(real)]
        return path_parameters

    return schema


bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
    # No shrinking: a derandomized run replays the same failing example anyway.
    phases=[Phase.explicit, Phase.generate],
)


def _fuzz(world, role: str) -> tuple[int, list[str]]:
    """Fuzz every operation; returns how many and the failures, one line per operation."""
    schema = _schema_for(world["rows"])
    headers = {"Authorization": f"Token {world['keys'][role]}"}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, hooks=schema.hooks),
            operation.as_strategy(GenerationMode.NEGATIVE, hooks=schema.hooks),
        )

        @given(case=strategy)
        @bounded
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # each is reported, then the test fails
            failures.append(f"{operation.label} as {role}: {exc}")
    return operations, failures


@pytest.mark.slow
@pytest.mark.parametrize("role", ["annotator", "organizer"])
def test_the_api_holds_its_schema(fuzz_world, role):
    operations, failures = _fuzz(fuzz_world, role)
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
