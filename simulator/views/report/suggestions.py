"""Things to try: the exact ``perksim`` commands a report suggests — more replicates, another
allocation rule, the scenario's levers (exclusivity, transparency, mentions, homophily) and
the other bundled scenarios — each keeping the ``--set``/``--seed``/``--steps`` options the
folder was run with, so that the results stay comparable."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from simulator.views.report.loading import Folder, variant_scenarios
from simulator.views.report.prose import OTHER_RULES, another_setting, strategy_params
from simulator.views.report.vocabulary import flow


def scenario_reference(f: Folder) -> str:
    """How to name the scenario on the command line: the bundled name, the source file, or the
    folder's own scenario.yaml."""
    from simulator.scenario.library import scenarios_dir

    source = f.manifest.get("source_file")
    if source:
        path = Path(source)
        bundled = scenarios_dir()
        if bundled is not None and path.is_file() and path.resolve().parent == bundled.resolve():
            return path.stem
        if path.is_file():
            return str(path)
    return str((f.path / "scenario.yaml").resolve())


def context_options(f: Folder) -> list[str]:
    """The ``--set``/``--seed``/``--steps`` options that made this run differ from its scenario
    file (e.g. ``--set population.size=300 --steps 20``), so suggested commands stay comparable."""
    source = f.manifest.get("source_file")
    if not source or not Path(source).is_file():
        return []
    try:
        from simulator.scenario.loader import load_scenario

        original = load_scenario(source, variant=f.manifest.get("variant") or None).to_document()
    except Exception:
        return []
    options: list[str] = []
    ran = f.document
    for path, value in _differences(original, ran):
        if path in ("name", "question", "description", "replicates") or \
                path.startswith(("variants", "sweep")):
            continue
        if path == "seed":
            options += ["--seed", str(value)]
        elif path == "steps":
            options += ["--steps", str(value)]
        else:
            options += ["--set", f"{path}={flow(value)}"]
    return options


def _differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any]]:
    """Fields where document ``b`` differs from ``a``: leaves, or whole strategies/graphs when
    their ``kind`` changed (a partial change would not validate)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if "kind" in b and a.get("kind") != b.get("kind"):
            return [(path, b)]
        out = []
        for key in b:
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                out.append((sub, b[key]))
            else:
                out += _differences(a[key], b[key], sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(isinstance(x, dict) for x in a + b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _differences(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [(path, b)]


def command(*args: str) -> str:
    """A shell command line, quoted where the shell needs it."""
    return " ".join(shlex.quote(a) for a in args)


def things_to_try(f: Folder) -> list[tuple[str, str]]:
    """(what to try and why, the exact ``perksim`` command)."""
    name = scenario_reference(f)
    ctx = context_options(f)
    table = f.table
    scenarios = variant_scenarios(f)
    sc = f.scenario
    n = table.max_n()
    only = [x for v in f.manifest.get("variants") or [] for x in ("--variant", str(v))]
    out: list[tuple[str, str]] = []
    if f.kind == "run":
        out.append(("Repeat it with paired seeds — 10 replicates of each of the scenario's variants "
                    "(or of the scenario itself, if it has none) — to see which differences are "
                    "larger than chance:",
                    command("perksim", "compare", name, *ctx, "--replicates", "10")))
        variant = f.manifest.get("variant")
        out.append(("Another draw of chance: the same run with another seed.",
                    command("perksim", "run", name, *ctx,
                            *(["--variant", str(variant)] if variant else []), "--seed", "7")))
    else:
        more = max(40, 2 * n)
        out.append((f"More replicates narrow the intervals (this report used {n}): see whether the "
                    "differences called noise stay noise.",
                    command("perksim", f.kind, name, *ctx, *only, "--replicates", str(more))))
    used = {c.strategy.kind for ran in scenarios.values() for c in ran.campaigns}
    sweep = sc.sweep if sc else None
    touched = [k for v in (sc.variants if sc else {}).values() for k in v] + \
        (list(sweep.grid) + list(sweep.ranges) if sweep else [])
    if any(k.startswith("campaigns[0].strategy.") for k in touched):
        # the variants or the sweep set parameters of this strategy: another kind would not
        # validate, so vary the strategy's own parameter instead
        first = scenarios[table.variants[0]].campaigns[0].strategy
        setting = another_setting(strategy_params(first))
        if setting is not None:
            why, param, value = setting
            out.append((why, command("perksim", "run", name, *ctx, "--set",
                                     f"campaigns[0].strategy.{param}={value}")))
    else:
        for _, value, why in [o for o in OTHER_RULES if o[0] not in used][:2]:
            out.append((f"Give the perks by another rule — {why} — in a single run:",
                        command("perksim", "run", name, *ctx, "--set",
                                f"campaigns[0].strategy={value}")))
    verb = "sweep" if f.kind == "sweep" else "compare"
    out.append(("The defenders' case: a strong scarcity effect (an exclusive offer makes recipients "
                "talk much more; the default is 0.5).",
                command("perksim", verb, name, *ctx, *only, "--set", "behaviour.exclusivity_boost=2")))
    out.append(("Frame every offer as exclusive, invitation only — more mentions, and more pout?",
                command("perksim", verb, name, *ctx, *only, "--set", "campaigns[0].exclusivity=1")))
    out.append(("Publish the rules (full transparency): does the pout of those left out fall?",
                command("perksim", verb, name, *ctx, *only, "--set", "campaigns[0].rule_transparency=1")))
    out.append(("Require a mention from every recipient:",
                command("perksim", verb, name, *ctx, *only, "--set", "campaigns[0].mention=required")))
    out.append(("Weaker homophily: interests follow the graph less, so fans are less clustered.",
                command("perksim", verb, name, *ctx, *only, "--set", "population.homophily=0.2")))
    if f.kind == "sweep":
        out.append(("The scenario's variants side by side, at the values the scenario itself sets "
                    "(without the sweep):", command("perksim", "compare", name, *ctx)))
    out += library_scenarios(skip=(sc.name if sc else None, name))
    return out


def library_scenarios(skip: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    """Every bundled scenario (:func:`simulator.scenario.library.bundled`) but those named in
    ``skip``: its question and the command that runs it, ``perksim sweep`` for a scenario with
    a sweep, else ``perksim compare``. A bundled scenario that does not load is left out."""
    from simulator.scenario.library import bundled
    from simulator.scenario.loader import load_scenario

    out = []
    for entry in bundled():
        if entry.name in skip:
            continue
        try:
            verb = "sweep" if load_scenario(entry.path).sweep else "compare"
        except Exception:
            continue
        question = f": {entry.question}" if entry.question else "."
        out.append((f"Another scenario of the library, **{entry.name}**{question}",
                    command("perksim", verb, entry.name)))
    return out
