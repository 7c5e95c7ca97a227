"""Messages for validation problems: what pydantic reports, said in the scenario's terms
(the dotted field path, the allowed values, a "did you mean" for an unknown key)."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel

from simulator.model import strategies
from simulator.scenario.reader import clip, shorten
from simulator.scenario.schema import (
    RENAMED,
    Scenario,
)

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
