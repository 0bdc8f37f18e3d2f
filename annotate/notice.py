"""A notice: a message as a code and its parameters, said in the reader's language when shown.

The planner, the ingest and the media checks tell what they found as notices, never as
sentences: what they say is kept (in an import's report, an asset's error) and read
later by people who may read another language than the one of whoever was there when
it was written. ``annotate.notice_text`` holds the one table that says each code, in
the reader's language, where it is shown (pages, API, commands).

Pure: no Django. Each producing module declares its codes with `code`, which also
enters them into the register that a test checks against that table, so that no code
can be produced without a sentence.

A parameter is a string, a number, or another notice (said first, then put in place):
``Notice(READ_ERROR, {"file": "cam_high.mp4", "reason": Notice(NO_FRAMES)})``. Stored, a
notice is the JSON ``{"code": ..., "params": {...}}`` (`as_json`, `from_json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Notice", "NoticeError", "as_notice", "code", "known_codes"]

_KNOWN: set[str] = set()


def code(name: str) -> str:
    """Declare a notice code (a module constant of whoever produces it); returns `name`."""
    _KNOWN.add(name)
    return name


def known_codes() -> frozenset[str]:
    """Every code declared by the modules imported so far."""
    return frozenset(_KNOWN)


@dataclass(frozen=True)
class Notice:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted((k, _hashable(v)) for k, v in self.params.items()))))

    def __str__(self) -> str:
        """The code and its parameters, for logs; people read `annotate.notice_text.text`."""
        if not self.params:
            return self.code
        shown = ", ".join(f"{name}={value}" for name, value in sorted(self.params.items()))
        return f"{self.code} ({shown})"

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "params": {
                name: value.as_json() if isinstance(value, Notice) else value
                for name, value in self.params.items()
            },
        }

    @classmethod
    def from_json(cls, value: object) -> Notice | None:
        """The notice stored as `value` ({"code": ..., "params": {...}}), else None."""
        if not (isinstance(value, Mapping) and isinstance(value.get("code"), str)):
            return None
        params = value.get("params")
        params = params if isinstance(params, Mapping) else {}
        return cls(
            value["code"],
            {name: cls.from_json(item) or item for name, item in params.items()},
        )


def as_notice(value: object) -> Notice | str:
    """A notice as it is, one stored as JSON, or text (a message stored before codes, or
    anything else) as a string."""
    if isinstance(value, Notice):
        return value
    found = Notice.from_json(value)
    if found is not None:
        return found
    return "" if value is None else str(value)


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class NoticeError(Exception):
    """An error whose message is a notice (`self.notice`); str() gives the code, for logs."""

    def __init__(self, code: str, **params: Any) -> None:
        self.notice = Notice(code, params)
        super().__init__(str(self.notice))
