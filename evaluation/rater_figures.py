"""The raters page's figure: each rater's bias against their kappa with the consensus.

Drawn from a rater report's JSON-ready rows alone (``rater_report --output raters.json``
has them), so a downloaded report can be redrawn without the database. Rater names are
drawn as written, never as math text (:data:`evaluation.figures.LITERAL_TEXT`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib
from django.utils.translation import gettext as _

from annotate.words import word
from evaluation.figures import FIGURE_FORMATS, FigureError, figure_text

matplotlib.use("Agg")  # figures are rendered on servers without a display

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

CAREFUL_COLOUR = "#2454d6"
FLAGGED_COLOUR = "#c2410c"


def rater_figure(
    *, rows: Sequence[Mapping[str, object]], min_kappa: float, fmt: str = "png"
) -> bytes:
    """Bias (x) against quadratic-weighted kappa (y), one point per rater, as PNG or SVG.

    Flagged raters are drawn in orange and named with their flags, excluded raters hollow;
    the dashed line is the ``disagrees`` threshold. Raters without a kappa (no consensus to
    compare with, or no variation) are left out and counted in the caption.
    """
    if fmt not in FIGURE_FORMATS:
        raise FigureError(
            _("figure format %(fmt)r is unknown; choose one of %(formats)s")
            % {"fmt": fmt, "formats": ", ".join(FIGURE_FORMATS)}
        )
    with figure_text():
        return _rater_figure(rows=rows, min_kappa=min_kappa, fmt=fmt)


def _rater_figure(*, rows: Sequence[Mapping[str, object]], min_kappa: float, fmt: str) -> bytes:
    drawn = [row for row in rows if row.get("kappa") is not None and row.get("bias") is not None]
    figure = Figure(figsize=(7.0, 4.6), layout="constrained")
    axes = figure.subplots()
    axes.axvline(0.0, color="#888888", linewidth=0.8)
    axes.axhline(min_kappa, color=FLAGGED_COLOUR, linewidth=0.8, linestyle="--")
    for row in drawn:
        flags = [word(flag, "rater flag") for flag in row.get("flags") or []]
        colour = FLAGGED_COLOUR if flags else CAREFUL_COLOUR
        excluded = bool(row.get("excluded"))
        x, y = float(row["bias"]), float(row["kappa"])  # type: ignore[arg-type]
        axes.scatter(
            [x],
            [y],
            s=46,
            facecolors="none" if excluded else colour,
            edgecolors=colour,
            linewidths=1.4,
            zorder=3,
        )
        label = str(row["rater"]) + (f" ({', '.join(flags)})" if flags else "")
        axes.annotate(
            label, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=7, color=colour
        )
    biases = [abs(float(row["bias"])) for row in drawn]  # type: ignore[arg-type]
    reach = max([0.5, *biases]) * 1.25
    axes.set_xlim(-reach, reach)
    axes.set_ylim(min([-0.1, *(float(row["kappa"]) - 0.1 for row in drawn)]), 1.05)  # type: ignore[arg-type]
    axes.set_xlabel(_("bias: mean of score - consensus of the others (points)"))
    axes.set_ylabel(_("quadratic-weighted kappa with the consensus"))
    left_out = len(rows) - len(drawn)
    counts = {"n": len(drawn), "left_out": left_out}
    title = (
        _("%(n)s raters; %(left_out)s without a kappa, not drawn")
        if left_out
        else _("%(n)s raters")
    )
    axes.set_title(title % counts, fontsize=9)
    axes.grid(alpha=0.3)
    axes.legend(
        handles=[
            Line2D([], [], marker="o", linestyle="", color=CAREFUL_COLOUR, label=_("no flag")),
            Line2D([], [], marker="o", linestyle="", color=FLAGGED_COLOUR, label=_("flagged")),
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="none",
                markeredgecolor="#444444",
                label=_("excluded"),
            ),
            Line2D(
                [],
                [],
                color=FLAGGED_COLOUR,
                linestyle="--",
                label=_("kappa %(kappa)s") % {"kappa": f"{min_kappa:g}"},
            ),
        ],
        fontsize=7,
        loc="lower left",
    )
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "refscore"}):
        figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else {})
    return buffer.getvalue()
