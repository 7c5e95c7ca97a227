"""The ``uncertainties:`` section: its forms, its load-time checks (located, naming the field
and what it allows), the unit-to-value map sampling will use, the shared base's entries
(equal to docs/model.md §11's assumed ranges) and that the section changes no run."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.api.experiment import run
from simulator.cli import cli
from simulator.scenario.loader import load_scenario, read_document, validate_document
from simulator.scenario.schema import ScenarioError, json_schema, parse_field_path
from simulator.scenario.sources import SOURCES
from simulator.scenario.uncertainty import Uncertainty, field_value, is_integer_field

ROOT = Path(__file__).parents[1]
BASE = ROOT / "scenarios" / "base" / "city.yaml"
BASE_DOC, _ = read_document(BASE)
PLAIN = {k: v for k, v in BASE_DOC.items() if k != "uncertainties"}  # the base without the section

# Fields and their own bounds: (path, low, high, integer field)
BOUNDED = [
    ("behaviour.pout_decay", 0.0, 1.0, False),
    ("behaviour.attention_beta", 0.0, 2.0, False),
    ("behaviour.exclusivity_pout", -1.0, 1.0, False),
    ("behaviour.gaming_max_rate_factor", 1.0, 100.0, False),
    ("population.homophily", 0.0, 1.0, False),
    ("campaigns[0].strategy.threshold", 1.0, 100.0, False),
    ("score.window", 1, 365, True),
]
PROPERTY = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def document(uncertainties: dict[str, Any]) -> dict[str, Any]:
    """The base (without its own section) with ``uncertainties``."""
    return {**copy.deepcopy(PLAIN), "uncertainties": uncertainties}


def problems(uncertainties: dict[str, Any]) -> list[Any]:
    with pytest.raises(ScenarioError) as info:
        validate_document(document(uncertainties))
    return info.value.problems


# --- the forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry, words", [
    ({}, "exactly one of"),
    ({"uniform": [0, 1], "values": [1, 2]}, "got uniform and values"),
    ({"uniform": [0.5, 0.5]}, "low < high"),
    ({"log_uniform": [2, 1]}, "low < high"),
    ({"log_uniform": [0, 1]}, "low > 0"),
    ({"values": [0.3, 0.3]}, "two distinct"),
    ({"values": [0.3]}, "at least 2"),
    ({"uniform": [0, 1, 2]}, "at most 2"),
    ({"uniform": [0, True]}, "two finite numbers; got True"),
    ({"uniform": ["0", 1]}, "two finite numbers"),
    ({"uniform": [0, float("inf")]}, "got inf"),
    ({"normal": [0, 1]}, "unknown key 'normal'"),
])
def test_a_malformed_entry_is_refused_at_its_line(entry, words):
    [problem] = problems({"behaviour.pout_kappa": entry})
    assert problem.path.startswith("uncertainties.behaviour.pout_kappa")
    assert words in problem.message


def test_kind_bounds_and_choices():
    assert Uncertainty(uniform=[0, 0.5]).kind == "uniform"
    assert Uncertainty(log_uniform=[0.2, 1.5]).bounds == (0.2, 1.5)
    listed = Uncertainty(values=["a", "b", "c"])
    assert (listed.kind, listed.bounds, listed.choices) == ("values", None, ["a", "b", "c"])
    assert [listed.value(u) for u in (0.0, 0.33, 0.34, 0.67, 0.999, 1.0)] == list("aabccc")
    with pytest.raises(ValueError, match="u must be in"):
        listed.value(math.nan)


# --- load-time checks -----------------------------------------------------------------------------


@given(st.data())
@PROPERTY
def test_ranges_inside_a_fields_bounds_load(data):
    path, low, high, integer = data.draw(st.sampled_from(BOUNDED))
    if integer:
        lo = data.draw(st.integers(low, high - 1))
        hi = data.draw(st.integers(lo + 1, high))
    else:
        lo = data.draw(st.floats(low, high, exclude_max=True))
        hi = data.draw(st.floats(lo, high, exclude_min=True))
    form = "log_uniform" if lo > 0 and data.draw(st.booleans()) else "uniform"
    sc = validate_document(document({path: {form: [lo, hi]}}))
    assert sc.uncertainties[path].bounds == (lo, hi)
    assert is_integer_field(sc, parse_field_path(path)) is integer


@given(st.data())
@PROPERTY
def test_ranges_outside_a_fields_bounds_are_refused_naming_the_field_and_bound(data):
    path, low, high, integer = data.draw(st.sampled_from(BOUNDED))
    over = data.draw(st.booleans())
    if integer:
        out = high + data.draw(st.integers(1, 1000)) if over else low - data.draw(st.integers(1, 1000))
    else:
        step = data.draw(st.floats(1e-6, 1e3)) * max(1.0, abs(high))
        out = high + step if over else low - step
    ends = [low, out] if over else [out, high]
    [problem] = problems({path: {"uniform": ends}})
    assert problem.path == f"uncertainties.{path}"
    assert problem.line is None  # a document: no file position (the CLI test checks the file's)
    assert path in problem.message
    bound = f"less than or equal to {high:g}" if over else f"greater than or equal to {low:g}"
    assert bound in problem.message or "greater than 0" in problem.message


def test_each_mistake_is_named_with_what_is_allowed():
    found = {p.path.removeprefix("uncertainties."): p.message for p in problems({
        "behaviour.pout_kapa": {"uniform": [0.1, 0.2]},
        "campaigns[0].topic": {"uniform": [0.1, 0.2]},
        "campaigns[0].mention": {"values": ["none", "sometimes"]},
        "score.window": {"uniform": [7.5, 90]},
        "population.graph": {"values": [{"kind": "watts_strogatz"}, {"kind": "erdos_renyi"}]},
        "population.graph.p": {"uniform": [0.1, 0.2]},
        "behaviour.pout_decay": {"uniform": [0.5, 0.9]},
        "behaviour.pout_decay ": {"uniform": [0.5, 0.9]},
        "seed": {"values": [1, 2]},
    })}
    assert "did you mean 'pout_kappa'" in found["behaviour.pout_kapa"]
    assert "not a number field" in found["campaigns[0].topic"]
    assert "'none', 'recommended' or 'required'" in found["campaigns[0].mention"]
    assert "valid integer" in found["score.window"]
    assert "overlaps 'population.graph'" in found["population.graph.p"]
    assert "names the same field as 'behaviour.pout_decay'" in found["behaviour.pout_decay "]
    assert "'seed' cannot be uncertain" in found["seed"]
    assert "population.graph" not in found and "behaviour.pout_decay" not in found


def test_values_may_be_of_any_field_and_a_field_may_be_swept_too():
    sc = validate_document(document({
        "campaigns[0].mention": {"values": ["none", "required"]},
        "population.graph": {"values": [{"kind": "watts_strogatz"}, {"kind": "erdos_renyi"}]},
        "campaigns[0].rule_transparency": {"uniform": [0.2, 0.8]},  # unset (null) by default
        "behaviour.pout_kappa": {"uniform": [0.2, 1.5]},
    }) | {"sweep": {"grid": {"behaviour.pout_kappa": [0.5, 1.0]}}})
    assert sc.uncertainties["population.graph"].value(0.9) == {"kind": "erdos_renyi"}
    assert not is_integer_field(sc, ("campaigns", 0, "rule_transparency"))


def test_validate_and_run_exit_2_with_the_located_message_and_write_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASE}\nname: bad\nuncertainties:\n"
                   "  behaviour.pout_decay: {uniform: [0.5, 2]}\n", encoding="utf-8")
    for command in (["validate", str(bad)], ["run", str(bad), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, result.output
        assert f"{bad}:4:3: uncertainties.behaviour.pout_decay: uniform: high end 2" in result.output
        assert "less than or equal to 1" in result.output
    assert not (tmp_path / "out").exists()


def test_null_drops_an_inherited_entry(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {BASE}\nname: child\nuncertainties:\n  behaviour.publicity: null\n"
                     "  behaviour.pout_kappa: {log_uniform: [0.2, 1.5]}\n", encoding="utf-8")
    sc = load_scenario(child)
    assert "behaviour.publicity" not in sc.uncertainties
    assert sc.uncertainties["behaviour.pout_kappa"].kind == "log_uniform"
    assert len(sc.uncertainties) == len(load_scenario(BASE).uncertainties) - 1


# --- the unit-to-value map ------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def ranges(draw: Any) -> tuple[Uncertainty, bool]:
    integer = draw(st.booleans())
    log = draw(st.booleans())
    if integer:
        lo = draw(st.integers(1 if log else -1000, 1000))
        hi = draw(st.integers(lo + 1, lo + 10_000))
    else:
        lo = draw(st.floats(1e-9, 1e6) if log else finite)
        hi = draw(st.floats(lo, 2e6, exclude_min=True).filter(lambda h: h > lo))
    return Uncertainty(**{"log_uniform" if log else "uniform": [lo, hi]}), integer


@given(ranges(), st.floats(0, 1), st.floats(0, 1))
@settings(max_examples=300, deadline=None, database=None)
def test_the_map_stays_within_bounds_and_is_monotone(entry, u, v):
    unc, integer = entry
    lo, hi = unc.bounds
    a, b = unc.value(min(u, v), integer), unc.value(max(u, v), integer)
    assert lo <= a <= b <= hi
    assert isinstance(a, int) is integer
    assert unc.value(0.0, integer) == lo and unc.value(1.0, integer) == hi


@given(st.lists(st.integers(), min_size=2, max_size=20, unique=True), st.floats(0, 1))
@settings(max_examples=100, deadline=None, database=None)
def test_values_are_taken_evenly(values, u):
    index = values.index(Uncertainty(values=values).value(u))
    assert index == min(int(u * len(values)), len(values) - 1)


# --- the shared base ------------------------------------------------------------------------------


def assumed_ranges() -> dict[str, tuple[float, float]]:
    """Every assumed parameter with a plausible range that is a field of the base's scenario:
    not the archetypes' (no range) nor a strategy's (the base's campaign has none of them)."""
    return {path: src.plausible for path, src in SOURCES.items()
            if src.kind == "assumed" and src.plausible is not None
            and not path.startswith("strategy.") and "*" not in path}


def test_the_bases_uncertainties_are_the_assumed_parameters_plausible_ranges():
    sc = load_scenario(BASE)
    expected = assumed_ranges()
    assert list(sc.uncertainties) == list(expected)
    for path, (lo, hi) in expected.items():
        unc = sc.uncertainties[path]
        assert unc.bounds == (lo, hi), path
        assert unc.kind == ("log_uniform" if lo > 0 and hi / lo > 10 else "uniform"), path
        found, default = field_value(sc.to_document(), parse_field_path(path))
        assert found and isinstance(default, int | float), path


def test_every_bundled_scenario_loads_with_the_base_section():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        sc = load_scenario(path)
        if raw.get("extends"):
            assert set(sc.uncertainties) >= set(assumed_ranges()), path.name


# --- inert ----------------------------------------------------------------------------------------


def test_the_section_changes_no_run():
    small = {**copy.deepcopy(PLAIN), "steps": 20, "population": {**PLAIN["population"], "size": 300}}
    without = run(validate_document(small))
    with_ = run(validate_document({**small, "uncertainties": BASE_DOC["uncertainties"]}))
    assert without.summary.equals(with_.summary) and without.steps.equals(with_.steps)


def test_the_json_schema_has_the_section():
    schema = json_schema()
    entry = schema["properties"]["uncertainties"]
    assert entry["maxProperties"] == 50
    assert {"$ref": "#/$defs/Uncertainty"} in entry["additionalProperties"]["anyOf"]
    assert set(schema["$defs"]["Uncertainty"]["properties"]) == {"uniform", "log_uniform", "values"}
