"""Reading scenario files: YAML with positions, ``extends:``, overrides, variants, validation.

The format itself (the typed sections and their ranges) is in :mod:`simulator.scenario`;
this module turns files into validated :class:`~simulator.scenario.schema.Scenario` objects and
every problem into a located message: file, line, column, dotted field path, what is allowed.

Reading is bounded before anything walks a document (:class:`ScenarioLoader`): a file is a
regular file of at most ``MAX_SCENARIO_BYTES``; lists and mappings nest at most ``MAX_DEPTH``
levels; a document holds at most ``MAX_VALUES`` values, an alias (``*name``) counting all
the values of its anchor each time it is used, and an alias cannot sit inside its own anchor;
only the plain YAML types are read (tags such as ``!!python/object``, ``!!binary`` or
``!!set`` are refused, never run). Whatever the input, the only exception that leaves this
module's entry points is :class:`~simulator.scenario.schema.ScenarioError`.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import os
import re
import stat
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulator.model import strategies
from simulator.model.graphs import EdgeListError, read_edgelist, special_file_reason
from simulator.model.metrics import BY_NAME
from simulator.model.population import NATIONAL
from simulator.scenario.memory import population_problems
from simulator.scenario.schema import (
    MAX_DEPTH,
    RENAMED,
    TOLERANCE,
    Campaign,
    Population,
    Problem,
    Scenario,
    ScenarioError,
    dotted,
    parse_field_path,
)

Position = tuple[str, int, int]  # file, 1-based line, 1-based column
Found = list[tuple[tuple[Any, ...], str]]
MAX_EXTENDS_DEPTH = 20
MAX_SCENARIO_BYTES = 128 * 1024  # a scenario file and the files it extends, together
MAX_VALUES = 100_000  # values of a document, aliases expanded (the bundled files hold < 500)
MAX_CHECKED_VALUES = 2_000_000  # document values × (variants + sweep values), each validated
MAX_PROBLEMS = 50  # problems reported for one scenario (then how many more)
MAX_SHOWN = 60  # characters of a value quoted in a message


# --- YAML, bounded ------------------------------------------------------------------------

_YAML = "tag:yaml.org,2002:"
_COLLECTION_TAGS = {yaml.SequenceStartEvent: _YAML + "seq", yaml.MappingStartEvent: _YAML + "map"}
_SCALAR_TAGS = {_YAML + "str": "string", _YAML + "int": "integer", _YAML + "float": "number",
                _YAML + "bool": "boolean", _YAML + "null": "null"}
# YAML 1.1's floats, plus YAML 1.2's exponents without a sign or a decimal point (1e3, 1.0e300):
# PyYAML alone reads those as strings, which a number field would then refuse as text.
_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
                    |\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X)
PLAIN_YAML = ("only plain YAML is read: mappings, lists, strings, numbers, true/false and null")


class _Refused(Exception):
    """A document refused while it is composed (before anything walks it)."""

    def __init__(self, mark: yaml.Mark | None, message: str, path: str = ""):
        super().__init__(message)
        self.mark, self.message, self.path = mark, message, path


class _Budget:
    """What is left to read: bytes of files, values of documents (shared along ``extends:``)."""

    def __init__(self) -> None:
        self.bytes = MAX_SCENARIO_BYTES
        self.values = MAX_VALUES


def _shown_tag(tag: str) -> str:
    tag = "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag
    return tag if len(tag) <= MAX_SHOWN else tag[:MAX_SHOWN] + "…"


def shorten(value: Any) -> str:
    """``repr(value)``, escaped and cut to a few dozen characters for a message."""
    return clip(repr(value))


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters (and ``…``) for a message."""
    return text if len(text) <= limit else text[:limit] + "…"


class ScenarioLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that bounds its work while it composes the document.

    Refused, with the position of the offending node: nesting deeper than ``MAX_DEPTH``;
    more than the budget's values (``MAX_VALUES``), where an alias counts every value of its
    anchor each time it is used — so an alias bomb ("billion laughs") stops after a few
    thousand values, not after 10⁹; an alias inside its own anchor (``x: &a [*a]``); and any
    tag but the plain ones (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!seq``,
    ``!!map``, on a value of that type). Plain scalars are never read as dates
    (``2012-01-01`` is a string) nor as the YAML ``=`` value key.
    """

    yaml_implicit_resolvers: typing.ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, _FLOAT if tag == _YAML + "float" else regexp) for tag, regexp in resolvers
                if tag not in (_YAML + "timestamp", _YAML + "value")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str, budget: _Budget | None = None):
        super().__init__(stream)
        self.budget = budget or _Budget()
        self.depth = 0
        self.path: list[Any] = []  # field path of the node being composed, for messages
        self.open_anchors: set[str] = set()
        self.expanded: dict[int, int] = {}  # id(collection node) → its values, aliases expanded

    def _refuse(self, mark: yaml.Mark, message: str) -> _Refused:
        return _Refused(mark, message, dotted(self.path))

    def _count(self, values: int, mark: yaml.Mark) -> None:
        self.budget.values -= values
        if self.budget.values < 0:
            raise self._refuse(mark, f"more than {MAX_VALUES:,} values (each use of an alias *name "
                                     "counts all the values of its anchor, so aliases cannot expand "
                                     "a small file into a huge document); a scenario needs a few "
                                     "hundred")

    def _check_tag(self, event: yaml.Event) -> None:
        tag = getattr(event, "tag", None)
        if tag in (None, "!"):
            return
        if isinstance(event, yaml.ScalarEvent) and tag in _SCALAR_TAGS:
            if tag == _YAML + "str" or self.resolve(yaml.ScalarNode, event.value, (True, False)) == tag:
                return
            raise self._refuse(event.start_mark,
                               f"{_shown_tag(tag)} {shorten(event.value)} is not a plain "
                               f"{_SCALAR_TAGS[tag]}; write the value without the tag")
        if _COLLECTION_TAGS.get(type(event)) == tag:
            return
        raise self._refuse(event.start_mark,
                           f"the tag {_shown_tag(tag)} is refused: {PLAIN_YAML}; tags such as "
                           "!!python/object, !!binary, !!set or !!timestamp are refused, never "
                           "executed")

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """Compose a node as PyYAML does, within the budget, keeping track of the node's field path
        (for the position of a refusal)."""
        if isinstance(parent, yaml.SequenceNode):
            self.path.append(index)
        elif isinstance(parent, yaml.MappingNode):  # index: the key's node; None for the key
            self.path.append(index.value if isinstance(index, yaml.ScalarNode) else "?")
        try:
            return self._compose_bounded(parent, index)
        finally:
            if parent is not None:
                self.path.pop()

    def _compose_bounded(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.open_anchors:
                raise self._refuse(event.start_mark,
                                   f"the alias *{event.anchor} is inside its own anchor "
                                   f"&{event.anchor}: a value cannot contain itself")
            node = super().compose_node(parent, index)  # an undefined alias is a ComposerError
            self._count(self.expanded.get(id(node), 1), event.start_mark)
            return node
        self._check_tag(event)
        if not isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            self._count(1, event.start_mark)
            return super().compose_node(parent, index)
        if self.depth >= MAX_DEPTH:
            raise self._refuse(event.start_mark,
                               f"lists and mappings nested more than {MAX_DEPTH} levels deep; "
                               "a scenario needs fewer than 10")
        self._count(1, event.start_mark)
        before = self.budget.values
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
            self.open_anchors.discard(event.anchor)
        self.expanded[id(node)] = before - self.budget.values + 1
        return node


def load_yaml(text: str, file: str, budget: _Budget | None = None) -> tuple[Any, Marks]:
    """Compose (bounded) and construct one YAML document: ``(data, marks)``.

    Raises :class:`ScenarioError` with one located problem for any YAML error or refusal.
    """
    marks = Marks()
    loader: ScenarioLoader | None = None
    try:
        loader = ScenarioLoader(text, budget)  # checks the characters: may raise a ReaderError
        node = loader.get_single_node()
        if node is None:
            return None, marks
        marks.walk(node, file)  # before constructing: merge keys (<<) are flattened in place
        return loader.construct_document(node), marks
    except _Refused as exc:
        raise ScenarioError([_problem_at(file, exc.mark, exc.message, exc.path)]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([_problem_from_yaml_error(file, exc, text)]) from None
    except (ValueError, TypeError, KeyError, OverflowError) as exc:  # pragma: no cover - defensive
        raise ScenarioError([Problem(file, None, None, "",
                                     f"cannot read the YAML: {clip(str(exc))}")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _problem_at(file: str, mark: yaml.Mark | None, message: str, path: str = "") -> Problem:
    if mark is None:
        return Problem(file, None, None, path, message)
    return Problem(file, mark.line + 1, mark.column + 1, path, message)


# --- YAML with positions ------------------------------------------------------------------


class Marks:
    """Where every key and value of a (possibly merged) document came from, by field path."""

    def __init__(self) -> None:
        self.value: dict[tuple[Any, ...], Position] = {}
        self.key: dict[tuple[Any, ...], Position] = {}
        self.duplicates: list[tuple[tuple[Any, ...], Position]] = []

    def walk(self, node: yaml.Node, file: str, path: tuple[Any, ...] = ()) -> None:
        """Record the position of ``node`` and of every key and value below it, by field path; repeated
        keys go to ``duplicates``."""
        self.value[path] = _pos(file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # a list or mapping as a key: refused when the data is constructed
                key = key_node.value
                if key in seen:
                    self.duplicates.append(((*path, key), _pos(file, key_node.start_mark)))
                seen.add(key)
                self.key[(*path, key)] = _pos(file, key_node.start_mark)
                self.walk(value_node, file, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.walk(item, file, (*path, i))

    def overlay(self, child: Marks) -> Marks:
        """Positions of ``child`` (an extending file) over those of this base file."""
        out = Marks()
        out.value = {**self.value, **child.value}
        out.key = {**self.key, **child.key}
        out.duplicates = self.duplicates + child.duplicates
        return out

    def locate(self, loc: tuple[Any, ...], prefer_key: bool = False) -> Position | None:
        """The nearest recorded position for ``loc`` (walking up to the parent if needed)."""
        loc = tuple(loc)
        while True:
            for table in ((self.key, self.value) if prefer_key else (self.value, self.key)):
                if loc in table:
                    return table[loc]
            if not loc:
                return None
            loc = loc[:-1]


def _pos(file: str, mark: yaml.Mark) -> Position:
    return file, mark.line + 1, mark.column + 1


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset in ``text``."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _problem_from_yaml_error(file: str, exc: yaml.YAMLError, text: str | None = None) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError) and text is not None:
        line, col = _position(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem(file, line, col, "",
                       f"unacceptable character U+{code:04X}: {exc.reason} in a YAML file")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    message = str(getattr(exc, "problem", None) or exc).strip()
    if "python/" in message or "could not determine a constructor" in message:
        message = (f"{message}; only plain YAML (mappings, lists, strings, numbers, booleans) "
                   "is allowed: tags such as !!python/object are refused, never executed")
    else:
        message = f"YAML syntax error: {message}"
    if mark is None:
        return Problem(file, None, None, "", message)
    return Problem(file, mark.line + 1, mark.column + 1, "", message)


def parse_yaml(text: str, file: str, budget: _Budget | None = None) -> tuple[Any, Marks]:
    """Parse YAML safely and within bounds, recording the position of every key and value."""
    return load_yaml(text, file, budget)


def _read(path: Path, budget: _Budget | None = None) -> str:
    """The text of a scenario file: a regular file, within the budget's bytes."""
    budget = budget or _Budget()
    file = str(path)

    def fail(message: str) -> ScenarioError:
        return ScenarioError([Problem(file, None, None, "", message)])

    try:
        reason = special_file_reason(path)
        if reason:
            raise fail(f"{reason}; a scenario is a regular YAML file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise fail("not a regular file; a scenario is a regular YAML file")
            raw = fh.read(budget.bytes + 1)
    except ScenarioError:
        raise
    except FileNotFoundError:
        raise fail("file not found") from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise fail(f"cannot read the file: {exc}") from None
    if len(raw) > budget.bytes:
        raise fail(f"larger than {MAX_SCENARIO_BYTES // 1024} KiB, with the files it extends "
                   "(a scenario needs a few KiB)")
    budget.bytes -= len(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"cannot read the file: {exc}") from None


# --- extends: -----------------------------------------------------------------------------------


def deep_merge(base: Any, child: Any) -> Any:
    """``child`` over ``base``: mappings merge key by key, anything else is replaced.

    A mapping whose ``kind`` changes (a graph or strategy of another kind) is replaced whole,
    since the old kind's parameters mean nothing to the new one.
    """
    if (isinstance(base, dict) and isinstance(child, dict)
            and ("kind" not in child or child.get("kind") == base.get("kind"))):
        out = dict(base)
        for key, value in child.items():
            out[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(child)


def read_document(path: Path, chain: tuple[Path, ...] = (),
                  budget: _Budget | None = None) -> tuple[Any, Marks]:
    """Read a scenario file, following ``extends:`` (a path relative to the file).

    ``budget`` bounds the bytes and values read along the whole ``extends:`` chain.
    """
    file = str(path)
    budget = budget or _Budget()
    data, marks = parse_yaml(_read(path, budget), file, budget)
    _absolute_paths(data, path.parent)
    if not isinstance(data, dict) or "extends" not in data:
        return data, marks
    target = data.pop("extends")
    where = marks.locate(("extends",)) or (file, None, None)

    def fail(message: str) -> ScenarioError:
        return ScenarioError([Problem(where[0], where[1], where[2], "extends", message)])

    if not isinstance(target, str) or not target.strip():
        raise fail("extends must be the path of another scenario file (relative to this one)")
    try:
        base_path = (path.parent / Path(target).expanduser()).resolve()
        special = special_file_reason(path.parent / Path(target).expanduser())
        exists = base_path.exists()
    except (OSError, RuntimeError, ValueError) as exc:
        raise fail(f"unusable path {shorten(target)}: {clip(str(exc), 200)}") from None
    if special:
        raise fail(f"{special}; a scenario to extend is a regular YAML file")
    here = path.resolve()
    if base_path in (*chain, here):
        cycle = " → ".join(p.name for p in (*chain, here, base_path))
        raise fail(f"extends makes a cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise fail(f"more than {MAX_EXTENDS_DEPTH} levels of extends")
    if not exists:
        raise fail(f"the scenario to extend does not exist: {base_path}")
    base, base_marks = read_document(base_path, (*chain, here), budget)
    if not isinstance(base, dict):
        raise fail(f"{base_path.name} is not a scenario (not a mapping of keys)")
    return deep_merge(base, data), base_marks.overlay(marks)


_EDGE_PATH = ("population", "graph", "path")


def _absolute_paths(data: Any, base_dir: Path) -> None:
    """Make relative edge-list paths absolute, relative to the file that wrote them: the
    population's, and those that variants and sweep grids set."""
    if not isinstance(data, dict):
        return
    _absolute_edge_path(data, (), base_dir)
    variants = data.get("variants")
    for changes in (variants.values() if isinstance(variants, dict) else ()):
        if isinstance(changes, dict):
            for key in list(changes):
                changes[key] = _absolute_edge_path(changes[key], _field(key), base_dir)
    sweep = data.get("sweep")
    grid = sweep.get("grid") if isinstance(sweep, dict) else None
    for key, values in (grid.items() if isinstance(grid, dict) else ()):
        if isinstance(values, list):
            grid[key] = [_absolute_edge_path(v, _field(key), base_dir) for v in values]


def _field(key: Any) -> tuple[Any, ...] | None:
    try:
        return parse_field_path(key) if isinstance(key, str) else None
    except ValueError:
        return None


def _absolute_edge_path(value: Any, at: tuple[Any, ...] | None, base_dir: Path) -> Any:
    """``value``, set at field path ``at`` (``()``: the document), with the edge-list path in
    it made absolute."""
    if at is None or len(at) > len(_EDGE_PATH) or _EDGE_PATH[:len(at)] != tuple(at):
        return value
    rest = _EDGE_PATH[len(at):]
    if not rest:
        if isinstance(value, str) and value:
            try:
                p = Path(value).expanduser()
                return str(p if p.is_absolute() else (base_dir / p).resolve())
            except (OSError, RuntimeError, ValueError):
                return value  # reported, located, by the cross-field checks
        return value
    node = value
    for part in rest[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and rest[-1] in node:
        node[rest[-1]] = _absolute_edge_path(node[rest[-1]], _EDGE_PATH, base_dir)
    return value


# --- overrides and variants ------------------------------------------------------------------


def apply_override(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set ``data[path] = value``, creating mappings on the way; list items must exist."""
    node: Any = data
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                raise ValueError(f"{dotted(path[:i + 1])} does not exist")
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise ValueError(f"{dotted(path[:i])} is not a mapping")
        if part not in node or node[part] is None:
            if isinstance(nxt, int):
                raise ValueError(f"{dotted(path[:i + 1])} is not a list in this scenario")
            node[part] = {}
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or not -len(node) <= last < len(node):
            raise ValueError(f"{dotted(path)} does not exist")
    elif not isinstance(node, dict):
        raise ValueError(f"{dotted(path[:-1])} is not a mapping")
    node[last] = value


def parse_override(expr: str) -> tuple[tuple[Any, ...], Any]:
    """``'campaigns[0].perks=10'`` → ``(('campaigns', 0, 'perks'), 10)``; values are YAML."""
    if "=" not in expr:
        raise ValueError("expected PATH=VALUE, e.g. --set campaigns[0].perks=10")
    key, raw = expr.split("=", 1)
    path = parse_field_path(key)
    if not raw.strip():
        return path, ""
    try:
        value, _ = load_yaml(raw, "--set")
    except ScenarioError as exc:
        p = exc.problems[0]
        where = f" (at column {p.column} of the value)" if p.column and "\n" not in raw else ""
        raise ValueError(p.message + where) from None
    return path, value


@dataclass(frozen=True)
class Override:
    """A typed override: set the field at ``path`` (``"campaigns[0].perks"``) to ``value``,
    a Python value used as it is (no YAML parsing), e.g. the command line's ``--seed``.
    ``source`` names it in error messages (``"--seed 7"``); by default ``path=value``."""

    path: str
    value: Any
    source: str = ""

    @property
    def label(self) -> str:
        """How the override is named in messages: ``source``, else ``path=value``."""
        return self.source or f"{self.path}={self.value!r}"


def _apply_overrides(data: Any, overrides: list[str | Override]) -> tuple[Any, dict[tuple, str]]:
    """Apply ``--set`` strings (values parsed as YAML) and typed :class:`Override` values, in
    order; returns the data and, per field path, the label a problem there is blamed on."""
    problems: list[Problem] = []
    applied: dict[tuple, str] = {}
    for item in overrides:
        typed = isinstance(item, Override)
        label = item.label if typed else f"--set {clip(item, 200)}"
        try:
            path, value = ((parse_field_path(item.path), item.value) if typed
                           else parse_override(item))
            if not isinstance(data, dict):
                raise ValueError("the scenario is not a mapping")
            apply_override(data, path, value)
            applied[path] = label
        except ValueError as exc:
            field = item.path if typed else item.split("=", 1)[0] if "=" in item else ""
            problems.append(Problem(label, None, None, clip(field, 200), str(exc)))
    if problems:
        raise ScenarioError(problems)
    return data, applied


def _blame_override(problem: Problem, applied: dict[tuple, str]) -> Problem:
    """Point a problem at the ``--set`` that caused it rather than at the file's line."""
    for path, label in applied.items():
        d = dotted(path)
        if problem.path == d or problem.path.startswith((d + ".", d + "[")):
            return Problem(label, None, None, problem.path, problem.message)
    return problem


def _path_copy(doc: Any, path: tuple[Any, ...]) -> Any:
    """A shallow copy of ``doc`` whose lists and mappings along ``path`` are copies too, so
    that ``apply_override(copy, path, value)`` leaves ``doc`` untouched while sharing all it
    does not change (checking many variants or sweep values of a large document cheaply)."""
    root = copy.copy(doc) if isinstance(doc, (dict, list)) else doc
    node = root
    for part in path[:-1]:
        if isinstance(node, dict) and part in node:
            pass
        elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
            pass
        else:
            break
        if not isinstance(node[part], (dict, list)):
            break
        node[part] = copy.copy(node[part])
        node = node[part]
    return root


def variant_document(document: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The document of a variant: ``changes`` (``{dotted.path: value}``) applied to a copy."""
    doc = copy.deepcopy(document)
    for key, value in changes.items():
        apply_override(doc, parse_field_path(key), copy.deepcopy(value))
    return doc


def make_variant(scenario: Scenario, name: str) -> Scenario:
    """The scenario with variant ``name`` applied (raises KeyError for unknown names)."""
    if name not in scenario.variants:
        known = ", ".join(scenario.variants) or "none"
        raise KeyError(f"no variant {name!r} in scenario {scenario.name!r}; variants: {known}")
    return validate_document(variant_document(scenario.to_document(), scenario.variants[name]),
                             file=f"<variant {name}>")


# --- messages --------------------------------------------------------------------------------


def _unwrap(tp: Any, node: Any) -> Any:
    """Resolve ``Annotated``, ``Optional`` and ``kind``-discriminated unions for a data node."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            kind = node.get("kind") if isinstance(node, dict) else None
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            match = [m for m in models if kind in _literal_kinds(m)]
            tp = match[0] if match else (models[0] if len(models) == 1 else None)
            if tp is None:
                return None
        else:
            return tp


def _literal_kinds(model: type[BaseModel]) -> tuple[Any, ...]:
    field = model.model_fields.get("kind")
    return typing.get_args(field.annotation) if field else ()


def _model_at(loc: tuple[Any, ...], data: Any) -> type[BaseModel] | None:
    """The scenario section (pydantic model) found at ``loc`` in ``data``, if any."""
    tp: Any = Scenario
    node = data
    for part in loc:
        tp = _unwrap(tp, node)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            node = node.get(part) if isinstance(node, dict) else None
            tp = field.annotation
            if tp is Any and part == "strategy" and isinstance(node, dict):
                cls = strategies.registry().get(str(node.get("kind")))
                tp = cls.Params if cls else None
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
            node = node[part] if isinstance(node, list) and isinstance(part, int) \
                and -len(node) <= part < len(node) else None
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
            node = node.get(part) if isinstance(node, dict) else None
        else:
            return None
    tp = _unwrap(tp, node)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unknown_key(loc: tuple[Any, ...], data: Any) -> str:
    key = str(loc[-1]) if loc else ""
    model = _model_at(loc[:-1], data)
    renamed = RENAMED.get((model.__name__, key)) if model else None
    if renamed:
        return f"'{key}' has been replaced: write {renamed}"
    allowed = sorted(set(model.model_fields) - {"kind"}) if model else []
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    key = clip(key)
    if model is not None and issubclass(model, strategies.StrategyParams):
        kind = _literal_kinds(model)[0]
        if not allowed:
            return f"unknown key '{key}': strategy '{kind}' takes no parameters"
        return f"unknown key '{key}' for strategy '{kind}'{hint}; its parameters: {', '.join(allowed)}"
    if allowed and not close:
        return f"unknown key '{key}'; allowed here: {', '.join(allowed)}"
    return f"unknown key '{key}'{hint}"


def _message(err: dict[str, Any], data: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return _unknown_key(_clean_loc(tuple(err["loc"])), data)
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        close = difflib.get_close_matches(str(ctx.get("tag")),
                                          [t.strip(" '") for t in str(ctx.get("expected_tags")).split(",")],
                                          n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown kind {ctx.get('tag')!r}; allowed: {ctx.get('expected_tags')}{hint}"
    if kind == "strategy_kind":
        return err["msg"]
    if kind == "value_error":  # a model's own check: its message says it all
        return str(err["msg"]).removeprefix("Value error, ")
    got = err.get("input")
    shown = shorten(got) if not isinstance(got, (dict, list)) else f"a {type(got).__name__}"
    return f"{err['msg']} (got {shown}){_hint(kind, got)}"


def _hint(kind: str, got: Any) -> str:
    """What to write instead, for the strict types' refusals of near-misses."""
    if kind in ("int_type", "float_type") and isinstance(got, bool):
        return "; true/false is not a number"
    if kind == "int_type" and isinstance(got, float) and got.is_integer() and abs(got) < 1e18:
        return f"; write it as an integer: {int(got)}"
    if kind in ("int_type", "float_type") and isinstance(got, str):
        try:
            float(got)
        except ValueError:
            return ""
        return "; write the number without quotes"
    if kind == "bool_type" and isinstance(got, (str, int, float)):
        return "; write true or false, without quotes"
    if kind == "finite_number":
        return "; numbers must be finite: no .inf or .nan, nothing beyond ±1.8e308"
    return ""


_GRAPH_KINDS = {"barabasi_albert", "powerlaw_cluster", "watts_strogatz", "erdos_renyi",
                "stochastic_block", "balanced_tree", "edgelist", "dataset"}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-tag and function-validator steps from an error location."""
    out = []
    for i, part in enumerate(loc):
        if i > 0 and loc[i - 1] == "graph" and part in _GRAPH_KINDS:
            continue
        if isinstance(part, str) and (part == "str" or part.startswith(("dict[", "function-"))):
            continue  # a member of a union (``topic: str | dict``) — keep the field itself
        out.append(part)
    return tuple(out)


def _is_union_member(loc: tuple[Any, ...] | list[Any]) -> bool:
    return bool(loc) and isinstance(loc[-1], str) and (loc[-1] == "str" or loc[-1].startswith("dict["))


# --- cross-field checks ------------------------------------------------------------------------


def _check_population(pop: Population, n_campaigns: int, steps: int = 60, window: int = 14,
                      warmup: int = 28) -> Found:
    """Cross-field checks of the population that a schema alone cannot express; ``steps``,
    ``window`` and ``warmup`` (the run's) count in its memory estimate."""
    bad: Found = []
    shares = sum(a.share for a in pop.archetypes.values())
    if not pop.archetypes:
        bad.append((("population", "archetypes"), "at least one archetype is needed"))
    elif abs(shares - 1.0) > TOLERANCE:
        bad.append((("population", "archetypes"),
                    f"archetype shares must sum to 1 (±{TOLERANCE}); they sum to {shares:.4g}"))
    if not pop.regions:
        bad.append((("population", "regions"), "at least one region is needed"))
    else:
        total = sum(pop.regions.values())
        if abs(total - 1.0) > TOLERANCE:
            bad.append((("population", "regions"),
                        f"region shares must sum to 1 (±{TOLERANCE}); they sum to {total:.4g}"))
    if NATIONAL in pop.regions:
        bad.append((("population", "regions", NATIONAL),
                    f"'{NATIONAL}' is reserved for campaigns that target every region"))
    if len(set(pop.topics)) != len(pop.topics):
        bad.append((("population", "topics"), "topics must be unique"))
    graph = pop.graph
    if graph.kind == "edgelist":
        where = ("population", "graph", "path")
        try:
            path = Path(graph.path).expanduser()
            if not (path.exists() or path.is_symlink()):
                bad.append((where, f"edge-list file not found: {clip(graph.path, 200)} "
                                   "(relative paths are relative to the scenario file)"))
            else:
                read_edgelist(path, directed=graph.directed)  # parseable, before any work
        except EdgeListError as exc:
            bad.append((where, f"the edge list cannot be read: {exc}"))
        except (OSError, RuntimeError, ValueError) as exc:
            bad.append((where, f"unusable edge-list path {shorten(graph.path)}: "
                               f"{clip(str(exc), 200)}"))
    # the size limit, from the graph that will be built (an unreadable edge list: reported above)
    readable = not any(loc[:2] == ("population", "graph") for loc, _ in bad)
    bad += population_problems(pop, n_campaigns, steps, window, warmup, read_files=readable)
    return bad


def _check_campaign(i: int, c: Campaign, pop: Population, steps: int, brands: list[str]) -> Found:
    """Cross-field checks of one campaign against the population and the run length."""
    bad: Found = []
    if brands.count(c.brand) > 1:
        bad.append((("campaigns", i, "brand"), f"brand name '{c.brand}' is used twice"))
    topics = [c.topic] if isinstance(c.topic, str) else list(c.topic)
    for t in topics:
        if t not in pop.topics:
            hint = difflib.get_close_matches(t, pop.topics, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            bad.append((("campaigns", i, "topic"),
                        f"topic '{t}' is not one of population.topics {pop.topics}{extra}"))
    if isinstance(c.topic, dict) and not sum(c.topic.values()) > 0:
        bad.append((("campaigns", i, "topic"), "a topic mix needs a positive weight"))
    if c.region != NATIONAL and c.region not in pop.regions:
        hint = difflib.get_close_matches(c.region, list(pop.regions), n=1)
        extra = f"; did you mean '{hint[0]}'?" if hint else ""
        bad.append((("campaigns", i, "region"),
                    f"region '{c.region}' is not one of population.regions "
                    f"{list(pop.regions)} or '{NATIONAL}'{extra}"))
    if c.start >= steps:
        bad.append((("campaigns", i, "start"),
                    f"the campaign starts at step {c.start} but the run has only "
                    f"{steps} steps (0…{steps - 1})"))
    return bad


def _check_scenario(sc: Scenario) -> Found:
    bad = _check_population(sc.population, len(sc.campaigns), sc.steps, sc.score.window,
                            sc.score.warmup)
    brands = [c.brand for c in sc.campaigns]
    for i, c in enumerate(sc.campaigns):
        bad += _check_campaign(i, c, sc.population, sc.steps, brands)
    return bad


def _check_parts(data: dict[str, Any]) -> Found:
    """Cross-field checks of the parts that are valid when the whole scenario is not,
    so that a typo elsewhere does not hide, say, region shares that sum to 1.2."""
    raw = data.get("campaigns")
    try:
        pop = Population.model_validate(data.get("population") or {})
    except (ValidationError, TypeError):
        return []
    bad = _check_population(pop, len(raw) if isinstance(raw, list) else 1)
    steps = data.get("steps", Scenario.model_fields["steps"].default)
    if not isinstance(steps, int) or isinstance(steps, bool) or not isinstance(raw, list):
        return bad
    campaigns: list[tuple[int, Campaign]] = []
    for i, item in enumerate(raw):
        try:
            campaigns.append((i, Campaign.model_validate(item)))
        except (ValidationError, TypeError):
            continue
    brands = [c.brand for _, c in campaigns]
    for i, c in campaigns:
        bad += _check_campaign(i, c, pop, steps, brands)
    return bad


def _check_variants(sc: Scenario) -> Found:
    """Each variant must be a valid scenario too; problems are reported at the variant's key."""
    bad: Found = []
    document = sc.to_document()
    for name, changes in sc.variants.items():
        paths: dict[str, tuple[Any, ...]] = {}
        for key in changes:
            try:
                paths[key] = parse_field_path(key)
            except ValueError as exc:
                bad.append((("variants", name, key), str(exc)))
                continue
            if paths[key][0] in ("variants", "name"):
                bad.append((("variants", name, key), f"a variant cannot change '{paths[key][0]}'"))
        if len(paths) < len(changes) or any(p[0] in ("variants", "name") for p in paths.values()):
            continue
        try:
            doc = document  # shared where the variant does not change it: nothing mutates it
            for key, value in changes.items():
                doc = _path_copy(doc, paths[key])
                apply_override(doc, paths[key], value)
        except ValueError as exc:
            bad.append((("variants", name), f"cannot apply variant '{name}': {exc}"))
            continue
        try:
            validate_document(doc, file=f"<variant {name}>", check_variants=False)
        except ScenarioError as exc:
            for p in exc.problems:
                key = next((k for k, path in paths.items()
                            if p.path == dotted(path) or p.path.startswith(dotted(path))), None)
                loc = ("variants", name, key) if key else ("variants", name)
                bad.append((loc, f"in variant '{name}': {p.path}: {p.message}"))
    return bad


def _check_sweep(sc: Scenario) -> Found:
    """Every swept path must exist and every grid value (and range end) must be valid."""
    sw = sc.sweep
    if sw is None:
        return []
    bad: Found = []
    if bool(sw.samples) != bool(sw.ranges):
        bad.append((("sweep",), "Latin-hypercube sampling needs both samples > 0 and ranges"))
    if not sw.grid and not sw.ranges:
        bad.append((("sweep",), "a sweep needs a grid: or ranges: (with samples:)"))
    document = sc.to_document()
    trials: list[tuple[str, str, list[Any]]] = [("grid", k, v) for k, v in sw.grid.items()]
    for key, (lo, hi) in sw.ranges.items():
        if not lo < hi:
            bad.append((("sweep", "ranges", key), f"a range is [low, high] with low < high; got {[lo, hi]}"))
        trials.append(("ranges", key, [lo, hi]))
    for section, key, values in trials:
        try:
            path = parse_field_path(key)
        except ValueError as exc:
            bad.append((("sweep", section, key), str(exc)))
            continue
        if path[0] in ("name", "variants", "sweep", "replicates"):
            bad.append((("sweep", section, key), f"a sweep cannot change '{path[0]}'"))
            continue
        for value in values:
            doc = _path_copy(document, path)
            try:
                apply_override(doc, path, value)
                validate_document(doc, file="<sweep>", check_variants=False)
            except ValueError as exc:  # ScenarioError is a ValueError
                detail = "; ".join(f"{p.path}: {p.message}" if p.path else p.message
                                   for p in getattr(exc, "problems", [])) or str(exc)
                bad.append((("sweep", section, key), f"value {value!r} is not valid: {detail}"))
                break
    return bad


def _check_metric_name(loc: tuple[Any, ...], name: str) -> Found:
    if name in BY_NAME:
        return []
    return [(loc, _unknown_metric(name))]


@functools.lru_cache(maxsize=256)
def _unknown_metric(name: str) -> str:
    close = difflib.get_close_matches(name, list(BY_NAME), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown metric '{clip(name)}'{hint} (the metrics: docs/model.md §8)"


def grid_key(path: str, grid: dict[str, Any]) -> str | None:
    """The key of ``grid`` that names the same field as ``path`` (``campaigns.0.x`` and
    ``campaigns[0].x`` are the same field), or None."""
    try:
        wanted = parse_field_path(path)
    except ValueError:
        return None
    for key in grid:
        try:
            if parse_field_path(key) == wanted:
                return key
        except ValueError:
            continue
    return None


def _check_claims(sc: Scenario) -> Found:
    """Metrics, variants, brands and sweep points named by ``metrics:`` and ``claims:`` exist."""
    bad: Found = []
    for i, name in enumerate(sc.metrics):
        bad += _check_metric_name(("metrics", i), name)
    names = list(sc.variants) or ["base"]
    brands = [c.brand for c in sc.campaigns]
    grid = sc.sweep.grid if sc.sweep else {}
    for i, claim in enumerate(sc.claims):
        bad += _check_metric_name(("claims", i, "metric"), claim.metric)
        form = claim.form
        for key in (form, "than"):
            value = getattr(claim, key)
            for j, v in enumerate(value if isinstance(value, list) else [value]):
                if v is None or v in names:
                    continue
                close = difflib.get_close_matches(v, names, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                loc = ("claims", i, key, j) if isinstance(value, list) else ("claims", i, key)
                bad.append((loc, f"no variant '{v}'{hint}; variants: {', '.join(names)}"))
        if claim.brand is not None and claim.brand not in brands:
            bad.append((("claims", i, "brand"), f"no campaign of brand '{claim.brand}'; "
                                                f"brands: {', '.join(brands)}"))
        metric = BY_NAME.get(claim.metric)
        if form == "better" and metric is not None and metric.better == 0:
            bad.append((("claims", i, "better"), f"'{claim.metric}' has no better direction: "
                                                 "write higher: or lower: instead"))
        for key, value in (claim.at or {}).items():
            swept = grid_key(key, grid)
            if swept is None:
                bad.append((("claims", i, "at"), f"'{key}' is not swept; the sweep grid has: "
                                                 f"{', '.join(grid) or 'nothing'}"))
            elif value not in grid[swept]:
                bad.append((("claims", i, "at"), f"{key} = {value!r} is not a point of the sweep "
                                                 f"grid {grid[swept]}"))
    return bad


# --- validation ---------------------------------------------------------------------------------


def validate_document(data: Any, file: str = "<scenario>", marks: Marks | None = None,
                      check_variants: bool = True) -> Scenario:
    """Validate plain data (as parsed from YAML) into a :class:`Scenario`.

    Raises :class:`ScenarioError` listing every problem found, each located (file, line,
    column, dotted field path) when positions are known.
    """
    with _never_crash(file):
        return _validate(data, file, marks, check_variants)


def _validate(data: Any, file: str, marks: Marks | None, check_variants: bool) -> Scenario:
    marks = marks or Marks()
    problems: list[Problem] = []

    def add(loc: tuple[Any, ...], message: str, prefer_key: bool = False) -> None:
        where = marks.locate(loc, prefer_key=prefer_key)
        f, line, col = where if where else (file, None, None)
        problems.append(Problem(f, line, col, dotted(loc), message))

    for loc, (f, line, col) in marks.duplicates:
        problems.append(Problem(f, line, col, dotted(loc),
                                "this key appears twice; YAML would silently keep the last"))
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        add((), f"a scenario must be a mapping of keys (name:, steps:, campaigns: …); got {got}")
        raise ScenarioError(problems)
    if "extends" in data:
        add(("extends",), "extends only works in files (load_scenario), not in documents")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        specific = {_clean_loc(tuple(e["loc"])) for e in errors if not _is_union_member(e["loc"])}
        for err in errors:
            loc = _clean_loc(tuple(err["loc"]))
            if _is_union_member(err["loc"]) and any(s[:len(loc)] == loc for s in specific):
                continue  # the other member of the union explains the problem better
            add(loc, _message(err, data), prefer_key=err["type"] == "extra_forbidden")
        for loc, message in _check_parts(data):
            add(loc, message)
        raise ScenarioError(_reported(problems)) from None
    for loc, message in _check_scenario(sc):
        add(loc, message)
    if check_variants and not problems:
        work = _check_work(sc, data)
        checks = _check_variants(sc) + _check_sweep(sc) if not work else work
        for loc, message in checks + _check_claims(sc):
            add(loc, message, prefer_key=True)
    if problems:
        raise ScenarioError(_reported(problems))
    return sc


def _check_work(sc: Scenario, data: Any) -> Found:
    """Each variant and each sweep value is checked by validating the whole document: refuse
    a document whose values × those checks exceed ``MAX_CHECKED_VALUES`` (a bound on the
    work of loading, which the section limits alone do not give for a large document)."""
    sw = sc.sweep
    checks = len(sc.variants) + (sum(map(len, sw.grid.values())) + 2 * len(sw.ranges) if sw else 0)
    if not checks:
        return []
    values = _count_values(data, max(MAX_VALUES, MAX_CHECKED_VALUES // checks))
    if values * checks <= MAX_CHECKED_VALUES:
        return []
    where = ("variants",) if sc.variants else ("sweep",)
    return [(where, f"too much to check: {checks:,} variants and sweep values, each validated "
                    f"with the whole document ({values:,} values), exceed {MAX_CHECKED_VALUES:,} "
                    "values; use fewer variants or sweep values, or a smaller document")]


def _count_values(data: Any, limit: int) -> int:
    """The values (scalars, lists, mappings, keys not counted) in ``data``, counting shared
    parts each time they occur, up to a little over ``limit``."""
    count, stack = 0, [data]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0))


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


def _reported(problems: list[Problem]) -> list[Problem]:
    """Problems without repeats, in file order, at most ``MAX_PROBLEMS`` (then how many more)."""
    out = _sorted(_dedupe(problems))
    if len(out) > MAX_PROBLEMS:
        rest = len(out) - MAX_PROBLEMS
        more = Problem(out[MAX_PROBLEMS].file, None, None, "",
                       f"… and {rest:,} more problems (fix these first)")
        out = [*out[:MAX_PROBLEMS], more]
    return out


def load_scenario(path: str | Path, overrides: list[str | Override] | None = None,
                  variant: str | None = None) -> Scenario:
    """Read, parse and validate a scenario file.

    ``overrides`` are ``PATH=VALUE`` strings (``campaigns[0].perks=10``; values are YAML) or
    typed :class:`Override` values (``Override("seed", 7)``), applied in order before
    validation; ``variant`` applies one of the file's ``variants:``.

    >>> sc = load_scenario("scenarios/klout_pout.yaml")
    >>> sc.campaigns[0].strategy.kind
    'score_threshold'
    """
    path = Path(path)
    with _never_crash(str(path)):
        return _load_scenario(path, list(overrides or []), variant)


@contextlib.contextmanager
def _never_crash(file: str) -> typing.Iterator[None]:
    """The last guard of the entry points: no input ends in a RecursionError or MemoryError
    traceback (the bounds of ScenarioLoader should make this unreachable)."""
    try:
        yield
    except RecursionError:
        raise ScenarioError([Problem(file, None, None, "", "the scenario is nested too deeply to "
                                     "be checked")]) from None
    except MemoryError:
        raise ScenarioError([Problem(file, None, None, "", "the scenario is too large to be "
                                     "checked with the memory available")]) from None


def _load_scenario(path: Path, overrides: list[str | Override], variant: str | None) -> Scenario:
    data, marks = read_document(path)
    data, applied = _apply_overrides(data, overrides)
    try:
        sc = validate_document(data, file=str(path), marks=marks)
    except ScenarioError as exc:
        raise ScenarioError([_blame_override(p, applied) for p in exc.problems]) from None
    if variant is None:
        return sc
    if variant not in sc.variants:
        known = ", ".join(sc.variants) or "none"
        raise ScenarioError([Problem(str(path), None, None, "variants",
                                     f"no variant '{variant}'; this scenario has: {known}")])
    return make_variant(sc, variant)


def scenario_from_text(text: str, file: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text (for notebooks and tests).

    Relative edge-list paths are relative to the current directory.
    """
    with _never_crash(file):
        if len(text) > MAX_SCENARIO_BYTES:
            raise ScenarioError([Problem(file, None, None, "", f"larger than "
                                         f"{MAX_SCENARIO_BYTES // 1024} KiB (a scenario needs a "
                                         "few KiB)")])
        data, marks = parse_yaml(text, file)
        if isinstance(data, dict):
            _absolute_paths(data, Path.cwd())
        return validate_document(data, file=file, marks=marks)
