"""The compiled phases 1–3 (simulator/model/kernels.py) give the numpy phases' results bit for
bit: the same draws in the same order, the same arithmetic. Checked on every bundled scenario
(compiled, when numba is installed), on random inputs (hypothesis, the kernels as plain
Python) and with the score's network term; and the choice of path is checked input."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import PerkCampaignModel, load_scenario, replicate_seed
from simulator.cli import cli
from simulator.model import dynamics as dyn
from simulator.model import kernels
from simulator.model.score import ScoreTracker

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "scenarios").glob("*.yaml")) \
    + sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "scenarios" / "checks").glob("*.yaml"))
# every bundled scenario with each of its variants (None: the scenario as written)
RUNS = [(path, variant) for path in SCENARIOS
        for variant in [None, *load_scenario(ROOT / path).variants]]
HAS_NUMBA = importlib.util.find_spec("numba") is not None
PLAIN = kernels.Kernels(kernels.post_and_engage, kernels.score)  # the kernels, not compiled


def _run(scenario, monkeypatch: pytest.MonkeyPatch, path: str, replicate: int = 0,
         kernels_as=None):
    monkeypatch.setenv("PERKSIM_KERNELS", path)
    model = PerkCampaignModel(scenario, rng=replicate_seed(scenario.seed, replicate))
    if kernels_as is not None:
        assert model.kernels is None
        model.kernels = kernels_as
    model.run()
    return model


def _same_run(a: PerkCampaignModel, b: PerkCampaignModel) -> None:
    assert a.steps_frame().equals(b.steps_frame())
    assert a.users_frame().equals(b.users_frame())
    for name in ("score", "posts", "post_factor", "pout", "perk", "adopted"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.tracker.distinct, b.tracker.distinct)
    assert np.array_equal(a.recent_posts, b.recent_posts)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed (the fast extra)")
@pytest.mark.parametrize(("path", "variant", "replicate"), [
    *((path, variant, 0) for path, variant in RUNS),
    # a reaction draw of mean ≥ 10 that numba's own Poisson sampler would have taken differently
    ("scenarios/score_gaming.yaml", "public_no_reciprocity", 2),
])
def test_every_bundled_scenario_is_the_same_run_compiled(path: str, variant: str | None,
                                                         replicate: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load_scenario(ROOT / path, variant=variant)
    numpy_run = _run(sc, monkeypatch, "numpy", replicate)
    compiled = _run(sc, monkeypatch, "numba", replicate)
    assert numpy_run.kernels is None and compiled.kernels is kernels.compiled()
    _same_run(numpy_run, compiled)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed (the fast extra)")
def test_the_compiled_poisson_draws_are_numpys() -> None:
    """Two million draws around numpy's switch between its two methods (mean 10) and beyond,
    with zeros among them: the same values, and the stream left where numpy leaves it."""
    import numba

    kernels.compiled()  # registers the samplers with numba

    @numba.njit
    def draws(rng, lam):
        out = np.empty(lam.size, np.int64)
        for i in range(lam.size):
            out[i] = kernels.poisson(rng, lam[i])
        return out

    g = np.random.default_rng(20)
    lam = np.concatenate([g.uniform(9.0, 12.0, 10**6), g.uniform(0.0, 80.0, 10**6), np.zeros(99)])
    g.shuffle(lam)
    a, b = np.random.default_rng(21), np.random.default_rng(21)
    assert np.array_equal(draws(b, lam), a.poisson(lam))
    assert a.random() == b.random()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       lam=st.lists(st.one_of(st.just(0.0), st.floats(0.0, 9.99), st.floats(10.0, 200.0)),
                    min_size=1, max_size=30))
def test_the_poisson_port_is_numpys(seed: int, lam: list[float]) -> None:
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    assert [kernels.poisson(b, x) for x in lam] == a.poisson(lam).tolist()
    assert a.random() == b.random()


@pytest.mark.parametrize(("name", "overrides"), [
    ("klout_pout", ["population.size=1500", "steps=25"]),
    # the network term feeds the scores back into the score; gaming changes posting and reactions
    ("score_gaming", ["population.size=1200", "steps=30", "score.weights.network=0.8"]),
])
def test_the_plain_kernels_are_the_same_run(name: str, overrides: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load_scenario(name, overrides=overrides)
    _same_run(_run(sc, monkeypatch, "numpy"), _run(sc, monkeypatch, "numpy", kernels_as=PLAIN))


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed (the fast extra)")
def test_the_compiled_network_term_is_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load_scenario("klout_pout", overrides=["population.size=2000", "steps=20",
                                                "score.weights.network=1.5"])
    _same_run(_run(sc, monkeypatch, "numpy"), _run(sc, monkeypatch, "numba"))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([0.0, 0.05, 1.0, 4.0, 30.0]), alpha=st.floats(0.01, 1.0))
def test_post_and_engage_matches_the_numpy_functions(n: int, seed: int, scale: float,
                                                     alpha: float) -> None:
    """Random rates (zero, small and above numpy's switch to its other Poisson algorithm at 10),
    factors, audiences (with and without followers) and averages."""
    g = np.random.default_rng(seed)
    rate, factor = g.exponential(scale, n), g.uniform(0.5, 2.0, n)
    quality, qf, rf = g.random(n), g.uniform(0.5, 1.5, n), g.uniform(0.5, 1.5, n)
    view, overlap = g.random(n), g.uniform(0.0, 3.0, n)
    followers = g.integers(0, 50, n) * (g.random(n) < 0.8)
    start = [g.exponential(1.0, n) for _ in range(3)]
    # numpy, as PerkCampaignModel._post_and_engage runs it
    rng = np.random.default_rng(seed + 1)
    posts = dyn.sample_posts(rate * factor, rng)
    reactions = dyn.sample_reactions(posts, view, quality * qf * rf, overlap, 0.7, rng)
    tracker = ScoreTracker(n, 14)
    tracker.alpha = alpha
    tracker.posts, tracker.reactions, tracker.distinct = (a.copy() for a in start)
    tracker.observe(posts, reactions, dyn.distinct_reactors(reactions, followers))
    # the kernel
    rng2 = np.random.default_rng(seed + 1)
    ema = [a.copy() for a in start]
    out, recent = np.empty(n, dtype=np.int64), np.zeros(n, dtype=np.int32)
    posting = kernels.post_and_engage(rng2, rate, factor, quality, qf, rf, view, overlap, 0.7,
                                      followers, alpha, *ema, recent, out)
    assert np.array_equal(out, posts) and np.array_equal(recent, posts)
    assert np.array_equal(posting, np.flatnonzero(posts))
    for got, expected in zip(ema, (tracker.posts, tracker.reactions, tracker.distinct), strict=True):
        assert np.array_equal(got, expected)
    assert rng2.random() == rng.random()  # and the stream is left where numpy leaves it


def test_the_kernels_are_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "available", lambda: True)
    monkeypatch.delenv("PERKSIM_KERNELS", raising=False)
    assert not kernels.wanted()
    monkeypatch.setenv("PERKSIM_KERNELS", "numpy")
    assert not kernels.wanted()
    monkeypatch.setenv("PERKSIM_KERNELS", " Numba ")
    assert kernels.wanted()
    monkeypatch.setattr(kernels, "available", lambda: False)
    with pytest.raises(kernels.KernelError, match=r"numba is not installed.*\[fast\]"):
        kernels.wanted()
    monkeypatch.delenv("PERKSIM_KERNELS")
    model = PerkCampaignModel(load_scenario("klout_pout", overrides=["population.size=200"]))
    assert model.kernels is None


def test_a_bad_setting_is_refused_with_what_is_allowed(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("PERKSIM_KERNELS", "fastest")
    with pytest.raises(kernels.KernelError, match="allowed are numpy, numba"):
        PerkCampaignModel(load_scenario("klout_pout", overrides=["population.size=200"]))
    result = CliRunner().invoke(cli, ["run", "klout_pout", "--steps", "2",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "PERKSIM_KERNELS='fastest': allowed are numpy, numba" in result.output
    assert not (tmp_path / "out").exists()
