"""A scenario's findings as code: ``claims:`` are validated when loaded and checked against runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario, scenario_from_text
from simulator.experiment.claims import applies, check_claims
from simulator.experiment.runner import run_experiment
from simulator.scenario.library import bundled
from simulator.scenario.schema import ScenarioError

BASE = """
name: c
steps: 20
campaigns: [{brand: b, topic: sports, strategy: {kind: lottery}}]
variants: {one: {}, two: {}}
sweep: {grid: {campaigns.0.perks: [10, 20]}}
"""


def scenario(claims: str):
    return scenario_from_text(BASE + "claims:\n" + claims)


def summary(one: list[float], two: list[float], metric: str = "engaged_reach") -> pd.DataFrame:
    rows = [{"variant": v, "replicate": r, "brand": "b", metric: x}
            for v, values in (("one", one), ("two", two)) for r, x in enumerate(values)]
    return pd.DataFrame(rows)


RNG = np.random.default_rng(3)
NOISE = RNG.normal(0, 1, 20)


@pytest.mark.parametrize(("claim", "one", "two", "holds"), [
    # paired differences of +5 ± noise: "better" holds one way, not the other
    ("{says: s, metric: engaged_reach, better: one, than: two}", 10 + NOISE, 5 + NOISE, True),
    ("{says: s, metric: engaged_reach, better: two, than: one}", 10 + NOISE, 5 + NOISE, False),
    # less is better for pout_fans: lower values win
    ("{says: s, metric: pout_fans, better: two, than: one}", 0.5 + 0.01 * NOISE,
     0.2 + 0.01 * NOISE, True),
    ("{says: s, metric: engaged_reach, same: [one, two]}", 10 + NOISE, 10 + NOISE[::-1], True),
    ("{says: s, metric: engaged_reach, same: [one, two]}", 10 + NOISE, 5 + NOISE, False),
    ("{says: s, metric: engaged_reach, higher: one, than: two}", 10 + NOISE, 5 + NOISE, True),
    ("{says: s, metric: engaged_reach, variant: one, between: [9, 11]}", 10 + NOISE, NOISE, True),
    ("{says: s, metric: engaged_reach, variant: one, between: [11, 12]}", 10 + NOISE, NOISE, False),
    ("{says: s, metric: engaged_reach, ratio: [one, two], between: [1.8, 2.2]}", 10 + NOISE,
     5 + NOISE, True),
    ("{says: s, metric: engaged_reach, rare: one}", [0.0] * 18 + [1, 2], NOISE, True),
    ("{says: s, metric: engaged_reach, rare: one}", 10 + NOISE, NOISE, False),
])
def test_each_form_of_claim_is_judged_from_the_runs(claim, one, two, holds):
    metric = "pout_fans" if "pout_fans" in claim else "engaged_reach"
    [result] = check_claims(scenario(f"  - {claim}\n"), summary(list(one), list(two), metric))
    assert result.holds is holds, result.evidence
    assert result.says == "s" and result.evidence.startswith(metric)


def test_a_difference_resting_on_a_few_events_supports_no_claim():
    # two events in twenty runs against none: too rare to call one better, however big
    one, two = [0.0] * 18 + [50.0, 60.0], [0.0] * 20
    [result] = check_claims(scenario("  - {says: s, metric: adopters, better: one, than: two}\n"),
                            summary(one, two, "adopters"))
    assert not result.holds and "too rare" in result.evidence
    # never against always is not rare: the difference is there in every replicate
    [result] = check_claims(scenario("  - {says: s, metric: reach_negative, better: two, than: one}\n"),
                            summary([3.0] * 20, [0.0] * 20, "reach_negative"))
    assert result.holds, result.evidence


def test_claims_about_sweep_points_are_checked_only_against_sweeps():
    # the same field written two ways: campaigns.0.perks in the grid, campaigns[0].perks here
    sc = scenario("  - {says: a, metric: engaged_reach, at: {'campaigns[0].perks': 20}, variant: one,"
                  " between: [0, 100]}\n  - {says: b, metric: engaged_reach, variant: one,"
                  " between: [0, 100]}\n")
    assert [applies(c, sweep=True) for c in sc.claims] == [True, False]
    table = summary(list(10 + NOISE), list(NOISE))
    table = pd.concat([table.assign(point=0, **{"campaigns.0.perks": 10}),
                       table.assign(point=1, **{"campaigns.0.perks": 20}, engaged_reach=50.0)])
    [at_20] = check_claims(sc, table)
    assert at_20.says == "a" and "mean of one over 20 runs = 50" in at_20.evidence


@pytest.mark.parametrize(("claim", "field", "words"), [
    ("{says: s, metric: engaged_rech, better: one, than: two}", "claims[0].metric",
     "did you mean 'engaged_reach'"),
    ("{says: s, metric: reach, better: one, than: tow}", "claims[0].than", "did you mean 'two'"),
    ("{says: s, metric: score_mean, better: one, than: two}", "claims[0].better",
     "no better direction"),
    ("{says: s, metric: reach, better: one}", "claims[0]", "'than:' goes with"),
    ("{says: s, metric: reach, variant: one}", "claims[0]", "'between: [low, high]'"),
    ("{says: s, metric: reach, same: [one, two], rare: one}", "claims[0]", "exactly one of"),
    ("{says: s, metric: reach, variant: one, between: [3, 1]}", "claims[0]", "low ≤ high"),
    ("{says: s, metric: reach, brand: x, rare: one}", "claims[0].brand", "brands: b"),
    ("{says: s, metric: reach, at: {steps: 5}, rare: one}", "claims[0].at", "is not swept"),
    ("{says: s, metric: reach, at: {campaigns.0.perks: 15}, rare: one}", "claims[0].at",
     "not a point of the sweep grid [10, 20]"),
])
def test_a_wrong_claim_gets_a_located_message(claim, field, words):
    with pytest.raises(ScenarioError) as info:
        scenario(f"  - {claim}\n")
    [problem] = info.value.problems
    assert problem.path == field and words in problem.message, str(problem)
    assert problem.line is not None


def test_a_wrong_metric_name_in_metrics_is_located():
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(BASE + "metrics: [reach, pout_fan]\n")
    [problem] = info.value.problems
    assert problem.path == "metrics[1]" and "did you mean 'pout_fans'" in problem.message


# --- the bundled scenarios ----------------------------------------------------------------------


def test_every_bundled_scenario_states_its_findings_as_claims_and_its_metrics():
    for entry in bundled():
        sc = load_scenario(entry.path)
        assert sc.claims, f"{entry.name} states no findings"
        assert sc.metrics, f"{entry.name} names none of its question's metrics"
        # findings live in claims, not in prose the runs cannot check
        assert "What the model says" not in sc.description, entry.name
        assert all(c.says.strip() for c in sc.claims)


@pytest.mark.slow
@pytest.mark.parametrize("name", [e.name for e in bundled()])
def test_every_claim_of_a_bundled_scenario_holds_at_its_own_size_and_replicates(name):
    """The slow one: each bundled scenario is run as its file says (seed, size, replicates) and
    every claim is checked — those about sweep points against the sweep."""
    sc = load_scenario(next(e.path for e in bundled() if e.name == name))
    failed = []
    for sweep in (False, True):
        if not any(applies(c, sweep) for c in sc.claims):
            continue
        result = run_experiment(sc, sweep=sweep, executor="local", workers=2)
        failed += [r.to_text() for r in check_claims(sc, result.summary, sweep=sweep) if not r.holds]
    assert not failed, "\n".join(failed)


def test_the_bundled_scenarios_are_all_found():
    names = {e.name for e in bundled()}
    assert {"klout_pout", "threshold_sweep", "score_gaming"} <= names
    assert Path(next(e.path for e in bundled())).parent.name == "scenarios"


@pytest.mark.slow
def test_the_class_scenario_how_to_finds_what_it_says(tmp_path):
    """docs/howto/write-a-class-scenario.md: its coffee club, with the claims it writes down,
    holds at 20 replicates — the how-to's numbers come from a run, not from memory."""
    import re

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "howto" / "write-a-class-scenario.md").read_text(encoding="utf-8")
    scenario_text = re.search(r"```yaml\n(# class/coffee_club\.yaml.*?)```", text, re.S).group(1)
    claims_text = re.search(r"```yaml\n(claims:\n.*?)```", text, re.S).group(1)
    path = tmp_path / "class" / "coffee_club.yaml"
    path.parent.mkdir()
    path.write_text(scenario_text.replace("../scenarios/base/city.yaml",
                                          str(root / "scenarios" / "base" / "city.yaml"))
                    + claims_text, encoding="utf-8")
    sc = load_scenario(path)
    assert len(sc.claims) == 4
    result = run_experiment(sc, executor="local", workers=2)
    failed = [r.to_text() for r in check_claims(sc, result.summary) if not r.holds]
    assert not failed, "\n".join(failed)
