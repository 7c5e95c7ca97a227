"""Teaching reports of results folders: ``report.html`` (self-contained) and ``report.md``.

``write_report(folder)`` reads a results folder of ``perksim run``, ``compare`` or ``sweep``
(``manifest.json``, ``comparison.csv``, ``summary.csv``, ``users.csv``, ``figures/*.png``) and
writes a class handout in eight parts: the question and the scenario in plain words; what was
compared and how; the figures; a reading of the numbers; things to notice; things to try;
discussion prompts; the model assumptions that matter — plus "Telling users", three users
worth a closer look with ``perksim explain``, and a glossary of the parts of the model the
report links to (the links stay inside the file, so they work once it is sent). Beside it,
``handout.html``: the same pieces, fewer of them, on one or two printed A4 pages
(:mod:`~simulator.views.report.handout`). Figures are embedded as compressed palette PNGs
(:func:`~simulator.views.report.render.embedded_png`).

Every statement about results is generated from the tables by pure functions
(:func:`reading`, :func:`things_to_notice`): a variant is said to *lead* on a metric only
when the paired 95% interval of its difference to every other variant excludes 0 in the
better direction; a difference whose interval contains 0 is called not distinguishable from
noise; a single run (n = 1) gets no interval and no verdict. The intervals are the bootstrap
intervals of :mod:`simulator.experiment` (``comparison.csv``). A metric with fewer than
``MIN_NONZERO`` runs with a non-zero value (``rare`` in ``comparison.csv``) gets no verdict
either: the reading says it is too rare to compare at this replicate count, and how many
replicates would be needed.

The report is built once as a small document (sections of paragraphs, lists, tables,
figures and commands, with ``code``, ``**bold**`` and ``[links](href)`` inline) and rendered
twice, to HTML and to Markdown, so the two files always say the same thing.

The modules, from the bottom up:

- :mod:`~simulator.views.report.vocabulary` — metric words and directions, numbers, links
  to docs/model.md;
- :mod:`~simulator.views.report.phrasing` — the verdict of an interval, rare metrics in words;
- :mod:`~simulator.views.report.tables` — look-ups in the results tables, paired
  differences, the table of key metrics;
- :mod:`~simulator.views.report.readings` and :mod:`~simulator.views.report.sweeps` — what
  the numbers say; :mod:`~simulator.views.report.notices` — things to notice;
- :mod:`~simulator.views.report.prose` — strategies and campaigns in words (all the
  strategy-specific prose);
- :mod:`~simulator.views.report.loading` — reading a results folder;
- :mod:`~simulator.views.report.suggestions` — things to try, as exact commands;
- :mod:`~simulator.views.report.users` — telling users;
- :mod:`~simulator.views.report.sections` and :mod:`~simulator.views.report.discussion` —
  the sections; :mod:`~simulator.views.report.glossary` — the glossary;
  :mod:`~simulator.views.report.handout` — the handout;
  :mod:`~simulator.views.report.robust_sections` — those of a robustness study
  (``perksim robust``), with its findings in words in :mod:`~simulator.views.report.robust`;
  :mod:`~simulator.views.report.render` — the document, HTML, Markdown and CSS.
"""

from __future__ import annotations

from pathlib import Path

from simulator.views.report.glossary import GLOSSARY, section_glossary
from simulator.views.report.handout import HANDOUT_CSS, build_handout
from simulator.views.report.loading import Folder, load_folder, variant_scenarios
from simulator.views.report.notices import things_to_notice
from simulator.views.report.phrasing import diff_is_rare, is_rare, verdict
from simulator.views.report.prose import describe_campaign, describe_strategy, strategy_params
from simulator.views.report.readings import leader, reading
from simulator.views.report.render import render_html, render_markdown
from simulator.views.report.robust import flip_sentences
from simulator.views.report.robust_sections import build_robust, is_robust
from simulator.views.report.sections import build, figure_caption
from simulator.views.report.suggestions import context_options, scenario_reference, things_to_try
from simulator.views.report.sweeps import trend
from simulator.views.report.tables import Table, paired_difference, summary_tables
from simulator.views.report.users import telling_users
from simulator.views.report.vocabulary import KEY_METRICS, MODEL_SECTIONS, fmt

__all__ = [
    "GLOSSARY", "KEY_METRICS", "MODEL_SECTIONS", "Folder", "Table", "build", "build_handout",
    "build_robust", "context_options",
    "describe_campaign", "describe_strategy", "diff_is_rare", "figure_caption", "flip_sentences", "fmt",
    "handout_path", "is_rare", "is_robust",
    "leader", "load_folder", "paired_difference", "reading", "render_html", "render_markdown",
    "scenario_reference", "strategy_params", "summary_tables", "telling_users", "things_to_notice",
    "things_to_try", "trend", "variant_scenarios", "verdict", "write_handout", "write_report",
]


def _meta(f: Folder) -> str:
    man = f.manifest
    parts = [f"results folder `{f.path.name}`", f"kind: {f.kind}"]
    if man.get("finished"):
        parts.append(f"finished {str(man['finished'])[:19].replace('T', ' ')} UTC")
    version = (man.get("versions") or {}).get("perksim")
    if version:
        parts.append(f"perksim {version}")
    return " · ".join(parts)


def write_report(folder: str | Path, docs_base: str | None = None) -> tuple[Path, Path]:
    """Write ``report.html`` (self-contained) and ``report.md`` into the results ``folder``,
    and, for a folder of ``perksim run``, ``compare`` or ``sweep``, the printable
    ``handout.html`` (:func:`build_handout`; :func:`handout_path` gives its path).

    Works for folders of ``perksim run``, ``compare``, ``sweep`` and ``robust`` (a robustness
    study gets its own sections, :func:`build_robust`, and no handout); draws the figures first
    if the folder has none. Links to the model point to the glossary embedded in each file
    (``#glossary-…``), or, with an absolute ``docs_base`` (``https://…/model.md``), to that
    page. Returns the paths of the report and its Markdown twin.
    """
    folder = Path(folder)
    f = load_folder(folder)
    robust = is_robust(f)
    title, sections = (build_robust if robust else build)(f, docs_base)
    glossary = section_glossary(sections)
    sections += [glossary] if glossary else []
    meta = _meta(f)
    html_path, md_path = folder / "report.html", folder / "report.md"
    html_path.write_text(render_html(title, meta, sections), encoding="utf-8")
    md_path.write_text(render_markdown(title, meta, sections, folder), encoding="utf-8")
    if not robust:
        write_handout(f)
    return html_path, md_path


def handout_path(folder: str | Path) -> Path:
    """Where :func:`write_report` writes the handout of a results folder."""
    return Path(folder) / "handout.html"


def write_handout(f: Folder) -> Path:
    """Write ``handout.html`` (:func:`build_handout`, print CSS for two A4 pages) of a loaded
    results folder; returns its path."""
    title, sections = build_handout(f)
    glossary = section_glossary(sections)
    sections += [glossary] if glossary else []
    path = handout_path(f.path)
    path.write_text(render_html(title, _meta(f), sections, css=HANDOUT_CSS), encoding="utf-8")
    return path
