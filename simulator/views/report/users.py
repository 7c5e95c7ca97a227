"""Telling users: three people behind the averages (the closest miss, a relevant fan left out,
an irrelevant recipient), each with the ``perksim explain`` command that tells their story."""

from __future__ import annotations

from typing import Any

import pandas as pd

from simulator.views.report.prose import (
    allocation_words,
    miss_words,
    ranks_by_score,
    score_bar,
    strategy_params,
)
from simulator.views.report.suggestions import command
from simulator.views.report.vocabulary import fmt


def telling_users(users: pd.DataFrame, brand: str, strategy: Any,
                  results_dir: str = "RESULTS_DIR") -> list[dict[str, Any]]:
    """Three users worth a closer look (from ``users.csv`` rows of one variant): the closest
    miss under a score bar, the most relevant fan left out, the least relevant recipient.
    Each entry: ``role``, ``id``, ``text`` (inline Markdown with their numbers), ``command``."""
    perk, rel, fan, pout = (f"{c}_{brand}" for c in ("perk", "relevance", "fan", "pout"))
    if perk not in users.columns:
        return []
    u = users.copy()
    u[fan] = u[fan].astype(str).str.lower().isin(["true", "1"]) if fan in u.columns else False
    got = pd.to_numeric(u[perk], errors="coerce").fillna(0) > 0
    s = strategy_params(strategy)
    kind = s.get("kind")
    out = []

    def who(row: pd.Series) -> str:
        return (f"user {int(row['id'])}, {row.get('archetype', '?')} in "
                f"{str(row.get('region', '?')).replace('_', ' ').title()}, "
                f"{int(row.get('followers', 0)):,} followers, final score {fmt(row.get('score'))}, "
                f"relevance {fmt(row.get(rel))}{' (a fan)' if row.get(fan) else ''}, "
                f"pout {fmt(row.get(pout))}")

    def add(role: str, row: pd.Series, text: str) -> None:
        uid = int(row["id"])
        out.append({"role": role, "id": uid, "text": text,
                    "command": command("perksim", "explain", results_dir, "--user", str(uid),
                                       "--brand", brand)})

    if ranks_by_score(kind) and "score" in u.columns:
        pool = u[~got]
        bar = score_bar(s)
        if bar is not None:
            pool = pool[pool["score"] < bar]
        if len(pool):
            row = pool.loc[pool["score"].idxmax()]
            add("The closest miss", row,
                f"{who(row)}{miss_words(s, float(row['score']))}. (Scores move after the perks are "
                "handed out; `explain` shows the score on the day of the allocation.)")
    if fan in u.columns and rel in u.columns:
        left_out, chosen, irrelevant = allocation_words(kind)
        pool = u[~got & u[fan]]
        if len(pool):
            row = pool.loc[pool[rel].idxmax()]
            add("A highly relevant fan left out", row, f"{who(row)} — {left_out}.")
        pool = u[got]
        if len(pool):
            row = pool.loc[pool[rel].idxmin()]
            add(irrelevant, row, f"{who(row)} — {chosen}.")
    return out
