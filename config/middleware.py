"""Project-wide middleware: a database outage answered as 503."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Long enough for a database restart or failover, short enough that a retry is soon.
RETRY_AFTER_S = 30


class DatabaseUnavailableMiddleware:
    """A view whose database went away answers 503 with Retry-After instead of a 500.

    Writes that span rows are ``transaction.atomic``, so the failed one is rolled back
    whole and the client may retry it (with its Idempotency-Key, for a rating).
    Only errors raised inside the view are seen here: those of other middleware stay 500s.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "database unavailable during %s %s", request.method, request.path, exc_info=True
        )
        # In the reader's language (LocaleMiddleware ran before the view failed).
        message = _(
            "The database is unavailable for a moment; nothing was saved. Try again shortly."
        )
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": message}, status=503)
        else:
            body = render_to_string("503.html", {"message": message, "retry_after": RETRY_AFTER_S})
            response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
