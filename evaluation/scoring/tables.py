"""Reading ratings, episodes and verdicts files, and writing rankings.

Readers return plain DataFrames with string keys and integer scores, and reject a
bad file with a :class:`TableError` naming the file, the line and the column. Line
numbers are those of a text editor (the header is line 1), also when a quoted
field such as a comment spans several lines. Extra columns are ignored, so the
app's full ratings export is accepted as is. A byte-order mark is skipped, and a
file whose header is separated by semicolons (or tabs) rather than commas, as
spreadsheets write CSV in many locales, is read with that separator.
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

from evaluation.scoring.bootstrap import Leaderboard, leaderboard
from evaluation.scoring.protocol import SCORE_MAX, SCORE_MIN, ScoringInputError, natural_sorted

EPISODE_COLUMNS = ("task", "episode")
RATING_COLUMNS = ("task", "team", "episode", "rater", "score")
VERDICT_COLUMNS = ("task", "team", "episode", "score")
OUTPUT_FORMATS = (".csv", ".json")

_INTEGER = re.compile(r"[+-]?\d+")
_DELIMITERS = (",", ";", "\t")


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
            positions = _column_positions(path=path, names=names, wanted=columns)
            pick = operator.itemgetter(*positions)
            width = max(positions) + 1
            rows: list[tuple[str, ...]] = []
            lines: list[int] = []
            first_line = reader.line_num + 1
            for record in reader:
                # blank lines, and rows of empty cells as spreadsheets write them
                if any(record) and (len(record) > 1 or record[0].strip()):
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
    # Keys repeat a lot: stripping the distinct values is far cheaper than every row.
    codes, uniques = pd.factorize(values)
    stripped = np.array([str(value).strip() for value in uniques], dtype=object)
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


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def check_output_path(path: str | Path) -> Path:
    output = Path(path)
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise ScoringInputError(
            f"output {output.name!r} must end in {' or '.join(OUTPUT_FORMATS)} "
            "(the extension chooses the format)"
        )
    return output


def write_rankings(*, board: Leaderboard, path: str | Path) -> Path:
    """Write rankings as CSV or JSON, chosen by the extension of ``path``."""
    output = check_output_path(path)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        board.to_frame().to_csv(output, index=False, float_format="%.6f")
    else:
        records = [
            {
                key: _finite_or_none(value) if isinstance(value, float) else value
                for key, value in record.items()
            }
            for record in board.to_records()
        ]
        output.write_text(json.dumps(records, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return output


def rank_files(
    *,
    ratings_path: str | Path,
    output_path: str | Path,
    episodes_path: str | Path | None = None,
    n_boot: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> Leaderboard:
    """Read a ratings export (and the rated set), rank the teams, write the rankings.

    Without an episodes file, the rated set of a task is the episodes rated in it.
    """
    output = check_output_path(output_path)
    episodes = read_episodes(episodes_path) if episodes_path is not None else None
    ratings = read_ratings(ratings_path, episodes=episodes)
    rated_set = rated_set_from(episodes) if episodes is not None else None
    board = leaderboard(
        ratings=ratings, rated_set=rated_set, n_boot=n_boot, seed=seed, confidence=confidence
    )
    write_rankings(board=board, path=output)
    return board
