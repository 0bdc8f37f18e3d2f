"""The one order of names that carry numbers: `task2` before `task10`, `episode_2` before
`episode_10`, whatever the case.

Used wherever tasks, episodes, teams or files are listed: by ingest and the planner, and by
the scoring core (which imports it from here), so that an import report, an assignment
plan and a leaderboard list the same names in the same order. Plain Python, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGITS = re.compile(r"(\d+)")

# Each part is (0, number) or (1, folded text): parts of two names compared at the same
# position are both numbers or both texts, or differ in their first item, so any two keys
# compare without a TypeError.
NaturalKey = tuple[tuple[tuple[int, int | str], ...], str]


def natural_key(text: str) -> NaturalKey:
    """Sort key: digit runs compare as numbers, the rest case-insensitively; names equal
    under that (``Task1``, ``task1``, ``task01``) then compare as written, so the order is
    total and never depends on the input's order."""
    # re.split with a group alternates text (even positions) and digit runs (odd ones).
    parts = tuple(
        (0, int(part)) if index % 2 else (1, part.casefold())
        for index, part in enumerate(_DIGITS.split(text))
        if part
    )
    return parts, text


def natural_sorted(items: Iterable[str]) -> list[str]:
    return sorted(items, key=natural_key)
