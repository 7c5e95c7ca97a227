"""Reading scenario files: extends:, variants, overrides, and one located message per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.scenario.loader import deep_merge, load_scenario, make_variant
from simulator.scenario.schema import ScenarioError, parse_field_path

BROKEN = Path(__file__).parent / "data" / "broken"

# A newcomer's mistakes: file → (field path in the message, words the message must contain)
NEWCOMER_MISTAKES = {
    "typo_key.yaml": ("stpes", "did you mean 'steps'"),
    "wrong_type.yaml": ("steps", "valid integer"),
    "missing_topic.yaml": ("campaigns[0].topic", "required"),
    "unknown_topic.yaml": ("campaigns[0].topic", "not one of population.topics"),
    "negative_perks.yaml": ("campaigns[0].perks", "greater than or equal to 0"),
    "shares_1_2.yaml": ("population.regions", "sum to 1.2"),
    "missing_edgelist.yaml": ("population.graph.path", "not found"),
    "syntax_error.yaml": ("", "YAML syntax error"),
    "python_tag.yaml": ("seed", "never executed"),
    "wrong_strategy_param.yaml": ("campaigns[0].strategy.threshold", "takes no parameters"),
    "unknown_strategy.yaml": ("campaigns[0].strategy", "did you mean 'score_threshold'"),
    "start_after_end.yaml": ("campaigns[0].start", "only 10 steps"),
    "threshold_out_of_range.yaml": ("campaigns[0].strategy.threshold", "less than or equal to 100"),
    "huge_population.yaml": ("population.size", "GiB"),
    "bad_variant.yaml": ("variants.fans.campaigns[0].strategy", "did you mean 'relevance'"),
    "old_perk_value.yaml": ("campaigns[0].perk_value", "write perk_cost: {fixed: VALUE}"),
}


@pytest.mark.parametrize("name", sorted(NEWCOMER_MISTAKES))
def test_each_newcomer_mistake_gets_one_located_message_and_exit_2(name, tmp_path):
    field, words = NEWCOMER_MISTAKES[name]
    with pytest.raises(ScenarioError) as info:
        load_scenario(BROKEN / name)
    [problem] = info.value.problems
    assert problem.path == field
    assert words in problem.message
    assert problem.line is not None and problem.column is not None
    result = CliRunner().invoke(cli, ["run", str(BROKEN / name), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f":{problem.line}:{problem.column}:" in result.output
    assert not (tmp_path / "out").exists()


def test_the_python_tag_is_never_executed():
    marker = Path("/tmp/perksim-was-here")
    marker.unlink(missing_ok=True)
    with pytest.raises(ScenarioError):
        load_scenario(BROKEN / "python_tag.yaml")
    assert not marker.exists()


def test_validate_command_reports_all_files_and_exits_2_if_any_is_bad():
    good = Path(__file__).resolve().parents[1] / "scenarios" / "klout_pout.yaml"
    result = CliRunner().invoke(cli, ["validate", str(good), str(BROKEN / "typo_key.yaml")])
    assert result.exit_code == 2
    assert "ok: " in result.output and "invalid: " in result.output
    assert "did you mean 'steps'" in result.output
    ok = CliRunner().invoke(cli, ["validate", str(good)])
    assert ok.exit_code == 0


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


BASE = """\
name: base
steps: 30
population: {size: 400, homophily: 0.3, graph: {kind: powerlaw_cluster, m: 3, p: 0.2}}
campaigns:
  - {brand: courtside, topic: sports, region: los_angeles, perks: 10, strategy: {kind: lottery}}
"""


def test_extends_merges_mappings_and_replaces_lists(tmp_path):
    write(tmp_path, "lib/base.yaml", BASE)
    child = write(tmp_path, "child.yaml", """\
extends: lib/base.yaml
name: child
population: {homophily: 0.9}
campaigns:
  - {brand: fanzone, topic: tech, perks: 5, strategy: {kind: relevance}}
""")
    sc = load_scenario(child)
    assert sc.name == "child" and sc.steps == 30
    assert sc.population.size == 400 and sc.population.homophily == 0.9
    assert sc.population.graph.m == 3
    assert [c.brand for c in sc.campaigns] == ["fanzone"]


def test_a_graph_of_another_kind_replaces_the_base_graph_whole(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    child = write(tmp_path, "child.yaml",
                  "extends: base.yaml\nname: child\npopulation: {graph: {kind: erdos_renyi}}\n")
    assert load_scenario(child).population.graph.kind == "erdos_renyi"


def test_problems_in_the_base_file_are_located_in_the_base_file(tmp_path):
    base = write(tmp_path, "base.yaml", BASE.replace("perks: 10", "perks: -1"))
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    [p] = info.value.problems
    assert p.file == str(base) and p.line == 5 and p.path == "campaigns[0].perks"


def test_edge_list_paths_are_relative_to_the_file_that_names_them(tmp_path):
    write(tmp_path, "lib/graph.txt", "0 1\n1 2\n2 3\n3 0\n")
    write(tmp_path, "lib/base.yaml", BASE.replace(
        "graph: {kind: powerlaw_cluster, m: 3, p: 0.2}", "graph: {kind: edgelist, path: graph.txt}"))
    child = write(tmp_path, "child.yaml", "extends: lib/base.yaml\nname: child\n")
    sc = load_scenario(child)
    assert Path(sc.population.graph.path) == (tmp_path / "lib" / "graph.txt").resolve()


@pytest.mark.parametrize(("text", "words"), [
    ("extends: me.yaml\nname: me\n", "cycle"),
    ("extends: nowhere.yaml\nname: me\n", "does not exist"),
    ("extends: [a, b]\nname: me\n", "path of another scenario"),
])
def test_bad_extends_is_a_located_error(tmp_path, text, words):
    path = write(tmp_path, "me.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [p] = info.value.problems
    assert p.path == "extends" and p.line == 1 and words in p.message


def test_variants_apply_named_overrides(tmp_path):
    path = write(tmp_path, "v.yaml", BASE + """\
variants:
  base: {}
  fans:
    campaigns[0].strategy: {kind: relevance}
    population.size: 300
  flow: {campaigns.0.perks: 3}
""")
    sc = load_scenario(path)
    assert make_variant(sc, "fans").campaigns[0].strategy.kind == "relevance"
    assert make_variant(sc, "fans").population.size == 300
    assert make_variant(sc, "flow").campaigns[0].perks == 3
    assert load_scenario(path, variant="fans").population.size == 300
    with pytest.raises(ScenarioError, match="no variant 'nope'; this scenario has: base, fans, flow"):
        load_scenario(path, variant="nope")


def test_every_bad_variant_is_reported_at_its_own_key(tmp_path):
    path = write(tmp_path, "v.yaml", BASE + """\
variants:
  a:
    population.sise: 3
  b:
    campaigns[4].perks: 1
  c:
    name: other
""")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    by_path = {p.path: p for p in info.value.problems}
    assert "did you mean 'size'" in by_path["variants.a.population.sise"].message
    assert "campaigns[4] does not exist" in by_path["variants.b"].message
    assert "cannot change 'name'" in by_path["variants.c.name"].message
    assert all(p.line is not None for p in info.value.problems)


@pytest.mark.slow
def test_run_variant_option_runs_that_variant(tmp_path):
    path = write(tmp_path, "v.yaml", BASE + "variants:\n  small: {population.size: 200}\n")
    result = CliRunner().invoke(cli, ["run", str(path), "--variant", "small", "--steps", "16",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "base: 200 users" in result.output
    bad = CliRunner().invoke(cli, ["run", str(path), "--variant", "big", "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 2 and "no variant 'big'" in bad.output


def test_field_paths_accept_brackets_and_dotted_indices():
    assert parse_field_path("campaigns[0].strategy") == ("campaigns", 0, "strategy")
    assert parse_field_path("campaigns.0.strategy") == ("campaigns", 0, "strategy")
    for bad in ["", "0.a", "a..b", "a[x]"]:
        with pytest.raises(ValueError):
            parse_field_path(bad)


def test_deep_merge_keeps_the_base_untouched():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    out = deep_merge(base, {"a": {"c": [3]}, "e": 2})
    assert out == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


# --- typed overrides (the command line's --seed and --steps) -----------------------------------


def test_typed_overrides_are_used_as_given_and_blamed_by_their_source(tmp_path):
    from simulator.scenario.loader import Override

    path = tmp_path / "s.yaml"
    path.write_text("name: s\nsteps: 10\npopulation: {size: 200}\ncampaigns:\n"
                    "  - {brand: acme, topic: sports, start: 2, strategy: {kind: lottery}}\n",
                    encoding="utf-8")
    sc = load_scenario(path, overrides=["steps=12", Override("seed", 2**62, "--seed 2**62")])
    assert (sc.steps, sc.seed) == (12, 2**62) and type(sc.seed) is int
    # a typed value is not parsed: the text "12" is not the number 12, as in a scenario file
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=[Override("steps", "12", "--steps '12'")])
    [problem] = info.value.problems
    assert (problem.file, problem.path) == ("--steps '12'", "steps")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=[Override("campaigns[3].perks", 5)])
    [problem] = info.value.problems
    assert problem.file == "campaigns[3].perks=5" and "does not exist" in problem.message


def test_seed_and_steps_on_the_command_line_are_blamed_as_options(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nsteps: 10\npopulation: {size: 200}\ncampaigns:\n"
                    "  - {brand: acme, topic: sports, start: 50, strategy: {kind: lottery}}\n",
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2  # the campaign starts after the last step
    result = CliRunner().invoke(cli, ["run", str(path), "--steps", "60", "--seed", "4",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = next((tmp_path / "out").rglob("manifest.json")).read_text(encoding="utf-8")
    assert '"steps": 60' in manifest and '"seed": 4' in manifest
