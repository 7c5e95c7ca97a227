"""Scenario field paths in words, for tables and figure axes: a swept
``campaigns[0].strategy.threshold`` is ``threshold`` in a table and
``threshold: minimum score (campaign: courtside)`` on an axis.

The words are derived, not listed: the path's last field with spaces for underscores, the
field's own ``description`` from the scenario format (``perksim schema``) when it is short,
and the brand of the campaign the path is in. Needs no plotting library.
"""

from __future__ import annotations

from typing import Any

from simulator.scenario.schema import Scenario, parse_field_path

GENERIC_SECTIONS = ("behaviour", "strategy")  # a field's section that adds no meaning
MAX_DESCRIPTION = 40  # longer descriptions explain rather than name: left to docs/scenario.md


def _parts(path: str) -> tuple[Any, ...]:
    try:
        return parse_field_path(path)
    except ValueError:  # not a field path (a column of another table): its text as it is
        return (path,)


def field_words(path: str) -> str:
    """The last field of ``path`` in words: ``campaigns[0].strategy.threshold`` → ``threshold``,
    ``behaviour.pout_threshold`` → ``pout threshold``; a one-word field keeps the section it
    is in (``population.size`` → ``population size``), unless the section says nothing
    (``behaviour.publicity`` → ``publicity``)."""
    parts = _parts(path)
    last = parts[-1]
    if not isinstance(last, str):
        return path
    words = last.replace("_", " ")
    parent = parts[-2] if len(parts) > 1 else None
    if " " not in words and isinstance(parent, str) and parent not in GENERIC_SECTIONS:
        words = f"{parent.replace('_', ' ')} {words}"
    return words


def _campaign(parts: tuple[Any, ...], scenario: Scenario | None) -> str | None:
    """The campaign a path is in: ``campaign: BRAND`` (``campaign 2`` without the scenario)."""
    if len(parts) < 2 or parts[0] != "campaigns" or not isinstance(parts[1], int):
        return None
    index = parts[1]
    if scenario is not None and index < len(scenario.campaigns):
        return f"campaign: {scenario.campaigns[index].brand}"
    return f"campaign {index + 1}"


def field_description(path: str, scenario: Scenario | None) -> str | None:
    """The ``description`` the scenario format gives the field at ``path`` (``minimum score``
    for a threshold strategy's ``threshold``), if it has one and the scenario has the field."""
    if scenario is None:
        return None
    parts = _parts(path)
    node: Any = scenario
    for part in parts[:-1]:
        try:
            node = node[part] if isinstance(part, int) or isinstance(node, dict) else getattr(node, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    fields = getattr(type(node), "model_fields", {})
    info = fields.get(parts[-1]) if isinstance(parts[-1], str) else None
    if info is None or not info.description:
        return None
    return info.description.split(" (")[0].split(": ")[-1].strip() or None  # "c_a: cost …"


def param_name(path: str, scenario: Scenario | None = None, brands: int = 1) -> str:
    """A swept field's name in a table: its words (:func:`field_words`), with the campaign's
    brand when the results have several brands (``threshold (courtside)``)."""
    words = field_words(path)
    campaign = _campaign(_parts(path), scenario) if brands > 1 else None
    return f"{words} ({campaign.removeprefix('campaign: ')})" if campaign else words


def param_label(path: str, scenario: Scenario | None = None) -> str:
    """A swept field's name on a figure's axis: its words, its short description and the
    campaign it belongs to — ``threshold: minimum score (campaign: courtside)``."""
    words = field_words(path)
    description = field_description(path, scenario)
    if description and len(description) <= MAX_DESCRIPTION and description != words:
        words = f"{words}: {description}"
    campaign = _campaign(_parts(path), scenario)
    return f"{words} ({campaign})" if campaign else words
