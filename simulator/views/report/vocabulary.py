"""The report's vocabulary: what the metrics are called and which way is better (from the
metric catalogue, :mod:`simulator.model.metrics`), how numbers and values are written, and
where the model is documented."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulator.model.metrics import BY_NAME, HEADLINE, MetricView

# --- what the metrics mean and which way is better: the metric catalogue (simulator.model.metrics) ------

KEY_METRICS = HEADLINE
METRIC_WORDS: Mapping[str, str] = MetricView(lambda m: m.words)  # read when looked up: plug-ins too
CONFIDENCE = "95%"
SMALL_REPLICATES = 10  # below this, intervals are wide: say so

# --- where the model is documented ---------------------------------------------------------------

MODEL_DOC = "docs/model.md"  # the model's documentation, as a path inside the repository
MODEL_SECTIONS = {  # key: (GitHub-style anchor of the heading in docs/model.md, label)
    "score": ("51-klout-like-score", "§5.1 Klout-like score"),
    "strategies": ("52-allocation-strategies", "§5.2 Allocation strategies"),
    "mentions": ("53-mentions", "§5.3 Mentions"),
    "exposure": ("54-exposure-persuasion-diffusion", "§5.4 Exposure, persuasion, diffusion"),
    "pout": ("55-klout-pout-relative-deprivation", "§5.5 Klout Pout (relative deprivation)"),
    "gaming": ("56-score-gaming-adaptation", "§5.6 Score gaming (adaptation)"),
    "initialization": ("5-initialization", "§5 Initialization (homophily)"),
    "observation": ("8-observation", "§8 Observation (the metrics)"),
    "calibration": ("11-where-the-parameters-come-from", "§11 Where the parameters come from"),
}
REPO_ROOT = Path(__file__).resolve().parents[3]  # simulator/views/report/ → the checkout


def model_href(key: str, base: str | None = None) -> str:
    """The link to a part of the model: ``#glossary-mentions``, the report's embedded glossary
    (:mod:`simulator.views.report.glossary`), so that it works wherever the file is read; or,
    with an absolute ``base`` (``https://…/model.md``), ``base#53-mentions``. A relative
    ``base`` is ignored: it would break once the file is sent elsewhere."""
    if base and re.match(r"[a-z][a-z0-9+.-]*://", base):
        return f"{base}#{MODEL_SECTIONS[key][0]}"
    return f"#glossary-{key}"


def model_link(key: str, base: str | None = None) -> str:
    """``[docs/model.md §5.3 Mentions](#glossary-mentions)`` (readable when printed, too)."""
    return f"[{MODEL_DOC} {MODEL_SECTIONS[key][1]}]({model_href(key, base)})"


# --- numbers ---------------------------------------------------------------------------------------


def finite(v: Any) -> bool:
    """Whether ``v`` converts to a finite float (``None``, NaN, ±inf and non-numbers do not)."""
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt(v: Any, signed: bool = False) -> str:
    """A number for reading: about three significant digits, thousands separators, − for minus."""
    if not finite(v):
        return "–"
    v = float(v)
    a = abs(v)
    if a == 0:
        text = "0"
    elif a < 1e-6:
        text = "≈0"
    elif v.is_integer():
        text = f"{v:,.0f}"
    elif a >= 1000:
        text = f"{v:,.0f}"
    elif a >= 100:
        text = f"{v:.0f}"
    elif a >= 10:
        text = f"{v:.1f}"
    elif a >= 1:
        text = f"{v:.2f}"
    elif a >= 0.1:
        text = f"{v:.3f}"
    else:  # three significant digits, never an exponent: 0.00234, 0.0000230
        rounded = abs(float(f"{v:.3g}"))  # 0.09999 → 0.1: its digits, not 0.1000
        text = f"{v:.{2 - math.floor(math.log10(rounded))}f}"
    if signed and v > 0 and not text.startswith("≈"):
        text = "+" + text
    return text.replace("-", "−")


def fmt_ci(lo: Any, hi: Any, signed: bool = False) -> str:
    """``[lo, hi]`` formatted with :func:`fmt`, or ``""`` unless both ends are finite."""
    return f"[{fmt(lo, signed)}, {fmt(hi, signed)}]" if finite(lo) and finite(hi) else ""


def fmt_value(v: Any) -> str:
    """A parameter value (e.g. a swept threshold) as written in a scenario."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (np.integer, np.floating)):
        v = v.item()
    return f"{v:g}" if isinstance(v, float) else str(v)


def flow(value: Any) -> str:
    """A scenario value as written after ``--set PATH=`` (YAML flow style for mappings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return fmt_value(value)
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                          width=10_000).strip().removesuffix("...").strip()


def compare_list(values: dict[str, float]) -> str:
    """``0.12`` for one variant, ``a 0.12, b 0.3`` for several."""
    if len(values) == 1:
        return fmt(next(iter(values.values())))
    return ", ".join(f"{v} {fmt(x)}" for v, x in values.items())


# --- metrics ----------------------------------------------------------------------------------------


def direction(metric: str) -> int:
    """+1 when more is better, −1 when less is better, 0 when neither."""
    m = BY_NAME.get(metric)
    return m.better if m is not None else 0


def direction_words(metric: str) -> str:
    """``more is better``, ``less is better`` or ``neither direction is better``."""
    d = direction(metric)
    return "more is better" if d > 0 else "less is better" if d < 0 else "neither direction is better"


def metric_label(metric: str) -> str:
    """```reach` (what it counts; more is better)``."""
    words = METRIC_WORDS.get(metric)
    return f"`{metric}` ({words}; {direction_words(metric)})" if words else \
        f"`{metric}` ({direction_words(metric)})"


# --- sentences ---------------------------------------------------------------------------------------


def join(items: Sequence[str], word: str = "and") -> str:
    """``a, b and c``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def cap(text: str) -> str:
    """``text`` with its first letter in upper case, the rest as it is."""
    return text[:1].upper() + text[1:]
