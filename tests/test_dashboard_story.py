"""The dashboard tells the scenario's story: its model is ``perksim run``'s at the same size and
seed (simulator/views/dashboard_model.py), with the scenario's own timings and its perks
scaled with the users; the numbers it shows are those of the run's steps table, day by day.
"""

from __future__ import annotations

import re
import shlex

import pandas as pd
import pytest

pytest.importorskip("solara", reason="the dashboard needs the 'dashboard' extra")

from simulator import api
from simulator.experiment.plan import run_once
from simulator.experiment.store import normalise
from simulator.scenario.loader import Override, load_scenario
from simulator.views import dashboard as app
from simulator.views import dashboard_model as dm

BASE = app.base_scenario_path()
SCENARIO = load_scenario(BASE)
PERK_DAY = SCENARIO.campaigns[0].start


def _to_day(model: app.ClassroomModel, day: int) -> app.ClassroomModel:
    """Step ``model`` until ``day`` (0-based, as the steps table numbers them) has run."""
    while model.t <= day:
        model.step()
    return model


def _command_overrides(command: str) -> list[str | Override]:
    """The scenario overrides of a ``perksim run`` command line (its --set and --seed)."""
    words = shlex.split(command)
    assert words[:3] == ["perksim", "run", BASE.stem]
    sets: list[str | Override] = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
    if "--seed" in words:
        sets.append(Override("seed", int(words[words.index("--seed") + 1]), "--seed"))
    return sets


def _shown(status: str) -> dict[str, int]:
    """The counts of the dashboard's status line, by the steps table's column."""
    column = {"perks given": "perks_given", "contacted": "contacts", "reached": "reach",
              "adopted": "adopters"}
    return {column[k]: int(v) for k, v in re.findall(r"(perks given|contacted|reached|adopted): "
                                                     r"(\d+)", status)}


def test_the_defaults_are_the_scenario_at_600_users_with_its_perks_scaled():
    """klout_pout: 3,000 users, 50 perks on day 14 → 600 users, 10 perks, still day 14; the
    scenario is exactly `perksim run klout_pout --set population.size=600 --set
    campaigns[0].perks=10`."""
    d = app.lever_defaults(SCENARIO)
    assert (SCENARIO.population.size, SCENARIO.campaigns[0].perks, PERK_DAY) == (3000, 50, 14)
    assert d["size"] == app.MAX_LIVE_USERS == 600 and d["perks"] == 10
    assert d["perks"] / d["size"] == SCENARIO.campaigns[0].perks / SCENARIO.population.size
    built = app.make_scenario()
    assert built == load_scenario(BASE, overrides=["population.size=600", "campaigns[0].perks=10"])
    assert built.campaigns[0].start == PERK_DAY and built.steps == SCENARIO.steps
    model = app.ClassroomModel(**d, base=str(BASE))
    assert model.command == "perksim run klout_pout --set population.size=600 --set 'campaigns[0].perks=10'"


def test_on_the_perk_day_plus_5_the_dashboard_shows_what_perksim_run_gives():
    """The default dashboard, stepped to day 19, against `perksim run` at the same overrides
    and seed (the API's run, in process): the same steps table, to the last bit before the
    results' normalisation and equal after it; the status line shows its numbers."""
    day = PERK_DAY + 5
    model = _to_day(app.ClassroomModel(**app.lever_defaults(SCENARIO), base=str(BASE)), day)
    sets = ["population.size=600", "campaigns[0].perks=10"]
    assert model.t == day + 1 and app.status_line(model).startswith(f"Day {day} of days 0–59")

    same = run_once(load_scenario(BASE, overrides=sets)).model  # perksim run's model
    pd.testing.assert_frame_equal(model.steps_frame(), same.steps_frame().iloc[:day + 1])
    pd.testing.assert_frame_equal(model.users_frame(), _to_users_at(same, day))

    steps = api.run(load_scenario(BASE, overrides=sets)).steps  # as perksim run writes it
    ran = steps[steps.step <= day][model.steps_frame().columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(normalise(model.steps_frame()), ran)
    row = ran.iloc[day]
    assert row.perks_given == 10 and _shown(app.status_line(model)) == {
        "perks_given": row.perks_given, "reach": row.reach, "adopters": row.adopters}
    assert (row.perks_given, row.reach, row.pout_fans) == (
        steps.loc[steps.step == day, "perks_given"].item(),
        steps.loc[steps.step == day, "reach"].item(),
        steps.loc[steps.step == day, "pout_fans"].item())


def _to_users_at(model, day: int) -> pd.DataFrame:
    """A finished run's model cannot go back: rebuild it and step to ``day`` instead."""
    again = type(model)(model.spec, rng=dm.replicate_seed(model.spec.seed, 0))
    while again.t <= day:
        again.step()
    return again.users_frame()


@pytest.mark.parametrize("levers", [
    {"strategy": "lottery", "size": 300, "seed": "class 3B"},
    {"strategy": "relevance", "seed": 5, "mention": "required"},
    {"strategy": "score_threshold", "threshold": 40, "perks": 30, "disclosure": False},
    {"strategy": "outreach", "size": 450},
])
def test_any_levers_give_the_run_of_the_command_the_page_shows(levers):
    model = _to_day(app.ClassroomModel(**levers), PERK_DAY + 5)
    scenario = load_scenario(BASE, overrides=_command_overrides(model.command))
    assert scenario == model.spec
    steps = api.run(scenario).steps
    ran = steps[steps.step <= model.t - 1][model.steps_frame().columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(normalise(model.steps_frame()), ran)
    shown = _shown(app.status_line(model))
    assert len(shown) == 3 and shown == {k: ran.iloc[-1][k] for k in shown}


def test_perks_and_other_counts_of_users_scale_with_the_size():
    assert [dm.scaled(50, n, 3000) for n in (600, 300, 50, 3000)] == [10, 5, 1, 50]
    sc = app.make_scenario(size=300)
    assert (sc.population.size, sc.campaigns[0].perks) == (300, 5)
    assert app.make_scenario(size=300, perks=40).campaigns[0].perks == 40  # a teacher's choice
    two = load_scenario(app.base_scenario_path("two_brands"))
    changes = {o.path: o.value for o in dm.overrides(two, size=300)}
    assert changes == {"population.size": 300, "campaigns[0].perks": 5, "campaigns[1].perks": 5}
    outreach = {o.path: o.value for o in dm.overrides(SCENARIO, strategy="outreach", size=150)}
    assert outreach["campaigns[0].strategy"] == {"kind": "outreach", "contacts": 3}
    facebook = load_scenario(app.base_scenario_path("real_graph_facebook"))
    assert dm.fixed_size(facebook) and dm.overrides(facebook) == []  # its graph fixes its size
    assert "size" not in dm.applicable("score_threshold", facebook)


def test_only_the_levers_that_apply_to_the_strategy_are_offered():
    assert dm.applicable("score_threshold", SCENARIO) == [
        "strategy", "threshold", "perks", "exclusivity", "transparency", "mention", "disclosure",
        "seed", "size"]
    assert dm.applicable("lottery", SCENARIO) == [
        "strategy", "perks", "exclusivity", "transparency", "mention", "disclosure", "seed", "size"]
    assert dm.applicable("outreach", SCENARIO) == ["strategy", "perks", "seed", "size"]  # no perk paid
    # a lever that does not apply changes nothing
    assert app.make_scenario(strategy="lottery", threshold=20) == app.make_scenario(strategy="lottery")
    assert app.make_scenario(strategy="outreach", exclusivity=1.0) == app.make_scenario(strategy="outreach")
    # a strategy chosen without a transparency has its own: the lottery's rules are published
    assert app.make_scenario(strategy="lottery").campaigns[0].rule_transparency is None
