"""The network figure answers its caption (issue 13): above ``NETWORK_WHOLE`` users it draws a
reproducible sample around the perk recipients, marks the brand's fans apart from the
recipients, counts every user in its legends (as ``users.csv`` does), and counts follows the
way the report does (one per row of ``edges.csv``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_hex

from simulator import load_scenario
from simulator.cli import cli
from simulator.experiment.plan import run_once
from simulator.views.plots import network

REPO = Path(__file__).resolve().parents[1]
BRAND = "courtside"  # klout_pout's brand
SAMPLE = 400


@pytest.fixture(scope="module")
def run_1500() -> tuple[pd.DataFrame, pd.DataFrame]:
    """users and edges of klout_pout at 1,500 users (50 perks on day 14), as users.csv and
    edges.csv hold them."""
    scenario = load_scenario(REPO / "scenarios" / "klout_pout.yaml",
                             overrides=["population.size=1500", "steps=20"])
    result = run_once(scenario)
    coo = result.model.graph.followers.tocoo()
    return result.model.users_frame(), pd.DataFrame({"author": coo.row, "follower": coo.col})


def drawn_points(fig) -> np.ndarray:
    """The users drawn: every scatter's offsets, stacked."""
    ax = fig.axes[0]
    return np.vstack([c.get_offsets() for c in ax.collections[1:]])


def legend_counts(fig) -> dict[str, tuple[int, int | None]]:
    """The states legend: label → (count of all users, count drawn or None when all are)."""
    out = {}
    for text in fig.legends[0].get_texts():
        label, total, drawn = re.fullmatch(r"(.*) \(([\d,]+)(?:; ([\d,]+) drawn)?\)",
                                           text.get_text()).groups()
        out[label] = (int(total.replace(",", "")), int(drawn.replace(",", "")) if drawn else None)
    return out


def expected_counts(users: pd.DataFrame, threshold: float = 0.3) -> dict[str, int]:
    """Each state's count straight from the users table, by the legend's priority."""
    perk = users[f"perk_{BRAND}"] > 0
    adopted = users[f"adopted_{BRAND}"].astype(bool) & ~perk
    pouting = (users[f"pout_{BRAND}"] >= threshold) & ~perk & ~adopted
    aware = users[f"aware_{BRAND}"].astype(bool) & ~perk & ~adopted & ~pouting
    return {"got a perk": perk.sum(), "adopted": adopted.sum(),
            f"pouting, pout ≥ {threshold:g}": pouting.sum(),
            "heard of it (any mention, complaints too)": aware.sum(),
            "never heard of the brand": len(users) - perk.sum() - adopted.sum() - pouting.sum() - aware.sum()}


def test_a_large_graph_is_drawn_as_a_sample_with_whole_population_counts(run_1500):
    users, edges = run_1500
    fig = network.plot_network(users, edges, BRAND, sample=SAMPLE, seed=2012)
    points = drawn_points(fig)
    assert len(points) <= SAMPLE  # the drawn node count is at most the stated sample
    title = fig._suptitle.get_text().replace("\n", " ")
    assert f"1,500 users, {len(edges):,} follows" in title
    assert f"({len(points):,} drawn)" not in title and "Drawn: all 50 perk recipients" in title
    assert f"; {len(points):,} drawn)" in fig.legends[0].get_title().get_text()
    # the legend counts the whole population, as users.csv does, and how many of each are drawn
    counts = legend_counts(fig)
    assert {label: total for label, (total, _) in counts.items()} == expected_counts(users)
    assert counts["got a perk"][0] == 50
    assert sum(drawn for _, drawn in counts.values()) == len(points)
    assert counts["got a perk"][1] == 50  # every recipient is drawn
    state = network.network_states(users, BRAND)
    fans = fig.axes[0].get_legend().get_texts()[0].get_text()
    assert f"({users[f'fan_{BRAND}'].sum():,}; " in fans
    assert f"fans are {(users[f'fan_{BRAND}'] & (state == 'perk')).sum()} of 50 perk recipients" in fans


def test_fans_are_ringed_and_recipients_filled(run_1500):
    users, edges = run_1500
    fig = network.plot_network(users, edges, BRAND, sample=SAMPLE, seed=2012)
    scatters = dict(zip([key for key, _, _ in network.NETWORK_STATES], fig.axes[0].collections[1:],
                        strict=True))
    perk = scatters["perk"]
    assert {to_hex(c) for c in perk.get_facecolors()} == {"#e69f00"}  # recipients: orange fill
    rings = {to_hex(c) for s in scatters.values() for c in s.get_edgecolors()}
    assert rings == {"#000000", "#ffffff"}  # fans: a black ring, everyone else white or none
    ringed = sum(int((np.array([to_hex(c) for c in s.get_edgecolors()]) == "#000000").sum())
                 for s in scatters.values())
    drawn_fans = int(re.search(r"; ([\d,]+) drawn\)", fig.axes[0].get_legend().get_texts()[0].get_text())
                     .group(1))
    assert ringed == drawn_fans > 0
    # recipients who are not fans have no black ring: fill and ring tell the two apart
    assert any(to_hex(c) == "#ffffff" for c in perk.get_edgecolors())


def test_the_sample_is_reproducible_and_follows_its_rule(run_1500):
    users, edges = run_1500
    perk = users[f"perk_{BRAND}"].to_numpy() > 0
    ids = users["id"].to_numpy()
    a = network.network_sample(ids, perk, edges, SAMPLE, seed=7)
    assert np.array_equal(a.ids, network.network_sample(ids, perk, edges, SAMPLE, seed=7).ids)
    assert not np.array_equal(a.ids, network.network_sample(ids, perk, edges, SAMPLE, seed=8).ids)
    assert len(a.ids) == SAMPLE and not a.everyone
    groups = a.groups
    assert groups["perk recipients"] == (50, 50)
    assert groups["users who follow them"][0] == (SAMPLE - 50) // 2
    followers = set(edges["follower"][edges["author"].isin(ids[perk])]) - set(ids[perk])
    assert groups["users who follow them"][1] == len(followers)
    assert sum(total for _, total in groups.values()) == len(users)
    assert a.rule().startswith("all 50 perk recipients, 175 of the ")
    # more recipients than half the sample: half of it, and the rest from the others
    many = network.network_sample(ids, np.arange(len(ids)) % 3 == 0, edges, SAMPLE, seed=7)
    assert many.groups["perk recipients"] == (SAMPLE // 2, 500) and len(many.ids) == SAMPLE
    every = network.network_sample(ids, np.ones(len(ids), dtype=bool), edges, SAMPLE, seed=7)
    assert every.groups["perk recipients"] == (SAMPLE, 1500)  # nobody else: all recipients
    # the global random state is never used
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    network.network_sample(ids, perk, edges, SAMPLE, seed=7)
    assert np.random.random() == before


def test_small_graphs_are_drawn_whole_on_the_cached_full_layout(run_1500):
    users, edges = run_1500
    small = users[users["id"] < 300]
    inner = edges[(edges["author"] < 300) & (edges["follower"] < 300)]
    fig = network.plot_network(small, inner, BRAND)
    assert len(drawn_points(fig)) == 300
    assert "drawn" not in fig.legends[0].get_title().get_text() and "Drawn" not in fig._suptitle.get_text()
    assert network.network_layout(inner, 300) is network.network_layout(inner.iloc[::-1], 300)
    offsets = np.vstack([c.get_offsets() for c in fig.axes[0].collections[1:]])
    assert np.isin(offsets, network.network_layout(inner, 300)).all()  # the whole graph's layout
    sample = network.network_sample(small["id"].to_numpy(), small[f"perk_{BRAND}"] > 0, inner)
    assert sample.everyone and sample.rule() == "all 300 users"


@pytest.mark.slow
def test_figure_and_report_count_the_same_follows(tmp_path):
    result = CliRunner().invoke(cli, ["run", "klout_pout", "--set", "population.size=1500",
                                      "--steps", "20", "--report", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = Path(next(ln for ln in result.output.splitlines() if ln.startswith("results: "))
                  .removeprefix("results: "))
    users, edges = pd.read_csv(folder / "users.csv"), pd.read_csv(folder / "edges.csv")
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert f"{len(edges):,} follows (one user following another" in report
    assert "achieved assortativity" in report and "more alike than two users picked at random" in report
    fig = network.plot_network(users, edges, BRAND)  # as perksim plot draws network_base
    assert f"{len(edges):,} follows" in fig._suptitle.get_text()
    assert len(drawn_points(fig)) <= network.NETWORK_SAMPLE
    assert {label: total for label, (total, _) in legend_counts(fig).items()} == expected_counts(users)
    assert (folder / "figures" / "network_base.png").stat().st_size > 10_000
    assert f"sample of {network.NETWORK_SAMPLE}" in report


def test_users_without_ties_among_the_drawn_sit_apart_on_a_circle():
    n = 700
    users = pd.DataFrame({"id": np.arange(n), "followers": 0, f"perk_{BRAND}": np.arange(n) < 10,
                          f"adopted_{BRAND}": False, f"aware_{BRAND}": False, f"pout_{BRAND}": 0.0,
                          f"fan_{BRAND}": np.arange(n) % 10 == 0})
    core = np.arange(199)  # a chain of 200 users (the recipients among them); the rest alone
    edges = pd.DataFrame({"author": np.r_[core, core + 1], "follower": np.r_[core + 1, core]})
    fig = network.plot_network(users, edges, BRAND, seed=1)
    points = drawn_points(fig)
    assert len(points) == network.NETWORK_SAMPLE
    assert len(np.unique(points.round(9), axis=0)) == len(points)  # nobody stacked on another
    assert "not tied to the main group sit on the outer circle" in fig._suptitle.get_text().replace("\n", " ")
