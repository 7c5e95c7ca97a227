"""Judging the studies of ``perksim check-model``: one ``evaluate_*`` function per check
(:data:`EVALUATE`) turns the results of its study's jobs into an :class:`Outcome` — a measured
row with its interval and verdict per item, detail tables and notes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simulator.experiment.validation.checks import (
    BINS,
    BY_KEY,
    KKT_K,
    KKT_P,
    KKT_STRATEGIES,
    ORDINARY_BINS,
    TREE_DEPTHS,
    TREE_FAMILY,
    TREE_P,
)
from simulator.experiment.validation.jobs import _batches
from simulator.experiment.validation.records import Measured, Outcome, Size, Table
from simulator.experiment.validation.render import fmt
from simulator.experiment.validation.stats import _boot_rng, _quantiles, _resample, t_interval, wilson


def _verdict(ok: bool) -> str:
    return "pass" if ok else "fail"


def _collect(results: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.concatenate([np.atleast_1d(r[key]) for r in results])


def evaluate_tree(results: list[dict[str, Any]], size: Size) -> Outcome:
    """Judge ``ic_tree``: the share adopted at each depth d against p^d (99% simultaneous Wilson
    intervals), and the step each adopted at."""
    check = BY_KEY["ic_tree"]
    m = len(check.items)
    z_family = float(stats.norm.ppf(1 - TREE_FAMILY / (2 * m)))
    per_p = len(results) // len(TREE_P)
    items: dict[str, Measured] = {}
    rows = []
    timing_ok = timing_all = truncated = 0
    for j, p in enumerate(TREE_P):
        part = results[j * per_p:(j + 1) * per_p]
        adopted = np.concatenate([r["adopted"] for r in part], axis=1)
        adopted_at = np.concatenate([r["adopted_at"] for r in part], axis=1)
        depth = part[0]["depth"]
        runs = adopted.shape[1]
        truncated += sum(r["active_at_end"] for r in part)
        hit = adopted_at >= 0
        timing_all += int(hit.sum())
        timing_ok += int((adopted_at == depth[:, None] - 1)[hit].sum())
        for d in TREE_DEPTHS:
            at = depth == d
            share = float(adopted[at].mean())
            lo, hi = wilson(share, runs)
            jlo, jhi = wilson(share, runs, z_family)
            expected = p ** d
            items[f"p{p:g}_d{d}"] = Measured(share, lo, hi, _verdict(jlo <= expected <= jhi))
            rows.append([f"{p:g}", str(d), f"{expected:.4g}", f"{share:.4f}", f"[{lo:.4f}, {hi:.4f}]",
                         f"[{jlo:.4f}, {jhi:.4f}]", str(runs)])
    table = Table("Adoption share by depth", ["p", "depth d", "p^d", "measured", "95% interval",
                                              f"{100 * (1 - TREE_FAMILY / m):.5g}% interval (judged)",
                                              "cascades"], rows)
    notes = [f"Timing: {timing_ok:,} of {timing_all:,} adoptions happened at step depth − 1 "
             f"(one level per step, as the cascade requires).",
             f"Cascades still spreading when the run ended: {truncated} (must be 0)."]
    if truncated or timing_ok != timing_all:
        for k in items:
            items[k].verdict = "fail"
    return Outcome(items, [table], notes)


def evaluate_live_edge(results: list[dict[str, Any]], size: Size) -> Outcome:
    """Judge ``ic_live_edge``: the model's mean spread against the live-edge Monte Carlo's (the
    difference within its 99% interval, no cascade cut short)."""
    model_runs = [r for r in results if "spread" in r]
    model = _collect(model_runs, "spread").astype(float)
    reference = _collect([r for r in results if "sizes" in r], "sizes").astype(float)
    diff = model.mean() - reference.mean()
    se = math.sqrt(model.var(ddof=1) / model.size + reference.var(ddof=1) / reference.size)
    z95, z99 = stats.norm.ppf(0.975), stats.norm.ppf(0.995)
    truncated = sum(r["active_at_end"] for r in model_runs)
    ok = abs(diff) <= z99 * se and truncated == 0
    m_lo, m_hi = t_interval(model)
    r_lo, r_hi = t_interval(reference)
    items = {
        "difference": Measured(diff, diff - z95 * se, diff + z95 * se, _verdict(ok)),
        "model_mean": Measured(float(model.mean()), m_lo, m_hi, "info"),
        "live_edge_mean": Measured(float(reference.mean()), r_lo, r_hi, "info"),
    }
    steps = max(r["steps"] for r in model_runs)
    notes = [f"{model.size:,} model cascades, {reference.size:,} live-edge draws; 99% interval of the "
             f"difference: [{fmt(diff - z99 * se)}, {fmt(diff + z99 * se)}], a half-width of "
             f"{100 * z99 * se / reference.mean():.1f}% of the mean spread.",
             f"Standard deviation of the spread: model {model.std(ddof=1):.0f}, live-edge "
             f"{reference.std(ddof=1):.0f}. The longest model batch ran {steps} steps; cascades still "
             f"spreading when the run ended: {truncated} (must be 0)."]
    return Outcome(items, [], notes)


def evaluate_kkt(results: list[dict[str, Any]], size: Size) -> Outcome:
    """Judge ``kkt_seeding``: high-degree against random seeding on the HEP-TH graph (plateau of
    high degree, random/high-degree ratios, spread per extra seed; bootstrap intervals)."""
    rng = _boot_rng("kkt_seeding")
    per = len(_batches(size.kkt_runs, size.kkt_batch))
    parts: dict[tuple[float, str, int], list[np.ndarray]] = {}
    truncated = 0
    for j, p in enumerate(KKT_P):
        for res in results[j * per:(j + 1) * per]:
            truncated += res["active_at_end"]
            block = res["spread"].reshape(len(KKT_STRATEGIES), len(KKT_K), -1).astype(float)
            for a, kind in enumerate(KKT_STRATEGIES):
                for b, k in enumerate(KKT_K):
                    parts.setdefault((p, kind, k), []).append(block[a, b])
    spread = {key: np.concatenate(v) for key, v in parts.items()}
    nb = size.bootstrap
    boot = {key: _resample(v, nb, rng).mean(axis=1) for key, v in spread.items()}
    mean = {key: float(v.mean()) for key, v in spread.items()}
    hd, rd = KKT_STRATEGIES
    n_users = 9877

    def ratio(a: tuple, b: tuple) -> tuple[float, np.ndarray]:
        return mean[a] / mean[b], boot[a] / boot[b]

    plateau, plateau_b = ratio((0.1, hd, 30), (0.1, hd, 5))
    r30, r30_b = ratio((0.1, rd, 30), (0.1, hd, 30))
    r1, r1_b = ratio((0.1, rd, 1), (0.1, hd, 1))
    rise, rise_b = r30 - r1, r30_b - r1_b
    extra = (mean[0.01, hd, 30] - 30) / 30
    extra_b = (boot[0.01, hd, 30] - 30) / 30
    share1 = mean[0.1, hd, 1] / n_users
    items = {
        "plateau": Measured(plateau, *_quantiles(plateau_b), _verdict(plateau <= 1.25)),
        "ratio_k30": Measured(r30, *_quantiles(r30_b), _verdict(r30 >= 0.8)),
        "ratio_rise": Measured(rise, *_quantiles(rise_b), _verdict(_quantiles(rise_b)[0] > 0)),
        "extra_per_seed": Measured(extra, *_quantiles(extra_b), _verdict(0 < extra <= 3)),
        "k1_share": Measured(share1, *[x / n_users for x in _quantiles(boot[0.1, hd, 1])], "info"),
    }
    if truncated:
        for key in ("plateau", "ratio_k30", "ratio_rise", "extra_per_seed"):
            items[key].verdict = "fail"
    rows = []
    for p in KKT_P:
        for k in KKT_K:
            a, b = (p, hd, k), (p, rd, k)
            lo_a, hi_a = _quantiles(boot[a])
            lo_b, hi_b = _quantiles(boot[b])
            rows.append([f"{100 * p:g}%", str(k), f"{mean[a]:.1f} [{lo_a:.1f}, {hi_a:.1f}]",
                         f"{mean[b]:.1f} [{lo_b:.1f}, {hi_b:.1f}]", f"{mean[b] / mean[a]:.2f}"])
    table = Table("Mean final spread (seeds + adopters) [95% bootstrap interval]",
                  ["p", "k", "high degree", "random", "random / high degree"], rows)
    notes = [f"{size.kkt_runs} cascades per point; cascades still spreading when the run ended: "
             f"{truncated} (must be 0).",
             f"Published at p = 10%: high degree reaches about 2,415 of 10,748 authors (22.5%) at k = 1 "
             f"and stays there; here it reaches {mean[0.1, hd, 1]:.0f} of {n_users:,} "
             f"({100 * share1:.1f}%) at k = 1 and {mean[0.1, hd, 30]:.0f} "
             f"({100 * mean[0.1, hd, 30] / n_users:.1f}%) at k = 30 — the giant cluster of the sparser "
             f"SNAP graph at p = 10%."]
    return Outcome(items, [table], notes)


def _seeded_frame(results: list[dict[str, Any]], paid: bool = False) -> pd.DataFrame:
    """The cascades of the seeded study (those of the paid-seed variant with ``paid``)."""
    frames = []
    for r, res in enumerate(r for r in results if r["paid"] == paid):
        frames.append(pd.DataFrame({
            "replicate": r, "group": res["group"], "seed": res["seed"], "followers": res["followers"],
            "rank": res["rank"], "mentioned": res["mentioned"] > 0, "size": 1 + res["caused"],
            "caused": res["caused"], "chain": res["chain"], "reach": res["reach"]}))
    return pd.concat(frames, ignore_index=True)


def _seeded_notes(results: list[dict[str, Any]], frame: pd.DataFrame) -> str:
    results = [r for r in results if not r["paid"]]
    late = sum(r["late_adoptions"] for r in results)
    total = sum(r["adoptions"] for r in results)
    silent = int((~frame["mentioned"]).sum())
    return (f"{len(frame):,} seeds in {len(results)} populations; {silent} did not mention (left out). "
            f"Adoptions in the last 5 of the {results[0]['steps']} steps: {late} of {total:,} "
            f"(truncation of the decaying organic mentions).")


def evaluate_watts_dodds(results: list[dict[str, Any]], size: Size) -> Outcome:
    """Judge ``watts_dodds``: cascades of the top 10% by followers against everyone's, in size and
    in size per follower (bootstrap intervals)."""
    rng = _boot_rng("watts_dodds")
    frame = _seeded_frame(results)
    frame = frame[frame["mentioned"]]
    top = frame[frame["group"] == "top"]
    everyone = frame[frame["group"] == "all"]
    nb = size.bootstrap
    s_top, s_all = top["size"].to_numpy(float), everyone["size"].to_numpy(float)
    f_top, f_all = top["followers"].to_numpy(float), everyone["followers"].to_numpy(float)
    c_top, c_all = top["caused"].to_numpy(float), everyone["caused"].to_numpy(float)
    i_top = rng.integers(0, s_top.size, size=(nb, s_top.size))
    i_all = rng.integers(0, s_all.size, size=(nb, s_all.size))
    size_ratio = s_top.mean() / s_all.mean()
    size_b = s_top[i_top].mean(axis=1) / s_all[i_all].mean(axis=1)
    f_ratio = f_top.mean() / f_all.mean()
    f_b = f_top[i_top].mean(axis=1) / f_all[i_all].mean(axis=1)
    mult, mult_b = size_ratio / f_ratio, size_b / f_b
    caused_mult = (c_top.mean() / c_all.mean()) / f_ratio if c_all.mean() > 0 else math.nan
    lo, hi = _quantiles(size_b)
    items = {"size_ratio": Measured(size_ratio, lo, hi, _verdict(lo > 1)),
             "multiplier": Measured(mult, *_quantiles(mult_b), _verdict(mult <= 1.5))}
    rows = []
    for name, part in (("top 10% by followers", top), ("everyone", everyone)):
        s = part["size"].to_numpy(float)
        slo, shi = t_interval(s)
        rows.append([name, f"{len(part):,}", f"{part['followers'].mean():.1f}",
                     f"{s.mean():.3f} [{slo:.3f}, {shi:.3f}]", f"{part['caused'].mean():.3f}",
                     f"{100 * (part['caused'] == 0).mean():.1f}%", f"{part['reach'].mean():.1f}"])
    table = Table("Cascades by seed group (seeds that mentioned)",
                  ["seeds", "cascades", "mean followers", "mean size [95% interval]", "mean adopters",
                   "size 1", "mean reach"], rows)
    notes = [_seeded_notes(results, _seeded_frame(results)),
             f"Followers ratio (top 10% / everyone): {f_ratio:.2f}. Counting only the adopters (the "
             f"seed left out), the multiplier is {caused_mult:.2f}.",
             "Intervals treat cascades as independent; cascades on one population share its graph."]
    return Outcome(items, [table], notes)


def _best_bins(sizes: np.ndarray, followers: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Index of the most cost-effective bin for each α: argmax of size / (α + followers).

    ``sizes`` and ``followers`` are (..., bins); the result is (..., len(alphas)).
    """
    ce = sizes[..., :, None] / (alphas[None, :] + followers[..., :, None])
    return ce.argmax(axis=-2)


def evaluate_bakshy(results: list[dict[str, Any]], size: Size) -> Outcome:
    """Judge ``bakshy_cost``: which follower-rank bin of seeds is the most cost-effective across a
    range of costs per follower (bootstrap intervals)."""
    rng = _boot_rng("bakshy_cost")
    frame = _seeded_frame(results)
    frame = frame[frame["mentioned"]].copy()
    edges = np.array(BINS)
    frame["bin"] = np.clip(np.searchsorted(edges, frame["rank"].to_numpy(), side="right") - 1,
                           0, len(edges) - 2)
    f_min = max(1, min(r["f_min"] for r in results))
    f_max = max(r["f_max"] for r in results)
    alphas = np.logspace(math.log10(f_min / 100), math.log10(100 * f_max), 241)
    nbins = len(edges) - 1
    groups = [frame[frame["bin"] == b] for b in range(nbins)]
    s_mean = np.array([g["size"].mean() for g in groups])
    f_mean = np.array([g["followers"].mean() for g in groups])
    best = _best_bins(s_mean, f_mean, alphas)
    top_bin = nbins - 1

    def stats_of(best_idx: np.ndarray, f_top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        share = (best_idx < ORDINARY_BINS).mean(axis=-1)
        is_top = best_idx == top_bin
        first = np.where(is_top.any(axis=-1), alphas[is_top.argmax(axis=-1)], np.inf)
        return share, first / f_top

    share, top_from = stats_of(best, f_mean[top_bin])
    nb = size.bootstrap
    bs = np.empty((nb, nbins))
    bf = np.empty((nb, nbins))
    for b, g in enumerate(groups):
        idx = rng.integers(0, len(g), size=(nb, len(g)))
        bs[:, b] = g["size"].to_numpy(float)[idx].mean(axis=1)
        bf[:, b] = g["followers"].to_numpy(float)[idx].mean(axis=1)
    share_b, top_b = stats_of(_best_bins(bs, bf, alphas), bf[:, top_bin])
    items = {"ordinary_share": Measured(float(share), *_quantiles(share_b), _verdict(share >= 0.5)),
             "top_from": Measured(float(top_from), *_quantiles(top_b), _verdict(top_from >= 1))}
    labels = [f"[{100 * edges[b]:g}%, {100 * edges[b + 1]:g}%{']' if b == top_bin else ')'}"
              for b in range(nbins)]
    rows = []
    for b, g in enumerate(groups):
        s = g["size"].to_numpy(float)
        lo, hi = t_interval(s)
        rows.append([labels[b], f"{len(g):,}", f"{g['followers'].min()}–{g['followers'].max()}",
                     f"{f_mean[b]:.1f}", f"{s_mean[b]:.3f} [{lo:.3f}, {hi:.3f}]",
                     f"{100 * (g['caused'] == 0).mean():.1f}%", f"{g['reach'].mean():.1f}"])
    bins_table = Table("Cascades by follower-rank bin (seeds that mentioned)",
                       ["follower rank", "cascades", "followers", "mean followers",
                        "mean size [95% interval]", "size 1", "mean reach"], rows)
    segments = []
    start = 0
    for i in range(1, len(alphas) + 1):
        if i == len(alphas) or best[i] != best[start]:
            segments.append([fmt(alphas[start]), fmt(alphas[i - 1]), labels[best[start]],
                             f"{100 * (i - start) / len(alphas):.1f}%"])
            start = i
    segment_table = Table("Most cost-effective bin along the cost grid (α = c_a / c_f, in followers)",
                          ["α from", "α to", "best bin", "share of the log range"], segments)
    notes = [_seeded_notes(results, _seeded_frame(results)),
             f"Grid: α from {fmt(alphas[0])} to {fmt(alphas[-1])} (F_min = {f_min}, F_max = {f_max}); "
             f"the top bin's mean followers F̄_top = {f_mean[top_bin]:.1f}."]
    return Outcome(items, [bins_table, segment_table], notes)


def evaluate_goel(results: list[dict[str, Any]], size: Size) -> Outcome:
    """Judge ``goel_shape``: the share of cascades that are a lone seed and the share that reach
    beyond one degree (Wilson intervals)."""
    frame = _seeded_frame(results)
    frame = frame[frame["mentioned"] & (frame["group"] == "all")]
    n = len(frame)
    size1 = float((frame["caused"] == 0).mean())
    depth2 = float((frame["chain"] > 0).mean())
    lo1, hi1 = wilson(size1, n)
    lo2, hi2 = wilson(depth2, n)
    items = {"size1_share": Measured(size1, lo1, hi1, _verdict(lo1 <= 0.95 and hi1 >= 0.70)),
             "depth2_share": Measured(depth2, lo2, hi2, _verdict(lo2 <= 0.04 and hi2 >= 0.01))}
    paid = _seeded_frame(results, paid=True)
    paid = paid[paid["mentioned"] & (paid["group"] == "all")]
    for key, share in (("paid_size1_share", float((paid["caused"] == 0).mean())),
                       ("paid_depth2_share", float((paid["chain"] > 0).mean()))):
        items[key] = Measured(share, *wilson(share, len(paid)), "info")
    sizes = frame["size"].to_numpy()
    rows = []
    for label, mask in (("1", sizes == 1), ("2", sizes == 2), ("3", sizes == 3),
                        ("4–9", (sizes >= 4) & (sizes <= 9)), ("≥ 10", sizes >= 10)):
        rows.append([label, f"{int(mask.sum()):,}", f"{100 * mask.mean():.2f}%"])
    table = Table("Cascade sizes (seeds drawn from everyone, that mentioned)",
                  ["size", "cascades", "share"], rows)
    chain_share = frame["chain"].sum() / max(frame["caused"].sum(), 1)
    notes = [_seeded_notes(results, _seeded_frame(results)),
             f"{n:,} cascades; mean size {sizes.mean():.3f}; largest {sizes.max()}. Adoptions at depth "
             f"≥ 2: {100 * chain_share:.1f}% of all adoptions the seeds caused (published: \"a tiny "
             f"fraction\", no number)."]
    return Outcome(items, [table], notes)


def evaluate_score(results: list[dict[str, Any]], size: Size) -> Outcome:
    """Judge ``score_distribution``: the mean score and the share at 63 or more, at the start and
    after 60 steps, against their published ranges (t intervals over replicates)."""
    items = {}
    for key, lo, hi in (("mean_start", 37, 43), ("top_start", 0.03, 0.08), ("mean_end", 37, 43),
                        ("top_end", 0.03, 0.08)):
        values = np.array([r[key] for r in results])
        v = float(values.mean())
        items[key] = Measured(v, *t_interval(values), _verdict(lo <= v <= hi))
    notes = [f"{len(results)} replicates of 60 steps; the mean score moved by "
             f"{items['mean_end'].value - items['mean_start'].value:+.2f} points over the campaign."]
    return Outcome(items, [], notes)


EVALUATE: dict[str, Callable[[list[dict[str, Any]], Size], Outcome]] = {
    "ic_tree": evaluate_tree, "ic_live_edge": evaluate_live_edge, "kkt_seeding": evaluate_kkt,
    "watts_dodds": evaluate_watts_dodds, "bakshy_cost": evaluate_bakshy, "goel_shape": evaluate_goel,
    "score_distribution": evaluate_score}
