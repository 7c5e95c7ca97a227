"""How :class:`~simulator.api.results.Results` show themselves: in Jupyter as HTML
(``_repr_html_``), elsewhere as text (``repr``).

Both say first what the results are — scenario, kind, variants, replicates, seed, size and
folder — then give the key table. Nothing here formats a number: the HTML tables are the
teaching report's (:func:`simulator.views.report.tables.summary_tables`; a robustness study's
shares, :func:`simulator.views.report.robust.share_rows`), so a notebook shows the cells
``report.html`` shows, and the text is what ``perksim compare`` prints
(:func:`simulator.views.console.format_comparison`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from simulator.model.metrics import HEADLINE

if TYPE_CHECKING:
    from simulator.api.results import Results

NO_RUNS = "no run finished, so there is no table"


def shown_metrics(results: Results) -> list[str]:
    """The scenario's own metrics (its ``metrics:``) first, then the headline ones, as far as
    the comparison table has them."""
    table = results.comparison
    present = set(table["metric"]) if table is not None and "metric" in table else set()
    own = results.scenario.metrics if results.scenario is not None else []
    return [m for m in dict.fromkeys([*own, *HEADLINE]) if m in present]


def variants(results: Results) -> list[str]:
    """The variants in the order they ran (the settings' list when no run finished)."""
    summary = results.summary
    if summary is not None and "variant" in summary and len(summary):
        return list(dict.fromkeys(summary["variant"].astype(str)))
    return [str(v) for v in results.settings.get("variants") or []]


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def facts(results: Results) -> list[tuple[str, str]]:
    """What the results are, as (label, value) pairs in reading order."""
    sc, settings = results.scenario, results.settings
    name = sc.name if sc is not None else str(results.manifest.get("scenario", "?"))
    names = variants(results)
    out = [("scenario", name), ("kind", results.kind),
           ("variants", f"{len(names)}: {', '.join(names)}" if names else "none")]
    if settings.get("replicate") is not None:
        out.append(("replicates", f"replicate {settings['replicate']} alone"))
    elif settings.get("replicates") is not None:
        paired = " per variant (paired seeds)" if results.kind != "run" else ""
        out.append(("replicates", f"{settings['replicates']}{paired}"))
    summary = results.summary
    if summary is not None and "point" in summary and results.kind == "sweep":
        out.append(("sweep points", f"{summary['point'].nunique():,}"))
    if results.kind == "robust" and settings.get("method"):
        out.append(("design", f"{settings['method']}, {_count(int(settings['samples']), 'sample')}"))
    if sc is not None:
        out.append(("seed", str(sc.seed)))
        users = results.facts.get("users", sc.population.size)
        out.append(("size", f"{_count(int(users), 'user')}, {_count(sc.steps, 'step')}"))
    failed = len(results.failures) if results.failures is not None else 0
    if failed:
        out.append(("failed runs", f"{failed} (see .failures)"))
    out.append(("folder", str(results.folder) if results.folder is not None
                else "not saved (.save() writes one)"))
    return out


def tables(results: Results) -> list[tuple[list[str], list[list[str]]]]:
    """The key tables, each a header and rows of cells (inline Markdown: ``code``, **bold**,
    ``<br>``): a robustness study's shares, else the metrics × variants (or × sweep values)."""
    metrics = shown_metrics(results)
    if results.kind == "robust" and results.robust is not None:
        from simulator.views.report.robust import share_rows, shown_pairs
        from simulator.views.report.robust import shown_metrics as judged

        own = results.scenario.metrics if results.scenario is not None else []
        shares = results.robust.shares
        found = shown_pairs(shares, judged(shares, own))
        return [share_rows(found)] if found else []
    if not metrics:
        return []
    from simulator.views.report.tables import Table, summary_tables

    return summary_tables(Table(results.comparison), metrics)


def caption(results: Results) -> str:
    """What the table's cells are."""
    if results.kind == "robust":
        return ("The share of the sampled assumptions in which each variant is better than the "
                "reference beyond noise, worse, or indistinguishable (.robust holds every table).")
    runs = results.comparison["n"].max() if "n" in results.comparison else 0
    if not runs or runs <= 1:
        return "The final values (one run each, so no intervals)."
    text = "Mean and [95% interval] over the replicates (bootstrap)"
    if len(variants(results)) > 1 and results.kind != "sweep":
        text += ("; Δ: the paired difference to the first variant (✱: its 95% interval "
                 "excludes 0)")
    return text + ". All metrics: .comparison."


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    from simulator.views.report.render import inline_html

    frame = pd.DataFrame([[inline_html(c) for c in row] for row in rows],
                         columns=[html.escape(h) for h in header])
    return frame.to_html(escape=False, index=False, border=0, classes="perksim-table")


def to_html(results: Results) -> str:
    """The HTML Jupyter shows: what the results are, then the key tables (escaped)."""
    items = "".join(f"<li><strong>{html.escape(label)}</strong>: {html.escape(value)}</li>"
                    for label, value in facts(results))
    found = tables(results)
    parts = ['<div class="perksim-results">', f"<ul>{items}</ul>"]
    if found:
        parts.append(f"<p>{html.escape(caption(results))}</p>")
        parts += [_html_table(header, rows) for header, rows in found]
    else:
        parts.append(f"<p>{html.escape(NO_RUNS)}</p>")
    parts.append("</div>")
    return "\n".join(parts)


def to_text(results: Results) -> str:
    """The text ``repr`` shows: what the results are, then the table ``perksim`` prints."""
    (_, name), _kind, *rest = facts(results)
    lines = [f"perksim results: {results.kind} of {name}"]
    lines += [f"  {label}: {value}" for label, value in rest]
    table = _console_table(results)
    return "\n".join(lines) + (f"\n{table}" if table else "")


def _console_table(results: Results) -> str:
    from simulator.views.console import format_comparison, format_robust, format_summary

    metrics = shown_metrics(results)
    if results.kind == "robust" and results.robust is not None:
        return format_robust(results.robust, metrics)
    if not metrics:
        return NO_RUNS
    if results.kind == "run" and results.summary["replicate"].nunique() == 1:
        return format_summary(results.summary)  # one run: its final values, as perksim run prints
    if results.kind == "sweep":
        return "(the sweep's means and intervals by point: .comparison, or _repr_html_ in Jupyter)"
    return format_comparison(results.comparison, metrics)

