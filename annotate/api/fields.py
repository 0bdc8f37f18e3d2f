"""Serializer fields shared by the annotate API."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotate.notice import as_notice
from annotate.notice_text import shown, text


class _ReadOnlyField(serializers.Field):
    def __init__(self, **kwargs) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.STR)
class NoticeField(_ReadOnlyField):
    """A notice (annotate.notice) as a sentence in the caller's language (Accept-Language;
    English by default); text stored before notices, as it is. Read-only."""

    def to_representation(self, value: object) -> str:
        return text(value)


@extend_schema_field({"type": "string", "nullable": True})
class NoticeCodeField(_ReadOnlyField):
    """The code of a notice (annotate.notice), the same in every language, for programs to
    branch on; null for text stored before notices. Read-only."""

    def to_representation(self, value: object) -> str | None:
        found = as_notice(value)
        return None if isinstance(found, str) else found.code


@extend_schema_field(OpenApiTypes.OBJECT)
class ReportField(_ReadOnlyField):
    """Stored JSON (an import's report) with every notice in it said as a sentence in the
    caller's language. Read-only."""

    def to_representation(self, value: object) -> object:
        return shown(value)
