"""``{{ value|notice }}``: a notice (a reason, a warning, an error kept as a code and its
parameters) in the reader's language; text stored before notices, as it is
(annotate.notice_text)."""

from __future__ import annotations

from django import template

from annotate.notice_text import text

register = template.Library()


@register.filter
def notice(value: object) -> str:
    return text(value)
