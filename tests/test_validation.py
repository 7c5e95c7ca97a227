"""perksim check-model (simulator/experiment/validation/): the literature validation suite.

docs/validation.md is the page ``perksim check-model --markdown docs/validation.md`` writes; its
last block records the measured numbers, so the tests can check that the page is exactly what
the code renders from them (byte for byte) and that its fixed columns are the declarations in
the code. The slow test re-runs the whole suite at full size and compares the page again.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy.stats import binomtest

from simulator.cli import cli
from simulator.experiment import validation as v
from simulator.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "validation.md"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def summary_rows(text: str) -> list[list[str]]:
    """The cells of the summary table (the rows that start with a check link)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| [`"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


@pytest.fixture(scope="module")
def quick() -> v.Validation:
    return v.run_checks(v.QUICK, workers=1)


# --- the quick run -----------------------------------------------------------------------------


@pytest.mark.slow
def test_quick_run_passes_every_row_it_judges(quick):
    assert list(quick.outcomes) == [c.key for c in v.CHECKS]
    assert quick.passed, quick.failed


@pytest.mark.slow
def test_quick_run_leaves_unjudged_exactly_the_rows_declared_not_decisive_there(quick):
    for check in v.CHECKS:
        for item in check.items:
            m = quick.outcomes[check.key].items[item.key]
            assert m.judged == (item.judged and item.quick), (check.key, item.key)
            if not item.judged:
                assert m.verdict == "info"
            elif not item.quick:
                assert "not judged at quick size" in v.result_text(m)
    # the structural checks decide even at the quick size
    assert all(m.judged for m in quick.outcomes["ic_tree"].items.values())
    assert quick.outcomes["ic_live_edge"].items["difference"].judged


@pytest.mark.slow
def test_rendered_quick_page_round_trips(quick):
    page = v.render_markdown(quick)
    assert v.render_markdown(v.parse_markdown(page)) == page
    assert "Size: **quick**" in page


@pytest.mark.slow
def test_the_number_of_workers_does_not_change_the_numbers():
    one = v.run_checks(v.QUICK, only=["ic_live_edge"], workers=1)
    two = v.run_checks(v.QUICK, only=["ic_live_edge"], workers=2)
    assert v.render_markdown(one) == v.render_markdown(two)


# --- docs/validation.md ---------------------------------------------------------------------------


def test_the_page_says_at_its_top_that_it_is_generated_and_how():
    first = doc_text().splitlines()[0]
    assert first.startswith("<!--") and v.COMMAND in first and "do not edit" in first


def test_the_page_is_rendered_byte_for_byte_from_its_recorded_results():
    text = doc_text()
    assert v.render_markdown(v.parse_markdown(text)) == text


def test_the_page_is_the_full_size_and_every_judged_row_passes():
    recorded = v.parse_markdown(doc_text())
    assert recorded.size == "full"
    assert list(recorded.outcomes) == [c.key for c in v.CHECKS]
    assert recorded.passed, recorded.failed


def test_the_fixed_columns_of_the_page_are_the_declarations_in_the_code():
    rows = summary_rows(doc_text())
    expected = [[f"[`{c.key}`](#{c.key})", i.label, c.source,
                 f"[`{c.scenario}`](../scenarios/checks/{c.scenario})", i.published, i.tolerance]
                for c in v.CHECKS for i in c.items]
    found = [[r[0], r[1], r[2], r[3], r[4], r[6]] for r in rows]
    unescape = [[cell.replace("\\|", "|") for cell in row] for row in found]
    assert unescape == expected


def test_each_check_has_a_section_with_its_source_setting_and_tolerance():
    text = doc_text()
    for check in v.CHECKS:
        section = text.split(f"\n## {check.key}\n", 1)[1].split("\n## ", 1)[0]
        assert check.citation in section
        assert f"[`scenarios/checks/{check.scenario}`](../scenarios/checks/{check.scenario})" in section
        assert check.reason in section and check.measures in section


def test_check_scenarios_exist_validate_and_are_named_after_their_file():
    files = sorted(v.checks_dir().glob("*.yaml"))
    assert {c.scenario for c in v.CHECKS} <= {f.name for f in files}
    for path in files:
        sc = load_scenario(path)
        assert sc.name == path.stem
        assert sc.question and len(sc.description) > 80
        for name in sc.variants:
            load_scenario(path, variant=name)


def test_the_page_is_the_rendering_of_its_own_numbers():
    """With the test below: the page is reproduced byte for byte. Split so that each study's
    full-size runs (the checks that share a study run once) are a test of their own, which the
    test processes share out."""
    assert v.render_markdown(v.parse_markdown(doc_text())) == doc_text()


@pytest.mark.slow
@pytest.mark.parametrize("study", list(dict.fromkeys(c.study for c in v.CHECKS)))
def test_each_study_at_full_size_reproduces_its_numbers_on_the_page(study):
    keys = [c.key for c in v.CHECKS if c.study == study]
    page = v.parse_markdown(doc_text()).to_json()["checks"]
    mine = v.run_checks(v.FULL, only=keys, workers=1).to_json()["checks"]
    assert mine == {k: page[k] for k in keys}


# --- the command ------------------------------------------------------------------------------------


def invoke(*args: str):
    return CliRunner().invoke(cli, ["check-model", *args])


def test_command_prints_the_table_writes_markdown_and_a_results_folder(tmp_path):
    md = tmp_path / "page" / "validation.md"
    result = invoke("--quick", "--check", "score_distribution", "--workers", "1",
                    "--markdown", str(md), "--out", str(tmp_path / "res"))
    assert result.exit_code == 0, result.output + result.stderr
    assert "score_distribution — Klout" in result.stdout and "pass" in result.stdout
    assert "check-model: score_distribution done" in result.stderr
    page = md.read_text(encoding="utf-8")
    assert list(v.parse_markdown(page).outcomes) == ["score_distribution"]
    [folder] = list((tmp_path / "res" / "check-model").iterdir())
    assert (folder / "validation.md").read_text(encoding="utf-8") == page
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["passed"] is True and manifest["size"]["name"] == "quick"
    assert manifest["checks"]["score_distribution"]["scenario"] == "scenarios/checks/score_distribution.yaml"
    csv = (folder / "checks.csv").read_text().splitlines()
    assert csv[0].startswith("check,row,label,source,scenario,published,value,ci_low,ci_high")
    assert len(csv) == 1 + len(v.BY_KEY["score_distribution"].items)


def test_command_exits_1_and_names_each_failed_row(tmp_path, monkeypatch):
    real = v.EVALUATE["score_distribution"]

    def failing(results, size):
        outcome = real(results, size)
        outcome.items["mean_end"].verdict = "fail"
        return outcome

    monkeypatch.setitem(v.EVALUATE, "score_distribution", failing)
    result = invoke("--quick", "--check", "score_distribution", "--workers", "1",
                    "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "failed: score_distribution/mean_end: mean score after 60 steps" in result.stderr
    assert "FAIL" in result.stdout and "1 of 4 judged rows fail" in result.stdout


def test_command_refuses_an_unknown_check(tmp_path):
    result = invoke("--check", "no_such_check", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "no check 'no_such_check'" in result.stderr and "ic_tree" in result.stderr


# --- the pieces -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (10, 20), (20, 20), (137, 1500)])
def test_wilson_interval_is_scipys(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert v.wilson(k / n, n) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_numbers_are_shown_by_fixed_rules():
    assert [v.fmt(x) for x in (1888.4, 831.4, 42.37, 1.104, 0.519, 0.0075, 0, -66.1)] == \
        ["1,888", "831", "42.4", "1.10", "0.519", "0.0075", "0", "−66.1"]
    assert [v.fmt(x, "pct") for x in (0.9, 0.0127, 0.0005, 0)] == ["90.0%", "1.27%", "0.05%", "0%"]
    assert v.fmt(float("inf")) == "∞" and v.fmt(float("nan")) == "–"


def test_most_cost_effective_bin_follows_size_per_unit_cost():
    import numpy as np

    sizes = np.array([1.1, 1.3, 2.0])
    followers = np.array([4.0, 20.0, 100.0])
    alphas = np.array([0.01, 1e6])
    # nearly pure per-follower price: the fewest followers win; nearly pure fixed price: the
    # largest cascades win
    assert v._best_bins(sizes, followers, alphas).tolist() == [0, 2]
