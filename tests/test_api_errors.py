"""The API's one exception handler (config/api_errors.py), through real endpoints.

A service refuses with its own exception; the view lets it propagate and the handler
answers it with the status listed in REFUSALS and a body the command-line client reads.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.client import RefusedError, _error_for
from annotate.models import Campaign
from annotate.services import AssignmentError, RatingRefused
from config import api_errors
from tests.factories import AssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_per_field_refusal_names_its_field(staff_api, campaign):
    again = {"slug": campaign.slug, "name": "Again"}
    response = staff_api.post("/api/campaigns/", again, format="json")
    assert response.status_code == 400
    assert response.json() == {"slug": [f"a campaign with the slug {campaign.slug!r} exists"]}
    error = _error_for(response.status_code, response.json())
    assert isinstance(error, RefusedError)
    assert str(error).startswith("HTTP 400: slug: ") and "'cvpr' exists" in str(error)


def test_a_refusal_without_a_field_keeps_its_messages_under_detail(annotator):
    assignment = AssignmentFactory(annotator=annotator)
    api = APIClient()
    api.force_authenticate(annotator)
    url = reverse("api-my-rating", args=[assignment.pk])
    response = api.patch(url, {"score": 3}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": ["this clip has no rating yet: submit one first"]}
    error = _error_for(response.status_code, response.json())
    assert str(error) == "HTTP 400: this clip has no rating yet: submit one first"


def test_a_domain_refusal_is_one_detail_message(staff_api, campaign):
    boss = UserFactory(username="boss", is_staff=True)
    url = f"/api/campaigns/{campaign.slug}/annotators/"
    response = staff_api.post(url, {"username": boss.username}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "user 'boss' is staff: organizers do not rate"}
    assert not campaign.annotators.exists()
    error = _error_for(response.status_code, response.json())
    assert str(error) == "HTTP 400: user 'boss' is staff: organizers do not rate"


def test_every_listed_refusal_names_an_exception_class():
    for path in api_errors.REFUSALS:
        kind = api_errors.import_string(path)
        assert isinstance(kind, type) and issubclass(kind, BaseException), path
    assert api_errors.refusal_status(RatingRefused("no")) == 400
    assert api_errors.refusal_status(AssignmentError("no")) == 400
    assert api_errors.refusal_status(ValidationError({"f": "no"})) == 400


def test_a_listed_refusal_raised_in_any_view_is_answered():
    response = raise_through_a_view(ValidationError(["first reason", "second reason"]))
    assert response.status_code == 400
    assert response.data == {"detail": ["first reason", "second reason"]}
    assert raise_through_a_view(AssignmentError("not now")).data == {"detail": "not now"}


def test_an_unlisted_exception_is_left_to_a_500():
    assert api_errors.refusal_status(RuntimeError("boom")) is None
    # DRF answers None: the exception is raised again and Django serves its 500.
    assert api_errors.exception_handler(RuntimeError("boom"), {}) is None
    with pytest.raises(KeyError):
        # An unlisted error raised in a view reaches the test client as itself.
        raise_through_a_view(KeyError("boom"))


def test_a_missing_row_is_a_404(campaign):
    response = api_errors.exception_handler(Campaign.DoesNotExist("no such campaign"), {})
    assert response.status_code == 404 and response.data == {"detail": "no such campaign"}


def raise_through_a_view(exc: Exception):
    """Run a real APIView that raises `exc`, through DRF's dispatch and our handler."""
    from django.test import RequestFactory
    from rest_framework.permissions import AllowAny
    from rest_framework.views import APIView

    class Raising(APIView):
        permission_classes = [AllowAny]
        authentication_classes = []

        def get(self, request):
            raise exc

    return Raising.as_view()(RequestFactory().get("/"))
