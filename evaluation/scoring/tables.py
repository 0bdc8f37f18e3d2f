"""Reading ratings, episodes and verdicts files, and writing rankings.

Readers return plain DataFrames with string keys and integer scores, and reject a
bad file with a :class:`TableError` naming the file, the line and the column. Line
numbers are those of a text editor (the header is line 1), also when a quoted
field such as a comment spans several lines. Extra columns are ignored, so the
app's full ratings export is accepted as is, but a row with more fields than the
header is refused (an unquoted comma shifts every cell after it). A byte-order mark
is skipped, and a file whose header is separated by semicolons (or tabs) rather than
commas, as spreadsheets write CSV in many locales, is read with that separator.

Written CSV is for people and spreadsheets: numbers rounded to
:data:`DISPLAY_DECIMALS`, and a text cell that a spreadsheet would run as a formula
marked as text with a leading ``'`` (:func:`spreadsheet_text`), which the readers
here take off again (:func:`from_spreadsheet_text`), so a file read back gives the
very same keys.
"""

from __future__ import annotations

import csv
import json
import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.scoring.bootstrap import (
    MAX_RESAMPLES,
    Leaderboard,
    TaskScore,
    TeamStanding,
    leaderboard,
)
from evaluation.scoring.protocol import SCORE_MAX, SCORE_MIN, ScoringInputError, natural_sorted

EPISODE_COLUMNS = ("task", "episode")
RATING_COLUMNS = ("task", "team", "episode", "rater", "score")
VERDICT_COLUMNS = ("task", "team", "episode", "score")
OUTPUT_FORMATS = (".csv", ".json")

DISPLAY_DECIMALS = 4  # rounding of numbers in CSV and XLSX; JSON keeps full precision
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"

_INTEGER = re.compile(r"[+-]?\d+")
_DELIMITERS = (",", ";", "\t")


def spreadsheet_text(text: str) -> str:
    """``text`` as a cell that a spreadsheet shows as text and never runs as a formula.

    A text starting with a formula trigger gets a leading ``'``, as spreadsheets mark
    text themselves; so does a text that :func:`from_spreadsheet_text` would
    otherwise change, so that reading back always gives ``text`` exactly.
    """
    if text[:1] in FORMULA_TRIGGERS or from_spreadsheet_text(text) != text:
        return TEXT_MARK + text
    return text


def from_spreadsheet_text(cell: str) -> str:
    """The text of a cell written by :func:`spreadsheet_text` (other cells are unchanged)."""
    if len(cell) > 1 and cell[0] == TEXT_MARK and (cell[1] in FORMULA_TRIGGERS or cell[1] == "'"):
        return cell[1:]
    return cell


class TableError(ScoringInputError):
    """A file that cannot be read; ``line`` and ``column`` point at the problem."""

    def __init__(
        self, message: str, *, path: Path, line: int | None = None, column: str | None = None
    ) -> None:
        where = path.name
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.column = column


@dataclass(frozen=True)
class _RawTable:
    path: Path
    frame: pd.DataFrame  # the wanted columns as stripped strings
    lines: pd.Series  # line number of each row's first line, aligned with frame


def _read_raw(path: Path, *, columns: Sequence[str]) -> _RawTable:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            delimiter = _delimiter(handle.readline())
            handle.seek(0)
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None or not any(cell.strip() for cell in header):
                raise TableError("the file is empty", path=path)
            names = [cell.strip() for cell in header]
            n_fields = len(header)
            positions = _column_positions(path=path, names=names, wanted=columns)
            pick = operator.itemgetter(*positions)
            width = max(positions) + 1
            rows: list[tuple[str, ...]] = []
            lines: list[int] = []
            first_line = reader.line_num + 1
            for record in reader:
                # blank lines, and rows of empty cells as spreadsheets write them
                if any(record) and (len(record) > 1 or record[0].strip()):
                    if len(record) > n_fields:
                        raise TableError(
                            f"{len(record)} fields where the header names {n_fields} columns "
                            "(a text with a comma that is not quoted?)",
                            path=path,
                            line=first_line,
                        )
                    if len(record) < width:  # the missing cells are reported as empty
                        record = record + [""] * (width - len(record))
                    rows.append(pick(record))
                    lines.append(first_line)
                first_line = reader.line_num + 1
    except FileNotFoundError:
        raise TableError("no such file", path=path) from None
    except UnicodeDecodeError as error:
        raise TableError(f"not UTF-8 text ({error.reason})", path=path) from None
    except csv.Error as error:
        raise TableError(f"not a valid CSV file ({error})", path=path) from None
    if len(columns) == 1:
        rows = [(row,) for row in rows]  # itemgetter of one position returns a bare str
    frame = pd.DataFrame(rows, columns=list(columns), dtype=str) if rows else pd.DataFrame()
    for column in frame.columns:
        frame[column] = _stripped(frame[column])
    if frame.empty:
        raise TableError("the file has a header but no rows", path=path)
    return _RawTable(path=path, frame=frame, lines=pd.Series(lines, dtype="int64"))


def _delimiter(header: str) -> str:
    """The first of comma, semicolon and tab found in the header line; comma by default."""
    return next((mark for mark in _DELIMITERS if mark in header), ",")


def _stripped(values: pd.Series) -> pd.Series:
    # Keys repeat a lot: cleaning the distinct values is far cheaper than every row.
    codes, uniques = pd.factorize(values)
    stripped = np.array(
        [from_spreadsheet_text(str(value).strip()) for value in uniques], dtype=object
    )
    return pd.Series(stripped[codes], index=values.index, dtype=str)


def _column_positions(*, path: Path, names: list[str], wanted: Sequence[str]) -> list[int]:
    positions = []
    for column in wanted:
        if column not in names:
            raise TableError(
                f"missing column (the header has {', '.join(names)})",
                path=path,
                line=1,
                column=column,
            )
        if names.count(column) > 1:
            raise TableError("the header names this column twice", path=path, line=1, column=column)
        positions.append(names.index(column))
    return positions


def _fail_at(table: _RawTable, *, rows: pd.Series, column: str, message: str) -> None:
    """Raise for the first flagged row, if any.

    ``message`` is a format string over ``value`` (the cell) and ``row`` (the row).
    """
    if rows.any():
        first = int(rows.to_numpy().nonzero()[0][0])
        row = table.frame.iloc[first].to_dict()
        raise TableError(
            message.format(value=row[column], row=row),
            path=table.path,
            line=int(table.lines.iloc[first]),
            column=column,
        )


def _check_filled(table: _RawTable) -> None:
    for column in table.frame.columns:
        _fail_at(table, rows=table.frame[column] == "", column=column, message="empty value")


def _parse_scores(table: _RawTable) -> pd.Series:
    text = table.frame["score"]
    not_integer = ~text.str.fullmatch(_INTEGER).astype(bool)
    _fail_at(table, rows=not_integer, column="score", message="{value!r} is not an integer")
    scores = text.astype("int64")
    _fail_at(
        table,
        rows=(scores < SCORE_MIN) | (scores > SCORE_MAX),
        column="score",
        message=f"score {{value}} is outside {SCORE_MIN}-{SCORE_MAX}",
    )
    return scores


def _check_unique(table: _RawTable, *, key: Sequence[str], column: str, what: str) -> None:
    repeated = table.frame.duplicated(list(key), keep="first")
    if repeated.any():
        first = int(repeated.to_numpy().nonzero()[0][0])
        row = table.frame.iloc[first]
        same = (table.frame[list(key)] == row[list(key)]).all(axis=1).to_numpy().nonzero()[0]
        raise TableError(
            f"{what} already given on line {int(table.lines.iloc[same[0]])}",
            path=table.path,
            line=int(table.lines.iloc[first]),
            column=column,
        )


def _check_in_episodes(table: _RawTable, *, episodes: pd.DataFrame, source: str) -> None:
    known_tasks = set(episodes["task"].unique())
    _fail_at(
        table,
        rows=~table.frame["task"].isin(known_tasks),
        column="task",
        message=f"task {{value!r}} is not in {source}",
    )
    known = pd.MultiIndex.from_frame(episodes[["task", "episode"]])
    keys = pd.MultiIndex.from_frame(table.frame[["task", "episode"]])
    _fail_at(
        table,
        rows=pd.Series(~keys.isin(known)),
        column="episode",
        message=f"episode {{value!r}} of task {{row[task]!r}} is not in {source}",
    )


def read_episodes(path: str | Path) -> pd.DataFrame:
    """The rated set as a DataFrame with columns task, episode."""
    table = _read_raw(Path(path), columns=EPISODE_COLUMNS)
    _check_filled(table)
    _check_unique(table, key=EPISODE_COLUMNS, column="episode", what="this episode is")
    return table.frame.reset_index(drop=True)


def rated_set_from(episodes: pd.DataFrame) -> dict[str, list[str]]:
    """``{task: [episodes]}`` in file order, tasks in natural order."""
    grouped = {
        str(task): [str(episode) for episode in group["episode"]]
        for task, group in episodes.groupby("task", sort=False)
    }
    return {task: grouped[task] for task in natural_sorted(grouped)}


def read_ratings(path: str | Path, *, episodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Ratings with columns task, team, episode, rater (str) and score (int 0-3).

    With ``episodes`` (from :func:`read_episodes`), every rated episode must be one
    of them.
    """
    table = _read_raw(Path(path), columns=RATING_COLUMNS)
    _check_filled(table)
    scores = _parse_scores(table)
    _check_unique(
        table,
        key=("task", "team", "episode", "rater"),
        column="rater",
        what="a rating of this clip by this rater was",
    )
    if episodes is not None:
        _check_in_episodes(table, episodes=episodes, source="the episodes file")
    frame = table.frame.copy()
    frame["score"] = scores
    return frame


def read_verdicts(path: str | Path, *, episodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Judge verdicts with columns task, team, episode (str) and score (int 0-3)."""
    table = _read_raw(Path(path), columns=VERDICT_COLUMNS)
    _check_filled(table)
    scores = _parse_scores(table)
    _check_unique(
        table, key=("task", "team", "episode"), column="episode", what="a verdict on this clip was"
    )
    if episodes is not None:
        _check_in_episodes(table, episodes=episodes, source="the episodes file")
    frame = table.frame.copy()
    frame["score"] = scores
    return frame


def _finite_or_none(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


@dataclass(frozen=True)
class ProtocolCounts:
    """The terms of the protocol's ``S = (3·N3 + 2·N2 + N1) / N_total`` for one team and task.

    ``n_total`` gives every episode of ``E(task)`` ``raters_per_cell`` ratings (never
    fewer than the ratings given); ``n_missing`` are those that count 0 because the
    episode was not submitted, was rejected or is not (fully) rated yet.
    """

    n3: int
    n2: int
    n1: int
    n0: int
    n_missing: int
    n_total: int

    @property
    def n_ratings(self) -> int:
        return self.n3 + self.n2 + self.n1 + self.n0

    @property
    def score(self) -> float:
        """``(3·N3 + 2·N2 + N1) / N_total``: ``S`` whenever every rated clip has the same
        number of ratings, ``raters_per_cell``."""
        return (3 * self.n3 + 2 * self.n2 + self.n1) / self.n_total if self.n_total else 0.0


def protocol_counts(score: TaskScore, *, raters_per_cell: int) -> ProtocolCounts:
    counts = score.counts
    n_ratings = counts.n3 + counts.n2 + counts.n1 + counts.n0
    n_total = max(score.n_expected * raters_per_cell, n_ratings)
    return ProtocolCounts(
        n3=counts.n3,
        n2=counts.n2,
        n1=counts.n1,
        n0=counts.n0,
        n_missing=n_total - n_ratings,
        n_total=n_total,
    )


def raters_per_cell_of(ratings: pd.DataFrame) -> int:
    """The most ratings any clip carries: the raters per clip, once rating is complete."""
    if ratings.empty:
        return 1
    return int(ratings.groupby(["task", "team", "episode"], sort=False).size().max())


RANKINGS_COLUMNS = (
    "rank",
    "team",
    "final_score",
    "ci_low",
    "ci_high",
    "rank_probability",
    "n_ratings",
    "n_total",
    "coverage",
)
TASK_COLUMN_SUFFIXES = ("", "_n3", "_n2", "_n1", "_n0", "_n_missing", "_n_total")


def rankings_columns(tasks: Sequence[str]) -> list[str]:
    """The columns of every rankings file, ``manage.py rank`` and the app's exports alike.

    The team's columns, then per task its score ``S`` (named as the task) and the
    terms of :class:`ProtocolCounts` (``<task>_n3`` ... ``<task>_n_total``).
    ``coverage`` is the share of the team's ``n_total`` ratings that are in.
    """
    return [
        *RANKINGS_COLUMNS,
        *(f"{task}{suffix}" for task in tasks for suffix in TASK_COLUMN_SUFFIXES),
    ]


@dataclass(frozen=True)
class RankingsRow:
    """One team of the rankings: its standing and, per task, the protocol's terms.

    The one projection of a leaderboard row to figures: the rankings files, the
    leaderboard page, its API and a team's own results all read their numbers off it.
    """

    standing: TeamStanding
    counts: dict[str, ProtocolCounts]  # per task, in the board's task order

    @property
    def n_ratings(self) -> int:
        return sum(cell.n_ratings for cell in self.counts.values())

    @property
    def n_total(self) -> int:
        """The tasks' ``N_total``, summed."""
        return sum(cell.n_total for cell in self.counts.values())

    @property
    def coverage(self) -> float:
        """Share of the team's ``n_total`` ratings that are in."""
        return self.n_ratings / self.n_total if self.n_total else 0.0


def rankings_rows(board: Leaderboard, *, raters_per_cell: int) -> list[RankingsRow]:
    """One :class:`RankingsRow` per team, best first."""
    return [
        RankingsRow(
            standing=standing,
            counts={
                task: protocol_counts(standing.tasks[task], raters_per_cell=raters_per_cell)
                for task in board.tasks
            },
        )
        for standing in board.teams
    ]


def rankings_frame(board: Leaderboard, *, raters_per_cell: int) -> pd.DataFrame:
    """One row per team, best first, in :func:`rankings_columns`, at full precision."""
    rows = []
    for row in rankings_rows(board, raters_per_cell=raters_per_cell):
        standing = row.standing
        cells: list[object] = [
            standing.rank,
            standing.team,
            standing.final_score,
            standing.ci_low,
            standing.ci_high,
            standing.rank_probability,
            row.n_ratings,
            row.n_total,
            row.coverage,
        ]
        for task, cell in row.counts.items():
            cells += [standing.tasks[task].score, cell.n3, cell.n2, cell.n1, cell.n0]
            cells += [cell.n_missing, cell.n_total]
        rows.append(cells)
    return pd.DataFrame(rows, columns=rankings_columns(board.tasks))


def table_records(table: pd.DataFrame) -> list[dict[str, object]]:
    """JSON-ready rows at full precision: Python numbers, ``None`` for a missing value."""
    records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
    return [{str(key): _finite_or_none(value) for key, value in row.items()} for row in records]


def for_people(
    table: pd.DataFrame, *, decimals: int = DISPLAY_DECIMALS, mark_formulas: bool = True
) -> pd.DataFrame:
    """``table`` as CSV and XLSX show it: floats rounded and, with ``mark_formulas``,
    texts that a spreadsheet would run as a formula marked as text (:func:`spreadsheet_text`).

    Only text is marked: a negative number stays a number.
    """
    shown = table.copy()
    for column in shown.columns:
        values = shown[column]
        if pd.api.types.is_float_dtype(values):
            shown[column] = values.round(decimals)
        elif values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            shown[column] = values.map(
                lambda value: _cell_for_people(value, decimals=decimals, mark=mark_formulas)
            )
    if mark_formulas:
        shown.columns = [spreadsheet_text(str(column)) for column in shown.columns]
    return shown


def _cell_for_people(value: object, *, decimals: int, mark: bool) -> object:
    if isinstance(value, str):
        return spreadsheet_text(value) if mark else value
    if isinstance(value, float):
        return round(value, decimals)
    return value


def csv_text(table: pd.DataFrame) -> str:
    """``table`` as CSV for people (see :func:`for_people`).

    Lines end in CRLF, as RFC 4180 has it: the writer then quotes every text holding
    a line break, a lone carriage return included, so no text can split a row.
    """
    return for_people(table).to_csv(index=False, lineterminator="\r\n")


def check_output_path(path: str | Path) -> Path:
    output = Path(path)
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise ScoringInputError(
            f"output {output.name!r} must end in {' or '.join(OUTPUT_FORMATS)} "
            "(the extension chooses the format)"
        )
    return output


def rankings_json(table: pd.DataFrame) -> str:
    return json.dumps(table_records(table), indent=2, allow_nan=False) + "\n"


def write_rankings(*, board: Leaderboard, path: str | Path, raters_per_cell: int) -> Path:
    """Write rankings as CSV or JSON, chosen by the extension of ``path``."""
    output = check_output_path(path)
    output.parent.mkdir(parents=True, exist_ok=True)
    table = rankings_frame(board, raters_per_cell=raters_per_cell)
    if output.suffix.lower() == ".csv":
        output.write_text(csv_text(table), encoding="utf-8")
    else:
        output.write_text(rankings_json(table), encoding="utf-8")
    return output


def check_resamples(n_boot: int) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or not 1 <= n_boot <= MAX_RESAMPLES:
        raise ScoringInputError(
            f"the number of bootstrap resamples must be an integer from 1 to {MAX_RESAMPLES}, "
            f"not {n_boot!r}"
        )


def rank_files(
    *,
    ratings_path: str | Path,
    output_path: str | Path,
    episodes_path: str | Path | None = None,
    n_boot: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    raters_per_cell: int | None = None,
) -> Leaderboard:
    """Read a ratings export (and the rated set), rank the teams, write the rankings.

    Without an episodes file, the rated set of a task is the episodes rated in it.
    Without ``raters_per_cell`` (which only counts ``n_total`` and ``n_missing``), it
    is the most ratings any clip carries.
    """
    output = check_output_path(output_path)
    check_resamples(n_boot)
    if raters_per_cell is not None and raters_per_cell < 1:
        raise ScoringInputError(f"raters per cell must be at least 1, not {raters_per_cell}")
    episodes = read_episodes(episodes_path) if episodes_path is not None else None
    ratings = read_ratings(ratings_path, episodes=episodes)
    rated_set = rated_set_from(episodes) if episodes is not None else None
    board = leaderboard(
        ratings=ratings, rated_set=rated_set, n_boot=n_boot, seed=seed, confidence=confidence
    )
    write_rankings(
        board=board,
        path=output,
        raters_per_cell=raters_per_cell or raters_per_cell_of(ratings),
    )
    return board
