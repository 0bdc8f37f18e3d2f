"""Figures as PNG or SVG bytes: the leaderboard's, and those of an agreement report.

The leaderboard figure is drawn from a :class:`~evaluation.scoring.Leaderboard`; each
agreement figure from the JSON-ready report of
:func:`evaluation.scoring.agreement.agreement_report` alone, so the figures of a
downloaded ``report.json`` can be redrawn without the database.

Texts come from data (team and task names), so they are drawn as written: never
as math text, where a stray ``$`` would fail the whole figure (:data:`LITERAL_TEXT`).

Titles, axis labels and keys are in the reader's language (the request's), drawn with a
font that has its characters (:func:`figure_text`). A server with no font for Chinese
draws its figures in English rather than as empty boxes: install one of
:data:`CJK_FONTS` (Debian: ``fonts-noto-cjk`` or ``fonts-wqy-microhei``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache

import matplotlib
import numpy as np
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

matplotlib.use("Agg")  # figures are rendered on servers without a display

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from evaluation.scoring import Leaderboard  # noqa: E402

FIGURE_FORMATS = ("png", "svg")
HUMAN_COLOUR = "#2454d6"
JUDGE_COLOUR = "#d97706"
RATER_COLOUR = "#1a7f37"
SCORES = (0, 1, 2, 3)

Report = Mapping[str, object]
# Build and save a figure under these settings: "$a$" then reads "$a$", not italic a.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}


# Fonts with Simplified Chinese, tried in this order after matplotlib's own DejaVu Sans
# (which has none): the first installed one draws what DejaVu Sans cannot.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)


@cache
def cjk_fonts() -> tuple[str, ...]:
    """The fonts of CJK_FONTS that matplotlib finds on this server."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return tuple(name for name in CJK_FONTS if name in installed)


@contextmanager
def figure_text() -> Iterator[None]:
    """Draw (and save) a figure under this: texts literal (LITERAL_TEXT), in the reader's
    language when a font can draw it, else in English."""
    fonts = cjk_fonts()
    settings: dict[str, object] = dict(LITERAL_TEXT)
    if fonts:
        settings["font.family"] = ["DejaVu Sans", *fonts]
    language = translation.get_language() or "en"
    speaks = "en" if language.startswith("zh") and not fonts else language
    with translation.override(speaks), matplotlib.rc_context(settings):
        yield


class FigureError(ValueError):
    """A figure that cannot be drawn from this report; the message says why, in the
    reader's language."""


def _unknown_format(fmt: str) -> FigureError:
    return FigureError(
        _("figure format %(fmt)r is unknown; choose one of %(formats)s")
        % {"fmt": fmt, "formats": ", ".join(FIGURE_FORMATS)}
    )


# Width of one character of an 8-point label, in inches (DejaVu Sans averages 0.55 em):
# figures grow with their longest name instead of squeezing the plot or cutting names.
_LABEL_CHAR_INCHES = 0.55 * 8 / 72
_LONG_TASK_LABEL = 6  # characters: longer task names are set at a slant


def _label_inches(labels: list[str]) -> float:
    return _LABEL_CHAR_INCHES * max((len(label) for label in labels), default=0)


def _task_ticks(axes, positions: np.ndarray, tasks: list[str]) -> None:
    """Task names under their bars, slanted when they are long so that they never overlap."""
    if max((len(task) for task in tasks), default=0) > _LONG_TASK_LABEL:
        axes.set_xticks(
            positions, tasks, rotation=30, ha="right", rotation_mode="anchor", fontsize=8
        )
    else:
        axes.set_xticks(positions, tasks)


def _save(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # SVG text stays text (searchable, selectable, smaller than glyph paths); no date
    # in its metadata, so the same report gives byte-identical files.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "refscore"}):
        figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else {})
    return buffer.getvalue()


# --- the leaderboard ---------------------------------------------------------------------


def leaderboard_figure(*, board: Leaderboard, fmt: str = "png") -> bytes:
    """Final scores with their intervals, best at the top, as PNG or SVG bytes."""
    if fmt not in FIGURE_FORMATS:
        raise _unknown_format(fmt)
    with figure_text():
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
        scores, positions, xerr=errors, fmt="o", color=HUMAN_COLOUR, ecolor="#9db4f0", capsize=3
    )
    axes.set_yticks(positions, labels)
    axes.set_xlim(0, 3)
    axes.set_xlabel(
        _("final score (0-3) with %(level)s bootstrap interval")
        % {"level": f"{board.confidence:.0%}"}
    )
    axes.grid(axis="x", alpha=0.3)
    buffer = io.BytesIO()
    # A fixed date keeps SVG output byte-stable for the same leaderboard.
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


# --- an agreement report ------------------------------------------------------------------


def _teams(report: Report) -> list[dict]:
    teams = report.get("teams")
    if not teams:
        raise FigureError(_("the report has no team scores: it was computed without a judge run"))
    return list(teams)  # type: ignore[arg-type]


def confusion_figure(*, report: Report) -> Figure:
    """4x4 heatmap of clips: rows human consensus 0-3, columns judge score 0-3, with counts."""
    if "video.confusion" not in report:
        raise FigureError(
            _("the report has no confusion matrix: it was computed without a judge run")
        )
    matrix = np.asarray(report["video.confusion"], dtype=np.int64)
    figure = Figure(figsize=(4.8, 4.2), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap="Blues", vmin=0, vmax=max(int(matrix.max()), 1))
    threshold = matrix.max() / 2.0
    for human in SCORES:
        for judge in SCORES:
            count = int(matrix[human, judge])
            axes.text(
                judge,
                human,
                str(count),
                ha="center",
                va="center",
                fontweight="bold" if human == judge else "normal",
                color="white" if count > threshold else "#1d232b",
            )
    axes.set_xticks(SCORES, [str(s) for s in SCORES])
    axes.set_yticks(SCORES, [str(s) for s in SCORES])
    axes.set_xlabel(_("judge score"))
    axes.set_ylabel(_("human consensus"))
    axes.set_title(_("Clips: human consensus vs judge (n = %(n)s)") % {"n": int(matrix.sum())})
    figure.colorbar(image, ax=axes, shrink=0.8, label=_("clips"))
    return figure


def scatter_figure(*, report: Report) -> Figure:
    """Team final scores, humans (x) against the judge (y), with the identity line.

    Points carry the team's human rank; the key beside the plot names them, so close
    points never pile their names on each other.
    """
    teams = sorted(_teams(report), key=lambda team: (team["human_rank"], str(team["team"])))
    human = [team["human_score"] for team in teams]
    judge = [team["judge_score"] for team in teams]
    key = [f"{team['human_rank']}. {team['team']}" for team in teams]
    # The key's width on top of a square plot, so the identity line is the diagonal.
    width = 4.8 + _label_inches(key)
    figure = Figure(figsize=(min(width, 12.0), 4.8), layout="constrained")
    axes = figure.subplots()
    axes.plot(
        [0, 3], [0, 3], color="#9ca3af", linestyle="--", linewidth=1, label=_("judge = humans")
    )
    axes.scatter(human, judge, color=HUMAN_COLOUR, zorder=3)
    for team, x, y in zip(teams, human, judge, strict=True):
        axes.annotate(
            str(team["human_rank"]), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=8
        )
    axes.set_xlim(0, 3)
    axes.set_ylim(0, 3)
    axes.set_xlabel(_("human final score (0-3)"))
    axes.set_ylabel(_("judge final score (0-3)"))
    axes.set_title(_("Team final scores"))
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    blank = Line2D([], [], linestyle="none")
    figure.legend(
        [blank] * len(key),
        key,
        loc="outside right upper",
        title=_("human rank"),
        fontsize=8,
        title_fontsize=8,
        handlelength=0,
        handletextpad=0,
        frameon=False,
    )
    return figure


def task_scores_figure(*, report: Report) -> Figure:
    """Per task, the mean over teams of S(team, task) by the humans and by the judge."""
    teams = _teams(report)
    tasks = list(teams[0]["task_scores"])
    human = [np.mean([team["task_scores"][task]["human"] for team in teams]) for task in tasks]
    judge = [np.mean([team["task_scores"][task]["judge"] for team in teams]) for task in tasks]
    positions = np.arange(len(tasks))
    figure = Figure(figsize=(max(5.0, 0.9 * len(tasks) + 2.0), 3.8), layout="constrained")
    axes = figure.subplots()
    axes.bar(positions - 0.2, human, width=0.4, color=HUMAN_COLOUR, label=_("humans"))
    axes.bar(positions + 0.2, judge, width=0.4, color=JUDGE_COLOUR, label=_("judge"))
    _task_ticks(axes, positions, tasks)
    axes.set_ylim(0, 3)
    axes.set_ylabel(_("mean S(team, task) over teams"))
    axes.set_title(_("Task scores: humans vs judge"))
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def _stat_bars(axes, *, x: np.ndarray, stats: list[dict | None], colour: str, label: str) -> None:
    """Bars with interval whiskers; an undefined statistic is marked instead of drawn."""
    values = np.array([s["value"] if s and s["value"] is not None else np.nan for s in stats])
    lows = np.array([s["ci_low"] if s and s["ci_low"] is not None else np.nan for s in stats])
    highs = np.array([s["ci_high"] if s and s["ci_high"] is not None else np.nan for s in stats])
    defined = np.isfinite(values)
    axes.bar(x[defined], values[defined], width=0.4, color=colour, label=label)
    with_interval = defined & np.isfinite(lows) & np.isfinite(highs)
    axes.errorbar(
        x[with_interval],
        values[with_interval],
        yerr=[
            np.maximum(values[with_interval] - lows[with_interval], 0.0),
            np.maximum(highs[with_interval] - values[with_interval], 0.0),
        ],
        fmt="none",
        ecolor="#1d232b",
        capsize=3,
    )
    for position in x[~defined]:
        axes.text(position, 0.02, _("n/a"), ha="center", va="bottom", fontsize=8, color="#667085")


def task_agreement_figure(*, report: Report) -> Figure:
    """Per task, the raters' ordinal alpha and (with a judge) the judge's QWK, with intervals."""
    per_task = report.get("per_task") or {}
    if not per_task:
        raise FigureError(_("the report has no per-task statistics"))
    tasks = list(per_task)  # type: ignore[arg-type]
    has_judge = any("video.qwk" in per_task[task] for task in tasks)  # type: ignore[index]
    positions = np.arange(len(tasks), dtype=np.float64)
    figure = Figure(figsize=(max(5.0, 0.9 * len(tasks) + 2.0), 3.8), layout="constrained")
    axes = figure.subplots()
    offset = 0.2 if has_judge else 0.0
    _stat_bars(
        axes,
        x=positions - offset,
        stats=[per_task[task].get("raters.krippendorff_alpha_ordinal") for task in tasks],
        colour=RATER_COLOUR,
        label=_("raters: Krippendorff's alpha (ordinal)"),
    )
    if has_judge:
        _stat_bars(
            axes,
            x=positions + offset,
            stats=[per_task[task].get("video.qwk") for task in tasks],
            colour=JUDGE_COLOUR,
            label=_("judge vs humans: QWK"),
        )
    axes.axhline(0, color="#9ca3af", linewidth=0.8)
    _task_ticks(axes, positions, tasks)
    axes.set_ylim(min(-0.2, axes.get_ylim()[0]), 1.05)
    axes.set_ylabel(_("agreement (%(level)s interval)") % {"level": "95%"})
    axes.set_title(_("Agreement per task"))
    axes.grid(axis="y", alpha=0.3)
    # Below the plot and its task names, where it can never hide a bar or a label.
    figure.legend(fontsize=8, loc="outside lower center", ncols=2)
    return figure


def ranking_figure(*, report: Report) -> Figure:
    """Slope chart: each team's human rank (left) joined to its judge rank (right).

    Names are tick labels on both sides, so the layout makes room for them. Tied teams
    share a rank and so a point; their names take the rows below it, which competition
    ranks (1, 2, 2, 4) leave free.
    """
    teams = _teams(report)
    n_teams = len(teams)
    labels: dict[str, dict[float, str]] = {}
    for side in ("human_rank", "judge_rank"):
        ordered = sorted(teams, key=lambda team: (int(team[side]), str(team["team"])))
        seen_at: dict[int, int] = {}
        labels[side] = {}
        for team in ordered:
            rank = int(team[side])
            row = rank + seen_at.get(rank, 0)
            seen_at[rank] = seen_at.get(rank, 0) + 1
            labels[side][row] = f"{rank}. {team['team']}"
    width = 2.4 + _label_inches(list(labels["human_rank"].values()))
    width += _label_inches(list(labels["judge_rank"].values()))
    figure = Figure(
        figsize=(min(max(width, 4.8), 14.0), 1.2 + 0.35 * max(n_teams, 2)), layout="constrained"
    )
    axes = figure.subplots()
    for team in teams:
        changed = team["human_rank"] != team["judge_rank"]
        colour = JUDGE_COLOUR if changed else "#9ca3af"
        axes.plot(
            [0, 1],
            [team["human_rank"], team["judge_rank"]],
            marker="o",
            color=colour,
            linewidth=2 if changed else 1,
        )
    axes.set_xlim(-0.08, 1.08)
    axes.set_ylim(n_teams + 0.5, 0.5)  # rank 1 at the top
    axes.set_xticks([0, 1], [_("human rank"), _("judge rank")])
    right = axes.twinx()
    right.set_ylim(axes.get_ylim())
    for side_axes, side in ((axes, "human_rank"), (right, "judge_rank")):
        side_axes.set_yticks(list(labels[side]), list(labels[side].values()), fontsize=8)
        side_axes.tick_params(axis="y", length=0)
    axes.set_title(_("Ranking: humans vs judge"))
    axes.grid(axis="y", alpha=0.2)
    return figure


FIGURES: dict[str, tuple[str, Callable[..., Figure], bool]] = {
    # name: (caption, in the reader's language; builder; needs a judge run)
    "confusion": (
        gettext_lazy("Human consensus vs judge, clip by clip"),
        confusion_figure,
        True,
    ),
    "scatter": (gettext_lazy("Team final scores, humans vs judge"), scatter_figure, True),
    "task-scores": (gettext_lazy("Task scores, humans vs judge"), task_scores_figure, True),
    "task-agreement": (
        # Braces, not %: a lazy string cannot be %-formatted before it is read.
        format_lazy(gettext_lazy("Agreement per task, with {level} intervals"), level="95%"),
        task_agreement_figure,
        False,
    ),
    "ranking": (gettext_lazy("Ranks, humans vs judge"), ranking_figure, True),
}


def available_figures(*, report: Report) -> list[str]:
    """The figures this report can draw: all with a judge run, the rater ones without."""
    has_judge = "video.confusion" in report
    return [
        name for name, (*_entry, needs_judge) in FIGURES.items() if has_judge or not needs_judge
    ]


def agreement_figure(*, report: Report, name: str, fmt: str = "png") -> bytes:
    """The figure ``name`` (see :data:`FIGURES`) of ``report`` as PNG or SVG bytes."""
    if fmt not in FIGURE_FORMATS:
        raise _unknown_format(fmt)
    if name not in FIGURES:
        raise FigureError(
            _("figure %(name)r is unknown; choose one of %(names)s")
            % {"name": name, "names": ", ".join(FIGURES)}
        )
    build = FIGURES[name][1]
    # Tick labels are made while saving, so both steps run under the setting.
    with figure_text():
        return _save(build(report=report), fmt)
