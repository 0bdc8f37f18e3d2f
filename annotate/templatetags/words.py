"""``{{ value|word }}`` (or ``{{ flag|word:"rater flag" }}``): a stored word in the reader's
language (annotate.words)."""

from __future__ import annotations

from django import template

from annotate.words import word as _word

register = template.Library()


@register.filter
def word(value: object, kind: str | None = None) -> str:
    return _word(value, kind)
