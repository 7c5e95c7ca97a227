"""How every figure looks: the metrics' words from the catalogue (:data:`METRIC_INFO`,
:func:`metric_info`, :func:`metric_label`), one style per variant (:func:`variant_styles`),
file-name slugs, panel grids, legends below the panels and titles fitted to their panels."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import NamedTuple

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulator.model.metrics import MetricView

# Okabe & Ito (2008): distinguishable with the common forms of colour blindness; yellow and
# black last (yellow is faint on white, black is kept for annotations)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
LINESTYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
MORE, LESS = "more is better", "less is better"
# metric: (what it is, unit, which direction is better — None when neither is), read from the
# catalogue when looked up, so metrics registered later (metrics.add_metric) are in it too
METRIC_INFO: Mapping[str, tuple[str, str, str | None]] = MetricView(
    lambda m: (m.label, m.unit, MORE if m.better > 0 else LESS if m.better < 0 else None))


class Style(NamedTuple):
    """How one variant is drawn, in every figure."""

    color: str
    linestyle: str
    marker: str


def variant_styles(table: pd.DataFrame) -> dict[str, Style]:
    """Colour, line style and marker of each variant, by order of first appearance in ``table``.

    This is the only place that decides how a variant looks, so a variant has the same colour
    in every figure drawn from tables that list the variants in the same order.
    """
    order = list(dict.fromkeys(table["variant"].astype(str)))
    return {v: Style(PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)],
                     MARKERS[i % len(MARKERS)]) for i, v in enumerate(order)}


def slug(text: str) -> str:
    """A file-name-safe form of ``text``: ``campaigns[0].strategy.threshold`` →
    ``campaigns_0_strategy_threshold``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_") or "x"


def metric_info(metric: str) -> tuple[str, str, str | None]:
    """(what it is, unit, better direction or None) of a metric; unknown columns get their name."""
    return METRIC_INFO.get(metric, (metric.replace("_", " ").capitalize(), "", None))


def metric_label(metric: str, direction: bool = False) -> str:
    """Axis label of a metric with its unit (and which direction is better, if asked)."""
    name, unit, better = metric_info(metric)
    label = f"{name} ({unit})" if unit else name
    return f"{label} — {better}" if direction and better else label


def _direction_title(metric: str) -> str:
    name, _, better = metric_info(metric)
    return f"{name}\n({better})" if better else name


def _grid(n: int, width: float = 4.3, height: float = 3.3, fig: Figure | None = None,
          columns: int = 3) -> tuple[Figure, list[Axes]]:
    """``n`` panels in rows of ``columns``, on ``fig`` or on a new figure sized to them."""
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    if fig is None:
        fig = Figure(figsize=(width * cols, height * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _variant_legend(fig: Figure, styles: dict[str, Style], present: pd.Series,
                    marker: bool = False) -> None:
    """A legend of the variants in ``present``, drawn as in every figure."""
    shown = {v: s for v, s in styles.items() if v in set(present)}
    if not shown:  # a live run before its first step
        return
    handles = [Line2D([], [], color=s.color, linestyle=s.linestyle, linewidth=2,
                      marker=s.marker if marker else None) for s in shown.values()]
    _legend(fig, handles, list(shown), "variant")


def _legend(fig: Figure, handles: list, labels: list[str], title: str) -> None:
    """Every figure's legend: below the panels, never over data or the title."""
    widest = max((len(label) for label in labels), default=1)
    ncols = max(1, min(len(labels), 5, 90 // (widest + 6)))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False, title=title,
               fontsize=9, title_fontsize=9)


def _fit(text: str, inches: float | None, fontsize: float) -> str:
    """``text`` broken between words onto lines at most ``inches`` wide at ``fontsize``
    (measured in the default font); unchanged if it fits on one line or ``inches`` is None."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    if inches is None:
        return text
    font, measure, limit = FontProperties(size=fontsize), TextToPath(), inches * 72

    def width(line: str) -> float:
        return measure.get_text_width_height_descent(line, font, ismath=False)[0]

    lines: list[str] = []
    for word in text.split(" "):
        if lines and width(f"{lines[-1]} {word}") <= limit:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return text if len(lines) <= 1 else "\n".join(lines)


FIT_ROUNDS = 3  # layouts at most: a wrapped title can shrink its panel, and so on


def fit_labels(fig: Figure) -> bool:
    """Break every axis label longer than its axis (a y-label longer than the panel is tall
    is clipped by the figure's edge, whatever the layout), every panel title wider than its
    panel and a figure title wider than the figure onto lines that fit, between words. Lays
    the figure out to measure, again after a change (a wrapped text takes room from its
    panel), at most ``FIT_ROUNDS`` times, and leaves it laid out (a caller may then draw it
    without its layout engine); returns whether a text changed."""
    if not hasattr(fig.canvas, "get_renderer"):  # a standalone Figure: measured with Agg,
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # as it is saved

        FigureCanvasAgg(fig)
    changed = False
    given: dict[int, str] = {}  # each text as the figure had it: re-fitted from it each round
    engine = fig.get_layout_engine()
    for _ in range(FIT_ROUNDS):
        if engine is not None:
            engine.execute(fig)  # the panels where they will be drawn (no drawing needed)
        if not _fit_once(fig, fig.canvas.get_renderer(), given):
            break
        changed = True
    else:
        if engine is not None:
            engine.execute(fig)  # laid out with the last change
    return changed


def _fit_once(fig: Figure, renderer: object, given: dict[int, str]) -> bool:
    texts = []
    for ax in fig.axes:
        if ax.get_visible():
            texts += [(ax.xaxis.label, ax.bbox.width, "width"),
                      (ax.yaxis.label, ax.bbox.height, "height"),
                      (ax.title, ax.bbox.width, "width")]
    if fig._suptitle is not None:
        texts.append((fig._suptitle, fig.bbox.width, "width"))
    changed = False
    for text, room, along in texts:
        if not text.get_text() or not text.get_visible():
            continue
        if getattr(text.get_window_extent(renderer), along) <= room:
            continue
        words = given.setdefault(id(text), text.get_text())
        fitted = "\n".join(_fit(line, 0.95 * room / fig.dpi, text.get_fontsize())
                            for line in words.split("\n"))  # the text's own breaks are kept
        if fitted != text.get_text():
            text.set_text(fitted)
            changed = True
    return changed


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "not defined in any run", transform=ax.transAxes, ha="center", va="center",
            color="0.4")
