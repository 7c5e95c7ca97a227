"""The docs are checked against the code: every field, command, option, metric and strategy
that exists is documented, and nothing documented as a field is unknown to the schema.
(The examples inside the docs are run as doctests by pytest's --doctest-glob.)"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from simulator.cli import cli
from simulator.model import strategies
from simulator.model.metrics import METRICS
from simulator.scenario.schema import (
    Archetype,
    Behaviour,
    Campaign,
    Population,
    Processes,
    Scenario,
    Score,
    ScoreCalibration,
    ScoreWeights,
    Sweep,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"
SECTIONS = [Scenario, Population, Archetype, Score, ScoreWeights, ScoreCalibration, Behaviour,
            Processes, Campaign, Sweep]


def text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def mentions(body: str, field: str) -> bool:
    """``field`` appears as code, alone (`field`) or at the end of a dotted path (`a.b.field`)."""
    return re.search(rf"`(?:[\w\[\]\.]*\.)?{re.escape(field)}`", body) is not None


@pytest.mark.parametrize("model", SECTIONS, ids=lambda m: m.__name__)
def test_every_scenario_field_is_in_the_format_reference(model):
    ref = text("reference/scenario.md")
    missing = [f for f in model.model_fields if not mentions(ref, f)]
    assert not missing, f"{model.__name__} fields missing from docs/reference/scenario.md: {missing}"


@pytest.mark.parametrize("model", [Behaviour, Score, ScoreWeights, ScoreCalibration, Population],
                         ids=lambda m: m.__name__)
def test_every_parameter_default_in_the_model_description_matches_the_code(model):
    """docs/model.md's parameter table lists `name` | default; the defaults must be the code's."""
    odd = text("model.md")
    for name, field in model.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if not isinstance(default, (int, float)) or isinstance(default, bool):
            continue
        rows = [line for line in odd.splitlines() if line.startswith("|") and mentions(line, name)]
        assert rows, f"{model.__name__}.{name} is not in docs/model.md's parameter tables"
        numbers = {float(x) for row in rows for x in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", row)}
        assert float(default) in numbers, f"{name}: default {default} not in {rows}"


def test_every_strategy_and_its_parameters_are_documented():
    ref = text("reference/scenario.md")
    for name, cls in strategies.registry().items():
        assert mentions(ref, name), name
        for param in cls.Params.model_fields:
            assert mentions(ref, param), f"{name}.{param}"


def test_every_metric_is_defined_in_the_model_description_and_the_results_reference():
    for page in ("model.md", "reference/results.md"):
        body = text(page)
        missing = [m for m in METRICS if not mentions(body, m)]
        assert not missing, f"metrics missing from docs/{page}: {missing}"


def test_every_command_and_option_is_in_the_cli_reference():
    ref = text("reference/cli.md")
    for name, command in cli.commands.items():
        assert f"perksim {name}" in ref, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert any(opt in ref for opt in param.opts), f"{name} {param.opts}"


PAGES = [*sorted(DOCS.rglob("*.md")), DOCS.parent / "README.md"]
LINK = re.compile(r"\]\(([^)\s#]+\.(?:md|png|svg|yaml|py|json|ipynb))(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS.parent)))
def test_relative_links_point_to_files_that_exist(page: Path) -> None:
    missing = [target for target in LINK.findall(page.read_text(encoding="utf-8"))
               if "://" not in target and not (page.parent / target).exists()]
    assert not missing, f"{page.name} links to missing files: {missing}"


def test_every_docs_page_is_reachable_from_the_index() -> None:
    index = text("index.md")
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")} - {"index.md"}
    unlinked = sorted(p for p in pages if f"]({p}" not in index)
    assert not unlinked, f"docs pages not linked from docs/index.md: {unlinked}"
