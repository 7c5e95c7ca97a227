"""The report of a robustness study's folder (``perksim robust``): the question and the scenario,
what was compared and which assumptions were varied, "How robust is this?" and where the
numbers come from. Its samples are not a sweep: no sweep readings over the uncertain
parameters, no figure or user story per sample.

"How robust is this?" says what was done (from the manifest and the tables), shows the verdict
shares, reads them (:mod:`simulator.views.report.robust`: a robust verdict only from
:data:`~simulator.experiment.robust.verdicts.ROBUST_SHARE` on, a split with its flip boxes),
which assumptions matter (the top sensitivity indices, the index and verdict-map figures), and
asks questions built on the flip conditions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from simulator.experiment.robust.sensitivity import IMPORTANCE
from simulator.experiment.robust.verdicts import ROBUST_SHARE
from simulator.scenario.schema import Scenario, parse_field_path
from simulator.views.report.loading import Folder
from simulator.views.report.prose import describe_change, describe_strategy, region_words, topic_words
from simulator.views.report.render import Block, Section
from simulator.views.report.robust import (
    Pair,
    flip_rows,
    percent,
    robust_prompts,
    robust_reading,
    several_brands,
    share_rows,
    shown_metrics,
    shown_pairs,
)
from simulator.views.report.sections import section_question
from simulator.views.report.suggestions import command, context_options, scenario_reference
from simulator.views.report.vocabulary import fmt, fmt_ci, fmt_value, join

TOP_PARAMETERS = 3
INDEX_NAMES = {"mu_star": "Morris μ*", "ST": "Sobol' ST"}
UNCERTAIN_WORDS = {"uniform": "evenly between", "log_uniform": "evenly on a log scale between",
                   "values": "one of"}
FILES = {
    "robust_design.csv": "one row per sample: the uncertain parameters' values",
    "robust_verdicts.csv": "per sample, variant and metric: the paired difference to the "
                           "reference, its 95% interval and the verdict",
    "robust_shares.csv": "the share of the samples with each verdict, and whether it is robust",
    "robust_indices.csv": "the sensitivity indices, with their intervals and ranks",
    "robust_flips.csv": "the flip boxes: condition, verdict, samples, agreeing, tree accuracy",
    "robust_flip_bounds.csv": "each flip box's exact bounds per parameter",
    "robust_map.csv": "the verdict maps: the winner at each sample over two parameters",
    "summary.csv": "every run's final metrics, one row per sample, variant and replicate",
}


def is_robust(f: Folder) -> bool:
    """Whether ``f`` is a robustness study's folder (its manifest's kind, or its tables)."""
    return f.kind == "robust" or f.saved.robust() is not None


def build_robust(f: Folder, docs_base: str | None = None) -> tuple[str, list[Section]]:
    """The report of a robustness study's folder as a title and its sections."""
    sc = f.scenario
    name = (sc.name if sc else None) or f.manifest.get("scenario") or f.path.name
    tables = f.saved.robust()
    sections = [section_question(f, sc, f.manifest), _section_design(f, sc),
                section_robust(f, tables), _section_provenance(f, tables)]
    return f"perksim report: {name} (robustness study)", sections


def variant_order(f: Folder, tables: Any) -> list[str]:
    """The variants as run: the manifest's, else the scenario's, else the tables' (reference first)."""
    named = list(f.manifest.get("variants") or []) or list(f.scenario.variants if f.scenario else [])
    if named or tables is None:
        return named
    v = tables.verdicts
    return list(dict.fromkeys([*v["reference"].astype(str), *v["variant"].astype(str)]))


def _section_design(f: Folder, sc: Scenario | None) -> Section:
    s = Section("2. What was compared, and how", "design")
    rows = []
    variants = variant_order(f, f.saved.robust())
    for i, variant in enumerate(variants):
        change = (sc.variants if sc else {}).get(variant)
        what = "; ".join(describe_change(k, v) for k, v in change.items()) if change else \
            "the scenario as written"
        ran = _scenario(f, variant) or sc
        rules = "; ".join(f"{c.brand}: {describe_strategy(c.strategy, c)}"
                          for c in (ran.campaigns if ran else []))
        rows.append([f"**{variant}**" + (" (reference)" if i == 0 else ""), what, rules])
    s.table(["variant", "what it changes", "who gets the perks (as written)"], rows)
    s.p("**The uncertain assumptions** (the scenario's `uncertainties:`): each sample of the "
        "study takes one value of every one of them; every variant runs at every sample with "
        "the same paired seeds, so a difference between variants at a sample comes from what "
        "the variant changes, not from a luckier draw.")
    s.table(["parameter", "as written", "varied"], _uncertainty_rows(sc))
    return s


def _scenario(f: Folder, variant: str) -> Scenario | None:
    try:
        return f.saved.scenario(variant)
    except Exception:  # a variant that no longer validates: the folder's scenario
        return None


def _uncertainty_rows(sc: Scenario | None) -> list[list[str]]:
    if sc is None:
        return []
    rows = []
    for path, u in sc.uncertainties.items():
        spread = (join([fmt_value(v) for v in u.choices], "or") if u.kind == "values"
                  else join([fmt_value(v) for v in u.bounds or ()]))
        try:
            written = fmt_value(_field(sc, parse_field_path(path)))
        except (KeyError, IndexError, AttributeError, TypeError, ValueError):
            written = "–"
        rows.append([f"`{path}`", written, f"{UNCERTAIN_WORDS[u.kind]} {spread}"])
    return rows


def _field(sc: Scenario, parts: Sequence[Any]) -> Any:
    value: Any = sc
    for part in parts:
        value = value[part] if isinstance(value, (dict, list)) else getattr(value, part)
    return value


def method_of(f: Folder, tables: Any) -> str:
    """``morris``, ``sobol`` or ``lhs``: the manifest's, else read off the indices."""
    method = f.manifest.get("method")
    if method:
        return str(method)
    if tables is None or tables.indices is None:
        return "lhs"
    return "sobol" if "ST" in set(tables.indices["index"]) else "morris"


def _study_rows(f: Folder, tables: Any, found: Sequence[Pair]) -> list[list[str]]:
    method = method_of(f, tables)
    n = f.manifest.get("samples")
    samples = len(tables.design)
    params = len([c for c in tables.design.columns if c != "sample"])
    variants = variant_order(f, tables)
    reps = f.manifest.get("replicates")
    how = {"morris": f"Morris elementary effects, {n} trajectories (one parameter moves at a "
                     "time)", "sobol": f"Sobol' indices on Saltelli's design, {n} base samples",
           "lhs": "a Latin hypercube (who wins where; no indices)"}.get(method, method)
    runs = samples * len(variants) * reps if isinstance(reps, int) and variants else None
    return [["method", how], ["samples of the assumptions", str(samples)],
            ["uncertain parameters", str(params)], ["variants", str(len(variants))],
            ["paired replicates per sample and variant", str(reps or "?")],
            ["runs", f"{runs:,}" if runs else "?"],
            ["reference (the first variant)", found[0].reference if found else "?"],
            ["robust from", f"{percent(ROBUST_SHARE)} of the samples"]]


def section_robust(f: Folder, tables: Any) -> Section:
    """"How robust is this?": what was done, the verdict shares and their reading, which
    assumptions matter, and questions built on the flip conditions."""
    s = Section("3. How robust is this?", "robust")
    if tables is None:
        s.p("This folder has no robust_shares.csv: the study did not finish, or the files were "
            "removed. `perksim robust --resume RESULTS_DIR` finishes it.")
        return s
    sc = f.scenario
    metrics = shown_metrics(tables.shares, sc.metrics if sc else ())
    found = shown_pairs(tables.shares, metrics)
    reference = found[0].reference if found else "the first variant"
    s.p("**What was done.** The study did not trust one setting of the model's uncertain "
        "assumptions: it sampled them over the ranges the scenario's `uncertainties:` gives "
        f"(section 2), ran every variant at every sample with paired replicates, and compared "
        f"each variant with the reference, **{reference}**, sample by sample — better or worse "
        "when the 95% interval of the paired difference excludes 0, indistinguishable when it "
        f"holds 0. A verdict is called robust only when it holds in at least "
        f"{percent(ROBUST_SHARE)} of the samples.")
    s.table(["the study", ""], _study_rows(f, tables, found))
    own = bool(sc and any(m in sc.metrics for m in metrics))
    told = _shares(s, tables, found, own, f.manifest.get("replicates"))
    _matters(s, f, tables, found, metrics)
    s.p("**Questions for discussion**")
    s.ul(robust_prompts(found, tables.flips, told, _setting(sc)))
    return s


def _setting(sc: Scenario | None) -> str:
    c = sc.campaigns[0] if sc and sc.campaigns else None
    return (f"{c.brand}, a {topic_words(c.topic)} brand in {region_words(c.region)}"
            if c else "")


def _shares(s: Section, tables: Any, found: Sequence[Pair], own: bool,
            replicates: Any) -> list[Pair]:
    """The shares table, its reading and the flip boxes of the splits told; returns those."""
    keys = [c for c in ("brand", "variant", "metric") if c in tables.shares.columns]
    more = len(tables.shares[keys].drop_duplicates()) - len(found)
    s.p("**Who is ahead, and how often.** The share of the sampled assumptions in which each "
        "variant is better than the reference beyond noise, worse, or indistinguishable, on "
        + ("the scenario's own metrics (its `metrics:`)" if own else "the headline metrics")
        + (f" ({more} more comparisons, on other metrics, are in robust_shares.csv)" if more
           else "") + ":")
    header, rows = share_rows(found)
    s.table(header, rows)
    s.note("Each sample's verdict rests on a 95% interval: where two variants do not differ at "
           "all, about 5% of the samples still come out better or worse by chance, so shares of "
           "a few percent are noise.")
    lines, told = robust_reading(found, tables.flips, replicates if isinstance(replicates, int)
                                 else None)
    s.p("**The reading.**")
    s.ul(lines)
    if told:
        s.p("**Where the verdicts flip** — the boxes of the uncertainty space in which each "
            "verdict holds, from a shallow decision tree fitted to the samples' verdicts "
            "(robust_flips.csv; the exact bounds are in robust_flip_bounds.csv):")
        header, rows = flip_rows(tables.flips, told)
        s.table(header, rows)
    return told


def _matters(s: Section, f: Folder, tables: Any, found: Sequence[Pair],
             metrics: Sequence[str]) -> None:
    method = method_of(f, tables)
    s.p("**Which assumptions matter.**")
    if tables.indices is None or method not in IMPORTANCE:
        s.p("A Latin hypercube gives no sensitivity indices; its verdict maps are drawn over the "
            "first two uncertain parameters (`perksim robust --method morris` ranks them).")
    else:
        index = IMPORTANCE[method]
        rows, first = index_rows(tables.indices, found, index)
        s.p(INDEX_MEANING[index] + " The three that matter most for each comparison:")
        s.table([*(["brand"] if several_brands(found) else []), "variant", "metric", "rank",
                 "parameter", INDEX_NAMES[index], "95% interval"], rows)
        if first:
            s.ul(first)
    brands = list(dict.fromkeys(p.brand for p in found))
    for metric in metrics:
        for brand in brands:
            sfx = "" if len(brands) == 1 else f"_{_slug(brand)}"
            for kind in ("indices", "map"):
                path = next((p for p in f.figures if p.stem == f"robust_{kind}_{metric}{sfx}"), None)
                if path is not None:
                    s.blocks.append(Block("figure", {"path": path, "caption": robust_caption(
                        kind, metric, method)}))


def _slug(text: str) -> str:
    from simulator.views.plots.style import slug

    return slug(text)


INDEX_MEANING = {
    "mu_star": "Morris μ* is the mean absolute change of the difference (variant − reference) "
               "when one parameter moves across its whole range, in the metric's units: a "
               "parameter with μ* near 0 hardly moves the verdict; the interval is SALib's "
               "bootstrap.",
    "ST": "Sobol' ST is the share of the difference's variance (variant − reference) that a "
          "parameter explains, alone and in interactions with the others (0 to 1); the "
          "interval is SALib's bootstrap.",
}


def index_rows(indices: pd.DataFrame, found: Sequence[Pair],
               index: str) -> tuple[list[list[str]], list[str]]:
    """The top :data:`TOP_PARAMETERS` parameters of each comparison by ``index`` (rows of the
    indices table), and per metric which parameter ranks first for which variants."""
    brands = several_brands(found)
    rows: list[list[str]] = []
    first: dict[tuple[str, str], list[str]] = {}
    part = indices[indices["index"] == index]
    for p in found:
        own = part[(part["variant"].astype(str) == p.variant) & (part["metric"].astype(str) == p.metric)]
        if "brand" in own.columns and p.brand:
            own = own[own["brand"].astype(str) == p.brand]
        own = own[own["value"].notna()].sort_values("rank", kind="stable").head(TOP_PARAMETERS)
        for r in own.itertuples(index=False):
            rows.append([*([p.brand] if brands else []), p.variant, f"`{p.metric}`", str(int(r.rank)),
                         f"`{r.parameter}`", fmt(r.value), fmt_ci(r.conf_low, r.conf_high)])
            if int(r.rank) == 1 and float(r.value) > 0:
                first.setdefault((p.metric, str(r.parameter)), []).append(p.variant)
    by_metric: dict[str, list[str]] = {}
    for (metric, param), variants in first.items():
        by_metric.setdefault(metric, []).append(f"`{param}` for {join(variants)}")
    said = [f"`{metric}` — ranked first: {'; '.join(parts)}." for metric, parts in by_metric.items()]
    return rows, said


def robust_caption(kind: str, metric: str, method: str) -> str:
    """How to read ``robust_indices_<metric>`` or ``robust_map_<metric>``."""
    if kind == "indices":
        what = ("Morris μ* (mean absolute effect)" if method == "morris" else
                "Sobol' first-order (alone) and total (with interactions) indices")
        return (f"What drives the difference on `{metric}`, one panel per variant against the "
                f"reference: {what} of each uncertain parameter, with 95% intervals, the most "
                "important on top. Read: a long bar is an assumption the verdict depends on.")
    axes = ("the first two uncertain parameters" if method == "lhs" else
            "the two most influential assumptions")
    return (f"Who wins where on `{metric}`: one point per sample at its values of {axes}, "
            "coloured by the variant better than the reference beyond noise (the best one if "
            "several), the reference where every variant is worse, grey where there is no clear "
            "winner. Read: where the colours change, a verdict flips.")


def _section_provenance(f: Folder, tables: Any) -> Section:
    s = Section("4. Where the numbers come from", "provenance")
    man = f.manifest
    options = [*context_options(f)]
    for flag, key in (("--method", "method"), ("--samples", "samples"), ("--replicates", "replicates")):
        if man.get(key) is not None:
            options += [flag, str(man[key])]
    s.p("Run it again: the samples are drawn from the scenario's master seed, so the same "
        "command gives the same samples and the same tables (an interrupted study resumes with "
        "`--resume`).")
    s.code(command("perksim", "robust", scenario_reference(f), *options))
    versions = man.get("versions") or {}
    s.ul([item for item in [
        f"**Seeds:** master seed {man.get('seed', '?')}, design seed {man.get('design_seed', '?')}",
        (f"**When:** {str(man.get('started', '?'))[:19].replace('T', ' ')} to "
         f"{str(man.get('finished', '?'))[:19].replace('T', ' ')} UTC"),
        ("**Software:** " + ", ".join(f"{k} {v}" for k, v in versions.items())) if versions else "",
        f"**Failed runs:** {man['failures']} (see failures.csv)" if man.get("failures") else "",
    ] if item])
    present = [(name, what) for name, what in FILES.items() if (f.path / name).is_file()]
    s.table(["file", "holds"], [[f"`{name}`", what] for name, what in present])
    return s
