"""Export files: a campaign's rankings, ratings and rated set; an agreement report.

Exports write nothing to the database: each is a read (:mod:`evaluation.selectors`)
rendered as a file. The rankings, ratings and episodes files of a campaign carry the
input hash of the data they were made from (:func:`campaign_export`); the ratings and
episodes CSV are exactly what ``manage.py rank`` reads, so the hash travels outside
them (``ExportFile.input_hash``, the ``X-Refscore-Input-Hash`` header on the web).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import pandas as pd
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from annotate.models import Campaign
from evaluation.scoring import csv_text, for_people, rankings_frame, table_records
from evaluation.selectors.leaderboard import (
    ScoringParameters,
    ScoringRequestError,
    campaign_leaderboard,
    input_hash_of,
    scoring_inputs,
)
from evaluation.selectors.ratings import RATING_EXPORT_COLUMNS
from evaluation.selectors.reliability import exclusion_meta

EXPORT_KINDS = ("rankings", "ratings", "episodes")
EXPORT_FORMATS = ("csv", "json", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "svg": "image/svg+xml",
}
INPUT_HASH_HEADER = "X-Refscore-Input-Hash"
STAT_FIELDS = ("value", "ci_low", "ci_high", "n", "reason")


@dataclass(frozen=True)
class ExportSummary:
    input_hash: str
    n_ratings: int
    parameters: ScoringParameters


def campaign_export_summary(*, campaign: Campaign) -> ExportSummary:
    """What the exports of the current data will carry, without building any file."""
    parameters = ScoringParameters.for_campaign(campaign=campaign)
    inputs = scoring_inputs(campaign=campaign)
    return ExportSummary(
        input_hash=input_hash_of(inputs=inputs, parameters=parameters),
        n_ratings=len(inputs.ratings),
        parameters=parameters,
    )


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    input_hash: str


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _ratings_table(ratings: pd.DataFrame) -> pd.DataFrame:
    table = ratings.loc[:, list(RATING_EXPORT_COLUMNS)].copy()
    for column in ("created_at", "updated_at"):
        table[column] = table[column].map(_iso)
    # Keep unknown answers as empty cells, not the string "None" or a float NaN.
    for column in ("clean", "motion"):
        table[column] = table[column].astype(object)
    return table


def _episodes_table(rated_set: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    rows = [(task, episode) for task, episodes in rated_set.items() for episode in episodes]
    return pd.DataFrame(rows, columns=["task", "episode"])


def _meta(
    *,
    campaign: Campaign,
    what: str,
    input_hash: str,
    parameters: ScoringParameters,
    now: dt.datetime,
) -> dict[str, object]:
    return {
        "input_hash": input_hash,
        "generated_at": now.isoformat(),
        "campaign": campaign.slug,
        "what": what,
        "parameters": asdict(parameters),
        # Raters whose ratings are left out, and how adjudicated scores count.
        **exclusion_meta(campaign=campaign),
    }


def _json_bytes(*, meta: dict[str, object], rows: list[dict[str, object]]) -> bytes:
    document = {**meta, "rows": rows}
    return (json.dumps(document, indent=2, allow_nan=False, default=str) + "\n").encode("utf-8")


def _finite_or_none(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _cell(sheet, value: object) -> WriteOnlyCell:
    value = _finite_or_none(value)
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    if isinstance(value, str):
        # Control characters (a pasted escape sequence, say) are not allowed in XLSX.
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # A rater's comment is data: the cell is text, so no spreadsheet runs it as a formula.
        cell.data_type = "s"
    return cell


def _xlsx_bytes(*, what: str, table: pd.DataFrame, meta: dict[str, object]) -> bytes:
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet(what)
    shown = for_people(table, mark_formulas=False)  # XLSX cells are typed: text stays text
    data.append([_cell(data, column) for column in shown.columns])
    for row in shown.astype(object).where(shown.notna(), None).itertuples(index=False):
        data.append([_cell(data, value) for value in row])
    sheet = workbook.create_sheet("meta")
    sheet.append([_cell(sheet, "key"), _cell(sheet, "value")])
    flat = {key: value for key, value in meta.items() if key != "parameters"}
    flat.update(meta["parameters"])  # type: ignore[arg-type]
    for key, value in flat.items():
        value = json.dumps(value) if isinstance(value, list | dict) else value
        sheet.append([_cell(sheet, key), _cell(sheet, value)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def campaign_export(
    *,
    campaign: Campaign,
    what: str,
    fmt: str,
    parameters: ScoringParameters | None = None,
    now: dt.datetime | None = None,
) -> ExportFile:
    """One export of a campaign as a file: rankings, ratings or episodes; CSV, JSON or XLSX."""
    if what not in EXPORT_KINDS:
        raise ScoringRequestError(f"export {what!r} is unknown; choose one of {EXPORT_KINDS}")
    if fmt not in EXPORT_FORMATS:
        raise ScoringRequestError(f"format {fmt!r} is unknown; choose one of {EXPORT_FORMATS}")
    parameters = parameters or ScoringParameters.for_campaign(campaign=campaign)
    now = now or timezone.now()
    if what == "rankings":
        result = campaign_leaderboard(campaign=campaign, parameters=parameters)
        input_hash = result.input_hash
        table = rankings_frame(result.board, raters_per_cell=result.raters_per_cell)
    else:
        inputs = scoring_inputs(campaign=campaign, detailed=what == "ratings")
        input_hash = input_hash_of(inputs=inputs, parameters=parameters)
        table = (
            _ratings_table(inputs.ratings)
            if what == "ratings"
            else _episodes_table(inputs.rated_set)
        )
    meta = _meta(
        campaign=campaign, what=what, input_hash=input_hash, parameters=parameters, now=now
    )
    if fmt == "csv":
        content = csv_text(table).encode("utf-8")
    elif fmt == "json":
        content = _json_bytes(meta=meta, rows=table_records(table))
    else:
        content = _xlsx_bytes(what=what, table=table, meta=meta)
    return ExportFile(
        filename=f"{campaign.slug}-{what}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
        content=content,
        input_hash=input_hash,
    )


# --- an agreement report ------------------------------------------------------------------


def report_json(*, report: dict[str, object]) -> bytes:
    """The report as ``manage.py agreement --output report.json`` writes it."""
    return (json.dumps(report, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _is_stat(value: object) -> bool:
    return isinstance(value, dict) and "value" in value and "n" in value


def stat_rows(*, report: dict[str, object]) -> list[dict[str, object]]:
    """One row per statistic: key, value, ci_low, ci_high, n, reason.

    Top-level statistics keep their dotted key; per-task ones become
    ``per_task.<task>.<key>``. Counts, tables and lists are not statistics and are
    left to the JSON export.
    """
    rows = []

    def add(prefix: str, entries: dict[str, object]) -> None:
        for key, value in entries.items():
            if _is_stat(value):
                rows.append({"key": prefix + key, **{f: value.get(f) for f in STAT_FIELDS}})

    add("", report)
    for task, entries in (report.get("per_task") or {}).items():
        add(f"per_task.{task}.", entries)
    return rows


def report_csv(*, report: dict[str, object]) -> bytes:
    """One row per statistic (:func:`stat_rows`), as CSV."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["key", *STAT_FIELDS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(stat_rows(report=report))
    return buffer.getvalue().encode("utf-8")
