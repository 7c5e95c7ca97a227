"""The simulations of ``perksim check-model`` as *jobs*: pure functions of plain arguments
(:data:`JOBS`, run by :func:`run_job`), so they run in this process or on a pool of worker
processes and give the same numbers either way. :func:`study_jobs` lists a study's jobs in
the fixed order their results are assembled in; the check scenarios are loaded from
``scenarios/checks/`` (:func:`load_check`) and changed only with ``--set``-style overrides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, shortest_path

from simulator.experiment.plan import replicate_seed
from simulator.experiment.validation.checks import (
    KKT_K,
    KKT_P,
    KKT_STRATEGIES,
    KLOUT_TOP,
    PAID_VARIANT,
    TOP_SHARE,
    TREE_P,
)
from simulator.experiment.validation.records import Size
from simulator.model.campaign import PerkCampaignModel
from simulator.model.dynamics import ORIGIN_CAMPAIGN, ORIGIN_CHAIN
from simulator.model.graphs import generate
from simulator.scenario.library import scenarios_dir
from simulator.scenario.loader import Override, load_scenario
from simulator.scenario.schema import Scenario

SELECT_STREAM = 2**31 - 2  # spawn key of the streams that draw seeds and live edges


# --- scenario files --------------------------------------------------------------------------------


def checks_dir() -> Path:
    """The folder of the check scenarios (``scenarios/checks``, or the installed copy)."""
    root = scenarios_dir()
    folder = root / "checks" if root is not None else None
    if folder is None or not folder.is_dir():
        raise FileNotFoundError("the check scenarios (scenarios/checks/*.yaml) cannot be found")
    return folder


def load_check(name: str, overrides: list[Override] | None = None) -> Scenario:
    """The check scenario ``name`` (a file in ``scenarios/checks/``), validated, with ``overrides``."""
    return load_scenario(checks_dir() / name, overrides=overrides)


def _campaigns(base: dict[str, Any], prefix: str, count: int, **change: Any) -> Override:
    """``campaigns``: ``count`` copies of campaign ``base`` named prefix0000…, changed."""
    items = [{**base, **change, "brand": f"{prefix}{i:04d}"} for i in range(count)]
    return _campaign_list(items)


def _campaign_list(campaigns: list[dict[str, Any]]) -> Override:
    """The scenario's campaigns replaced by ``campaigns`` (a typed override: no YAML text)."""
    return Override("campaigns", campaigns, f"the check's {len(campaigns)} campaigns")


def _persuasion(p: float) -> list[Override]:
    """Paid and organic persuasion both ``p`` (the reduced setting of the cascade checks)."""
    return [Override(f"behaviour.persuasion_{kind}", p, f"persuasion {p}")
            for kind in ("paid", "organic")]


def _base_campaign(sc: Scenario) -> dict[str, Any]:
    return sc.campaigns[0].model_dump(mode="json")


# --- jobs: simulations as pure functions ------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One simulation of a study: ``JOBS[fn](**kwargs)``, with its expected cost ``weight``."""
    study: str
    fn: str
    kwargs: dict[str, Any]
    weight: float = 1.0  # expected cost, to start the big ones first


def _run_quiet(model: PerkCampaignModel) -> None:
    """Run until a step without any new adoption (in the reduced setting nothing can happen after
    one: adopters mention only the step after adopting, and nobody else mentions), or to the end."""
    while model.t < model.spec.steps:
        model.step()
        if not (model.adopted_at == model.t - 1).any():
            break


def _per_brand(model: PerkCampaignModel) -> dict[str, Any]:
    origin = model.origin
    last = model.t - 1
    return {
        "spread": ((model.perk > 0) | model.adopted).sum(axis=0),
        "caused": np.isin(origin, (ORIGIN_CAMPAIGN, ORIGIN_CHAIN)).sum(axis=0),
        "chain": (origin == ORIGIN_CHAIN).sum(axis=0),
        "mentioned": np.array([b.totals["mentions_paid"] for b in model.brands]),
        "reach": model.reached_positive.sum(axis=0),
        "steps": model.t,
        "active_at_end": int((model.adopted_at == last).any(axis=0).sum()) if model.t >= model.spec.steps
        else 0,
    }


def job_cascades(file: str, overrides: list[Override], replicate: int, keep: bool = False) -> dict[str, Any]:
    """Run a batch of reduced-setting cascades (one per campaign) until they are over."""
    sc = load_check(file, overrides)
    model = PerkCampaignModel(sc, rng=replicate_seed(sc.seed, replicate))
    _run_quiet(model)
    out = _per_brand(model)
    if keep:
        out["adopted"] = model.adopted.copy()
        out["adopted_at"] = model.adopted_at.copy()
        out["depth"] = shortest_path(model.graph.neighbours(), indices=0, unweighted=True).astype(int)
    return out


def job_live_edge(file: str, draws: int, chunk: int) -> dict[str, Any]:
    """Live-edge Monte Carlo: keep each directed follow edge with probability p, count the users
    reachable from the seeds (Kempe et al. 2003, Claim 2.3)."""
    sc = load_check(file)
    p = sc.behaviour.persuasion_organic
    seeds = np.asarray(sc.campaigns[0].strategy.users, dtype=np.int64)
    graph = generate(sc.population.graph, sc.population.size, np.random.default_rng(0))
    coo = graph.followers.tocoo()  # row: author, col: follower — an edge author → follower
    n = graph.n
    rng = np.random.default_rng(np.random.SeedSequence(sc.seed, spawn_key=(SELECT_STREAM, chunk)))
    sizes = np.empty(draws, dtype=np.int64)
    for k in range(draws):
        live = rng.random(coo.nnz) < p
        rows = np.concatenate([coo.row[live], np.full(seeds.size, n)])  # a source above the seeds
        cols = np.concatenate([coo.col[live], seeds])
        mat = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1))
        sizes[k] = breadth_first_order(mat, n, directed=True, return_predecessors=False).size - 1
    return {"sizes": sizes}


def job_seeded(file: str, replicate: int, n_random: int, n_top: int,
               variant: str | None = None) -> dict[str, Any]:
    """Single-seed cascades at the default calibration on one population (one graph).

    With ``variant``, the scenario's variant of that name (the same populations and seeds)."""
    base = load_scenario(checks_dir() / file, variant=variant)
    seed = replicate_seed(base.seed, replicate)
    # the graph and the traits come from their own streams: a model with the file's placeholder
    # campaign has the same users as the one with the drawn seeds
    probe = PerkCampaignModel(base, rng=seed)
    followers = probe.graph.followers_count
    relevance = probe.brands[0].relevance
    n = probe.n
    rng = np.random.default_rng(np.random.SeedSequence(base.seed, spawn_key=(SELECT_STREAM, replicate)))
    order = np.lexsort((rng.random(n), -followers))  # most followers first, ties at random
    rank = np.empty(n)
    rank[order] = 1.0 - (np.arange(n) + 0.5) / n  # follower-rank percentile, 1 = the most
    top = order[: round(TOP_SHARE * n)]
    weights = relevance / relevance.sum()
    everyone = rng.choice(n, n_random, p=weights)
    influentials = rng.choice(top, n_top, p=relevance[top] / relevance[top].sum())
    seeds = np.concatenate([everyone, influentials])
    group = np.array(["all"] * n_random + ["top"] * n_top)
    camp = _base_campaign(base)
    campaigns = [{**camp, "brand": f"{g}{i:04d}", "perks": 1,
                  "strategy": {"kind": "fixed", "users": [int(s)]}}
                 for i, (g, s) in enumerate(zip(group, seeds, strict=True))]
    sc = load_scenario(checks_dir() / file, overrides=[_campaign_list(campaigns)], variant=variant)
    model = PerkCampaignModel(sc, rng=seed)
    if not np.array_equal(model.graph.followers_count, followers):  # pragma: no cover
        raise RuntimeError("the population changed with the campaigns: seeds would be wrong")
    model.run()
    out = _per_brand(model)
    late = model.adopted_at >= sc.steps - 5
    out.update(paid=variant is not None, seed=seeds, group=group, followers=followers[seeds],
               rank=rank[seeds], relevance=relevance[seeds], late_adoptions=int(late.sum()),
               adoptions=int(model.adopted.sum()), f_min=int(followers.min()), f_max=int(followers.max()))
    return out


def job_score(file: str, replicate: int) -> dict[str, Any]:
    """The mean score and the share scoring 63 or more (``KLOUT_TOP``), before and after one
    replicate of the score-distribution scenario."""
    sc = load_check(file)
    model = PerkCampaignModel(sc, rng=replicate_seed(sc.seed, replicate))
    start = model.score.copy()
    model.run()
    return {"mean_start": float(start.mean()), "top_start": float((start >= KLOUT_TOP).mean()),
            "mean_end": float(model.score.mean()), "top_end": float((model.score >= KLOUT_TOP).mean())}


JOBS: dict[str, Callable[..., dict[str, Any]]] = {
    "cascades": job_cascades, "live_edge": job_live_edge, "seeded": job_seeded, "score": job_score}


def run_job(job: Job) -> dict[str, Any]:
    """Run one simulation (in this process or a worker): its result as a dict of plain values."""
    return JOBS[job.fn](**job.kwargs)


def _batches(total: int, batch: int) -> list[int]:
    return [min(batch, total - i) for i in range(0, total, batch)]


def study_jobs(study: str, size: Size) -> list[Job]:
    """The simulations a study needs, in a fixed order (results are assembled in this order)."""
    jobs: list[Job] = []
    if study == "tree":
        sc = load_check("ic_tree.yaml")
        camp, r = _base_campaign(sc), 0
        for p in TREE_P:
            for count in _batches(size.tree_runs, size.tree_batch):
                over = [*_persuasion(p), _campaigns(camp, "c", count)]
                jobs.append(Job(study, "cascades", dict(file="ic_tree.yaml", overrides=over, replicate=r,
                                                        keep=True), weight=0.6 * count * 6))
                r += 1
    elif study == "live_edge":
        sc = load_check("ic_live_edge.yaml")
        camp = _base_campaign(sc)
        for r, count in enumerate(_batches(size.live_runs, size.live_batch)):
            jobs.append(Job(study, "cascades", dict(file="ic_live_edge.yaml", overrides=[
                _campaigns(camp, "c", count)], replicate=r), weight=1.5 * count * 35))
        for c, draws in enumerate(_batches(size.live_draws, size.live_chunk)):
            jobs.append(Job(study, "live_edge", dict(file="ic_live_edge.yaml", draws=draws, chunk=c),
                            weight=4.0 * draws))
    elif study == "kkt":
        sc = load_check("kkt_hepth.yaml")
        camp, r = _base_campaign(sc), 0
        for p in KKT_P:
            for count in _batches(size.kkt_runs, size.kkt_batch):
                # every (strategy, k) point in one model run: `count` campaigns each, in order
                campaigns = [{**camp, "brand": f"{kind}_{k:02d}_{i:03d}", "perks": k,
                              "strategy": {"kind": kind}}
                             for kind in KKT_STRATEGIES for k in KKT_K for i in range(count)]
                over = [*_persuasion(p), _campaign_list(campaigns)]
                steps = 45 if p >= 0.05 else 6
                jobs.append(Job(study, "cascades", dict(file="kkt_hepth.yaml", overrides=over,
                                                        replicate=r),
                                weight=3.0 * len(campaigns) * steps))
                r += 1
    elif study == "seeded":
        for r in range(size.seeded_replicates):
            jobs.append(Job(study, "seeded", dict(file="seeded_cascades.yaml", replicate=r,
                                                  n_random=size.seeded_random, n_top=size.seeded_top),
                            weight=1.5 * (size.seeded_random + size.seeded_top) * 20 + 800))
        for r in range(size.seeded_replicates):  # the same seeds, persuading as paid (defaults)
            jobs.append(Job(study, "seeded", dict(file="seeded_cascades.yaml", replicate=r,
                                                  n_random=size.seeded_random, n_top=0,
                                                  variant=PAID_VARIANT),
                            weight=1.5 * size.seeded_random * 20 + 800))
    elif study == "score":
        for r in range(size.score_replicates):
            jobs.append(Job(study, "score", dict(file="score_distribution.yaml", replicate=r),
                            weight=1200))
    else:  # pragma: no cover
        raise KeyError(study)
    return jobs
