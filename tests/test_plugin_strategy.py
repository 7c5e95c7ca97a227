"""A plug-in strategy describes itself: registered in this process (no other file touched), it
shows up in its own words in the report, in ``perksim explain`` and on the dashboard.

Runs use the serial executor: worker processes do not see a strategy registered here."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import Field

import simulator.model.strategies as strat
from simulator.cli import cli
from simulator.model.strategies import Candidates, Lever, Strategy, StrategyParams
from simulator.views.explain import explain
from simulator.views.report import write_report
from simulator.views.report.prose import OTHER_RULES

ROOT = Path(__file__).resolve().parents[1]
RULE = "the biggest audiences among users scoring at least {}, whatever they post about"


class MostFollowed(Strategy):
    """Perks to the users with the most followers among those with at least ``min_score``."""

    name = "most_followed"
    argument = "buy the biggest audiences"
    suggestion = ("{kind: most_followed, min_score: 30}", "the biggest audiences, scores aside")
    suggestion_rank = 0  # offered first among the other rules
    levers = (Lever("min_score", "Lowest score considered", min=0, max=100, step=5),)

    class Params(StrategyParams):
        kind: Literal["most_followed"]
        min_score: float = Field(0.0, ge=0.0, le=100.0, description="lowest score considered")

    def allocate(self, c: Candidates, k: int, rng: np.random.Generator) -> np.ndarray:
        ok = np.flatnonzero(c.eligible & (c.score >= self.params.min_score))
        order = np.lexsort((rng.random(ok.size), -c.followers[ok]))
        return ok[order[:k]]

    def describe(self, topic: str, region: str) -> str:
        return RULE.format(f"{self.params.min_score:g}")

    def rule_sentence(self, facts: Mapping[str, Any]) -> str:
        return (f"The rule: the {facts['budget']} biggest audiences among scores of at least "
                f"{self.params.min_score:g} — theirs was scored {facts['score']:.1f}.")

    def rule_label(self) -> str:
        return f"{self.name} (score ≥ {self.params.min_score:g})"


@pytest.fixture
def plugged(monkeypatch):
    """MostFollowed registered for one test; the registry is restored afterwards."""
    monkeypatch.setattr(strat, "_REGISTRY", dict(strat._REGISTRY))
    strat.register(MostFollowed)
    return MostFollowed


@pytest.fixture
def folder(plugged, tmp_path) -> Path:
    scenario = tmp_path / "plugged.yaml"
    scenario.write_text(
        f"extends: {ROOT / 'scenarios' / 'klout_pout.yaml'}\n"
        "name: plugged\n"
        "claims: []\n"
        "variants:\n"
        "  followed: {'campaigns[0].strategy': {kind: most_followed, min_score: 20}}\n",
        encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "compare", str(scenario), "--variant", "followed", "--variant", "lottery",
        "--replicates", "2", "--executor", "serial", "--set", "population.size=300",
        "--steps", "20", "--set", "campaigns[0].strategy={kind: most_followed, min_score: 10}",
        "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    [run] = list((tmp_path / "out" / "plugged").iterdir())
    return run


@pytest.mark.slow
def test_the_report_describes_the_plug_in_in_its_own_words(folder):
    _html, md = write_report(folder)
    text = md.read_text(encoding="utf-8")
    assert f"Who gets them: {RULE.format(10)}." in text  # the scenario's campaign
    assert f"| `campaigns[0].strategy = {{kind: most_followed, min_score: 20}}` | courtside: " \
        f"{RULE.format(20)} |" in text  # what was compared
    assert (f"courtside does not use a score bar in followed ({RULE.format(20)}), so there is no "
            "closest miss") in text  # telling users
    assert "the custom strategy" not in text
    # things to try offer the other rules not run yet, the plug-in's suggestion first
    assert next(iter(OTHER_RULES)) == ("most_followed", "{kind: most_followed, min_score: 30}",
                                       "the biggest audiences, scores aside")
    assert "Give the perks by another rule — the critics' search for engaged fans" in text


@pytest.mark.slow
def test_explain_tells_the_plug_ins_rule(folder):
    import pandas as pd

    u = pd.read_csv(folder / "users.csv")
    u = u[u.variant == "followed"]
    recipient = int(u[u.perk_courtside > 0].iloc[0].id)
    story = explain(folder, recipient, "courtside", variant="followed")
    assert story.consistent
    text = story.to_text()
    assert "The rule: the 50 biggest audiences among scores of at least 20 — theirs was scored" in text
    assert "Result: received a perk." in text


def test_the_dashboard_offers_the_plug_in_with_its_levers(plugged):
    pytest.importorskip("solara", reason="the dashboard needs the 'dashboard' extra")
    from simulator.views import dashboard as app

    assert app.strategies()[-1] == "most_followed" and "fixed" not in app.strategies()
    assert list(app.strategy_levers()) == ["threshold", "min_score"]
    base = app.base_scenario_path()
    defaults = app.lever_defaults(app.load_scenario(base))
    assert defaults["min_score"] == 0 and defaults["threshold"] == 63
    params = app.model_params(base, defaults)
    assert "most_followed" in params["strategy"]["values"]
    assert params["min_score"] == {"type": "SliderInt", "label": "Lowest score considered",
                                   "value": 0, "min": 0, "max": 100, "step": 5}
    typed = {o.path: o.value for o in app.overrides(strategy="most_followed", min_score=30,
                                                    threshold=40)}
    assert typed["campaigns[0].strategy"] == {"kind": "most_followed", "min_score": 30}
    model = app.ClassroomModel(strategy="most_followed", min_score=30, perks=12, size=60, seed=3)
    assert model.spec.campaigns[0].strategy.min_score == 30
    assert app.settings_line(model).startswith("Running: most_followed (score ≥ 30) · 12 perks ·")
    with pytest.raises(TypeError, match="unknown lever"):
        app.overrides(strategy="most_followed", min_scor=30)


def test_the_dashboard_page_renders_the_plug_in_lever(plugged, monkeypatch):
    solara = pytest.importorskip("solara", reason="the dashboard needs the 'dashboard' extra")
    import ipyvuetify as v

    from simulator.views import dashboard as app

    built: list[app.ClassroomModel] = []
    original = app.ClassroomModel.__init__

    @functools.wraps(original)  # SolaraViz reads the signature through __wrapped__
    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        built.append(self)

    monkeypatch.setattr(app.ClassroomModel, "__init__", recording)
    _box, rc = solara.render(app.page, handle_error=False)
    try:
        strategy = rc.find(v.Select, label="Strategy (who gets a perk)")
        assert "most_followed" in strategy.widget.items
        # a lever shows only while its strategy is chosen
        assert not rc.find(v.Slider, label="Lowest score considered").widgets
        strategy.widget.v_model = "most_followed"
        rc.find(v.Slider, label="Lowest score considered").assert_single()
        assert not rc.find(v.Slider, label="Score threshold").widgets
        rc.find(v.Slider, label="Lowest score considered").widget.v_model = 40
        rc.find(v.Btn, children=["Reset"]).widget.click()
        model = built[-1]
        assert model.brands[0].strategy.name == "most_followed"
        assert model.spec.campaigns[0].strategy.min_score == 40
    finally:
        rc.close()


def test_the_registry_is_clean_after_the_tests():
    assert "most_followed" not in strat.registry()
