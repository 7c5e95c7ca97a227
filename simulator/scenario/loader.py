"""Loading scenario files: ``extends:``, overrides, variants and validation, on top of the
bounded YAML reader (:mod:`simulator.scenario.reader`).

The format itself (the typed sections and their ranges) is in :mod:`simulator.scenario.schema`;
this module turns files into validated :class:`~simulator.scenario.schema.Scenario` objects and
every problem into a located message: file, line, column, dotted field path, what is allowed
(:mod:`simulator.scenario.messages`, :mod:`simulator.scenario.checks`). Whatever the input, the
only exception that leaves this module's entry points is
:class:`~simulator.scenario.schema.ScenarioError`.
"""

from __future__ import annotations

import contextlib
import copy
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator.model.graphs import special_file_reason
from simulator.scenario import library
from simulator.scenario.checks import (
    MAX_CHECKED_VALUES,
    Found,
    _check_claims,
    _check_parts,
    _check_scenario,
    _check_uncertainties,
)
from simulator.scenario.messages import _clean_loc, _is_union_member, _message
from simulator.scenario.reader import (
    MAX_SCENARIO_BYTES,
    MAX_VALUES,
    Marks,
    _Budget,
    _read,
    clip,
    load_yaml,
    parse_yaml,
    shorten,
)
from simulator.scenario.schema import (
    Problem,
    Scenario,
    ScenarioError,
    dotted,
    parse_field_path,
)

MAX_EXTENDS_DEPTH = 20
MAX_PROBLEMS = 50  # problems reported for one scenario (then how many more)


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
    merged = deep_merge(base, data)
    child, out = data.get("uncertainties"), merged.get("uncertainties")
    if isinstance(child, dict) and isinstance(out, dict):  # an entry is replaced whole: a
        out.update(copy.deepcopy(child))  # log_uniform over a uniform is not both at once
    return merged, base_marks.overlay(marks)


_EDGE_PATH = ("population", "graph", "path")


def _absolute_paths(data: Any, base_dir: Path) -> None:
    """Make relative edge-list paths absolute, relative to the file that wrote them: the
    population's, and those that variants, sweep grids and uncertainties' values set."""
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
    uncertain = data.get("uncertainties")
    for key, entry in (uncertain.items() if isinstance(uncertain, dict) else ()):
        values = entry.get("values") if isinstance(entry, dict) else None
        if isinstance(values, list):
            entry["values"] = [_absolute_edge_path(v, _field(key), base_dir) for v in values]


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


# --- variants and sweep values, each validated --------------------------------------------


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


def _check_uncertain(sc: Scenario) -> Found:
    """Every uncertain path names a field, and its range's ends (or listed values) are valid
    values of it, each validated with the whole document (:mod:`simulator.scenario.checks`)."""
    if not sc.uncertainties:
        return []
    document = sc.to_document()

    def trial(path: tuple[Any, ...], value: Any) -> Scenario:
        doc = _path_copy(document, path)
        apply_override(doc, path, copy.deepcopy(value))
        return validate_document(doc, file="<uncertainties>", check_variants=False)

    return _check_uncertainties(sc, trial)


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
        checks = _check_variants(sc) + _check_sweep(sc) + _check_uncertain(sc) if not work else work
        for loc, message in checks + _check_claims(sc):
            add(loc, message, prefer_key=True)
    if problems:
        raise ScenarioError(_reported(problems))
    return sc


def _check_work(sc: Scenario, data: Any) -> Found:
    """Each variant, sweep value and uncertainty's end or value is checked by validating the
    whole document: refuse a document whose values × those checks exceed
    ``MAX_CHECKED_VALUES`` (a bound on the work of loading, which the section limits alone do
    not give for a large document)."""
    sw = sc.sweep
    checks = len(sc.variants) + (sum(map(len, sw.grid.values())) + 2 * len(sw.ranges) if sw else 0)
    checks += sum(len(u.choices) for u in sc.uncertainties.values())
    if not checks:
        return []
    values = _count_values(data, max(MAX_VALUES, MAX_CHECKED_VALUES // checks))
    if values * checks <= MAX_CHECKED_VALUES:
        return []
    where = ("variants",) if sc.variants else ("sweep",) if sw else ("uncertainties",)
    return [(where, f"too much to check: {checks:,} variants, sweep values and uncertain values, "
                    f"each validated with the whole document ({values:,} values), exceed "
                    f"{MAX_CHECKED_VALUES:,} values; use fewer of them, or a smaller document")]


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

    ``path`` may also be a bundled scenario's name, as ``perksim list`` shows them (a bare
    name, no suffix, that is not a file): ``load_scenario("klout_pout")``. A bare name that is
    neither raises ``ScenarioError`` naming the closest bundled ones.

    >>> sc = load_scenario("scenarios/klout_pout.yaml")
    >>> sc.campaigns[0].strategy.kind
    'score_threshold'
    >>> load_scenario("klout_pout").name
    'klout_pout'
    """
    if why := library.unknown(path):
        raise ScenarioError([Problem(str(path), None, None, "", why)])
    path = library.resolve(path)
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
