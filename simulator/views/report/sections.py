"""The report's sections, built from a results folder: the question and the scenario; what
was compared and how; the figures; what the numbers say; things to notice; things to try;
discussion and assumptions (:mod:`simulator.views.report.discussion`); telling users."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from simulator.experiment.formats import table_path
from simulator.experiment.statistics import MIN_NONZERO
from simulator.model.graphs import NETWORK_MAX_USERS
from simulator.scenario.schema import Scenario
from simulator.views.columns import short_param
from simulator.views.report.discussion import section_assumptions, section_discussion
from simulator.views.report.loading import Folder, variant_scenarios
from simulator.views.report.notices import QUOTED_METRICS, things_to_notice
from simulator.views.report.phrasing import is_rare
from simulator.views.report.prose import (
    describe_campaign,
    describe_change,
    describe_strategy,
    pays_perks,
    ranks_by_score,
    region_words,
    strategy_class,
)
from simulator.views.report.readings import reading
from simulator.views.report.render import Block, Section
from simulator.views.report.suggestions import things_to_try
from simulator.views.report.tables import Table, point_label, summary_tables
from simulator.views.report.users import telling_users
from simulator.views.report.vocabulary import (
    KEY_METRICS,
    METRIC_WORDS,
    finite,
    flow,
    fmt,
    fmt_value,
)

NO_USERS = "no users table (it was written with `--users-table none`)"


def build(f: Folder, docs_base: str | None = None) -> tuple[str, list[Section]]:
    """The report as a title and its sections (``docs_base``: see
    :func:`~simulator.views.report.vocabulary.model_href`)."""
    sc, man, table = f.scenario, f.manifest, f.table
    name = (sc.name if sc else None) or man.get("scenario") or f.path.name
    title = f"perksim report: {name}"
    scenarios = variant_scenarios(f)
    sections = [
        section_question(f, sc, man),
        _section_design(f, sc, man, table, scenarios),
        _section_figures(f, table),
        _section_reading(f, table),
        _section_notice(f, sc, table, scenarios),
        _section_try(f),
        section_discussion(f, sc, table),
        section_assumptions(sc, docs_base),
        _section_users(f, table, scenarios),
    ]
    return title, sections


def section_question(f: Folder, sc: Scenario | None, man: dict[str, Any]) -> Section:
    """Section 1: the question, the scenario's population, graph and campaigns in words."""
    s = Section("1. The question and the scenario", "question")
    question = (sc.question if sc else None) or man.get("question")
    if question:
        s.p(f"**{question}**")
    about = " ".join((sc.description if sc else "").split())
    if about:
        s.p(about)
    pop = sc.population if sc else None
    region_text = ", ".join(f"{region_words(r)} {fmt_value(round(100 * v))}%"
                            for r, v in (pop.regions if pop else {}).items())
    topics = ", ".join(pop.topics if pop else [])
    arche = ", ".join(f"{k} {fmt_value(round(100 * a.share))}%"
                      for k, a in (pop.archetypes if pop else {}).items())
    users = man.get("users") or (pop.size if pop else None)
    graph = man.get("graph") or flow(pop.graph.model_dump(mode="json") if pop else None)
    assort = (man.get("assortativity") or {}).get("assortativity")
    homophily = fmt_value(pop.homophily if pop else None)
    items = [
        f"**Population:** {users:,} users" if isinstance(users, int) else f"**Population:** {users} users",
        f"**Graph:** {graph}" + (f" — who follows whom: {man['follows']:,} follows (one user "
                                 "following another, as `edges.csv` lists them; a mutual follow "
                                 "counts twice, as in the network figure)"
                                 if isinstance(man.get("follows"), int) else ""),
        f"**Regions:** {region_text}" if region_text else "",
        f"**Topics:** {topics}" if topics else "",
        f"**Posting habits:** {arche}" if arche else "",
        (f"**Homophily:** {homophily} (0 = interests independent of the graph, "
         "1 = everyone shares their neighbourhood's main topic)"
         + (f"; achieved assortativity {fmt(assort)}: two users joined by a follow have interests "
            f"{fmt(assort)} more alike than two users picked at random (the mean cosine "
            "similarity of their topic mixes, from 0 to 1), "
            + ("so followers are less alike than strangers" if assort < -0.02 else
               "none to speak of: the brand's fans are scattered over the graph" if assort < 0.02
               else "a weak tendency: the brand's fans are only loosely clustered" if assort < 0.1
               else "a clear tendency: the brand's fans cluster together")
            if finite(assort) else "")),
        f"**Duration:** {sc.steps if sc else '?'} days (one step is a day)",
    ]
    s.ul([i for i in items if i])
    campaigns = sc.campaigns if sc else []
    s.p("**The campaign" + ("s" if len(campaigns) > 1 else "") + "** "
        + ("(as run):" if f.kind == "run" else
           "(as written in the scenario; the variants below change parts of it):"))
    s.ul([describe_campaign(c) for c in campaigns])
    return s


def _section_design(f: Folder, sc: Scenario | None, man: dict[str, Any], table: Table,
                    scenarios: dict[str, Scenario]) -> Section:
    s = Section("2. What was compared, and how", "design")
    changes = sc.variants if sc else {}
    n = table.max_n()
    kind = f.kind
    if kind == "run":
        variant = man.get("variant")
        what = f"variant **{variant}**" if variant else "the scenario as written"
        s.p(f"A single `perksim run` of {what}" + (f", {n} replicates" if n > 1 else ", one replicate")
            + f", seed {man.get('seed', sc.seed if sc else None)}.")
    else:
        s.p(f"`perksim {kind}`: {len(table.variants)} variant"
            f"{'s' if len(table.variants) != 1 else ''} × {n} replicate{'s' if n != 1 else ''}"
            + (f" × {len(table.points)} sweep values" if table.sweep else "")
            + f", master seed {man.get('seed', sc.seed if sc else None)}.")
    rows = []
    for i, variant in enumerate(table.variants):
        change = changes.get(variant)
        if change:
            what = "; ".join(describe_change(k, v) for k, v in change.items())
        elif kind == "run" and man.get("variant"):
            what = "the scenario's variant (already applied above)"
        else:
            what = "the scenario as written"
        ran = scenarios.get(variant, sc)
        rules = "; ".join(f"{c.brand}: {describe_strategy(c.strategy, c)}{published(c)}"
                          for c in (ran.campaigns if ran else []))
        rows.append([f"**{variant}**" + (" (reference)" if i == 0 and len(table.variants) > 1 else ""),
                     what, rules])
    who = "who gets the perks"
    if table.sweep:
        who += f" (at the first sweep value, {point_label(table, table.points[0])})"
    s.table(["variant", "what it changes", who], rows)
    if len(table.variants) == 1 and n > 1 and not table.sweep:
        s.p("Each replicate runs with its own seed, spawned from the master seed, so every "
            "replicate can be repeated exactly (`perksim run --replicate R`).")
    elif len(table.variants) > 1 or table.sweep:
        s.p("**Paired seeds (common random numbers):** replicate r of every variant"
            + (" and every sweep value" if table.sweep else "")
            + " runs with the same seed, so it starts from the same users, graph and scores; a "
            "difference between variants in the same replicate comes from what the variant "
            "changes, not from a luckier draw, and the report compares variants replicate by "
            "replicate (paired differences with 95% intervals).")
    failures = f.saved.table("failures")
    if failures is not None and len(failures):
        first = str(failures.iloc[0].get("error", "")).strip()
        s.p(f"**{len(failures)} run{'s' if len(failures) != 1 else ''} failed** and "
            f"{'are' if len(failures) != 1 else 'is'} missing from every table below (see "
            f"failures.csv; the first error: `{first}`).")
    if table.sweep:
        sweep = sc.sweep if sc else None
        items = [f"`{k}`: {', '.join(fmt_value(v) for v in vals)}"
                 for k, vals in (sweep.grid if sweep else {}).items()]
        if sweep and sweep.samples:
            items += [f"`{k}`: {sweep.samples} Latin-hypercube samples between {fmt_value(lo)} "
                      f"and {fmt_value(hi)}" for k, (lo, hi) in sweep.ranges.items()]
        if not items:
            items = [f"`{p}`: " + ", ".join(point_label(table, q) for q in table.points)
                     for p in table.params]
        s.p("**Swept parameters** (every variant runs at every value):")
        s.ul(items)
    return s


def published(c: Any) -> str:
    """``; rule transparency 0.8`` when the campaign's rules are (partly) public — its own
    ``rule_transparency``, else its strategy's default — and nothing for opaque rules."""
    own = c.rule_transparency
    cls = strategy_class(c.strategy.kind)
    value = own if own is not None else (cls.transparency if cls is not None else 0.0)
    return f"; rule transparency {fmt_value(value)}" if value else ""


def _section_figures(f: Folder, table: Table) -> Section:
    s = Section("3. Figures", "figures")
    if not f.figures:
        s.p("This folder has no figures (`perksim plot RESULTS_DIR` draws them).")
    if f.manifest.get("users_table") == "none" and (f.manifest.get("users") or 0) <= NETWORK_MAX_USERS:
        s.note(f"No network picture: {NO_USERS}.")
    for path in f.figures:
        s.blocks.append(Block("figure", {"path": path, "caption": figure_caption(path.stem, table.params)}))
    return s


def shown_metrics(f: Folder) -> list[str]:
    """The scenario's own metrics (its ``metrics:``) first, then the headline ones present."""
    present = set(f.comparison["metric"]) if "metric" in f.comparison else set()
    wanted = [*(f.scenario.metrics if f.scenario else []), *KEY_METRICS]
    return [m for m in dict.fromkeys(wanted) if m in present]


def claims_checked(f: Folder) -> list[Any]:
    """The scenario's claims that apply to this folder, checked against its runs."""
    if f.scenario is None or not f.scenario.claims or f.summary is None:
        return []
    from simulator.experiment.claims import check_claims

    try:
        scenario = f.saved.scenario()
        return check_claims(scenario, f.summary) if scenario is not None else []
    except (ValueError, KeyError):  # a folder from an older version: no claims to check
        return []


def _section_reading(f: Folder, table: Table) -> Section:
    s = Section("4. What the numbers say", "reading")
    metrics = shown_metrics(f)
    lines = reading(f.comparison, f.summary, metrics)
    if lines:
        s.p(lines[0])
        s.ul(lines[1:])
    if table.max_n() <= 1:
        s.p("The table: the final values (one run each, so no intervals).")
    else:
        rare = any(is_rare(r) for r in table.rows.values() if r["metric"] in KEY_METRICS)
        s.p("The table: mean and 95% interval over the replicates (bootstrap)"
            + ("; below it, Δ, the paired difference to the first variant (✱ = its 95% interval "
               "excludes 0)" if len(table.variants) > 1 and not table.sweep else "")
            + (f". *Rare*: fewer than {MIN_NONZERO} runs with a non-zero value, so no interval and "
               "no ✱; the replicates at which about that many are expected are given"
               if rare else "") + ".")
    for header, rows in summary_tables(table, table_metrics(f, metrics)):
        s.table(header, rows)
    checked = claims_checked(f)
    if checked:
        held = sum(c.holds for c in checked)
        runs = table.max_n()
        s.p("**What the scenario claims, checked against these runs** (the claims, and the numbers "
            "they quote, are the scenario authors', written for the scenario's own size and "
            "replicate count; beside each, what these runs measured):")
        rows = [[c.says, c.evidence, "✔ holds" if c.holds else "✘ does not hold here"]
                for c in checked]
        rows.append(["**in all**", f"{runs} replicate{'s' if runs != 1 else ''}",
                     f"{held} of {len(checked)} hold"])
        s.table(["the scenario claims", "measured in these runs", "here"], rows)
    return s


def table_metrics(f: Folder, metrics: Sequence[str]) -> list[str]:
    """The rows of the table of section 4: the metrics read (``metrics``), then those that
    things to notice quote (:data:`~simulator.views.report.notices.QUOTED_METRICS`), so that
    every number of the prose is in a table of the report."""
    present = set(f.comparison["metric"]) if "metric" in f.comparison else set()
    return list(dict.fromkeys([*metrics, *(m for m in QUOTED_METRICS if m in present)]))


def strategy_kinds(scenarios: dict[str, Scenario]) -> dict[str, dict[str, str]]:
    """The strategy kind of each campaign: variant → brand → kind (``lottery``, ``top_followers``, …)."""
    return {v: {c.brand: c.strategy.kind for c in sc.campaigns} for v, sc in scenarios.items()}


def _section_notice(f: Folder, sc: Scenario | None, table: Table,
                    scenarios: dict[str, Scenario]) -> Section:
    s = Section("5. Things to notice", "notice")
    users = f.manifest.get("users") or (sc.population.size if sc else None)
    first = scenarios.get(table.variants[0], sc)
    perks = {c.brand: c.perks for c in (first.campaigns if first else [])
             if pays_perks(c.strategy.kind)}
    users_file = ("the users table (`--users-table csv` writes one)"
                  if f.manifest.get("users_table") == "none" else table_path(f.path, "users").name)
    notes = things_to_notice(f.comparison, f.summary, strategy_kinds(scenarios),
                             users if isinstance(users, int) else None, perks, users_file)
    s.ul(notes or ["Nothing stands out beyond the reading above."])
    return s


def _section_try(f: Folder) -> Section:
    s = Section("6. Things to try", "try")
    for why, cmd in things_to_try(f):
        s.p(why)
        s.code(cmd)
    return s


def _section_users(f: Folder, table: Table, scenarios: dict[str, Scenario]) -> Section:
    s = Section("Telling users", "users")
    if f.users is None:
        none = f.manifest.get("users_table") == "none"
        s.p(f"This folder has {NO_USERS if none else 'no users.csv'}, so no individual stories "
            "can be told" + (" (`perksim explain` can still tell one user's story)." if none else "."))
        return s
    first = table.variants[0]
    users = f.users[f.users["variant"] == first] if "variant" in f.users.columns else f.users
    if users.empty:
        users = f.users
    ran = scenarios.get(first, f.scenario)
    campaigns = ran.campaigns if ran else []
    where = (f" at the first sweep value ({point_label(table, table.points[0])})" if table.sweep else "")
    s.p(f"People behind the averages, from {table_path(f.path, 'users').name} of the first "
        f"variant, **{first}** "
        f"(replicate 0{where}). `perksim explain` re-runs that replicate exactly and tells the "
        "user's story: their score on the day of the allocation and its parts, the rule and how far "
        "they were from it, whether search could see them, what they saw, and their pout over time.")
    results_dir = str(f.path.resolve())
    any_user = False
    for c in campaigns:
        brand = c.brand
        found = telling_users(users, brand, c.strategy, results_dir)
        if not ranks_by_score(c.strategy.kind):
            rule = describe_strategy(c.strategy, c)
            s.note(f"{brand} does not use a score bar in {first} ({rule}), so there is no closest miss.")
        for entry in found:
            any_user = True
            prefix = f"{brand}: " if len(campaigns) > 1 else ""
            s.p(f"**{prefix}{entry['role']}** — {entry['text']}")
            s.code(entry["command"])
    if not any_user:
        s.p("No user fits these descriptions in this run.")
    return s


def figure_caption(stem: str, params: Sequence[str] = ()) -> str:
    """How to read a figure, from its file name (``figures/<stem>.png``)."""
    base = re.sub(r"_(?!.*_)[^_]+$", "", stem)
    if stem.startswith("timeseries"):
        return ("Key metrics over the days of the campaign, one line per variant (the mean over "
                "replicates, with a 95% band). Read: nothing happens before the first perks are "
                "handed out; then watch how fast reach grows, and when pout builds up.")
    if stem.startswith("final_metrics"):
        return ("Final value of each key metric, one bar per variant (grouped by sweep value in a "
                "sweep), with 95% interval whiskers. Read: the panel title says which direction is "
                "better; for whether two variants really differ, use the paired reading below.")
    if stem.startswith("tradeoff"):
        return ("Fans reached (engaged_reach, right is better) against the pout of the fans left "
                "out (pout_fans, lower is better), one point per variant with 95% whiskers. Read: "
                "the bottom-right corner is best; a hollow marker is beaten on both by another point.")
    if stem.startswith("network"):
        from simulator.views.plots.network import NETWORK_SAMPLE, NETWORK_WHOLE  # drawing modules

        variant = stem.removeprefix("network_")
        return (f"The follows graph of the first replicate{' of ' + variant if variant else ''}: "
                "each dot a user, coloured by their state towards the brand (got a perk, "
                "adopted, pouting, heard of the brand from any mention — complaints too, so "
                "this is awareness, not the campaign's reach — or never heard of it) and ringed "
                "in black if they are one of the brand's fans; a line joins two users when one "
                f"follows the other. Graphs of more than {NETWORK_WHOLE:,} users are drawn as a "
                f"sample of {NETWORK_SAMPLE:,}: the perk recipients (at most "
                f"{NETWORK_SAMPLE // 2:,}), half of the rest from the users who follow them and "
                "the others from everyone else, at random but the same for the same run; the "
                "figure's title gives the numbers, and its legends count every user (how many "
                "are drawn after the semicolon). Read: do the perks sit among the fans — are the "
                "orange dots ringed, and are the users who follow them fans more often than the "
                "others (the line above the picture gives the shares)? Where are the pouting "
                "users?")
    if stem.startswith("sweep_"):
        metric = next((m for m in sorted(METRIC_WORDS, key=len, reverse=True)
                       if stem.endswith(f"_{m}") or f"_{m}_" in stem), None)
        param = next((p for p in params if re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_") in stem),
                     None)
        what = f"`{metric}`" if metric else "a final metric"
        along = f"`{short_param(param)}`" if param else "the swept value"
        return (f"{what} against {along}, one line per variant (mean with 95% interval). Read: a "
                "rise or fall counts only where it is larger than the intervals.")
    return f"Figure {base or stem}."
