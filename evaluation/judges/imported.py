"""A judge whose verdicts were computed elsewhere and delivered as a CSV file.

Columns: `pair_id,score` and optionally `expected_score, final_state, clean,
motion, confidence, error`. A file keyed by `task,team,episode` instead of
`pair_id` is accepted; its pair id is then "<team>/<task>/<episode>", the key the
database layer uses for clips (for example "aurora/task3/episode_17").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.judges.base import Judge, JudgeError, JudgeVerdict, Pair, ProgressCallback
from evaluation.judges.command import file_digest, parse_verdict

OPTIONAL_COLUMNS = ("expected_score", "final_state", "clean", "motion", "confidence", "error")


def pair_id_for(*, team: str, task: str, episode: str) -> str:
    return f"{team}/{task}/{episode}"


def read_verdict_table(path: Path) -> dict[str, JudgeVerdict]:
    """All verdicts of a CSV file by pair id, strictly validated."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise JudgeError(f"cannot read verdicts from {path}: {exc}") from exc
    columns = set(table.columns)
    if "pair_id" not in columns:
        if not {"task", "team", "episode"} <= columns:
            raise JudgeError(
                f"{path.name}: needs a pair_id column or task, team and episode columns; "
                f"found {', '.join(table.columns)}"
            )
        table["pair_id"] = [
            pair_id_for(team=team, task=task, episode=episode)
            for team, task, episode in zip(
                table["team"], table["task"], table["episode"], strict=True
            )
        ]
    if "score" not in columns:
        raise JudgeError(f"{path.name}: needs a score column")
    verdicts: dict[str, JudgeVerdict] = {}
    for line, row in enumerate(table.to_dict("records"), start=2):
        source = f"{path.name} line {line}"
        item: dict[str, Any] = {"pair_id": row["pair_id"].strip()}
        if not item["pair_id"]:
            raise JudgeError(f"{source}: empty pair id")
        if row.get("error", "").strip():
            item["error"] = row["error"].strip()
        else:
            item["score"] = _integer_score(row["score"], source=source)
            for column in OPTIONAL_COLUMNS[:-1]:
                text = str(row.get(column, "")).strip()
                if text:
                    item[column] = _float(text, column=column, source=source)
        verdict = parse_verdict(item, source=source)
        if verdict.pair_id in verdicts:
            raise JudgeError(f"{source}: pair {verdict.pair_id!r} appears twice")
        verdicts[verdict.pair_id] = verdict
    return verdicts


def _integer_score(text: str, *, source: str) -> int:
    number = _float(text, column="score", source=source)
    if not number.is_integer():
        raise JudgeError(f"{source}: score must be a whole number 0..3, got {text!r}")
    return int(number)


def _float(text: str, *, column: str, source: str) -> float:
    try:
        number = float(text)
    except ValueError as exc:
        raise JudgeError(f"{source}: {column} is not a number: {text!r}") from exc
    if not math.isfinite(number):
        raise JudgeError(f"{source}: {column} is not finite: {text!r}")
    return number


class ImportedJudge(Judge):
    code_version = "1"

    def __init__(self, *, name: str = "import", path: str) -> None:
        if not path:
            raise JudgeError(f"judge {name!r}: OPTIONS must give the verdict file's path")
        super().__init__(name=name, options={"path": str(path)})
        self.path = Path(path)

    @property
    def version(self) -> str:
        # The file's content is the judge: a new file is a new version.
        content = file_digest(self.path)[:12] if self.path.is_file() else "missing"
        return f"{super().version}-{content}"

    def judge(
        self, pairs: Sequence[Pair], *, progress: ProgressCallback | None = None
    ) -> list[JudgeVerdict]:
        if not self.path.is_file():
            raise JudgeError(f"judge {self.name!r}: verdict file {self.path} does not exist")
        table = read_verdict_table(self.path)
        verdicts = [
            table.get(pair.pair_id)
            or JudgeVerdict.failed(
                pair_id=pair.pair_id, error=f"no verdict for this pair in {self.path.name}"
            )
            for pair in pairs
        ]
        if progress is not None:
            progress(len(pairs))
        return verdicts
