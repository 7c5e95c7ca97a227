"""A plug-in metric is declared in one place: one ``Metric`` with its ``compute``, registered in
this process (no other file touched), and it is a column of ``steps.csv`` and ``summary.csv``,
a row of ``comparison.csv``, labelled in the figures, in the command line's table (it is a
headline metric) and in the report's words.

Runs use the serial executor: worker processes do not see a metric registered here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.model import metrics
from simulator.model.metrics import Metric
from simulator.views import plots

LABEL = "Share of users given a perk"
WORDS = "share of all users who hold a perk"
PERK_SHARE = Metric("perk_share", LABEL, "share, 0–1", +1, WORDS, kind="share", headline=True,
                    compute=lambda model, brand: float((model.perk[:, brand.index] > 0).mean()))


def _catalogue() -> tuple:
    """Copies of the catalogue and everything derived from it."""
    return (list(metrics.CATALOGUE), list(metrics.METRICS), list(metrics.HEADLINE),
            list(metrics.STEP_COLUMNS), dict(metrics.BY_NAME))


@pytest.fixture(scope="class")
def plugged():
    """``perk_share`` registered for one class of tests; the catalogue is exactly as before
    afterwards."""
    before = _catalogue()
    metrics.add_metric(PERK_SHARE)
    try:
        yield PERK_SHARE
    finally:
        metrics.remove_metric(PERK_SHARE.name)
    assert _catalogue() == before
    assert metrics.METRICS == list(metrics.BUILT_IN)


@pytest.fixture(scope="class")
def run(plugged, tmp_path_factory) -> tuple[Path, str]:
    """A small compare with the metric registered: its results folder and what it printed."""
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(cli, [
        "compare", "klout_pout", "--variant", "lottery", "--variant", "relevance",
        "--replicates", "2", "--executor", "serial", "--set", "population.size=200",
        "--set", "campaigns[0].start=2", "--steps", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [folder] = list((out / "klout_pout").iterdir())
    return folder, result.output


class TestAPlugInMetric:
    """One compare run with ``perk_share`` registered, looked at from every side."""

    def test_it_is_in_every_table_with_values_in_its_range(self, run):
        folder, _ = run
        steps = pd.read_csv(folder / "steps.csv")
        summary = pd.read_csv(folder / "summary.csv")
        comparison = pd.read_csv(folder / "comparison.csv")
        assert list(steps.columns)[-1] == list(summary.columns)[-1] == "perk_share"  # last
        for values in (steps["perk_share"], summary["perk_share"]):
            assert values.notna().all() and values.between(0, 1).all()
        assert (summary["perk_share"] > 0).all()  # klout_pout hands out perks in every run
        holders = summary["perk_share"] * 200  # population.size: each holder got a perk at least
        assert (holders.round(6) <= summary["perks_given"]).all()
        assert "perk_share" in set(comparison["metric"])
        assert comparison.loc[comparison["metric"] == "perk_share", "mean"].between(0, 1).all()

    def test_it_has_its_label_in_the_figures_and_is_in_the_printed_table(self, run):
        _, printed = run
        assert plots.metric_info("perk_share") == (LABEL, "share, 0–1", "more is better")
        assert plots.metric_label("perk_share") == f"{LABEL} (share, 0–1)"
        assert "perk_share" in plots.METRIC_INFO
        assert any(line.lstrip().startswith("perk_share") for line in printed.splitlines()), printed

    def test_the_report_names_it_in_its_words(self, run):
        folder, _ = run
        result = CliRunner().invoke(cli, ["report", str(folder)])
        assert result.exit_code == 0, result.output
        text = (folder / "report.md").read_text(encoding="utf-8")
        assert "`perk_share`" in text
        assert WORDS in text


def test_a_metric_needs_a_new_name_and_a_compute():
    with pytest.raises(ValueError, match="taken"):
        metrics.add_metric(Metric("reach", "Reach again", "users", +1, "reach", compute=len))
    with pytest.raises(ValueError, match="compute"):
        metrics.add_metric(Metric("perk_share", LABEL, "share, 0–1", +1, WORDS, kind="share"))
    with pytest.raises(ValueError, match="built-in"):
        metrics.remove_metric("reach")
    assert metrics.METRICS == list(metrics.BUILT_IN)


def test_the_catalogue_is_clean_after_the_tests():
    assert "perk_share" not in metrics.BY_NAME and "perk_share" not in plots.METRIC_INFO
    assert metrics.METRICS == list(metrics.BUILT_IN)
