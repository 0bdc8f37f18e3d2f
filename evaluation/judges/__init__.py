"""Judge backends, configured in `settings.JUDGES` and built on first use.

    JUDGES = {"baseline": {"BACKEND": "evaluation.judges.baseline.BaselineJudge", "OPTIONS": {}}}

`build_judge` builds one from an explicit backend and options, which is how the
settings entry and a stored judge version (for example a calibrated one) are built.

No judge is cached per process: a judge is rebuilt for each run chunk or pair from the
settings as they are then plus the stored version's options (see
`evaluation.services.judges.judge_build`), so a changed setting can never leave a
stale judge behind, and building costs nothing next to judging (models load lazily,
on the first pair).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evaluation.judges.base import Judge, JudgeError, JudgeVerdict, Pair, rubric_tree

__all__ = [
    "Judge",
    "JudgeError",
    "JudgeVerdict",
    "Pair",
    "build_judge",
    "judge_config",
    "judges_available",
    "rubric_tree",
]


def judges_available() -> list[str]:
    """Names of the judges configured in settings, sorted."""
    from django.conf import settings

    return sorted(getattr(settings, "JUDGES", {}))


def judge_config(name: str) -> dict[str, Any]:
    """{"BACKEND": dotted path, "OPTIONS": dict} for a configured judge."""
    from django.conf import settings

    judges = getattr(settings, "JUDGES", {})
    if name not in judges:
        known = ", ".join(sorted(judges)) or "none"
        raise JudgeError(f"unknown judge {name!r}; configured judges: {known}")
    config = judges[name]
    if not isinstance(config, Mapping) or "BACKEND" not in config:
        raise JudgeError(f"settings.JUDGES[{name!r}] must be a dict with a BACKEND key")
    options = config.get("OPTIONS", {})
    if not isinstance(options, Mapping):
        raise JudgeError(f"settings.JUDGES[{name!r}]['OPTIONS'] must be a dict")
    return {"BACKEND": str(config["BACKEND"]), "OPTIONS": dict(options)}


def build_judge(*, name: str, backend: str, options: Mapping[str, Any] | None = None) -> Judge:
    """Import `backend` and build it with `options` as keyword arguments (not cached)."""
    from django.utils.module_loading import import_string

    try:
        backend_class = import_string(backend)
    except ImportError as exc:
        raise JudgeError(f"judge {name!r}: cannot import backend {backend!r}: {exc}") from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, Judge)):
        raise JudgeError(f"judge {name!r}: {backend!r} is not a Judge subclass")
    try:
        return backend_class(name=name, **dict(options or {}))
    except TypeError as exc:
        raise JudgeError(f"judge {name!r}: bad options for {backend}: {exc}") from exc
