"""Judge versions: the stored row of a configured judge, and the judge rebuilt from it.

Every run, calibration and pair judged on demand names a :class:`JudgeVersion`, so a
result always points at the exact configuration that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evaluation.judges import Judge, JudgeError, build_judge, judge_config
from evaluation.models import JudgeVersion


class JudgingError(Exception):
    """A judging request that cannot be served; the message says what is wrong."""


def judge_settings_entry(name: str) -> dict[str, Any]:
    """The ``settings.JUDGES`` entry ``name``; a missing one is a refused request."""
    try:
        return judge_config(name)
    except JudgeError as exc:
        raise JudgingError(str(exc)) from exc


def judge_build_configured(*, name: str, options: Mapping[str, Any]) -> Judge:
    """The judge ``name`` as configured in settings, its OPTIONS overridden by ``options``."""
    config = judge_settings_entry(name)
    try:
        return build_judge(
            name=name, backend=config["BACKEND"], options={**config["OPTIONS"], **options}
        )
    except JudgeError as exc:
        raise JudgingError(str(exc)) from exc


def judge_version_for(*, name: str, version: str | None = None) -> JudgeVersion:
    """The stored version ``name@version``, or (no ``version``) the settings entry as configured now.

    The settings entry's row is created on first use, so every run points at the
    exact configuration that judged it.
    """
    if version:
        found = JudgeVersion.objects.filter(name=name, version=version).first()
        if found is None:
            known = ", ".join(
                JudgeVersion.objects.filter(name=name).values_list("version", flat=True)
            )
            raise JudgingError(
                f"judge {name!r} has no stored version {version!r}; stored: {known or 'none'}"
            )
        return found
    judge = judge_build_configured(name=name, options={})
    row, _ = JudgeVersion.objects.get_or_create(
        name=name, version=judge.version, defaults={"options": {}}
    )
    return row


def judge_build(*, judge_version: JudgeVersion) -> Judge:
    """Rebuild a stored version: the settings OPTIONS overridden by the row's options.

    Refuses when the settings have changed so that the rebuilt judge would answer
    differently than the stored version did (its version string would differ).
    """
    judge = judge_build_configured(name=judge_version.name, options=judge_version.options)
    if judge.version != judge_version.version:
        raise JudgingError(
            f"judge {judge_version} can no longer be rebuilt: with the current settings it is "
            f"{judge_version.name}@{judge.version}; start a new run with the current version"
        )
    return judge
