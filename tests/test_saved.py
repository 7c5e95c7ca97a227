"""The one reader of a results folder (simulator/experiment/saved.py): a saved compare reads
back — manifest, scenario document, each variant's typed scenario, tables — and a damaged
file is a ResultsFolderError naming it (and its line)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from simulator import compare, load_scenario
from simulator.experiment.results import ResultsFolderError
from simulator.experiment.saved import SavedFolder, as_saved
from simulator.scenario.loader import make_variant

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios/klout_pout.yaml",
                         overrides=["population.size=150", "steps=16"])


@pytest.fixture(scope="module")
def folder(scenario, tmp_path_factory) -> Path:
    result = compare(scenario, replicates=2, variants=["klout_63", "lottery"])
    return result.save(tmp_path_factory.mktemp("saved") / "results", figures=False)


@pytest.fixture
def copy(folder, tmp_path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def test_a_saved_compare_reads_back(folder, scenario):
    saved = SavedFolder(folder)
    assert as_saved(saved) is saved and as_saved(folder).path == folder
    manifest = saved.manifest(required=("kind", "resolved_scenario"))
    assert manifest["kind"] == "compare" and saved.kind == "compare"
    assert saved.document() == scenario.to_document()
    assert saved.scenario() == scenario
    for variant in ("klout_63", "lottery"):
        assert saved.scenario(variant) == make_variant(scenario, variant)
    strict = saved.scenario("lottery", {"behaviour.pout_threshold": 0.6})
    assert strict is not None and strict.behaviour.pout_threshold == 0.6
    summary = saved.table("summary", optional=False)
    assert summary is not None and list(dict.fromkeys(summary["variant"])) == ["klout_63", "lottery"]
    assert saved.table("summary", optional=False) is summary  # read once
    assert pd.read_csv(folder / "summary.csv").shape == summary.shape
    assert saved.table("failures") is None  # an optional table that is absent


def test_without_a_manifest_the_scenario_yaml_is_read(copy, scenario):
    (copy / "manifest.json").unlink()
    saved = SavedFolder(copy)
    assert saved.manifest() == {}
    with pytest.raises(ResultsFolderError, match=r"manifest\.json: not found"):
        saved.manifest(required=("kind",))
    assert saved.document() == scenario.to_document()
    assert saved.scenario("lottery") == make_variant(scenario, "lottery")
    assert saved.kind == "compare"  # inferred: two variants in comparison.csv


def test_a_folder_with_no_scenario_reads_as_none(copy):
    (copy / "manifest.json").unlink()
    (copy / "scenario.yaml").unlink()
    saved = SavedFolder(copy)
    assert saved.document() == {} and saved.scenario() is None and saved.scenario("lottery") is None
    assert saved.table("steps") is not None


def test_a_damaged_manifest_is_located(copy):
    text = (copy / "manifest.json").read_text(encoding="utf-8")
    (copy / "manifest.json").write_text(text.replace('"kind": "compare"', '"kind": 7'), encoding="utf-8")
    with pytest.raises(ResultsFolderError, match=r"manifest\.json:\d+: 'kind' should be"):
        SavedFolder(copy).manifest()


def test_a_damaged_table_is_located(copy):
    lines = (copy / "summary.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2] + ",1,2,3"
    (copy / "summary.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ResultsFolderError, match=r"summary\.csv:3:"):
        SavedFolder(copy).table("summary")


def test_a_damaged_scenario_is_located(copy):
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["resolved_scenario"]["campaigns"] = 5
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    saved = SavedFolder(copy)
    with pytest.raises(ResultsFolderError, match=r"manifest\.json: 'resolved_scenario': not a valid"):
        saved.document()
    with pytest.raises(ResultsFolderError,
                       match=r"manifest\.json: 'resolved_scenario' \(variant 'lottery'\) is not a valid"):
        saved.scenario("lottery")
    (copy / "manifest.json").unlink()
    (copy / "scenario.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ResultsFolderError, match=r"scenario\.yaml: cannot be read"):
        SavedFolder(copy).document()
