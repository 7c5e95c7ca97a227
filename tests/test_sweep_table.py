"""What ``perksim sweep`` prints: the response table — each metric's mean [95% interval] by
sweep value (rows, the swept field named in words) and variant (columns), the numbers of
summary.csv and comparison.csv (issue 13)."""

from __future__ import annotations

import pandas as pd
import pytest

from simulator import api, load_scenario
from simulator.scenario.library import resolve
from simulator.views import console
from simulator.views.console import _fmt, format_response, response_table
from simulator.views.fields import field_words, param_label, param_name

PARAM = "campaigns[0].strategy.threshold"
METRICS = ["perks_given", "engaged_reach", "recipient_fit", "pout_fans"]


@pytest.fixture(scope="module")
def swept():
    """threshold_sweep at 200 users, 12 steps, 2 replicates: 4 thresholds × 2 variants."""
    sc = load_scenario(resolve("threshold_sweep"),
                       overrides=["population.size=200", "steps=12", "campaigns[0].start=4"])
    return sc, api.sweep(sc, replicates=2)


def test_every_cell_is_the_mean_of_the_summary_with_the_comparisons_interval(swept):
    sc, results = swept
    tables, _ = response_table(results.comparison, METRICS, sc)
    assert list(tables) == ["courtside"]
    table = tables["courtside"]
    assert table.index.names == ["metric", "threshold"]  # the swept path in words
    assert list(table.columns) == ["top_scores", "first_come"]  # the scenario's variants, in order
    summary = results.summary
    means = summary.groupby([PARAM, "variant"])[METRICS].mean()
    for metric in METRICS:
        for value in (40, 55, 63, 75):
            for variant in ("top_scores", "first_come"):
                cell = table.loc[(metric, str(value)), variant]
                assert cell.split(" ")[0] == _fmt(means.loc[(value, variant), metric])
    # an interval shown is comparison.csv's (with 2 replicates, counts show "few runs" instead)
    row = results.comparison.set_index([PARAM, "variant", "metric"]).loc[(40, "top_scores",
                                                                         "recipient_fit")]
    assert row["n"] == 2
    expected = f"{_fmt(row['mean'])}"
    if not row["rare"]:
        expected += f" [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
    assert table.loc[("recipient_fit", "40"), "top_scores"].startswith(expected)


def test_the_printed_table_names_the_field_in_words_and_lists_every_metric(swept):
    sc, results = swept
    text = format_response(results.comparison, METRICS, sc)
    head = text.splitlines()[0]
    assert head == ("brand courtside: mean [95% interval] by threshold (rows) and variant "
                    "(columns)")
    assert PARAM not in text and "[0]" not in text
    lines = text.splitlines()
    assert "top_scores" in lines[1] and "first_come" in lines[1]
    for metric in METRICS:
        assert sum(line.startswith(metric + " ") for line in lines) == 1  # once, then its rows
    assert "(* paired difference to the first variant" in text


def test_a_table_without_sweep_points_is_the_comparison_and_many_points_a_note(swept):
    sc, results = swept
    compare = results.comparison[results.comparison["point"] == 0].drop(columns=["point", PARAM])
    assert format_response(compare, METRICS) == console.format_comparison(compare, METRICS)
    many = results.comparison.copy()
    many["point"] = range(len(many))  # every row its own point
    assert "too many for the terminal" in format_response(many, METRICS, sc)


def test_swept_fields_in_words():
    sc = load_scenario(resolve("threshold_sweep"))
    assert field_words(PARAM) == "threshold"
    assert field_words("population.size") == "population size"
    assert field_words("behaviour.pout_threshold") == "pout threshold"
    assert param_name(PARAM, sc) == "threshold"
    assert param_name(PARAM, sc, brands=2) == "threshold (courtside)"
    # the axis: the schema's description of the field, and the campaign's brand
    assert param_label(PARAM, sc) == "threshold: minimum score (campaign: courtside)"
    assert param_label("population.size", sc) == "population size: number of users"
    assert param_label(PARAM) == "threshold (campaign 1)"  # no scenario: the campaign's number
    assert param_label("no.such[2].field", sc) == "field"  # not in the scenario: its words


def test_two_brands_swept_name_the_brand():
    frame = pd.DataFrame({"point": [0, 1], PARAM: [40, 63], "variant": "a", "brand": "x",
                          "metric": "reach", "mean": [1.0, 2.0], "std": 0.1, "ci_low": 0.5,
                          "ci_high": [1.5, 2.5], "n": 10, "diff_mean": float("nan"),
                          "diff_ci_low": float("nan"), "diff_ci_high": float("nan"),
                          "diff_n": 0, "runs": 10, "nonzero": 10, "rare": False,
                          "replicates_needed": float("nan"),
                          "replicates_needed_is_lower_bound": False, "diff_rare": False})
    both = pd.concat([frame, frame.assign(brand="y")], ignore_index=True)
    tables, rare = response_table(both, ["reach"])
    assert list(tables) == ["x", "y"] and not rare
    assert tables["x"].index.names == ["metric", "threshold (campaign 1)"]
    assert tables["y"].loc[("reach", "63"), "a"] == "2.000 [0.500, 2.500]"
