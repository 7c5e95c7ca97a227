"""Reading YAML, bounded, with positions: the first step of loading a scenario.

Reading is bounded before anything walks a document (:class:`ScenarioLoader`): a file is a
regular file of at most ``MAX_SCENARIO_BYTES``; lists and mappings nest at most ``MAX_DEPTH``
levels; a document holds at most ``MAX_VALUES`` values, an alias (``*name``) counting all
the values of its anchor each time it is used, and an alias cannot sit inside its own anchor;
only the plain YAML types are read (tags such as ``!!python/object``, ``!!binary`` or
``!!set`` are refused, never run). Every value keeps its position (:class:`Marks`), so a
problem found later can be located at file:line:column.
"""

from __future__ import annotations

import os
import re
import stat
import typing
from pathlib import Path
from typing import Any

import yaml

from simulator.model.graphs import special_file_reason
from simulator.scenario.schema import (
    MAX_DEPTH,
    Problem,
    ScenarioError,
    dotted,
)

Position = tuple[str, int, int]  # file, 1-based line, 1-based column
MAX_SCENARIO_BYTES = 128 * 1024  # a scenario file and the files it extends, together
MAX_VALUES = 100_000  # values of a document, aliases expanded (the bundled files hold < 500)
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
