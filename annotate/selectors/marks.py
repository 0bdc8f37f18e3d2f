"""Every rater's break-point marks on one clip, for the organizers' reviews of a pair.

Annotators never read this: their rating page carries their own marks only. The caller
names the raters (a username on the clip browser, a pseudonym on the agreement report).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from annotate.marks import marks_display
from annotate.models import Clip, Rating


@dataclass(frozen=True)
class ClipMark:
    annotator_id: int
    username: str
    t: float
    label: str
    shown: str  # "1.25 s deformation", in the reader's language


def clip_marks(*, clip: Clip) -> list[ClipMark]:
    """The marks of every rating of ``clip``, by time; one query."""
    marks = []
    rows = Rating.objects.filter(clip=clip).order_by("pk")
    for user_id, username, rating_marks in rows.values_list(
        "annotator_id", "annotator__username", "marks"
    ):
        for mark, shown in zip(rating_marks or [], marks_display(rating_marks or []), strict=True):
            marks.append(
                ClipMark(
                    annotator_id=user_id,
                    username=username,
                    t=float(mark["t"]),
                    label=str(mark.get("label") or ""),
                    shown=shown,
                )
            )
    return sorted(marks, key=lambda mark: (mark.t, mark.username))


def marks_config(marks: list[ClipMark], *, who: Callable[[ClipMark], str]) -> list[dict]:
    """The marks as the player's ticks take them (its JSON config), each titled with
    what it says and who set it."""
    return [
        {"t": mark.t, "label": mark.label, "title": f"{mark.shown} · {who(mark)}"} for mark in marks
    ]


__all__ = ["ClipMark", "clip_marks", "marks_config"]
