"""Pair manifests and verdict tables as CSV files, for judging arbitrary files."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evaluation.judges.base import JudgeError, JudgeVerdict, Pair

MANIFEST_COLUMNS = ("pair_id", "reference", "generated")
VERDICT_COLUMNS = (
    "pair_id",
    "score",
    "expected_score",
    "final_state",
    "clean",
    "motion",
    "confidence",
    "error",
)


def read_pair_manifest(path: Path | str) -> list[Pair]:
    """Pairs from a CSV with columns pair_id, reference, generated.

    Relative clip paths are taken from the manifest's own folder, so a manifest
    can travel with its clips.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise JudgeError(f"cannot read manifest {path}: {exc}") from exc
    missing = [column for column in MANIFEST_COLUMNS if column not in table.columns]
    if missing:
        raise JudgeError(f"manifest {path.name} lacks column(s): {', '.join(missing)}")
    folder = path.resolve().parent
    pairs: list[Pair] = []
    seen: set[str] = set()
    for line, row in enumerate(table.to_dict("records"), start=2):
        pair_id = row["pair_id"].strip()
        if not pair_id or not row["reference"].strip() or not row["generated"].strip():
            raise JudgeError(
                f"manifest {path.name} line {line}: empty pair_id, reference or generated"
            )
        if pair_id in seen:
            raise JudgeError(f"manifest {path.name} line {line}: pair id {pair_id!r} repeated")
        seen.add(pair_id)
        pairs.append(
            Pair(
                pair_id=pair_id,
                reference=folder / row["reference"].strip(),
                generated=folder / row["generated"].strip(),
            )
        )
    return pairs


def write_verdicts_csv(path: Path, verdicts: Sequence[JudgeVerdict]) -> None:
    """One row per verdict; numbers rounded to 6 digits, error empty when judged."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(VERDICT_COLUMNS)
        for verdict in verdicts:
            writer.writerow(
                [
                    verdict.pair_id,
                    verdict.score if verdict.ok else "",
                    round(verdict.expected_score, 6) if verdict.ok else "",
                    round(verdict.final_state, 6) if verdict.ok else "",
                    round(verdict.clean, 6) if verdict.ok else "",
                    round(verdict.motion, 6) if verdict.ok else "",
                    round(verdict.confidence, 6) if verdict.ok else "",
                    verdict.error or "",
                ]
            )
