"""What is not known about a scenario's parameters: the ``uncertainties:`` section.

Each entry names a field path and how its value is uncertain, in exactly one form::

    uncertainties:
      behaviour.attention_beta: {uniform: [0.0, 0.5]}        # any value in [low, high]
      behaviour.brand_talk: {log_uniform: [0.002, 0.05]}     # uniform in log space (low > 0)
      population.graph: {values: [{kind: watts_strogatz}, {kind: barabasi_albert}]}

The section is inert for ``run``, ``compare`` and ``sweep``; ``perksim robust`` (to come)
samples it. This module holds the typed entry (:class:`Uncertainty`) and what sampling needs:
the map from a unit-interval number to a value (:meth:`Uncertainty.value`) and whether a field
holds integers (:func:`is_integer_field`). The load-time checks (each path names a field of the
scenario, each end and listed value is a valid value of it) are in
:mod:`simulator.scenario.checks`; the format is documented in ``docs/reference/scenario.md``.

This module imports nothing of the package, so that :mod:`simulator.scenario.schema` can use it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from simulator.scenario.schema import Scenario

MAX_UNCERTAIN_FIELDS = 50  # entries of the section (the shared base declares 29)
MAX_UNCERTAIN_VALUES = 100  # listed values of one entry (each is validated at load time)
KINDS = ("uniform", "log_uniform", "values")
Kind = Literal["uniform", "log_uniform", "values"]
# [low, high]: numbers, checked by Uncertainty itself (one message, not one per number type)
Range = Annotated[list[Any], Field(min_length=2, max_length=2,
                                   json_schema_extra={"items": {"type": "number"}})]


def _same(value: Any) -> str:
    """A canonical text of a listed value, to tell equal values (mappings too) apart."""
    return json.dumps(value, sort_keys=True, default=str)


class Uncertainty(BaseModel):
    """How one parameter's value is uncertain: exactly one of ``uniform: [low, high]``,
    ``log_uniform: [low, high]`` (0 < low) or ``values: [a, b, ...]`` (at least two distinct).

    Values are strict like every scenario section (numbers are numbers, finite).
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    uniform: Range | None = Field(None, description="[low, high]: any value between, evenly")
    log_uniform: Range | None = Field(
        None, description="[low, high] with 0 < low: evenly in log space (for ranges spanning "
                          "orders of magnitude)")
    values: Annotated[list[Any], Field(min_length=2, max_length=MAX_UNCERTAIN_VALUES)] | None = \
        Field(None, description="[a, b, ...]: one of these values, each equally likely")

    @model_validator(mode="after")
    def _one_form(self) -> Uncertainty:
        forms = [k for k in KINDS if getattr(self, k) is not None]
        if len(forms) != 1:
            raise ValueError("an uncertainty is exactly one of {uniform: [low, high]}, "
                             "{log_uniform: [low, high]} or {values: [a, b, ...]}; got "
                             f"{' and '.join(forms) or 'none'}")
        if self.values is not None:
            if len({_same(v) for v in self.values}) < 2:
                raise ValueError("values: needs at least two distinct values")
            return self
        lo, hi = self.bounds or (0, 0)
        for end in (lo, hi):
            if not is_number(end) or (isinstance(end, float) and not math.isfinite(end)):
                raise ValueError(f"{forms[0]}: is [low, high], two finite numbers; got {end!r}")
        if not lo < hi:
            raise ValueError(f"{forms[0]}: is [low, high] with low < high; got [{lo!r}, {hi!r}]")
        if self.log_uniform is not None and not lo > 0:
            raise ValueError(f"log_uniform: needs low > 0 (a log scale); got [{lo!r}, {hi!r}]; "
                             "use uniform: for a range from 0")
        return self

    @property
    def kind(self) -> Kind:
        """Which form this is: ``"uniform"``, ``"log_uniform"`` or ``"values"``."""
        return next(k for k in KINDS if getattr(self, k) is not None)  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[int | float, int | float] | None:
        """``(low, high)`` of a range as written; ``None`` for ``values:``."""
        ends = self.uniform if self.uniform is not None else self.log_uniform
        return (ends[0], ends[1]) if ends is not None else None

    @property
    def choices(self) -> list[Any]:
        """What the load-time checks try: both ends of a range, or every listed value."""
        return list(self.values) if self.values is not None else list(self.bounds or ())

    def value(self, u: float, integer: bool = False) -> Any:
        """The value at ``u`` in [0, 1) (1 is accepted: the top of a range, the last value).

        ``uniform``: ``low + u·(high − low)``; ``log_uniform``: the same in log space;
        ``values``: the ⌊u·n⌋-th of the n values. Ranges are non-decreasing in ``u`` and stay
        within [low, high]; with ``integer`` (see :func:`is_integer_field`) a range's value is
        rounded to an int, as sweep ``ranges:`` keep integers integers.
        """
        if not 0.0 <= u <= 1.0:  # also refuses nan
            raise ValueError(f"u must be in [0, 1); got {u!r}")
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        lo, hi = (float(b) for b in self.bounds or (0, 0))
        if u in (0.0, 1.0):
            x = hi if u else lo  # exactly, whatever exp and log round to
        elif self.log_uniform is not None:
            a, b = math.log(lo), math.log(hi)
            x = math.exp(a + u * (b - a))
        else:
            x = lo + u * (hi - lo)
        x = min(max(x, lo), hi)
        return round(x) if integer else x


def field_value(document: Any, path: Sequence[Any]) -> tuple[bool, Any]:
    """``(True, value)`` at ``path`` (parts as :func:`~simulator.scenario.schema.parse_field_path`
    gives them) in a plain document, or ``(False, None)`` if there is no such field."""
    node = document
    for part in path:
        if isinstance(part, int) and isinstance(node, list) and -len(node) <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def is_number(value: Any) -> bool:
    """Whether ``value`` is an int or float (``true``/``false`` are not numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_integer_field(scenario: Scenario, path: Sequence[Any]) -> bool:
    """Whether the field at ``path`` of a validated scenario holds an integer (e.g.
    ``score.window``), so that sampled values are rounded: a validated scenario holds an int
    in every integer field and a float in every decimal one (strict validation makes ``2`` a
    ``2.0`` there). ``False`` for fields that are not numbers or do not exist."""
    found, value = field_value(scenario.to_document(), path)
    return found and isinstance(value, int) and not isinstance(value, bool)


__all__ = ["KINDS", "MAX_UNCERTAIN_FIELDS", "MAX_UNCERTAIN_VALUES", "Uncertainty", "field_value",
           "is_integer_field", "is_number"]
