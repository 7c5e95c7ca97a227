"""Every figure a results folder gets keeps its texts inside the figure — no clipped axis
label or title — and names its axes in words, never as a field path (issue 13)."""

from __future__ import annotations

import re

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from simulator import api, load_scenario
from simulator.scenario.library import resolve
from simulator.views import plots
from simulator.views.plots import folder as plot_folder
from simulator.views.plots.style import fit_labels

PATH_SYNTAX = re.compile(r"\[\d*\]|[A-Za-z_]\.[A-Za-z_]")  # campaigns[0], strategy.threshold
SLACK = 1.0  # pixels: rounding of the extents


def drawn_figures(results, where) -> dict[str, Figure]:
    """The figures plot_run writes for ``results``, by file stem, as they were saved."""
    folder = results.save(where, figures=False)
    figures: dict[str, Figure] = {}
    save = plot_folder.save

    def keep(fig, out, stem):
        figures[stem] = fig
        return save(fig, out, stem)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plot_folder, "save", keep)
        written = plots.plot_run(folder)
    assert {p.stem for p in written} == set(figures)
    return figures


def texts_outside(fig: Figure) -> list[str]:
    """The texts of ``fig`` whose drawn extent sticks out of the figure."""
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)  # as save() draws it
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    outside = []

    def check(name: str, extent) -> None:
        if (extent.x0 < box.x0 - SLACK or extent.y0 < box.y0 - SLACK
                or extent.x1 > box.x1 + SLACK or extent.y1 > box.y1 + SLACK):
            outside.append(f"{name} {extent.bounds} outside {box.bounds}")

    ticks = set()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            ticks |= {id(t) for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                      for t in (tick.label1, tick.label2)}
        check(f"panel {ax.get_title()!r} with its tick labels", ax.get_tightbbox(renderer))
        check(f"x label {ax.xaxis.label.get_text()!r}", ax.xaxis.label.get_window_extent(renderer))
        check(f"y label {ax.yaxis.label.get_text()!r}", ax.yaxis.label.get_window_extent(renderer))
    for text in fig.findobj(Text):
        if id(text) in ticks or not text.get_visible() or not text.get_text().strip():
            continue  # tick labels: only those drawn count, in the panel's tight box above
        check(f"text {text.get_text()!r}", text.get_window_extent(renderer))
    return outside


def axis_labels(fig: Figure) -> list[str]:
    return [label for ax in fig.axes if ax.get_visible()
            for label in (ax.get_xlabel(), ax.get_ylabel()) if label]


@pytest.fixture(scope="module", params=["sweep", "compare"])
def drawn(request, tmp_path_factory):
    """(kind, figures): threshold_sweep swept and klout_pout compared at 200 users, 2
    replicates, and drawn by plot_run."""
    small = ["population.size=200", "steps=12", "campaigns[0].start=4"]
    if request.param == "sweep":
        results = api.sweep(load_scenario(resolve("threshold_sweep"), overrides=small),
                            replicates=2)
    else:
        results = api.compare(load_scenario(resolve("klout_pout"), overrides=small),
                              replicates=2)
    return request.param, drawn_figures(results, tmp_path_factory.mktemp(request.param))


@pytest.mark.slow
def test_every_text_of_every_figure_is_inside_the_figure(drawn):
    _, figures = drawn
    assert len(figures) >= 4
    problems = {stem: texts_outside(fig) for stem, fig in figures.items()}
    assert not {stem: p for stem, p in problems.items() if p}


@pytest.mark.slow
def test_axes_are_named_in_words_never_as_field_paths(drawn):
    kind, figures = drawn
    for stem, fig in figures.items():
        for label in axis_labels(fig):
            assert not PATH_SYNTAX.search(label), f"{stem}: axis label {label!r} is a field path"
    if kind == "sweep":
        (ax,) = figures["sweep_campaigns_0_strategy_threshold_engaged_reach"].axes
        assert ax.get_xlabel() == "threshold: minimum score (campaign: courtside)"
        # the long metric label is broken onto lines that fit the panel's height
        assert "\n" in ax.get_ylabel()
        assert ax.get_ylabel().replace("\n", " ") == \
            "Engaged reach (fans reached, not recipients) (users) — more is better"
        assert {"final_metrics", "tradeoff"} <= set(figures)


def test_a_label_longer_than_its_axis_is_broken_between_words():
    fig = Figure(figsize=(4, 3), layout="constrained")
    ax = fig.add_subplot()
    long = "a label far longer than the axis it labels is, by quite some way indeed"
    ax.set_ylabel(long)
    ax.set_xlabel("short")
    ax.set_title(long)
    assert fit_labels(fig)
    assert ax.get_xlabel() == "short"
    for text in (ax.get_ylabel(), ax.get_title()):
        assert "\n" in text and text.replace("\n", " ") == long
    assert not texts_outside(fig)
    assert not fit_labels(fig)  # fitted: nothing more to do


def test_a_robustness_map_names_its_uncertain_fields_in_words():
    import pandas as pd

    from simulator.views.plots.robust import plot_verdict_map

    sc = load_scenario(resolve("klout_pout"))
    table = pd.DataFrame({"brand": "courtside", "metric": "reach", "winner": ["a", "b", "a"],
                          "x_parameter": "population.pout_sensitivity",
                          "y_parameter": "behaviour.publicity", "x": [0.2, 0.5, 0.8],
                          "y": [0.1, 0.3, 0.2]})
    (ax,) = plot_verdict_map(table, ["a", "b"], scenario=sc).axes
    assert ax.get_xlabel() == "pout sensitivity: mean of the Beta for ρ_i"
    assert ax.get_ylabel() == "publicity"
