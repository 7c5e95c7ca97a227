"""The teaching report (simulator/views/report/): real run/compare/sweep folders, self-contained
HTML with every section, the Markdown twin, and readings generated from the numbers — which
must change when the numbers change and never claim a winner the intervals do not support."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.scenario.library import resolve
from simulator.scenario.loader import load_scenario
from simulator.views import report
from simulator.views.report import reading, things_to_notice, write_report

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--set", "population.size=300", "--steps", "20"]
SECTIONS = ["1. The question and the scenario", "2. What was compared, and how", "3. Figures",
            "4. What the numbers say", "5. Things to notice", "6. Things to try",
            "7. Questions for discussion", "8. The model assumptions that matter most here",
            "Telling users"]


def _invoke(args: list[str]) -> Path:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    line = next(ln for ln in reversed(result.output.splitlines()) if ln.startswith("results: "))
    return Path(line.removeprefix("results: "))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    return {
        "run": _invoke(["run", "klout_pout", *SMALL, "--out", str(out)]),
        "compare": _invoke(["compare", "klout_pout", *SMALL, "--replicates", "3",
                            "--executor", "serial", "--out", str(out)]),
        "sweep": _invoke(["sweep", "threshold_sweep", *SMALL, "--replicates", "2",
                          "--executor", "serial", "--out", str(out)]),
    }


@pytest.fixture(scope="module")
def reports(folders: dict[str, Path]) -> dict[str, tuple[Path, Path]]:
    return {kind: write_report(folder) for kind, folder in folders.items()}


def plain(text: str) -> str:
    """Reading text without inline Markdown."""
    return re.sub(r"[*`]", "", text)


# --- real folders --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_report_files_sections_and_self_contained_html(kind: str, folders, reports) -> None:
    html_path, md_path = reports[kind]
    assert html_path == folders[kind] / "report.html" and md_path == folders[kind] / "report.md"
    page = html_path.read_text(encoding="utf-8")
    md = md_path.read_text(encoding="utf-8")
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in page, title
        assert f"## {title}" in md, title
    # self-contained: no external resources, figures embedded as data URIs
    assert 'src="http' not in page and "<link" not in page and "<script" not in page
    assert "<style>" in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    pngs = sorted((folders[kind] / "figures").glob("*.png"))
    assert len(sources) == len(pngs)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    for png in pngs:  # the twin references the same figures relatively
        assert f"](figures/{png.name})" in md
    assert "data:image" not in md
    # links to the model's sections go to the glossary embedded in the same file
    assert "docs/model.md §5.5 Klout Pout (relative deprivation)](#glossary-pout)" in md
    assert 'href="#glossary-exposure"' in page and 'id="glossary-exposure"' in page
    assert '<a id="glossary-pout"></a>' in md


def test_run_report_says_there_is_no_interval(reports) -> None:
    md = reports["run"][1].read_text(encoding="utf-8")
    assert "no 95% interval" in md
    assert "perksim compare klout_pout --steps 20 --set population.size=300 --replicates 10" in md
    assert " leads**" not in md


def test_compare_report_reads_every_key_metric(folders, reports) -> None:
    md = reports["compare"][1].read_text(encoding="utf-8")
    section = md.split("## 4. What the numbers say")[1].split("## 5.")[0]
    for metric in report.KEY_METRICS:
        assert f"`{metric}`" in section, metric
    assert "Against klout_63" in section
    comparison = pd.read_csv(folders["compare"] / "comparison.csv")
    assert all(line in section for line in reading(comparison, pd.read_csv(
        folders["compare"] / "summary.csv"))[1:])


def test_sweep_report_describes_change_across_values(reports) -> None:
    md = reports["sweep"][1].read_text(encoding="utf-8")
    section = md.split("## 4. What the numbers say")[1].split("## 5.")[0]
    assert "`campaigns[0].strategy.threshold`" in section
    # 2 replicates are fewer than MIN_NONZERO: the reading says so instead of a trend
    assert re.search(r"(rises|falls|is flat|not steadily|has too few replicates to compare)", section)
    assert "about 5 replicates would be needed" in section
    assert "`campaigns[0].strategy.threshold`: 40, 55, 63, 75" in md


def test_telling_users_numbers_and_explain_commands(folders) -> None:
    folder = folders["compare"]
    users = pd.read_csv(folder / "users.csv")
    users = users[users["variant"] == "klout_63"]
    entries = report.telling_users(users, "courtside", {"kind": "score_threshold", "threshold": 63},
                                   str(folder))
    by_role = {e["role"]: users.set_index("id").loc[e["id"]] for e in entries}
    assert set(by_role) == {"The closest miss", "A highly relevant fan left out",
                            "An irrelevant recipient"}
    miss = by_role["The closest miss"]
    assert miss["perk_courtside"] == 0 and miss["score"] < 63
    below = users[(users["perk_courtside"] == 0) & (users["score"] < 63)]
    assert miss["score"] == below["score"].max()
    fan = by_role["A highly relevant fan left out"]
    assert fan["fan_courtside"] and fan["perk_courtside"] == 0
    recipient = by_role["An irrelevant recipient"]
    assert recipient["relevance_courtside"] == users[users["perk_courtside"] > 0]["relevance_courtside"].min()
    md = (folder / "report.md").read_text(encoding="utf-8")
    for e in entries:
        assert e["command"] == f"perksim explain {folder} --user {e['id']} --brand courtside"
        assert e["command"] in md
    args = shlex.split(entries[0]["command"])[1:]  # the command works
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"User {entries[0]['id']} and brand courtside" in result.output


def test_things_to_try_commands_are_valid(folders) -> None:
    for folder in folders.values():
        for _, cmd in report.things_to_try(report.load_folder(folder)):
            args = shlex.split(cmd)
            assert args[0] == "perksim"
            command = cli.commands[args[1]]
            ctx = command.make_context(args[1], args[2:], resilient_parsing=False)  # options parse
            overrides = list(ctx.params.get("overrides") or [])
            if ctx.params.get("steps"):
                overrides.append(f"steps={ctx.params['steps']}")
            load_scenario(resolve(ctx.params["scenario"]), overrides=overrides)  # and validate


def test_context_options_keep_the_changes_that_were_run(folders) -> None:
    for folder in folders.values():
        opts = report.context_options(report.load_folder(folder))
        assert opts == ["--steps", "20", "--set", "population.size=300"]


def test_report_draws_missing_figures_and_survives_failing_plots(folders, tmp_path, monkeypatch) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(folders["run"], copy)
    shutil.rmtree(copy / "figures")
    calls = []

    def broken(folder):
        calls.append(Path(folder))
        raise RuntimeError("plots are being rewritten")

    monkeypatch.setattr("simulator.views.plots.plot_run", broken)
    html_path, md_path = write_report(copy)
    assert calls == [copy]
    assert "has no figures" in md_path.read_text(encoding="utf-8")
    assert "<img" not in html_path.read_text(encoding="utf-8")


def test_model_anchors_match_the_headings() -> None:
    model = REPO / "docs" / "model.md"
    if not model.is_file():
        pytest.skip("docs/model.md not present")
    slugs = set()
    for line in model.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip().lower()
            slugs.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    for anchor, _ in report.MODEL_SECTIONS.values():
        assert anchor in slugs, anchor


# --- readings from hand-built tables --------------------------------------------------------------


def table(rows: list[tuple[str, str, float, float, float, float, float, float]],
          n: int = 20) -> pd.DataFrame:
    """(variant, metric, mean, ci_low, ci_high, diff_mean, diff_low, diff_high); the first
    variant's diff columns are NaN."""
    out = []
    for variant, metric, mean, lo, hi, d, dlo, dhi in rows:
        out.append({"variant": variant, "brand": "acme", "metric": metric, "mean": mean, "std": 1.0,
                    "ci_low": lo, "ci_high": hi, "n": n, "diff_mean": d, "diff_ci_low": dlo,
                    "diff_ci_high": dhi, "diff_n": 0 if np.isnan(d) else n})
    return pd.DataFrame(out)


NAN = float("nan")


def line_for(lines: list[str], metric: str) -> str:
    return plain(next(ln for ln in lines if ln.startswith(f"`{metric}`")))


def test_clear_winner_is_named() -> None:
    lines = reading(table([("A", "engaged_reach", 10, 8, 12, NAN, NAN, NAN),
                           ("B", "engaged_reach", 20, 17, 23, 10, 7, 13)]))
    text = line_for(lines, "engaged_reach")
    assert "B leads" in text and "A leads" not in text
    assert "+10 [+7, +13]" in text and "better" in text
    assert "not distinguishable" not in text


def test_interval_containing_zero_is_noise_and_no_winner() -> None:
    lines = reading(table([("A", "engaged_reach", 10, 8, 12, NAN, NAN, NAN),
                           ("B", "engaged_reach", 11, 8, 14, 1, -2, 4)]))
    text = line_for(lines, "engaged_reach")
    assert "not distinguishable from noise" in text
    assert "B leads" not in text and "A leads" not in text
    assert "No variant leads" in text


def test_flipped_sign_flips_the_reading() -> None:
    lines = reading(table([("A", "engaged_reach", 10, 8, 12, NAN, NAN, NAN),
                           ("B", "engaged_reach", 4, 2, 6, -6, -8, -4)]))
    text = line_for(lines, "engaged_reach")
    assert "A leads" in text and "B leads" not in text
    assert "worse" in text


def test_less_is_better_for_pout_and_cost() -> None:
    lower = reading(table([("A", "pout_fans", 0.09, 0.08, 0.10, NAN, NAN, NAN),
                           ("B", "pout_fans", 0.04, 0.03, 0.05, -0.05, -0.06, -0.04)]))
    text = line_for(lower, "pout_fans")
    assert "less is better" in text and "B leads" in text and "better" in text
    higher = reading(table([("A", "cost_per_engaged_reach", 500, 400, 600, NAN, NAN, NAN),
                            ("B", "cost_per_engaged_reach", 900, 800, 1000, 400, 300, 500)]))
    text = line_for(higher, "cost_per_engaged_reach")
    assert "A leads" in text and "worse" in text


def test_leader_needs_to_beat_every_variant() -> None:
    """B and C both beat A, but B − C (paired, from the summary) contains 0: no single leader."""
    comp = table([("A", "engaged_reach", 10, 9, 11, NAN, NAN, NAN),
                  ("B", "engaged_reach", 20, 19, 21, 10, 9, 11),
                  ("C", "engaged_reach", 19.5, 18, 21, 9.5, 8, 11)], n=6)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, 6)
    summary = pd.DataFrame(  # 6 replicates: enough differences to judge (MIN_NONZERO = 5)
        [{"variant": v, "replicate": r, "brand": "acme", "engaged_reach": base + noise[r] + extra}
         for v, base in (("A", 10), ("B", 20), ("C", 20)) for r in range(6)
         for extra in [(0.5 if v == "B" else -0.5) * (1 if r % 2 else -1)]])
    text = line_for(reading(comp, summary), "engaged_reach")
    assert "No single variant leads" in text
    assert "B is ahead of A" in text and "C is ahead of A" in text
    assert "Not distinguishable from noise: B vs C" in text
    assert "B leads" not in text and "C leads" not in text
    # without the summary, B vs C cannot be tested, and the reading says so
    text = line_for(reading(comp), "engaged_reach")
    assert "Not tested: B vs C" in text and "B leads" not in text
    # a summary in which B beats C in every replicate makes B the leader
    summary.loc[summary["variant"] == "B", "engaged_reach"] += 5
    text = line_for(reading(comp, summary), "engaged_reach")
    assert "B leads" in text


def test_single_run_has_no_interval_and_no_winner() -> None:
    comp = table([("A", "engaged_reach", 10, NAN, NAN, NAN, NAN, NAN),
                  ("B", "engaged_reach", 20, NAN, NAN, NAN, NAN, NAN)], n=1)
    lines = [plain(x) for x in reading(comp)]
    assert "no 95% interval" in lines[0] and "perksim compare" in lines[0]
    assert not any("B leads" in x or "A leads" in x for x in lines)
    assert "B 20" in line_for(reading(comp), "engaged_reach")


def sweep_table(values: list[tuple[int, float, float, float]]) -> pd.DataFrame:
    """One variant, one metric (engaged_reach) at several thresholds: (x, mean, lo, hi)."""
    return pd.DataFrame([{"point": i, "campaigns[0].strategy.threshold": x, "variant": "A",
                          "brand": "acme", "metric": "engaged_reach", "mean": m, "std": 1.0,
                          "ci_low": lo, "ci_high": hi, "n": 10, "diff_mean": NAN,
                          "diff_ci_low": NAN, "diff_ci_high": NAN, "diff_n": 0}
                         for i, (x, m, lo, hi) in enumerate(values)])


def test_sweep_reading_follows_the_numbers() -> None:
    rising = reading(sweep_table([(40, 2, 1, 3), (55, 5, 4, 6), (63, 9, 8, 10)]))
    assert "A rises from 2 at 40 to 9 at 63" in line_for(rising, "engaged_reach")
    falling = reading(sweep_table([(40, 9, 8, 10), (55, 5, 4, 6), (63, 2, 1, 3)]))
    assert "A falls" in line_for(falling, "engaged_reach")
    flat = reading(sweep_table([(40, 5, 3, 7), (55, 5.5, 3.5, 7.5), (63, 6, 4, 8)]))
    text = line_for(flat, "engaged_reach")
    assert "is flat" in text and "rises" not in text
    peak = reading(sweep_table([(40, 5, 4, 6), (55, 9, 8, 10), (63, 5, 4, 6)]))
    text = line_for(peak, "engaged_reach")
    assert "not steadily in one direction: highest 9 at 55" in text
    assert "rises" not in text and "falls" not in text
    # sorted by the swept value, not by the order of the points
    shuffled = reading(sweep_table([(63, 9, 8, 10), (40, 2, 1, 3), (55, 5, 4, 6)]))
    assert "A rises from 2 at 40 to 9 at 63" in line_for(shuffled, "engaged_reach")


def test_things_to_notice_follow_the_numbers() -> None:
    comp = table([
        ("threshold", "reach", 150, 140, 160, NAN, NAN, NAN),
        ("search", "reach", 100, 90, 110, -50, -60, -40),
        ("draw", "reach", 20, 15, 25, -130, -140, -120),
        ("threshold", "engaged_reach", 8, 6, 10, NAN, NAN, NAN),
        ("search", "engaged_reach", 12, 10, 14, 4, 2, 6),
        ("draw", "engaged_reach", 3, 2, 4, -5, -7, -3),
        ("threshold", "pout_fans", 0.09, 0.08, 0.1, NAN, NAN, NAN),
        ("search", "pout_fans", 0.08, 0.07, 0.09, -0.01, -0.015, -0.005),
        ("draw", "pout_fans", 0.04, 0.03, 0.05, -0.05, -0.06, -0.04),
    ])
    strategies = {"threshold": {"acme": "score_threshold"}, "search": {"acme": "relevance"},
                  "draw": {"acme": "lottery"}}
    # without the summary, search vs draw cannot be tested: nobody leads on pout
    notes = [plain(n) for n in things_to_notice(comp, None, strategies)]
    assert not any("lottery" in n.lower() for n in notes)
    rows = []
    for v, base in (("threshold", 0), ("search", 1), ("draw", 2)):
        for r in range(5):
            rows.append({"variant": v, "replicate": r, "brand": "acme",
                         "reach": [150, 100, 20][base] + r, "engaged_reach": [8, 12, 3][base] + r,
                         "pout_fans": [0.09, 0.08, 0.04][base] + r / 1000})
    notes = [plain(n) for n in things_to_notice(comp, pd.DataFrame(rows), strategies)]
    assert any("threshold leads on reach but not on engaged_reach" in n for n in notes)
    assert any(n.startswith("The lottery (draw) leaves the excluded fans least frustrated") for n in notes)
    # change the numbers: the lottery no longer has the lowest pout, and the note goes
    comp.loc[(comp["variant"] == "draw") & (comp["metric"] == "pout_fans"),
             ["mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high"]] = \
        [0.095, 0.09, 0.1, 0.005, -0.01, 0.02]
    for row in rows:
        if row["variant"] == "draw":
            row["pout_fans"] = 0.095 + row["replicate"] / 1000
    notes = [plain(n) for n in things_to_notice(comp, pd.DataFrame(rows), strategies)]
    assert not any("lottery" in n.lower() for n in notes)


def test_perksim_report_writes_the_report(folders) -> None:
    result = CliRunner().invoke(cli, ["report", str(folders["run"])])
    assert result.exit_code == 0, result.output
    words = result.output.split()
    assert words[:4] == ["report:", str(folders["run"] / "report.html"),
                         "markdown:", str(folders["run"] / "report.md")]
    assert words[4:] in ([], ["handout:", str(folders["run"] / "handout.html")])
    assert (folders["run"] / "handout.html").is_file()


# --- metrics too rare to compare ------------------------------------------------------------------


def with_rarity(comp: pd.DataFrame, nonzero: dict[str, int], runs: int = 20) -> pd.DataFrame:
    """Add comparison.csv's rarity columns: ``nonzero`` runs per variant (others: all runs)."""
    comp = comp.copy()
    comp["runs"] = runs
    comp["nonzero"] = [nonzero.get(v, runs) for v in comp["variant"]]
    comp["rare"] = comp["nonzero"] < 5
    need = [np.ceil(5 * runs / (k or 3)) if k < 5 else NAN for k in comp["nonzero"]]
    comp["replicates_needed"] = need
    comp["replicates_needed_is_lower_bound"] = comp["nonzero"] == 0
    first = comp["variant"] == comp["variant"].iloc[0]
    comp["diff_rare"] = ~first & (comp["rare"] | bool(comp.loc[first, "rare"].iloc[0]))
    return comp


def test_rare_metric_gets_no_winner_and_says_how_many_replicates_are_needed() -> None:
    numbers = [("A", "adopters", 0.1, 0.0, 0.3, NAN, NAN, NAN),
               ("B", "adopters", 2.0, 1.5, 2.6, 1.9, 1.4, 2.5)]
    # the same numbers without rarity: B is better beyond noise and leads
    assert "B leads" in line_for(reading(table(numbers)), "adopters")
    comp = with_rarity(table(numbers), {"A": 2})
    text = line_for(reading(comp), "adopters")
    assert "B leads" not in text and "A leads" not in text
    said = text.split("more is better): ", 1)[1]
    assert "better" not in said and "worse" not in said and "beyond noise" not in said
    assert "Too rare to compare at this replicate count" in text
    assert "A (2 of 20 runs non-zero)" in text and "about 50 replicates would be needed" in text
    assert "A 0.100 (rare: no interval)" in text
    assert "[0, 0.300]" not in text  # A's interval is not shown
    assert "B +1.90 — too rare to compare at this replicate count" in text
    # the summary table says so too, and gives no ✱
    [(_, rows)] = report.summary_tables(report.Table(comp), ["adopters"])
    assert rows[0][1] == "0.100 (rare: 2 of 20 runs non-zero; ~50 replicates needed)"
    assert "✱" not in rows[0][2] and "too rare to compare" in rows[0][2]
    # no run with a value: the rule of three gives a lower bound
    none = with_rarity(table(numbers), {"A": 0})
    assert "at least 34 replicates would be needed" in line_for(reading(none), "adopters")


def test_rare_variant_is_left_out_of_verdicts_between_the_others() -> None:
    comp = with_rarity(table([("A", "engaged_reach", 10, 8, 12, NAN, NAN, NAN),
                              ("B", "engaged_reach", 20, 17, 23, 10, 7, 13),
                              ("C", "engaged_reach", 0.1, 0, 0.3, -9.9, -12, -8)]), {"C": 1})
    text = line_for(reading(comp), "engaged_reach")
    assert "B leads" not in text and "No variant is said to lead" in text
    assert "C (1 of 20 runs non-zero)" in text and "about 100 replicates" in text
    assert "Of the others, beyond noise, B is ahead of A." in text
    assert "B +10 [+7, +13] (" in text and "C −9.90 — too rare to compare" in text


def test_things_to_notice_name_no_leader_on_a_rare_metric() -> None:
    comp = table([("threshold", "reach", 150, 140, 160, NAN, NAN, NAN),
                  ("search", "reach", 100, 90, 110, -50, -60, -40),
                  ("threshold", "engaged_reach", 8, 6, 10, NAN, NAN, NAN),
                  ("search", "engaged_reach", 12, 10, 14, 4, 2, 6)])
    notes = [plain(n) for n in things_to_notice(comp)]
    assert any("threshold leads on reach but not on engaged_reach" in n for n in notes)
    rare = with_rarity(comp, {"search": 3})
    assert not any("leads on reach" in plain(n) for n in things_to_notice(rare))


def test_sweep_reading_leaves_rare_points_out_of_the_trend() -> None:
    comp = sweep_table([(40, 0.1, 0, 0.3), (55, 5, 4, 6), (63, 9, 8, 10)])
    comp["runs"], comp["nonzero"] = 10, [1, 10, 10]
    comp["rare"] = comp["nonzero"] < 5
    comp["replicates_needed"] = [50, NAN, NAN]
    comp["replicates_needed_is_lower_bound"] = False
    text = line_for(reading(comp), "engaged_reach")
    assert "A rises from 5 at 55 to 9 at 63" in text
    assert "too rare to compare at 40 with this many replicates" in text
    assert "about 50 replicates would be needed" in text
    assert "40: 0.100 (rare)" in text


def test_tables_without_rarity_columns_read_as_before() -> None:
    # comparison.csv of older versions has no rare column: nothing is called rare
    assert not report.is_rare({"n": 20, "mean": 0.0})
    assert not report.is_rare({"rare": True, "runs": 1})  # a single run has no interval anyway
    assert report.is_rare({"rare": "True", "runs": 20}) and report.is_rare({"rare": np.True_, "runs": 4})
