"""Campaign scoring: ORM rows -> plain DataFrames -> the pure core; exports and the figure.

The leaderboard, the comparison of two teams and every export of a campaign are
computed from the same inputs (the scored ratings, the rated set, the tasks and
the teams) and carry the same *input hash*, a sha256 of those inputs in a
canonical form (see :func:`input_hash_of`). An auditor who holds ``ratings.csv``
and ``episodes.csv`` can recompute that hash and the rankings offline with
``manage.py rank --ratings ratings.csv --episodes episodes.csv --seed SEED``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import matplotlib
import pandas as pd
from django.core.cache import cache
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from annotate.models import Campaign
from evaluation import selectors
from evaluation.figures import LITERAL_TEXT
from evaluation.scoring import (
    MAX_RESAMPLES,
    Leaderboard,
    PairedComparison,
    ScoringInputError,
    csv_text,
    for_people,
    leaderboard,
    paired_comparison,
    rankings_frame,
    table_records,
)

matplotlib.use("Agg")  # figures are rendered on servers without a display

from matplotlib.figure import Figure  # noqa: E402

EXPORT_KINDS = ("rankings", "ratings", "episodes")
EXPORT_FORMATS = ("csv", "json", "xlsx")
FIGURE_FORMATS = ("png", "svg")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "svg": "image/svg+xml",
}
INPUT_HASH_HEADER = "X-Refscore-Input-Hash"
LEADERBOARD_CACHE_SECONDS = 3600
# Bumped whenever the canonical form of the inputs changes, so old hashes never
# silently match new data.
_CANONICAL_FORM_VERSION = 1


class ScoringRequestError(ScoringInputError):
    """A scoring request that cannot be served; the message says what is wrong."""


@dataclass(frozen=True)
class ScoringParameters:
    n_boot: int = 1000
    seed: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if (
            isinstance(self.n_boot, bool)
            or not isinstance(self.n_boot, int)
            or not 1 <= self.n_boot <= MAX_RESAMPLES
        ):
            raise ScoringRequestError(
                "the number of bootstrap resamples must be an integer from 1 to "
                f"{MAX_RESAMPLES}, not {self.n_boot!r}"
            )
        if not 0.0 < self.confidence < 1.0:
            raise ScoringRequestError(
                f"confidence must lie strictly between 0 and 1, not {self.confidence!r}"
            )

    @classmethod
    def for_campaign(
        cls, *, campaign: Campaign, n_boot: int = 1000, confidence: float = 0.95
    ) -> ScoringParameters:
        """The campaign's seed drives its bootstrap too, so its leaderboard never wobbles."""
        return cls(n_boot=n_boot, seed=campaign.seed, confidence=confidence)


@dataclass(frozen=True)
class ScoringInputs:
    ratings: pd.DataFrame  # at least task, team, episode, rater, score
    rated_set: dict[str, list[str]]
    tasks: list[str]
    teams: list[str]


def scoring_inputs(*, campaign: Campaign, detailed: bool = False) -> ScoringInputs:
    """Everything the scoring core needs about a campaign, in a fixed number of queries."""
    return ScoringInputs(
        ratings=selectors.ratings_frame(campaign=campaign, detailed=detailed),
        rated_set=selectors.rated_set(campaign=campaign),
        tasks=selectors.campaign_tasks(campaign=campaign),
        teams=selectors.entrant_teams(campaign=campaign),
    )


def input_hash_of(
    *,
    ratings: pd.DataFrame,
    rated_set: Mapping[str, Sequence[str]],
    tasks: Sequence[str],
    teams: Sequence[str],
    parameters: ScoringParameters,
) -> str:
    """sha256 of the scoring inputs in a canonical form, as a hex string.

    The canonical form is a JSON line (form version, parameters, tasks, teams, the
    rated set with episodes in their order) followed by the ratings' five scoring
    columns as header-less CSV sorted by task, team, episode and rater. Comments,
    timestamps and row order do not change the hash; anything that changes a score
    does.
    """
    head = json.dumps(
        {
            "form": _CANONICAL_FORM_VERSION,
            "parameters": asdict(parameters),
            "tasks": [str(task) for task in tasks],
            "teams": [str(team) for team in teams],
            "rated_set": {
                str(task): [str(episode) for episode in episodes]
                for task, episodes in rated_set.items()
            },
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    keys = ["task", "team", "episode", "rater"]
    canonical = ratings.loc[:, [*keys, "score"]].astype({key: str for key in keys})
    canonical["score"] = canonical["score"].astype("int64")
    body = canonical.sort_values(keys, kind="stable").to_csv(
        header=False, index=False, lineterminator="\n"
    )
    digest = hashlib.sha256(head.encode())
    digest.update(b"\n")
    digest.update(body.encode())
    return digest.hexdigest()


def _input_hash(inputs: ScoringInputs, parameters: ScoringParameters) -> str:
    return input_hash_of(
        ratings=inputs.ratings,
        rated_set=inputs.rated_set,
        tasks=inputs.tasks,
        teams=inputs.teams,
        parameters=parameters,
    )


@dataclass(frozen=True)
class CampaignLeaderboard:
    campaign_slug: str
    board: Leaderboard
    coverage: dict[tuple[str, str], selectors.Coverage]
    parameters: ScoringParameters
    input_hash: str
    n_ratings: int
    teams_without_ratings: list[str]  # ranked at 0; a re-ranking of the export omits them
    raters_per_cell: int  # the campaign's setting: N_total counts this many per episode

    def cell_coverage(self, *, team: str, task: str) -> selectors.Coverage:
        return self.coverage.get((team, task), selectors.Coverage(n_ratings=0, n_expected=0))

    def team_coverage(self, *, team: str) -> selectors.Coverage:
        cells = [self.cell_coverage(team=team, task=task) for task in self.board.tasks]
        return selectors.Coverage(
            n_ratings=sum(cell.n_ratings for cell in cells),
            n_expected=sum(cell.n_expected for cell in cells),
        )


def _checked_inputs(*, campaign: Campaign, inputs: ScoringInputs) -> None:
    if not inputs.tasks:
        raise ScoringRequestError(f"campaign {campaign.slug!r} has no task yet")
    if not inputs.teams:
        raise ScoringRequestError(f"campaign {campaign.slug!r} has no team with a submission yet")


def campaign_leaderboard(
    *, campaign: Campaign, parameters: ScoringParameters | None = None
) -> CampaignLeaderboard:
    """Ranked teams of a campaign with intervals, rank probabilities and coverage."""
    parameters = parameters or ScoringParameters.for_campaign(campaign=campaign)
    inputs = scoring_inputs(campaign=campaign)
    _checked_inputs(campaign=campaign, inputs=inputs)
    return _leaderboard_of(campaign=campaign, inputs=inputs, parameters=parameters)


def _leaderboard_of(
    *, campaign: Campaign, inputs: ScoringInputs, parameters: ScoringParameters
) -> CampaignLeaderboard:
    input_hash = _input_hash(inputs, parameters)
    # The board is a pure function of the hashed inputs, so a page and its figure,
    # or two organizers looking at unchanged data, share one bootstrap.
    cache_key = f"refscore:leaderboard:{input_hash}"
    board = cache.get(cache_key)
    if board is None:
        board = leaderboard(
            ratings=inputs.ratings,
            rated_set=inputs.rated_set,
            tasks=inputs.tasks,
            teams=inputs.teams,
            n_boot=parameters.n_boot,
            seed=parameters.seed,
            confidence=parameters.confidence,
        )
        cache.set(cache_key, board, timeout=LEADERBOARD_CACHE_SECONDS)
    rated_teams = set(inputs.ratings["team"])
    return CampaignLeaderboard(
        campaign_slug=campaign.slug,
        board=board,
        coverage=selectors.coverage(campaign=campaign),
        parameters=parameters,
        input_hash=input_hash,
        n_ratings=len(inputs.ratings),
        teams_without_ratings=[team for team in inputs.teams if team not in rated_teams],
        raters_per_cell=campaign.raters_per_cell,
    )


@dataclass(frozen=True)
class CampaignComparison:
    comparison: PairedComparison
    parameters: ScoringParameters
    input_hash: str


def campaign_comparison(
    *,
    campaign: Campaign,
    candidate: str,
    incumbent: str,
    margin: float = 0.0,
    n_boot: int = 2000,
    confidence: float = 0.95,
) -> CampaignComparison:
    """Release gate: does ``candidate`` beat ``incumbent`` by at least ``margin``?"""
    parameters = ScoringParameters.for_campaign(
        campaign=campaign, n_boot=n_boot, confidence=confidence
    )
    if not math.isfinite(margin) or margin < 0:
        raise ScoringRequestError(f"margin must be a finite number >= 0, not {margin!r}")
    inputs = scoring_inputs(campaign=campaign)
    _checked_inputs(campaign=campaign, inputs=inputs)
    for role, team in (("candidate", candidate), ("incumbent", incumbent)):
        if team not in inputs.teams:
            raise ScoringRequestError(
                f"{role} {team!r} is not a team with a submission in campaign {campaign.slug!r}"
            )
    comparison = paired_comparison(
        ratings=inputs.ratings,
        rated_set=inputs.rated_set,
        tasks=inputs.tasks,
        candidate=candidate,
        incumbent=incumbent,
        margin=margin,
        n_boot=parameters.n_boot,
        seed=parameters.seed,
        confidence=parameters.confidence,
    )
    return CampaignComparison(
        comparison=comparison, parameters=parameters, input_hash=_input_hash(inputs, parameters)
    )


# --- exports -------------------------------------------------------------------------


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
        input_hash=_input_hash(inputs, parameters),
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
    table = ratings.loc[:, list(selectors.RATING_EXPORT_COLUMNS)].copy()
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
    *, campaign: Campaign, what: str, input_hash: str, parameters: ScoringParameters, now
) -> dict[str, object]:
    return {
        "input_hash": input_hash,
        "generated_at": now.isoformat(),
        "campaign": campaign.slug,
        "what": what,
        "parameters": asdict(parameters),
    }


def _csv_bytes(table: pd.DataFrame) -> bytes:
    return csv_text(table).encode("utf-8")


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
    """One export of a campaign as a file: rankings, ratings or episodes; CSV, JSON or XLSX.

    The ratings and episodes CSV are exactly what ``manage.py rank`` reads, so the
    hash travels outside them (``input_hash`` here, a response header on the web).
    """
    if what not in EXPORT_KINDS:
        raise ScoringRequestError(f"export {what!r} is unknown; choose one of {EXPORT_KINDS}")
    if fmt not in EXPORT_FORMATS:
        raise ScoringRequestError(f"format {fmt!r} is unknown; choose one of {EXPORT_FORMATS}")
    parameters = parameters or ScoringParameters.for_campaign(campaign=campaign)
    now = now or timezone.now()
    inputs = scoring_inputs(campaign=campaign, detailed=what == "ratings")
    input_hash = _input_hash(inputs, parameters)
    if what == "rankings":
        _checked_inputs(campaign=campaign, inputs=inputs)
        result = _leaderboard_of(campaign=campaign, inputs=inputs, parameters=parameters)
        table = rankings_frame(result.board, raters_per_cell=result.raters_per_cell)
    elif what == "ratings":
        table = _ratings_table(inputs.ratings)
    else:
        table = _episodes_table(inputs.rated_set)
    meta = _meta(
        campaign=campaign, what=what, input_hash=input_hash, parameters=parameters, now=now
    )
    if fmt == "csv":
        content = _csv_bytes(table)
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


# --- figure --------------------------------------------------------------------------


def leaderboard_figure(*, board: Leaderboard, fmt: str = "png") -> bytes:
    """Final scores with their intervals, best at the top, as PNG or SVG bytes."""
    if fmt not in FIGURE_FORMATS:
        raise ScoringRequestError(
            f"figure format {fmt!r} is unknown; choose one of {FIGURE_FORMATS}"
        )
    # Team names are drawn as written, never as math text (see evaluation.figures).
    with matplotlib.rc_context(LITERAL_TEXT):
        return _leaderboard_figure(board=board, fmt=fmt)


def _leaderboard_figure(*, board: Leaderboard, fmt: str) -> bytes:
    standings = board.teams  # best first
    n_teams = len(standings)
    labels = [f"{s.rank}. {s.team}" for s in standings]
    # Wider for long names (a 10-point character is about 0.076 in), so the plot keeps its room.
    width = min(max(7.5, 5.0 + 0.076 * max(len(label) for label in labels)), 12.0)
    figure = Figure(figsize=(width, 1.2 + 0.28 * max(n_teams, 1)), layout="constrained")
    axes = figure.subplots()
    positions = list(range(n_teams))[::-1]  # best at the top
    scores = [standing.final_score for standing in standings]
    errors = [
        [max(s.final_score - s.ci_low, 0.0) for s in standings],
        [max(s.ci_high - s.final_score, 0.0) for s in standings],
    ]
    axes.errorbar(
        scores, positions, xerr=errors, fmt="o", color="#2454d6", ecolor="#9db4f0", capsize=3
    )
    axes.set_yticks(positions, labels)
    axes.set_xlim(0, 3)
    axes.set_xlabel(f"final score (0-3) with {board.confidence:.0%} bootstrap interval")
    axes.grid(axis="x", alpha=0.3)
    buffer = io.BytesIO()
    # A fixed date keeps SVG output byte-stable for the same leaderboard.
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
