"""Scenario files: loading, defaults, located errors, ``--set`` overrides, and robustness.

Every error must name the file, line, column and dotted field path (ARCHITECTURE: "the
scenario file is the user's language"); all problems of a file come in one ScenarioError;
no input, however malformed, may raise anything but ScenarioError.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from simulator.model import strategies
from simulator.scenario import schema as scn
from simulator.scenario.loader import load_scenario, scenario_from_text, validate_document
from simulator.scenario.schema import (
    DEFAULT_ARCHETYPES,
    Behaviour,
    Processes,
    Scenario,
    ScenarioError,
    Score,
)

ROOT = Path(__file__).parents[1]
KLOUT = ROOT / "tests" / "data" / "klout_pout_standalone.yaml"  # self-contained: tests edit its text
BASE_TEXT = KLOUT.read_text(encoding="utf-8")
BASE_DOC = yaml.safe_load(BASE_TEXT)

MINIMAL = """\
name: minimal
campaigns:
  - brand: acme
    topic: sports
    strategy: {kind: lottery}
"""


# --- helpers ----------------------------------------------------------------------------------


def edit(text: str, old: str, new: str) -> str:
    """Replace the one occurrence of ``old`` (failing loudly if the fixture text changed)."""
    assert text.count(old) == 1, f"{old!r} should occur once in the scenario text"
    return text.replace(old, new)


def position(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the ``nth`` occurrence of ``needle`` in ``text``."""
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx) + 1
    column = idx - (text.rfind("\n", 0, idx) + 1) + 1
    return line, column


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, overrides: list[str] | None = None) -> tuple[ScenarioError, list[scn.Problem]]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=overrides)
    return info.value, info.value.problems


def only_problem_at(problems: list[scn.Problem], field: str) -> scn.Problem:
    hits = [p for p in problems if p.path == field]
    assert len(hits) == 1, f"expected one problem at {field!r}, got {[str(p) for p in problems]}"
    return hits[0]


# --- the bundled scenario and defaults -----------------------------------------------------------


def test_bundled_klout_pout_scenario_loads_with_the_values_of_its_file():
    sc = load_scenario(KLOUT)
    assert isinstance(sc, Scenario)
    assert sc.name == "klout_pout"
    assert sc.seed == 2012
    assert sc.steps == 60
    pop = sc.population
    assert pop.size == 3000
    assert pop.graph.kind == "powerlaw_cluster"
    assert (pop.graph.m, pop.graph.p) == (4, 0.3)
    assert pop.homophily == 0.6
    assert pop.topics == ["sports", "tech", "food", "travel", "fashion", "music"]
    assert pop.regions == {"phoenix": 0.3, "los_angeles": 0.5, "toronto": 0.2}
    [c] = sc.campaigns
    assert (c.brand, c.topic, c.region) == ("courtside", "sports", "los_angeles")
    assert (c.perks, c.perk_cost.fixed, c.start) == (50, 120.0, 14)
    assert (c.mention, c.disclosure, c.exclusivity) == ("recommended", True, 0.5)
    assert c.strategy.kind == "score_threshold"
    assert c.strategy.threshold == 63.0


def test_bundled_scenario_fills_every_section_it_omits_with_defaults():
    sc = load_scenario(KLOUT)
    assert sc.replicates == 1
    assert sc.score == Score()
    assert sc.behaviour == Behaviour()
    assert sc.processes == Processes()
    assert set(sc.population.archetypes) == set(DEFAULT_ARCHETYPES)
    assert sc.variants == {}
    c = sc.campaigns[0]
    assert c.waves == 1 and c.allow_repeats is False and c.rule_transparency is None
    assert c.strategy.pick == "top"  # a strategy parameter the file leaves out


def test_minimal_scenario_gets_defaults_for_everything_optional():
    sc = scenario_from_text(MINIMAL)
    assert (sc.seed, sc.steps, sc.replicates) == (0, 60, 1)
    assert (sc.question, sc.description) == ("", "")
    pop = sc.population
    assert pop.size == 3000
    assert pop.graph.kind == "powerlaw_cluster"
    assert pop.topics == ["sports", "tech", "food", "travel", "fashion", "music"]
    assert math.isclose(sum(pop.regions.values()), 1.0)
    assert math.isclose(sum(a.share for a in pop.archetypes.values()), 1.0)
    for name, means in DEFAULT_ARCHETYPES.items():
        assert pop.archetypes[name].model_dump() == pytest.approx(means)
    assert sc.score == Score() and sc.behaviour == Behaviour() and sc.processes == Processes()
    [c] = sc.campaigns
    assert c.region == "national"
    assert (c.perks, c.perk_cost.fixed, c.start, c.waves, c.wave_every) == (50, 100.0, 14, 1, 7)
    assert (c.mention, c.disclosure, c.exclusivity) == ("recommended", True, 0.5)
    assert c.strategy.kind == "lottery"


def test_resolved_document_validates_back_to_the_same_scenario():
    sc = load_scenario(KLOUT)
    again = validate_document(copy.deepcopy(sc.to_document()))
    assert again == sc
    assert again.to_document() == sc.to_document()


def test_every_bundled_scenario_is_valid():
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert files, "scenarios/ should hold at least one bundled scenario"
    for f in files:
        assert isinstance(load_scenario(f), Scenario), f


# --- located errors -------------------------------------------------------------------------------

# (id, old text, new text, dotted path, needle whose position the problem must point at, words)
LOCATED = [
    ("typo_did_you_mean", "steps: 60", "stpes: 60", "stpes", "stpes",
     ["unknown key 'stpes'", "did you mean 'steps'"]),
    ("nested_typo", "homophily: 0.6", "homophilly: 0.6", "population.homophilly", "homophilly",
     ["did you mean 'homophily'"]),
    ("wrong_type", "threshold: 63", "threshold: high", "campaigns[0].strategy.threshold", "high",
     ["number", "'high'"]),
    ("wrong_type_bool", "disclosure: true", "disclosure: maybe", "campaigns[0].disclosure", "maybe",
     ["bool", "'maybe'"]),
    ("unknown_strategy_kind", "{kind: score_threshold, threshold: 63}", "{kind: klout}",
     "campaigns[0].strategy", "{kind: klout}",
     ["unknown strategy kind 'klout'", "score_threshold", "lottery", "relevance"]),
    ("strategy_kind_typo", "kind: score_threshold", "kind: score_treshold",
     "campaigns[0].strategy", "{kind: score_treshold", ["did you mean 'score_threshold'"]),
    ("parameter_of_another_strategy", "kind: score_threshold", "kind: lottery",
     "campaigns[0].strategy.threshold", "threshold: 63", ["unknown key 'threshold'"]),
    ("negative_perks", "perks: 50", "perks: -5", "campaigns[0].perks", "-5",
     ["greater than or equal to 0", "-5"]),
    ("unknown_graph_kind", "kind: powerlaw_cluster", "kind: small_world", "population.graph",
     "{kind: small_world", ["unknown kind 'small_world'", "watts_strogatz"]),
    ("region_shares_1_2", "toronto: 0.2", "toronto: 0.4", "population.regions", "{phoenix",
     ["sum to 1", "1.2"]),
    ("topic_not_in_population", "topic: sports", "topic: sport", "campaigns[0].topic", "sport\n",
     ["'sport'", "population.topics", "did you mean 'sports'"]),
    ("region_not_in_population", "region: los_angeles", "region: new_york", "campaigns[0].region",
     "new_york", ["'new_york'", "population.regions", "national"]),
    ("start_equals_steps", "start: 14", "start: 60", "campaigns[0].start", "60\n    mention",
     ["starts at step 60", "60 steps"]),
    ("start_after_steps", "start: 14", "start: 99", "campaigns[0].start", "99", ["starts at step 99"]),
    ("missing_edge_list", "{kind: powerlaw_cluster, m: 4, p: 0.3}", "{kind: edgelist, path: nope.txt}",
     "population.graph.path", "nope.txt", ["not found", "nope.txt"]),
]


@pytest.mark.parametrize(("old", "new", "field", "needle", "words"),
                         [case[1:] for case in LOCATED], ids=[case[0] for case in LOCATED])
def test_invalid_field_error_names_file_line_column_and_dotted_path(tmp_path, old, new, field, needle,
                                                                     words):
    text = edit(BASE_TEXT, old, new)
    path = write(tmp_path, text)
    exc, problems = problems_of(path)
    p = only_problem_at(problems, field)
    assert p.file == str(path)
    assert (p.line, p.column) == position(text, needle)
    for word in words:
        assert word in p.message
    assert f"{path}:{p.line}:{p.column}: {field}: " in str(exc)


def test_parameter_of_another_strategy_is_not_answered_with_its_own_name(tmp_path):
    """'threshold' under kind: lottery must not get "did you mean 'threshold'?" (a useless hint)."""
    path = write(tmp_path, edit(BASE_TEXT, "kind: score_threshold", "kind: lottery"))
    _, problems = problems_of(path)
    p = only_problem_at(problems, "campaigns[0].strategy.threshold")
    assert "did you mean 'threshold'" not in p.message


def test_archetype_shares_summing_to_1_2_are_located_at_the_archetypes(tmp_path):
    text = BASE_TEXT.replace("  homophily: 0.6\n", """\
  homophily: 0.6
  archetypes:
    poster: {share: 0.7, post_rate: 2.0, quality: 0.5}
    lurker: {share: 0.5, post_rate: 0.1, quality: 0.5}
""")
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    p = only_problem_at(problems, "population.archetypes")
    assert "sum to 1" in p.message and "1.2" in p.message
    assert p.line == position(text, "poster")[0]


def test_two_brands_with_one_name_are_both_reported(tmp_path):
    doc = copy.deepcopy(BASE_DOC)
    doc["campaigns"].append(copy.deepcopy(doc["campaigns"][0]))
    path = write(tmp_path, yaml.safe_dump(doc, sort_keys=False))
    _, problems = problems_of(path)
    assert {p.path for p in problems} == {"campaigns[0].brand", "campaigns[1].brand"}
    assert all("used twice" in p.message and p.line is not None for p in problems)


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    text = edit(BASE_TEXT, "seed: 2012", "seed: [2012")
    path = write(tmp_path, text)
    exc, problems = problems_of(path)
    [p] = problems
    assert p.file == str(path)
    seed_line = position(text, "seed")[0]
    assert p.line in (seed_line, seed_line + 1)  # where the parser notices the unclosed '['
    assert p.column is not None
    assert "YAML syntax error" in p.message
    assert str(exc).startswith(f"{path}:{p.line}:{p.column}:")


def test_bad_indentation_is_a_located_yaml_error(tmp_path):
    text = edit(BASE_TEXT, "  size: 3000", "   size: 3000")
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    [p] = problems
    assert "YAML syntax error" in p.message
    assert p.line is not None and position(text, "size")[0] <= p.line <= position(text, "homophily")[0]


def test_unacceptable_character_error_names_its_line(tmp_path):
    """A stray control character (e.g. pasted from a terminal) must still be located."""
    text = edit(BASE_TEXT, "steps: 60", "steps: 60\x07")
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    [p] = problems
    assert "unacceptable character" in p.message
    assert p.line == position(text, "steps")[0]


PYTHON_TAGS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/apply:subprocess.call [['touch', '{marker}']]",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
]


@pytest.mark.parametrize("tag", PYTHON_TAGS)
def test_python_tags_are_refused_and_never_executed(tmp_path, tag):
    marker = tmp_path / "pwned"
    value = tag.format(marker=marker)
    text = edit(BASE_TEXT, "name: klout_pout", f"name: {value}")
    path = write(tmp_path, text)
    exc, problems = problems_of(path)
    assert not marker.exists(), "a YAML tag was executed"
    [p] = problems
    assert "refused" in p.message and "never executed" in p.message
    assert (p.file, p.line) == (str(path), 1)
    assert f"{path}:1:" in str(exc)


def test_python_tag_as_whole_document_is_refused_by_scenario_from_text(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(f"!!python/object/apply:os.system ['touch {marker}']\n", file="evil.yaml")
    assert not marker.exists()
    [p] = info.value.problems
    assert p.file == "evil.yaml" and p.line == 1 and "refused" in p.message


def test_duplicate_key_is_reported_at_its_second_occurrence(tmp_path):
    text = BASE_TEXT + "name: other_name\n"
    path = write(tmp_path, text)
    exc, problems = problems_of(path)
    p = only_problem_at(problems, "name")
    assert "appears twice" in p.message
    assert (p.line, p.column) == position(text, "name:", nth=1)
    assert f"{path}:{p.line}:{p.column}: name:" in str(exc)


def test_duplicate_nested_key_is_reported_with_its_dotted_path(tmp_path):
    text = edit(BASE_TEXT, "    perks: 50\n", "    perks: 50\n    perks: 40\n")
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    p = only_problem_at(problems, "campaigns[0].perks")
    assert "appears twice" in p.message
    assert p.line == position(text, "perks: 40")[0]


@pytest.mark.parametrize(("text", "got"), [
    ("- name: a\n- name: b\n", "a list"),
    ("just a sentence\n", "a str"),
    ("42\n", "a int"),
])
def test_non_mapping_document_is_rejected_with_a_located_message(tmp_path, text, got):
    path = write(tmp_path, text)
    exc, problems = problems_of(path)
    [p] = problems
    assert "must be a mapping" in p.message and got in p.message
    assert (p.file, p.line, p.column) == (str(path), 1, 1)
    assert str(exc).startswith(f"{path}:1:1:")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"], ids=["empty", "blank", "comment"])
def test_empty_file_is_rejected_naming_the_file(tmp_path, text):
    path = write(tmp_path, text)
    exc, problems = problems_of(path)
    [p] = problems
    assert p.file == str(path)
    assert "empty file" in p.message
    assert str(path) in str(exc)


def test_missing_scenario_file_is_a_scenario_error(tmp_path):
    path = tmp_path / "nowhere.yaml"
    _, problems = problems_of(path)
    [p] = problems
    assert p.file == str(path) and "not found" in p.message


def test_non_utf8_file_is_a_scenario_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE_TEXT.replace("Phoenix", "Ph\xf6nix").encode("utf-8").replace(b"\xc3\xb6", b"\xf6"))
    _, problems = problems_of(path)
    [p] = problems
    assert p.file == str(path) and "cannot read" in p.message


@pytest.mark.parametrize(("strategy", "field"), [
    ("{kind: [1, 2]}", "campaigns[0].strategy"),
    ("{kind: {a: 1}}", "campaigns[0].strategy"),
    ("{threshold: 63}", "campaigns[0].strategy"),
    ("lottery", "campaigns[0].strategy"),
])
def test_malformed_strategy_mapping_is_a_located_error(tmp_path, strategy, field):
    text = edit(BASE_TEXT, "{kind: score_threshold, threshold: 63}", strategy)
    path = write(tmp_path, text)
    _, problems = problems_of(path)  # never a TypeError from an unhashable kind
    p = only_problem_at(problems, field)
    assert "kind" in p.message
    assert p.line == position(text, "strategy:")[0]


@pytest.mark.parametrize("edge_path", ["a" * 300, "~no_such_user_perksim/edges.txt"],
                         ids=["name_too_long", "unknown_home"])
def test_unusable_edge_list_path_is_a_located_error(tmp_path, edge_path):
    text = edit(BASE_TEXT, "{kind: powerlaw_cluster, m: 4, p: 0.3}",
                f"{{kind: edgelist, path: {edge_path}}}")
    path = write(tmp_path, text)
    _, problems = problems_of(path)  # never an OSError / RuntimeError from the path check
    p = only_problem_at(problems, "population.graph.path")
    assert p.line == position(text, "graph:")[0]


def test_edge_list_path_is_resolved_relative_to_the_scenario_file(tmp_path):
    sub = tmp_path / "sc"
    sub.mkdir()
    (sub / "edges.txt").write_text("0 1\n1 2\n")
    text = edit(BASE_TEXT, "{kind: powerlaw_cluster, m: 4, p: 0.3}", "{kind: edgelist, path: edges.txt}")
    sc = load_scenario(write(sub, text))
    assert Path(sc.population.graph.path) == (sub / "edges.txt").resolve()


# --- all problems of a file together ------------------------------------------------------------


def test_several_schema_problems_are_reported_together_in_file_order(tmp_path):
    text = BASE_TEXT
    text = edit(text, "steps: 60", "stpes: 60")
    text = edit(text, "perks: 50", "perks: -5")
    text = edit(text, "threshold: 63", "threshold: high")
    text = edit(text, "homophily: 0.6", "homophily: 1.5")
    path = write(tmp_path, text)
    exc, problems = problems_of(path)
    assert [p.path for p in problems] == [
        "stpes", "population.homophily", "campaigns[0].perks", "campaigns[0].strategy.threshold"]
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert len(str(exc).splitlines()) == 4
    assert all(p.file == str(path) for p in problems)


def test_several_cross_field_problems_are_reported_together(tmp_path):
    text = BASE_TEXT
    text = edit(text, "topic: sports", "topic: sport")
    text = edit(text, "region: los_angeles", "region: new_york")
    text = edit(text, "start: 14", "start: 60")
    text = edit(text, "toronto: 0.2", "toronto: 0.4")
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    assert {p.path for p in problems} == {
        "population.regions", "campaigns[0].topic", "campaigns[0].region", "campaigns[0].start"}
    assert all(p.line is not None and p.column is not None for p in problems)


def test_schema_and_cross_field_problems_are_reported_together(tmp_path):
    """A typo must not hide the shares that do not sum to 1 (one round of fixing, not two)."""
    text = BASE_TEXT
    text = edit(text, "steps: 60", "stpes: 60")
    text = edit(text, "toronto: 0.2", "toronto: 0.4")
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    assert {p.path for p in problems} >= {"stpes", "population.regions"}


def test_duplicate_key_and_schema_problem_are_reported_together(tmp_path):
    text = edit(BASE_TEXT, "perks: 50", "perks: -5") + "seed: 7\n"
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    assert {p.path for p in problems} == {"seed", "campaigns[0].perks"}


# --- --set overrides ------------------------------------------------------------------------------


def test_overrides_set_existing_and_new_nested_fields():
    sc = load_scenario(KLOUT, overrides=[
        "population.size=300",
        "steps=30",
        "campaigns[0].perks=10",
        "campaigns[0].strategy={kind: hybrid, alpha: 0.25}",
        "score.window=7",  # the file has no score section: the mapping is created
        "behaviour.publicity=0.1",
        "question=",  # an empty value is the empty string
    ])
    assert sc.population.size == 300
    assert sc.steps == 30
    assert sc.campaigns[0].perks == 10
    assert sc.campaigns[0].strategy.kind == "hybrid" and sc.campaigns[0].strategy.alpha == 0.25
    assert sc.score.window == 7
    assert sc.behaviour.publicity == 0.1
    assert sc.question == ""
    assert sc.population.graph.kind == "powerlaw_cluster"  # untouched fields keep the file's values


def test_override_of_a_strategy_parameter_keeps_the_other_parameters():
    sc = load_scenario(KLOUT, overrides=["campaigns[0].strategy.threshold=55"])
    assert sc.campaigns[0].strategy.kind == "score_threshold"
    assert sc.campaigns[0].strategy.threshold == 55.0


def test_overrides_leave_the_file_unchanged():
    before = KLOUT.read_bytes()
    load_scenario(KLOUT, overrides=["population.size=300"])
    assert KLOUT.read_bytes() == before
    assert load_scenario(KLOUT).population.size == 3000


BAD_OVERRIDES = [
    ("campaigns[3].perks=1", "campaigns[3].perks", ["does not exist"]),
    ("campaigns[0].perks", "", ["PATH=VALUE"]),
    ("..perks=1", "..perks", ["cannot read the field path"]),
    ("seed.x=1", "seed.x", ["not a mapping"]),
    ("variants[0]=1", "variants[0]", ["not a list"]),
    ("campaigns[0].perks=-1", "campaigns[0].perks", ["greater than or equal to 0", "-1"]),
    ("steps=many", "steps", ["integer", "'many'"]),
    ("campaigns[0].perks=[1", "campaigns[0].perks", ["YAML syntax error"]),
    ("population.sise=10", "population.sise", ["unknown key 'sise'", "did you mean 'size'"]),
    ("campaigns[0].strategy={kind: klout}", "campaigns[0].strategy", ["unknown strategy kind 'klout'"]),
    ("campaigns[0].strategy.threshold=high", "campaigns[0].strategy.threshold", ["number"]),
]


@pytest.mark.parametrize(("expr", "field", "words"), BAD_OVERRIDES, ids=[b[0] for b in BAD_OVERRIDES])
def test_bad_override_is_blamed_on_the_set_option(expr, field, words):
    exc, problems = problems_of(KLOUT, overrides=[expr])
    [p] = problems
    assert p.file == f"--set {expr}"
    assert p.path == field
    assert p.line is None
    for word in words:
        assert word in p.message
    assert str(exc).startswith(f"--set {expr}:")


def test_several_bad_overrides_are_reported_together():
    exprs = ["campaigns[3].perks=1", "nonsense", "..x=1"]
    _, problems = problems_of(KLOUT, overrides=exprs)
    assert [p.file for p in problems] == [f"--set {e}" for e in exprs]


def test_bad_override_and_bad_file_field_are_each_blamed_on_their_source(tmp_path):
    text = edit(BASE_TEXT, "steps: 60", "stpes: 60")
    path = write(tmp_path, text)
    _, problems = problems_of(path, overrides=["campaigns[0].perks=-3"])
    by_path = {p.path: p for p in problems}
    assert by_path["stpes"].file == str(path) and by_path["stpes"].line == position(text, "stpes")[0]
    assert by_path["campaigns[0].perks"].file == "--set campaigns[0].perks=-3"


# --- property-based robustness ---------------------------------------------------------------------


def _field_names() -> list[str]:
    names: set[str] = set()
    for obj in vars(scn).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names.update(obj.model_fields)
    for cls in strategies.registry().values():
        names.update(cls.Params.model_fields)
    return sorted(names)


FIELD_NAMES = _field_names()
INTERESTING = [
    *sorted(strategies.registry()), "barabasi_albert", "powerlaw_cluster", "watts_strogatz",
    "erdos_renyi", "stochastic_block", "balanced_tree", "edgelist", "dataset", "ego_facebook",
    "sports", "tech", "phoenix", "los_angeles", "national", "recommended", "required", "none",
    "", "0", "1e3", "~", "a" * 300,
]

keys = st.text(max_size=12) | st.sampled_from(FIELD_NAMES) | st.integers(-3, 3)
scalars = (st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.integers()
           | st.floats() | st.text(max_size=20) | st.sampled_from(INTERESTING))
json_values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=4),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_documents(draw) -> Any:
    """The klout_pout document with a few keys deleted, inserted or replaced at random paths."""
    doc: Any = copy.deepcopy(BASE_DOC)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(doc)))
        op = draw(st.sampled_from(["delete", "insert", "replace"]))
        target = _get(doc, path)
        if op == "insert" and isinstance(target, dict):
            target[draw(keys)] = draw(json_values)
        elif op == "insert" and isinstance(target, list):
            target.insert(draw(st.integers(0, len(target))), draw(json_values))
        elif op == "delete" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif not path:
            doc = draw(json_values)
        else:
            _get(doc, path[:-1])[path[-1]] = draw(json_values)
    return doc


def _check_outcome(call, *, need_line: bool) -> None:
    try:
        result = call()
    except ScenarioError as exc:
        assert exc.problems, "a ScenarioError must list at least one problem"
        for p in exc.problems:
            assert isinstance(p.message, str) and p.message.strip()
            assert isinstance(p.path, str)
            if need_line and "empty file" not in p.message:
                assert p.line is not None and p.line >= 1, str(p)
                assert p.column is not None and p.column >= 1, str(p)
        return
    assert isinstance(result, Scenario)


FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(mutated_documents())
def test_mutated_document_validates_or_raises_only_scenario_error(doc):
    _check_outcome(lambda: validate_document(doc), need_line=False)


@FUZZ
@given(mutated_documents())
def test_mutated_document_as_yaml_text_gives_located_problems(doc):
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    _check_outcome(lambda: scenario_from_text(text, file="fuzz.yaml"), need_line=True)


@FUZZ
@given(st.text(max_size=200))
def test_random_text_validates_or_raises_located_scenario_error(text):
    _check_outcome(lambda: scenario_from_text(text, file="fuzz.yaml"), need_line=True)


@FUZZ
@given(st.data())
def test_scenario_text_with_random_splice_raises_only_located_scenario_error(data):
    start = data.draw(st.integers(0, len(BASE_TEXT)))
    end = data.draw(st.integers(start, min(len(BASE_TEXT), start + 40)))
    junk = data.draw(st.text(max_size=30) | st.sampled_from([":", "- ", "{", "]", "\t", "!!", "&a", "*a"]))
    text = BASE_TEXT[:start] + junk + BASE_TEXT[end:]
    _check_outcome(lambda: scenario_from_text(text, file="fuzz.yaml"), need_line=True)


@FUZZ
@given(st.lists(st.text(max_size=30), max_size=4))
def test_random_overrides_give_a_scenario_or_scenario_error(overrides):
    _check_outcome(lambda: load_scenario(KLOUT, overrides=overrides), need_line=False)
