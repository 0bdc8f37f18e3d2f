"""Break-point marks: the moments where a generated clip departs from its reference.

An annotator marks them on the rating page (key ``m``) while the two clips play on one
clock. A mark is ``{"t": seconds, "label": name}``: ``t`` is the time on the
*generated* clip's own timeline (what the synchronized clock shows on it, whatever the
sync mode), ``label`` one of :data:`MARK_LABELS` or ``""`` (no label). A rating keeps
its marks sorted by time, at most :data:`MAX_MARKS` of them, one per moment, each
``t`` rounded to the millisecond; every revision keeps the marks it was given with.

In the ratings export they are one column, ``marks``, written by :func:`marks_text`:
``t:label`` items joined by ``;``, ``t`` in seconds with three decimals, ``label``
empty for an unlabelled mark, e.g. ``1.250:deformation;3.000:`` (no mark: empty).
Labels never hold ``:`` or ``;``, so two splits read it back (:func:`marks_parse`).

No ORM here: the rating service, the API and the exports share these rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The rubric's ways a clip breaks from its reference (DESIGN.md, "The protocol").
MARK_LABELS = ("deformation", "physics", "object_vanished", "wrong_motion")
LABEL_NAMES = {
    "": pgettext_lazy("break-point mark", "no label"),
    "deformation": _("deformation"),
    "physics": _("implausible physics"),
    "object_vanished": _("object vanished"),
    "wrong_motion": _("wrong motion"),
}
MAX_MARKS = 20
TIME_DECIMALS = 3
ITEM_SEPARATOR, FIELD_SEPARATOR = ";", ":"


class MarksInvalid(ValueError):
    """Marks that cannot be stored; the message says which one and why."""


def _seconds(value: object, *, index: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MarksInvalid(
            f"mark {index}: t is the time in seconds on the generated clip, a number, not {value!r}"
        )
    return float(value)


def marks_clean(raw: object, *, duration_s: float) -> list[dict[str, object]]:
    """``raw`` as stored marks: checked, rounded to the millisecond, sorted by time.

    Refused (:class:`MarksInvalid`, naming the mark): not a list of objects with ``t``
    and an optional ``label``; more than :data:`MAX_MARKS`; a ``t`` outside
    ``[0, duration_s]`` (the generated clip's length); a label not in
    :data:`MARK_LABELS`; two marks at the same millisecond.
    """
    if raw is None:
        return []
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Iterable):
        raise MarksInvalid('marks are a list of {"t": seconds, "label": name} objects')
    items = list(raw)
    if len(items) > MAX_MARKS:
        raise MarksInvalid(f"{len(items)} marks given; at most {MAX_MARKS} per rating")
    cleaned: dict[float, dict[str, object]] = {}
    for index, mark in enumerate(items, start=1):
        if not isinstance(mark, Mapping):
            raise MarksInvalid(f'mark {index} is not an object {{"t": seconds, "label": name}}')
        unknown = sorted(set(mark) - {"t", "label"})
        if unknown:
            raise MarksInvalid(f"mark {index}: unknown field(s) {', '.join(map(str, unknown))}")
        if "t" not in mark:
            raise MarksInvalid(f"mark {index} has no time t")
        t = _seconds(mark["t"], index=index)
        if not 0.0 <= t <= duration_s:
            raise MarksInvalid(
                f"mark {index}: t={t:g} s lies outside the generated clip (0 to {duration_s:g} s)"
            )
        label = mark.get("label") or ""
        if label not in LABEL_NAMES:
            raise MarksInvalid(
                f"mark {index}: label {label!r} is not one of {', '.join(MARK_LABELS)} (or empty)"
            )
        at = round(t, TIME_DECIMALS)
        if at in cleaned:
            raise MarksInvalid(f"two marks at {at:.3f} s: one mark per moment")
        cleaned[at] = {"t": at, "label": label}
    return [cleaned[at] for at in sorted(cleaned)]


def marks_text(marks: Iterable[Mapping[str, object]]) -> str:
    """The export's ``marks`` cell: ``1.250:deformation;3.000:`` (see the module docstring)."""
    return ITEM_SEPARATOR.join(
        f"{float(mark['t']):.{TIME_DECIMALS}f}{FIELD_SEPARATOR}{mark.get('label') or ''}"
        for mark in marks
    )


def marks_parse(text: str) -> list[dict[str, object]]:
    """The marks of an export's ``marks`` cell, as :func:`marks_text` wrote them."""
    marks = []
    for item in (text or "").split(ITEM_SEPARATOR):
        if item.strip():
            t, _sep, label = item.partition(FIELD_SEPARATOR)
            marks.append({"t": float(t), "label": label.strip()})
    return marks


def mark_choices() -> list[dict[str, str]]:
    """The labels as the rating page offers them, in the reader's language."""
    return [{"value": value, "name": str(name)} for value, name in LABEL_NAMES.items()]


def marks_display(marks: Iterable[Mapping[str, object]]) -> list[str]:
    """Marks as people read them: ``1.25 s deformation`` (a translated label)."""
    shown = []
    for mark in marks:
        label = str(mark.get("label") or "")
        name = str(LABEL_NAMES.get(label, label)) if label else ""
        shown.append(f"{float(mark['t']):.2f} s {name}".rstrip())
    return shown
