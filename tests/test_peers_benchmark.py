"""The peer benchmark (benchmarks/peers.py) at a tiny size: every implementation is timed on the
one shared graph, and the cascades it times do what a cascade does. No wall-clock assertions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

PEERS = Path(__file__).resolve().parents[1] / "benchmarks" / "peers.py"


@pytest.fixture(scope="module")
def peers():
    spec = importlib.util.spec_from_file_location("perksim_peers_benchmark", PEERS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_every_implementation_is_timed_on_the_shared_graph(peers) -> None:
    result = peers.measure(size=1_000, steps=5, repeat=1, seed=3, mesa_size=300, mesa_steps=2,
                           ndlib=False, profile=False, short_run=0)
    rows = {r["key"]: r for r in result["rows"]}
    assert list(rows) == ["full", "reduced", "mesa_ic", "mesa_toy", "sweep", "floor"]
    assert result["same_graph"] and result["seeds"] == 10
    for key, r in rows.items():
        assert len(r["samples"]) == 1 and r["best_s"] > 0 and r["us_per_user_step"] > 0, key
        assert r["over_floor"] > 0 and r["over_sweep"] > 0 and r["over_full"] > 0, key
        assert r["active"] is not None and r["active"] >= 1, key
    assert rows["floor"]["over_floor"] == pytest.approx(1.0)
    assert rows["full"]["over_full"] == pytest.approx(1.0)
    assert (rows["mesa_ic"]["users"], rows["mesa_ic"]["steps"]) == (300, 2)
    # the cascades keep their seeds and cannot activate more users than there are
    for key in ("reduced", "sweep", "floor"):
        assert result["seeds"] <= rows[key]["active"] <= result["size"], key
    assert "|" in peers.table(result, markdown=True)


@pytest.mark.parametrize("cascade", ["csr_cascade", "sweep_cascade"])
def test_the_csr_floors_are_independent_cascades(peers, cascade) -> None:
    # a path 0-1-2-3 (both directions): with p = 1 one hop per step, with p = 0 only the seeds
    src, dst = np.array([0, 1, 2, 1, 2, 3]), np.array([1, 2, 3, 0, 1, 2])
    adj = sp.csr_array((np.ones(6), (src, dst)), shape=(4, 4))
    run = getattr(peers, cascade)
    rng = np.random.default_rng(0)
    assert run(adj, np.array([0]), 1.0, 2, rng).tolist() == [True, True, True, False]
    assert run(adj, np.array([0]), 1.0, 9, rng).all()
    assert run(adj, np.array([1]), 0.0, 9, rng).tolist() == [False, True, False, False]


def test_the_floors_spread_alike(peers) -> None:
    """Both floors are the same random cascade: their mean final sizes agree."""
    rng = np.random.default_rng(5)
    n = 400
    src = np.arange(1, n)
    dst = rng.integers(0, src)  # a random recursive tree, both directions
    adj = sp.csr_array((np.ones(2 * src.size), (np.r_[src, dst], np.r_[dst, src])), shape=(n, n))
    seeds = np.arange(0, n, 40)
    sizes = {c: np.mean([getattr(peers, c)(adj, seeds, 0.4, 30, rng).sum() for _ in range(300)])
             for c in ("csr_cascade", "sweep_cascade")}
    assert abs(sizes["csr_cascade"] - sizes["sweep_cascade"]) < 0.1 * sizes["csr_cascade"]


def test_without_ndlib_its_row_says_how_to_install_it(peers, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ndlib", None)  # import ndlib… raises ImportError
    monkeypatch.setitem(sys.modules, "ndlib.models", None)
    monkeypatch.setitem(sys.modules, "ndlib.models.epidemics", None)
    monkeypatch.setitem(sys.modules, "ndlib.models.ModelConfig", None)
    result = peers.measure(size=300, steps=2, repeat=1, seed=1, with_mesa=False, profile=False,
                           short_run=0)
    row = next(r for r in result["rows"] if r["key"] == "ndlib")
    assert "pip install -e '.[peers]'" in row["note"] and row["best_s"] is None
    assert row["over_floor"] is None and "—" in peers.table(result)
