"""The handout: one or two printed A4 pages for a lesson, ``handout.html`` beside the full
report — the question, the scenario in three lines, one figure, the key table with its 95%
intervals, the reading, three discussion prompts and one command to try.

Every piece is taken from the full report's own pieces (the same sentences and the same
table, :mod:`~simulator.views.report.sections`, :mod:`~simulator.views.report.readings`,
:mod:`~simulator.views.report.discussion`, :mod:`~simulator.views.report.suggestions`), never
rewritten; only fewer of them, and a stylesheet made for print (A4, page-break control)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simulator.views.report.discussion import section_discussion
from simulator.views.report.loading import Folder
from simulator.views.report.prose import describe_campaign
from simulator.views.report.readings import reading
from simulator.views.report.render import CSS, Block, Section
from simulator.views.report.sections import _section_design, figure_caption, section_question
from simulator.views.report.suggestions import things_to_try
from simulator.views.report.tables import summary_tables
from simulator.views.report.vocabulary import KEY_METRICS

HANDOUT_METRICS = 8  # at most this many metrics in the handout's table and reading
PROMPTS = 3

HANDOUT_CSS = CSS + """
body { font-size: 10.5px; line-height: 1.35; max-width: 52rem; margin: 1rem auto; }
h1 { font-size: 1.35rem; } h2 { font-size: 1.02rem; margin: .7rem 0 .3rem; padding-bottom: .1rem; }
p, li { margin: .2rem 0; } li { margin: .25rem 0; } ul { margin: .2rem 0; }
table { font-size: 9px; margin: .3rem 0 .5rem; } th, td { padding: .15rem .3rem; }
figure { margin: .4rem 0 .6rem; text-align: center; }
figure img { max-height: 7.2cm; width: auto; }
figcaption { font-size: 9.5px; text-align: left; }
pre { margin: .2rem 0 .4rem; padding: .3rem .5rem; }
.meta { font-size: 9.5px; margin-bottom: .4rem; }
@page { size: A4; margin: 11mm 12mm; }
@media print {
  body { font-size: 8.2pt; margin: 0; max-width: none;
         display: grid; grid-template-columns: 1fr 1fr; column-gap: 5mm; align-items: start; }
  body > * { grid-column: 1 / -1; }
  body > #question { grid-column: 1; }
  body > #figure { grid-column: 2; }
  #figure h2 { visibility: hidden; }
  table { font-size: 7.2pt; }
  figcaption, .meta { font-size: 7.8pt; }
  h2 { font-size: 10.5pt; break-after: avoid; page-break-after: avoid; }
  section, figure, table, pre, li { break-inside: avoid; page-break-inside: avoid; }
  #reading { break-inside: auto; page-break-inside: auto; }
  figure img { max-height: 6.2cm; }
}
"""

FIGURE_PREFERENCE = ("timeseries", "final_metrics")  # after the trade-off and the sweep curves


def handout_metrics(f: Folder) -> list[str]:
    """The scenario's own metrics (its ``metrics:``), else the headline ones, present in the
    comparison table — at most ``HANDOUT_METRICS``."""
    present = set(f.comparison["metric"]) if "metric" in f.comparison else set()
    own = [m for m in (f.scenario.metrics if f.scenario else []) if m in present]
    return (own or [m for m in KEY_METRICS if m in present])[:HANDOUT_METRICS]


def handout_figure(f: Folder, metrics: Sequence[str]) -> Path | None:
    """The one figure: in a sweep, the curve of the first of ``metrics`` drawn; in a
    comparison of several variants, the trade-off; else (a single run) the metrics over time;
    else the final values; else none."""
    figures = list(f.figures)
    if f.table.sweep:
        sweeps = [p for p in figures if p.stem.startswith("sweep_")]
        for m in metrics:
            hit = [p for p in sweeps if p.stem.endswith(f"_{m}")]
            if hit:
                return hit[0]
    prefixes = (("tradeoff",) if len(f.table.variants) > 1 else ()) + FIGURE_PREFERENCE
    for prefix in prefixes:
        pick = [p for p in figures if p.stem.startswith(prefix)]
        if pick:
            return pick[0]
    return None


def _item(items: Sequence[str], label: str) -> str:
    """The item of section 1's list that starts with ``**label:**`` (empty if none)."""
    return next((i for i in items if i.startswith(f"**{label}:**")), "")


def scenario_lines(f: Folder) -> list[str]:
    """The scenario in three lines: who (population and regions), the campaign(s) as written,
    what was compared — each line taken from sections 1 and 2 of the full report."""
    question = section_question(f, f.scenario, f.manifest)
    items = next((b.content for b in question.blocks if b.kind == "ul"), [])
    who = "; ".join(i for i in (_item(items, "Population"), _item(items, "Regions"),
                                _item(items, "Duration")) if i)
    campaigns = f.scenario.campaigns if f.scenario else []
    what = " ".join(describe_campaign(c) for c in campaigns)
    design = _section_design(f, f.scenario, f.manifest, f.table, {})
    how = next((b.content for b in design.blocks if b.kind == "p"), "")
    table = next((b.content for b in design.blocks if b.kind == "table"), None)
    if table and len(table["rows"]) > 1:
        how += " " + "; ".join(f"{row[0]}: {row[1]}" for row in table["rows"]) + "."
    lines = [who, f"**The campaign{'s' if len(campaigns) > 1 else ''}:** {what}" if what else "",
             f"**Compared:** {how}" if how else ""]
    return [line for line in lines if line]


def try_this(f: Folder) -> tuple[str, str] | None:
    """The one command to try, from the full report's things to try: for a single run the
    first (the comparison with replicates); otherwise the second — the first that changes the
    rule (another rule, or another value of its own parameter), not just the replicates."""
    suggestions = things_to_try(f)
    if not suggestions:
        return None
    return suggestions[0] if f.kind == "run" or len(suggestions) == 1 else suggestions[1]


def build_handout(f: Folder) -> tuple[str, list[Section]]:
    """The handout as a title and its sections (in this order): the question and the
    scenario; the figure; the numbers (the key table and the reading); for discussion (three
    prompts and one command to try)."""
    sc = f.scenario
    name = (sc.name if sc else None) or f.manifest.get("scenario") or f.path.name
    question = (sc.question if sc else None) or f.manifest.get("question")
    metrics = handout_metrics(f)
    table = f.table

    first = Section("The question and the scenario", "question")
    if question:
        first.p(f"**{question}**")
    first.ul(scenario_lines(f))
    sections = [first]

    figure = handout_figure(f, metrics)
    if figure is not None:
        shown = Section("The figure", "figure")
        shown.blocks.append(Block("figure", {"path": figure,
                                             "caption": figure_caption(figure.stem, table.params)}))
        sections.append(shown)

    numbers = Section("What the numbers say", "reading")
    for header, rows in summary_tables(table, metrics):
        numbers.table(header, rows)
    lines = reading(f.comparison, f.summary, metrics)
    if lines:
        numbers.p(lines[0])
        numbers.ul(lines[1:])
    sections.append(numbers)

    talk = Section("For discussion", "discussion")
    prompts = next((b.content for b in section_discussion(f, sc, table).blocks if b.kind == "ul"), [])
    talk.ul(prompts[:PROMPTS])
    suggestion = try_this(f)
    if suggestion is not None:
        why, cmd = suggestion
        talk.p(f"**Try this:** {why}")
        talk.code(cmd)
    talk.note("The full report (`report.html` in the same folder) has every figure, the scenario's "
              "claims checked against these runs, things to notice, more to try, the model's "
              "assumptions and users worth a closer look.")
    sections.append(talk)
    return f"perksim handout: {name}", sections
