"""The floor benchmark (benchmarks/floor.py) at a tiny size: it times the model's own draws and
functions, and its fused, compiled phases 1–3 give the package's results bit for bit.
No wall-clock assertions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

FLOOR = Path(__file__).resolve().parents[1] / "benchmarks" / "floor.py"
HAS_NUMBA = importlib.util.find_spec("numba") is not None


@pytest.fixture(scope="module")
def floor():
    spec = importlib.util.spec_from_file_location("perksim_floor_benchmark", FLOOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_the_floor_is_the_sum_of_its_parts(floor) -> None:
    result = floor.measure(size=2_000, steps=3, repeat=1, seed=5, use_numba=False)
    rows = {r["what"]: r for r in result["rows"]}
    parts = [r for r in result["rows"] if r.get("floor")]
    assert len(parts) == 5
    assert rows["the floor: the parts above"]["seconds"] == pytest.approx(
        sum(r["seconds"] for r in parts))
    for r in result["rows"]:
        assert r["seconds"] > 0 and r["us_per_user_step"] == pytest.approx(
            r["seconds"] / 2_000 * 1e6)
    assert result["identical"] is None
    assert "phases were not measured" in floor.report(result)


def test_the_python_fused_phases_are_the_package_phases(floor) -> None:
    """The fused loops, run as plain Python (no numba), take the numpy code's draws in its
    order and repeat its arithmetic: the same posts, averages and scores, bit for bit."""
    from simulator import PerkCampaignModel
    from simulator.scenario.loader import validate_document

    sc = validate_document(floor.scenario_document(300, 6, 9), file="<test>")
    model = PerkCampaignModel(sc, rng=9)
    model.run(steps=4)
    state = floor.State(model)
    expected = floor.outputs(model, floor.phases(model))
    state.restore(model)
    got = floor.outputs(model, floor.phases(
        model, floor.kernels.Kernels(floor.kernels.post_and_engage, floor.kernels.score)))
    for a, b in zip(expected, got, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    state.restore(model)  # and restoring really rewinds: the same draws again
    again = floor.outputs(model, floor.phases(model))
    assert all(np.array_equal(a, b) for a, b in zip(expected, again, strict=True))


@pytest.mark.slow
@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed (the fast extra)")
def test_the_compiled_fused_phases_are_the_package_phases(floor) -> None:
    result = floor.measure(size=3_000, steps=3, repeat=1, seed=7, use_numba=True)
    assert result["identical"] is True
    assert any("compiled" in r["what"] for r in result["rows"])
    assert result["machine"]["numba"]
