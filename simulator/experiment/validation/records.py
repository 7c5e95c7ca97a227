"""The record types of ``perksim check-model``: how big a run is (:class:`Size`), what a
check declares (:class:`Check` and its rows, :class:`Item`) and what a run measured
(:class:`Measured` rows, :class:`Table` details, an :class:`Outcome` per check, the whole
:class:`Validation`, which round-trips through plain JSON)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

# --- sizes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """How many cascades (and replicates) each check simulates."""

    name: str
    tree_runs: int  # cascades per p on the tree
    tree_batch: int  # campaigns (cascades) per model run
    live_runs: int  # model cascades on ego-Facebook
    live_batch: int
    live_draws: int  # live-edge Monte-Carlo draws
    live_chunk: int
    kkt_runs: int  # cascades per (p, strategy, k)
    kkt_batch: int
    seeded_replicates: int  # populations (graphs) at the default calibration
    seeded_random: int  # seeds drawn from everyone, per population
    seeded_top: int  # seeds drawn from the top 10% by followers, per population
    score_replicates: int
    bootstrap: int  # bootstrap resamples for intervals of ratios


FULL = Size("full", tree_runs=2000, tree_batch=500, live_runs=300, live_batch=50, live_draws=2000,
            live_chunk=500, kkt_runs=60, kkt_batch=10, seeded_replicates=10, seeded_random=150,
            seeded_top=60, score_replicates=8, bootstrap=2000)
QUICK = Size("quick", tree_runs=200, tree_batch=200, live_runs=40, live_batch=40, live_draws=300,
             live_chunk=300, kkt_runs=4, kkt_batch=4, seeded_replicates=2, seeded_random=60,
             seeded_top=30, score_replicates=2, bootstrap=500)
SIZES = {s.name: s for s in (FULL, QUICK)}


# --- declarations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One row of the table: what is measured, its published value and the tolerance.

    ``kind``: how numbers are shown (``num`` or ``pct``). ``quick``: whether the row is judged
    at the quick size (otherwise it is reported but never fails there: too few cascades).
    """

    key: str
    label: str
    published: str
    tolerance: str
    kind: str = "num"
    quick: bool = True
    judged: bool = True  # False: reported, never judged (an "info" row)


@dataclass(frozen=True)
class Check:
    """A published result, the setting that reproduces it and how it is judged."""

    key: str
    title: str
    source: str  # short, for the table
    citation: str  # full
    scenario: str  # file name in scenarios/checks/
    study: str  # the simulation it uses (several checks may share one)
    setting: str  # prose; {fields} of the Size are filled in
    measures: str
    reason: str  # why the tolerance
    items: tuple[Item, ...]

    def item(self, key: str) -> Item:
        """The row ``key`` of this check (StopIteration if there is none)."""
        return next(i for i in self.items if i.key == key)


@dataclass
class Measured:
    """A measured row: value with its 95% interval, and the verdict."""

    value: float
    low: float = math.nan
    high: float = math.nan
    verdict: str = "pass"  # pass, fail or info
    judged: bool = True  # False at the quick size for rows that are not decisive there


@dataclass
class Table:
    """A detail table of a check's outcome: a title, column names and rows of text."""
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Outcome:
    """What one check measured: a row per item, detail tables and notes."""

    items: dict[str, Measured]
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        """The keys of the judged rows that failed."""
        return [k for k, m in self.items.items() if m.judged and m.verdict == "fail"]


@dataclass
class Validation:
    """The result of a ``check-model`` run: the size and each check's outcome, in order."""

    size: str
    outcomes: dict[str, Outcome]

    @property
    def failed(self) -> list[tuple[str, str]]:
        """The (check key, row key) pairs of the judged rows that failed, in table order."""
        return [(c, i) for c, o in self.outcomes.items() for i in o.failed]

    @property
    def passed(self) -> bool:
        """Whether no judged row failed."""
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON data (what the validation page's last block holds)."""
        return {"size": self.size,
                "checks": {k: {"items": {i: asdict(m) for i, m in o.items.items()},
                               "tables": [asdict(t) for t in o.tables], "notes": o.notes}
                           for k, o in self.outcomes.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Validation:
        """The record back from :meth:`to_json`'s data."""
        outcomes = {k: Outcome(items={i: Measured(**m) for i, m in o["items"].items()},
                               tables=[Table(**t) for t in o["tables"]], notes=list(o["notes"]))
                    for k, o in data["checks"].items()}
        return cls(size=data["size"], outcomes=outcomes)
