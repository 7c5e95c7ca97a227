"""The report of a robustness study (``perksim robust``): its "How robust is this?" section —
the shares table as robust_shares.csv has them, a robust verdict only from ROBUST_SHARE on (a
split never gets a winner), prompts built on the flip conditions, every number of the prose in
a table — and no sweep sections over the samples; an ordinary compare folder has no such
section. One tiny study (150 users, 12 steps, 8 samples × 2 variants × 2 replicates)."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from simulator import compare, robust, scenario_from_text
from simulator.experiment.robust.files import read_robust, write_robust
from simulator.experiment.robust.flips import Flips
from simulator.views.report import write_report
from simulator.views.report.robust import percent
from tests.test_robust import TINY

SECTION = "How robust is this?"
KEYS = {"brand": "courtside", "variant": "lottery", "reference": "threshold"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    study = robust(scenario_from_text(TINY), samples=2, replicates=2)
    return study.save(tmp_path_factory.mktemp("robust"))


@pytest.fixture(scope="module")
def report(folder: Path) -> str:
    _, md = write_report(folder)
    return md.read_text(encoding="utf-8")


def section(md: str, title: str = SECTION) -> str:
    """The text of the section whose heading holds ``title``, up to the next heading."""
    start = next(i for i, line in enumerate(md.splitlines()) if line.startswith("## ") and title in line)
    lines = md.splitlines()[start + 1:]
    end = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    return "\n".join(lines[:end])


def tables(text: str) -> list[list[list[str]]]:
    """The Markdown tables of ``text``, each as rows of cells (header first)."""
    found, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            if not line.startswith("|---"):
                current.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        elif current:
            found.append(current)
            current = []
    return found + ([current] if current else [])


def prose(text: str) -> str:
    """The sentences of ``text`` about its results: no tables, figures, captions or code, and
    no notes (which say how to read any study: e.g. that 5% of the samples are noise)."""
    keep = [line for line in text.splitlines()
            if not line.startswith(("|", "![", "*robust_", "```", "perksim ", "> "))]
    return "\n".join(keep)


def the_table(text: str, first: str) -> list[list[str]]:
    return next(t for t in tables(text) if t[0][0] == first or first in t[0])


# --- a real study ------------------------------------------------------------------------------


def test_robust_report_has_the_section_and_no_sweep_sections(folder: Path, report: str) -> None:
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert SECTION in report and SECTION in html
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert not any("Figures" in h or "What the numbers say" in h or "Telling users" in h
                   for h in headings), headings
    assert "Swept parameters" not in report and "sweep value" not in report
    assert "![robust_indices_reach](figures/robust_indices_reach.png)" in report
    assert "![robust_map_reach](figures/robust_map_reach.png)" in report
    assert 'src="data:image/png;base64,' in html
    text = section(report)
    study = dict(the_table(text, "the study")[1:])
    assert study["samples of the assumptions"] == "8" and study["uncertain parameters"] == "3"
    assert study["paired replicates per sample and variant"] == "2"
    assert study["reference (the first variant)"] == "threshold"
    assert "perksim robust" in section(report, "Where the numbers come from")


def test_shares_table_matches_robust_shares_csv(folder: Path, report: str) -> None:
    shares = pd.read_csv(folder / "robust_shares.csv")
    table = the_table(section(report), "against")
    header, rows = table[0], table[1:]
    assert rows, table
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        own = shares[(shares["variant"] == cells["variant"])
                     & (shares["metric"] == cells["metric"].strip("`"))].set_index("verdict")
        for verdict in ("better", "worse", "indistinguishable", "undefined"):
            if verdict in cells:
                assert cells[verdict] == percent(own.loc[verdict, "share"]), (cells, verdict)
        assert cells["samples"] == str(own["samples"].iloc[0])
        robust_rows = own[own["robust"]]
        assert cells["finding"].startswith("**robust") == (len(robust_rows) > 0)


def test_every_number_of_the_prose_is_in_a_table(report: str) -> None:
    text = section(report)
    cells = " ".join(c for t in tables(text) for row in t for c in row)
    for pct in re.findall(r"[<>]?\d+(?:\.\d+)?%", prose(text)):
        assert re.search(rf"(?<![\d.]){re.escape(pct)}", cells), pct


# --- split shares never read as a winner -----------------------------------------------------


def _split_tables(folder: Path):
    """The study's tables with planted findings: reach split 5 : 3 with two flip boxes,
    pout_fans split with the reference ahead where score.window ≤ 20, engaged_reach robust."""
    found = read_robust(folder)
    samples = int(found.shares["samples"].max())
    counts = {"reach": {"better": 5, "indistinguishable": samples - 5},
              "pout_fans": {"worse": 6, "better": 1, "indistinguishable": samples - 7},
              "engaged_reach": {"better": samples}}
    shares = found.shares.copy()
    for metric, own in counts.items():
        rows = shares["metric"] == metric
        shares.loc[rows, "count"] = shares.loc[rows, "verdict"].map(own).fillna(0).astype(int)
        shares.loc[rows, "share"] = shares.loc[rows, "count"] / samples
        shares.loc[rows, "robust"] = (shares.loc[rows, "share"] >= 0.9) & \
            shares.loc[rows, "verdict"].isin(["better", "worse"])
    boxes = [
        ("reach", 1, "behaviour.brand_talk ≤ 0.01", "indistinguishable", 3, 3),
        ("reach", 2, "behaviour.brand_talk > 0.01", "better", 5, 5),
        ("pout_fans", 1, "score.window ≤ 20", "worse", 6, 6),
        ("pout_fans", 2, "score.window > 20", "indistinguishable", samples - 6, samples - 7),
        ("engaged_reach", 1, "everywhere", "better", samples, samples),
    ]
    flips = pd.DataFrame([{**KEYS, "metric": m, "box": b, "condition": c, "verdict": v,
                           "samples": n, "agreeing": a, "accuracy": 0.875}
                          for m, b, c, v, n, a in boxes])
    return replace(found, shares=shares, flips=Flips(flips, found.flips.bounds))


@pytest.fixture(scope="module")
def split_report(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    copy = tmp_path_factory.mktemp("split") / folder.name
    shutil.copytree(folder, copy)
    write_robust(copy, _split_tables(folder))
    _, md = write_report(copy)
    return section(md.read_text(encoding="utf-8"))


def _line(text: str, *words: str) -> str:
    return next(line for line in text.splitlines()
                if line.startswith("- ") and all(w in line for w in words))


def test_a_split_is_never_called_robust(split_report: str) -> None:
    reach = _line(split_report, "`reach` —")
    assert "split" in reach and "robust" not in reach.lower(), reach
    assert f"better in {percent(5 / 8)}" in reach
    assert "Better where `behaviour.brand_talk > 0.01` (5 of 5 samples agree); " \
           "indistinguishable elsewhere." in reach
    pout = _line(split_report, "`pout_fans` —")
    assert "split" in pout and "robust" not in pout.lower(), pout
    shares = the_table(split_report, "against")
    row = next(r for r in shares if r[2] == "`reach`")
    assert row[-1] == "split" and row[3] == percent(5 / 8)
    winner = _line(split_report, "**robust**")
    assert "`engaged_reach` (100%)" in winner and "`reach` (" not in winner


def test_prompts_are_built_on_the_flip_conditions(split_report: str) -> None:
    prompts = split_report.split("**Questions for discussion**")[1]
    assert "defenders of threshold" in prompts
    assert "only where `score.window ≤ 20` (6 of 6 samples agree)" in prompts
    assert "only where `behaviour.brand_talk > 0.01` (5 of 5 samples agree)" in prompts
    flips = the_table(split_report, "where")
    assert ["lottery", "`pout_fans`", "`score.window ≤ 20`", "worse", "6", "6", "88%"] in flips


def test_split_report_quotes_only_numbers_of_its_tables(split_report: str) -> None:
    cells = " ".join(c for t in tables(split_report) for row in t for c in row)
    text = prose(split_report)
    for pct in re.findall(r"[<>]?\d+(?:\.\d+)?%", text):
        assert re.search(rf"(?<![\d.]){re.escape(pct)}", cells), pct
    flips = the_table(split_report, "where")
    told = {(r[4], r[5]) for r in flips[1:]}  # (samples, agreeing)
    for agreeing, samples in re.findall(r"(\d+) of (\d+) samples agree", text):
        assert (samples, agreeing) in told, (agreeing, samples)


def test_percent_never_rounds_across_the_robust_share() -> None:
    assert percent(0.8996) == "89.9%" and percent(0.9) == "90%" and percent(0.904) == "90%"
    assert percent(0.001) == "<1%" and percent(0.999) == ">99%" and percent(1.0) == "100%"


# --- an ordinary compare ------------------------------------------------------------------------


def test_a_compare_report_has_no_robustness_section(tmp_path: Path) -> None:
    text = TINY.split("uncertainties:")[0]
    folder = compare(scenario_from_text(text), replicates=2).save(tmp_path)
    _, md = write_report(folder)
    report = md.read_text(encoding="utf-8")
    assert SECTION not in report and "4. What the numbers say" in report
