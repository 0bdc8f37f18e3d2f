"""A stored word (a state, a status, a role, a kind) as the reader says it.

The database, the exports and the API keep these words in English, as machine-readable
values; pages and messages show them in the reader's language through `word` (and the
template filter of the same name, ``{% load words %}{{ job.status|word }}``). An unknown
word is shown as it is. The context of each entry tells a translator which kind of word
it is: "open" is a campaign's state, "done" a job's status.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

WORDS: dict[str, Promise] = {
    # A campaign's state (also a problem report's "open").
    "draft": pgettext_lazy("state", "draft"),
    "open": pgettext_lazy("state", "open"),
    "locked": pgettext_lazy("state", "locked"),
    "published": pgettext_lazy("state", "published"),
    # A job's, an asset's or an upload's status.
    "queued": pgettext_lazy("status", "queued"),
    "running": pgettext_lazy("status", "running"),
    "done": pgettext_lazy("status", "done"),
    "failed": pgettext_lazy("status", "failed"),
    "cancelled": pgettext_lazy("status", "cancelled"),
    "pending": pgettext_lazy("status", "pending"),
    "ready": pgettext_lazy("status", "ready"),
    # A problem report's outcome.
    "fixed": pgettext_lazy("report status", "fixed"),
    "excluded": pgettext_lazy("report status", "excluded"),
    # What an import brings.
    "reference": pgettext_lazy("import kind", "reference"),
    "submission": pgettext_lazy("import kind", "submission"),
    # Where an import came from.
    "page": pgettext_lazy("import origin", "page"),
    "api": pgettext_lazy("import origin", "API"),
    "command": pgettext_lazy("import origin", "command"),
    "demo": pgettext_lazy("import origin", "demo"),
    # A person's role.
    "organizer": pgettext_lazy("role", "organizer"),
    "annotator": pgettext_lazy("role", "annotator"),
    "team": pgettext_lazy("role", "team"),
    # A release gate's verdict.
    "pass": pgettext_lazy("gate verdict", "pass"),
    "fail": pgettext_lazy("gate verdict", "fail"),
    # A quality-control example's kind.
    "practice": pgettext_lazy("example kind", "practice"),
    "gold": pgettext_lazy("example kind", "gold"),
}


# Words whose sense depends on where they appear ("gold" is an example's kind, but as a
# rater's flag it means failed gold checks): looked up by that kind first.
KINDS: dict[str, dict[str, Promise]] = {
    # The raters page's flags (evaluation.scoring.reliability.FLAGS).
    "rater flag": {
        "fast": pgettext_lazy("rater flag", "fast"),
        "gold": pgettext_lazy("rater flag", "gold"),
        "disagrees": pgettext_lazy("rater flag", "disagrees"),
        "straight_line": pgettext_lazy("rater flag", "straight line"),
    },
    # A problem report's status ("open": waiting for the organizer, not a campaign's state).
    "report status": {
        "open": pgettext_lazy("report status", "open"),
        "reopened": pgettext_lazy("report status", "reopened"),
    },
    # An adjudication queue item: its status and why it is there.
    "adjudication": {
        "open": pgettext_lazy("adjudication", "open"),
        "waiting": pgettext_lazy("adjudication", "waiting"),
        "rated_again": pgettext_lazy("adjudication", "rated again"),
        "decided": pgettext_lazy("adjudication", "decided"),
        "disagree": pgettext_lazy("adjudication", "disagree"),
        "excluded_rater": pgettext_lazy("adjudication", "excluded rater"),
    },
    # Why a statistic is undefined (evaluation.scoring's reasons, kept in English in a
    # report's JSON and exports).
    "stat reason": {
        "no variation": pgettext_lazy("stat reason", "no variation"),
        "too few items": pgettext_lazy("stat reason", "too few items"),
        "no rater pair shares enough clips": pgettext_lazy(
            "stat reason", "no rater pair shares enough clips"
        ),
        "not computed": pgettext_lazy("stat reason", "not computed"),
    },
    # How a clip's human consensus is formed (evaluation.scoring.agreement's report says it
    # in English, in its JSON).
    "consensus rule": {
        "median of a clip's ratings, halves rounded up": pgettext_lazy(
            "consensus rule", "median of a clip's ratings, halves rounded up"
        ),
    },
}


def word(value: object, kind: str | None = None) -> str:
    """`value` in the active language when it is a known word (of `kind`, if given, else
    of WORDS), else as it is."""
    text = str(value) if value is not None else ""
    found = KINDS.get(kind or "", {}).get(text) or WORDS.get(text)
    return str(found) if found is not None else text


def either(words: list[str]) -> str:
    """Alternatives as the reader joins them: "open or locked", "开放或锁定"."""
    return pgettext_lazy("joins alternatives", " or ").join(str(w) for w in words)
