"""The bundled scenario library: every file is listed, validates (with its variants) and runs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import cli
from simulator.experiment.plan import run_once
from simulator.model.metrics import METRICS
from simulator.scenario.library import bundled, resolve, scenarios_dir
from simulator.scenario.loader import load_scenario, make_variant, read_document
from simulator.scenario.schema import ScenarioError, json_schema

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {"klout_pout", "threshold_sweep", "wrong_city", "pick_up_the_phone", "exclusivity_value",
            "score_gaming", "disclosure", "real_graph_facebook", "two_brands"}
FILES = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_the_library_holds_every_scenario_the_debate_needs():
    assert {e.name for e in bundled()} >= EXPECTED
    assert scenarios_dir() == ROOT / "scenarios"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bundled_scenario_has_name_question_description_and_variants(path):
    sc = load_scenario(path)
    assert sc.name == path.stem
    assert sc.question and "\n" not in sc.question.strip()
    assert len(sc.description) > 80
    assert len(sc.variants) >= 2


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_variant_of_a_bundled_scenario_validates(path):
    sc = load_scenario(path)
    for name in sc.variants:
        variant = make_variant(sc, name)
        assert variant.name == sc.name


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bundled_scenario_runs_at_its_default_size(path):
    sc = load_scenario(path)
    result = run_once(sc)
    summary = result.summary
    assert list(summary["brand"]) == [c.brand for c in sc.campaigns]
    assert set(METRICS) <= set(summary.columns)
    assert (summary["perks_given"] + summary["contacts"] > 0).all()


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bundled_scenario_documents_satisfy_the_json_schema(path):
    data, _ = read_document(path)
    jsonschema.validate(data, json_schema())


def test_schema_rejects_what_the_loader_rejects():
    data, _ = read_document(ROOT / "scenarios" / "klout_pout.yaml")
    data["stpes"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_schema())


def test_list_command_shows_each_name_with_its_question():
    out = CliRunner().invoke(cli, ["list"])
    assert out.exit_code == 0
    for entry in bundled():
        assert entry.name in out.output and entry.question in out.output


def test_schema_command_prints_json_schema_with_strategies():
    out = CliRunner().invoke(cli, ["schema"])
    assert out.exit_code == 0
    schema = json.loads(out.output)
    kinds = {s["$ref"].rsplit("_", 1)[-1] for s in
             schema["$defs"]["Campaign"]["properties"]["strategy"]["oneOf"]}
    assert {"threshold", "lottery", "relevance", "outreach", "hybrid", "score"} & kinds


def test_a_bundled_scenario_can_be_named_instead_of_a_path():
    assert resolve("klout_pout") == ROOT / "scenarios" / "klout_pout.yaml"
    assert resolve("no_such_scenario") == Path("no_such_scenario")


def test_load_scenario_takes_a_bundled_name_too(tmp_path, monkeypatch):
    assert load_scenario("klout_pout") == load_scenario(ROOT / "scenarios" / "klout_pout.yaml")
    with pytest.raises(ScenarioError, match="did you mean 'klout_pout'"):
        load_scenario("klout_pot")
    # a file of that name in the working folder is the file, not the bundled scenario
    (tmp_path / "klout_pout").write_text(
        f"extends: {ROOT / 'scenarios' / 'klout_pout.yaml'}\nname: my_copy\n")
    monkeypatch.chdir(tmp_path)
    assert load_scenario("klout_pout").name == "my_copy"
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario("klout_pot.yaml")  # a file name: the file is missing, no guessing


def test_scenarios_share_one_base_population():
    base = yaml.safe_load((ROOT / "scenarios" / "base" / "city.yaml").read_text())
    for path in FILES:
        doc = yaml.safe_load(path.read_text())
        assert doc["extends"] == "base/city.yaml", path.name
    assert base["population"]["size"] == 3000


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_bundled_scenario_gets_its_figures(path, tmp_path):
    """compare (or sweep, where the scenario has one) → tables → figures, small and quick."""
    kind = "sweep" if load_scenario(path).sweep is not None else "compare"
    result = CliRunner().invoke(cli, [kind, str(path), "--replicates", "2", "--executor", "serial",
                                      "--set", "population.size=300", "--steps", "24",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [folder] = list((tmp_path / path.stem).iterdir())
    pngs = {p.stem for p in (folder / "figures").glob("*.png")}
    assert any(p.startswith("tradeoff") for p in pngs), pngs
    assert any(p.startswith(("final_metrics", "sweep_")) for p in pngs), pngs
    assert {p.stem for p in (folder / "figures").glob("*.svg")} == pngs
