"""Every list of the annotate API comes in pages, so that no answer grows with the data.

The project's paginator (``DEFAULT_PAGINATION_CLASS``: limit and offset, ``PAGE_SIZE`` rows
by default) answers ``{"count", "next", "previous", "results"}``; a client follows ``next``
until it is null. A view that mixes in `PagedListMixin` also has ``pagination_class``, which
is what drf-spectacular reads to document the envelope and the ``limit``/``offset``
parameters of an operation whose response is declared ``many=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings


class PagedListMixin:
    """For an APIView whose GET answers a list: `paged` serializes one page of it."""

    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    def paged(
        self,
        request: Request,
        rows: QuerySet[Any] | Sequence[Any],
        serializer_class: type[BaseSerializer],
    ) -> Response:
        """One page of `rows` (ordered: a page must mean the same rows on every request)."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)
