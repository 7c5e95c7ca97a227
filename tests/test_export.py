"""``perksim export``: a results folder's follow graph as GEXF or GraphML (read back with
networkx) and its tables as Parquet (read back with pyarrow); incomplete folders, a missing
users table or pyarrow, and failed writes exit with nothing written."""

from __future__ import annotations

import errno
import json
import shutil
import sys
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from click.testing import CliRunner

from simulator import compare, load_scenario, run
from simulator.cli import cli

ROOT = Path(__file__).resolve().parents[1]
READERS = {"gexf": nx.read_gexf, "graphml": nx.read_graphml}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A compare of two of klout_pout's variants at 300 users: two users tables in one."""
    sc = load_scenario(ROOT / "scenarios" / "klout_pout.yaml",
                       overrides=["population.size=300", "steps=20"])
    variants = list(sc.variants)[:2]
    result = compare(sc, replicates=1, variants=variants)
    return result.save(tmp_path_factory.mktemp("export"), figures=False)


@pytest.fixture
def copy(folder, tmp_path) -> Path:
    """A copy of the folder that a test may damage or write into."""
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def invoke(*args: object):
    return CliRunner().invoke(cli, ["export", *map(str, args)])


def files(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


@pytest.mark.parametrize("to", ["gexf", "graphml"])
def test_the_graph_reads_back_with_the_users_outcomes_and_the_follows(copy, to):
    result = invoke(copy, "--to", to)
    assert result.exit_code == 0, result.output
    path = copy / f"graph.{to}"
    assert result.stdout.strip().startswith(f"{to}: {path} (300 users, ")
    graph = READERS[to](path, node_type=int)
    users = pd.read_csv(copy / "users.csv")
    first = users[users["variant"] == users["variant"].iloc[0]].set_index("id")
    edges = pd.read_csv(copy / "edges.csv")
    assert graph.is_directed()
    assert graph.number_of_nodes() == len(first) == 300
    assert graph.number_of_edges() == len(edges)
    author, follower = edges.iloc[0]
    assert graph.has_edge(follower, author)  # from the follower to the user followed
    brand = next(c for c in users.columns if c.startswith("perk_")).removeprefix("perk_")
    given = first.index[first[f"perk_{brand}"] > 0]
    assert len(given)  # the check below looks at users with a perk, and at others
    for user in [*given[:3], *first.index[:3]]:
        node, row = graph.nodes[user], first.loc[user]
        assert node[f"perk_{brand}"] == row[f"perk_{brand}"]
        assert node[f"fan_{brand}"] == row[f"fan_{brand}"]
        assert node[f"adopted_{brand}"] == row[f"adopted_{brand}"]
        assert node[f"pout_{brand}"] == pytest.approx(row[f"pout_{brand}"])
        assert node["score"] == pytest.approx(row["score"])
        assert node["region"] == row["region"] and node["archetype"] == row["archetype"]


def test_variant_chooses_whose_outcomes_the_nodes_carry(copy, tmp_path):
    users = pd.read_csv(copy / "users.csv")
    second = list(dict.fromkeys(users["variant"]))[1]
    out = tmp_path / "second.graphml"
    result = invoke(copy, "--to", "graphml", "--variant", second, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"variant {second}" in result.stdout
    graph = nx.read_graphml(out, node_type=int)
    rows = users[users["variant"] == second].set_index("id")
    brand = next(c for c in users.columns if c.startswith("perk_"))
    assert {n: d[brand] for n, d in graph.nodes(data=True)} == rows[brand].to_dict()
    assert graph.graph["variant"] == second
    unknown = invoke(copy, "--to", "gexf", "--variant", "nope")
    assert unknown.exit_code == 2 and "has the variants" in unknown.stderr


def test_every_table_reads_back_from_parquet(copy):
    pq = pytest.importorskip("pyarrow.parquet")
    result = invoke(copy, "--to", "parquet")
    assert result.exit_code == 0, result.output
    out = copy / "parquet"
    assert files(out) == ["comparison.parquet", "edges.parquet", "steps.parquet",
                          "summary.parquet", "users.parquet"]
    for name in ("steps", "summary", "comparison", "users", "edges"):
        table = pq.read_table(out / f"{name}.parquet")
        csv = pd.read_csv(copy / f"{name}.csv")
        assert table.num_rows == len(csv) and table.column_names == list(csv.columns), name
    users = pq.read_table(out / "users.parquet").to_pandas()
    pd.testing.assert_frame_equal(users, pd.read_csv(copy / "users.csv"), check_dtype=False)
    again = invoke(copy, "--to", "parquet")  # an existing export is not overwritten
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_parquet_without_pyarrow_exits_2_with_the_install_hint(copy, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    before = files(copy)
    result = invoke(copy, "--to", "parquet")
    assert result.exit_code == 2
    assert "needs pyarrow" in result.stderr and "pip install -e '.[parquet]'" in result.stderr
    assert files(copy) == before


@pytest.mark.parametrize("missing", ["comparison.csv", "manifest.json", "scenario.yaml"])
def test_an_incomplete_folder_is_refused_naming_what_is_missing(copy, missing):
    (copy / missing).unlink()
    before = files(copy)
    result = invoke(copy, "--to", "gexf")
    assert result.exit_code == 2
    assert f"{copy} is not a complete results folder of perksim: it has no {missing}" in result.stderr
    assert files(copy) == before


def test_an_unfinished_experiment_is_refused(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    result = invoke(copy, "--to", "graphml")
    assert result.exit_code == 2 and "status 'running'" in result.stderr
    assert not (copy / "graph.graphml").exists()


def test_a_folder_without_users_table_has_no_graph(tmp_path):
    sc = load_scenario(ROOT / "scenarios" / "klout_pout.yaml",
                       overrides=["population.size=200", "steps=15"])
    folder = run(sc, users=False).save(tmp_path, figures=False, users_table="none")
    assert not (folder / "users.csv").exists()
    result = invoke(folder, "--to", "gexf")
    assert result.exit_code == 2
    assert "written with --users-table none" in result.stderr and "no graph" in result.stderr
    assert not (folder / "graph.gexf").exists()


def test_a_graph_too_large_to_keep_has_no_edges_to_export(copy):
    (copy / "edges.csv").unlink()
    result = invoke(copy, "--to", "gexf")
    assert result.exit_code == 2
    assert "has no edges.csv" in result.stderr and "at most 3,000 users" in result.stderr


def test_a_failed_write_leaves_no_partial_file(copy, monkeypatch):
    from simulator.experiment import export

    def full_disk(graph, path):
        Path(path).write_text("<gexf partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setitem(export.WRITERS, "gexf", full_disk)
    before = files(copy)
    result = invoke(copy, "--to", "gexf")
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr and "nothing was written" in result.stderr
    assert files(copy) == before  # no graph.gexf, no temporary file


def test_out_must_be_in_an_existing_folder(copy, tmp_path):
    result = invoke(copy, "--to", "gexf", "--out", tmp_path / "no" / "graph.gexf")
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = invoke(copy, "--to", "parquet", "--variant", "x")
    assert result.exit_code == 2 and "--variant" in result.stderr
