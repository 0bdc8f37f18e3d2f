"""How every API view answers a service's refusal: one place instead of a try/except in each.

A service refuses with its own exception (a Django ``ValidationError`` or a domain error
such as ``ImportRefused``). DRF calls `exception_handler` for anything a view raises; a
refusal listed in `REFUSALS` becomes the status given there, with the body DRF gives
its own errors: ``{"field": ["message", ...]}`` for a per-field ``ValidationError``,
``{"detail": ["message", ...]}`` for one without fields (a ``ValidationError`` holds a
list of messages, and keeps it), and ``{"detail": "message"}`` for any other refusal.
Anything else is left to DRF (and an exception DRF does not know stays a 500). Listed by
dotted path, resolved on first use, so that settings never import the apps.
"""

from __future__ import annotations

from functools import cache

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.module_loading import import_string
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

# Refusals of a request that is well formed but asks for something the rules forbid: 400,
# unless the refusal is about the resource's current state (409).
REFUSALS: dict[str, int] = {
    "annotate.services.AssignmentError": status.HTTP_400_BAD_REQUEST,
    "annotate.services.CampaignRefused": status.HTTP_400_BAD_REQUEST,
    "annotate.services.ImportRefused": status.HTTP_400_BAD_REQUEST,
    "annotate.services.PeopleError": status.HTTP_400_BAD_REQUEST,
    "annotate.services.RatingRefused": status.HTTP_400_BAD_REQUEST,
    "annotate.services.review.ReviewRefused": status.HTTP_400_BAD_REQUEST,
    "annotate.services.team_portal.TeamPortalRefused": status.HTTP_400_BAD_REQUEST,
    "evaluation.scoring.ScoringInputError": status.HTTP_400_BAD_REQUEST,
    "evaluation.services.JudgingError": status.HTTP_400_BAD_REQUEST,
    "evaluation.figures.FigureError": status.HTTP_400_BAD_REQUEST,
    # Last: the first listed class that a refusal is an instance of gives its status, and
    # any other ValidationError a service raises is a refusal too.
    "django.core.exceptions.ValidationError": status.HTTP_400_BAD_REQUEST,
}


@cache
def _refusal_types() -> tuple[tuple[type[BaseException], int], ...]:
    return tuple((import_string(path), code) for path, code in REFUSALS.items())


def refusal_status(exc: BaseException) -> int | None:
    """The status `exc` is answered with, or None if it is not a listed refusal."""
    for kind, code in _refusal_types():
        if isinstance(exc, kind):
            return code
    return None


def _body(exc: BaseException) -> dict:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exc.message_dict
        return {"detail": exc.messages}
    return {"detail": str(exc)}


def exception_handler(exc: Exception, context: dict):
    code = refusal_status(exc)
    if code is not None:
        exc = exceptions.APIException(_body(exc))
        exc.status_code = code
    elif isinstance(exc, ObjectDoesNotExist):
        exc = exceptions.NotFound(str(exc) or None)
    return drf_exception_handler(exc, context)
