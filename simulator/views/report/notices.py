"""Things to notice: observations the numbers call for — a leader on reach that is not the
leader on fans, a cheap variant that reaches fewer fans, reach that is almost all paid, groups
no perk reached, rare adoption, perks left over — each said only when the tables show it."""

from __future__ import annotations

import pandas as pd

from simulator.experiment.statistics import MIN_NONZERO
from simulator.views.report.prose import coverage_gap_words, least_pout_words
from simulator.views.report.readings import leader, pair_verdict
from simulator.views.report.tables import Table, clean, means, point_label
from simulator.views.report.vocabulary import SMALL_REPLICATES, cap, compare_list, fmt, join

# the metrics whose values the notes quote: the report's table shows them all
QUOTED_METRICS = ("reach", "engaged_reach", "recipient_fit", "pout_fans", "cost_per_engaged_reach",
                  "authenticity", "coverage_ratio", "pouting_share", "adopters", "adopters_campaign",
                  "perks_given")


def things_to_notice(comparison: pd.DataFrame, summary: pd.DataFrame | None = None,
                     strategies: dict[str, dict[str, str]] | None = None,
                     users: int | None = None, perks: dict[str, int] | None = None,
                     users_file: str = "users.csv") -> list[str]:
    """Observations the numbers call for (a pure function of the tables).

    ``strategies`` maps variant → brand → strategy kind (to recognise a lottery or a search),
    ``users`` is the population size, ``perks`` the perk budget per brand and ``users_file``
    what the notes call the users table.
    """
    table = Table(comparison)
    summary = clean(summary)
    strategies = strategies or {}
    notes: list[str] = []
    single = table.max_n() <= 1
    one_variant = len(table.variants) == 1
    if single:
        notes.append("These numbers come from one run" + ("" if one_variant else " of each variant")
                     + ": one draw of chance. Another seed (`--seed`) can change them; only "
                     "`perksim compare` with several replicates says which differences are larger "
                     "than chance.")
    elif table.max_n() < MIN_NONZERO:
        notes.append(f"With only {table.max_n()} replicates — fewer than {MIN_NONZERO} — no difference "
                     "is judged: a mean of so few runs is driven by a handful of events, and its "
                     "interval means little. Run at least 10 replicates (`--replicates 10`) to "
                     "compare.")
    elif table.max_n() < SMALL_REPLICATES:
        notes.append(f"With only {table.max_n()} replicates the intervals are wide: a difference "
                     "called not distinguishable from noise here may become clear with more "
                     "replicates (`--replicates 40`) — or may stay within noise.")
    point = table.points[0] if table.sweep else None
    where = f" at the first sweep value ({point_label(table, point)})" if table.sweep else ""
    every = "in this run" if one_variant and single else "in every variant" + where
    anyv = "in this run" if one_variant and single else "in any variant" + where
    for brand in table.brands:
        who = f"For {brand}: " if len(table.brands) > 1 else ""
        m = {metric: means(table, brand, metric, point) for metric in table.metrics}
        kinds = {v: strategies.get(v, {}).get(brand) for v in table.variants}
        several = len(table.variants) > 1 and not single and not table.sweep
        reach_lead = engaged_lead = None
        if several:
            reach_lead = leader(table, summary, "reach", brand)[0] if "reach" in m else None
            engaged_lead = leader(table, summary, "engaged_reach", brand)[0] if "engaged_reach" in m else None
            if reach_lead and reach_lead != engaged_lead:
                notes.append(f"{who}{reach_lead} leads on `reach` but not on `engaged_reach`. Reach "
                             "counts everyone the campaign's own mentions reached; engaged reach only "
                             "the brand's fans among them who did not get a perk themselves — big "
                             "audiences are not necessarily audiences of fans.")
            fit_lead = leader(table, summary, "recipient_fit", brand)[0] if "recipient_fit" in m else None
            if fit_lead and fit_lead != engaged_lead:
                notes.append(f"{who}{fit_lead}'s recipients fit the brand best (`recipient_fit` "
                             f"{fmt(m['recipient_fit'][fit_lead])}), yet {fit_lead} does not lead on "
                             "`engaged_reach`: giving perks to the right people does not by itself "
                             f"reach many fans. Compare the recipients' `followers` in {users_file}.")
            pout_lead = leader(table, summary, "pout_fans", brand)[0] if "pout_fans" in m else None
            why = least_pout_words(kinds.get(pout_lead), pout_lead, compare_list(m["pout_fans"])) \
                if pout_lead else ""
            if why:
                notes.append(f"{who}{why}")
            cost_lead = leader(table, summary, "cost_per_engaged_reach", brand)[0] \
                if "cost_per_engaged_reach" in m else None
            if cost_lead and "engaged_reach" in m:
                more = [v for v in m["engaged_reach"] if v != cost_lead and pair_verdict(
                    table, summary, "engaged_reach", brand, v, cost_lead) == "better"]
                if more:
                    notes.append(f"{who}{cost_lead} is the cheapest way to reach a fan "
                                 f"(`cost_per_engaged_reach` {compare_list(m['cost_per_engaged_reach'])}), "
                                 f"but {join(more)} reach{'es' if len(more) == 1 else ''} more fans "
                                 f"(`engaged_reach` {compare_list(m['engaged_reach'])}): which one "
                                 "'wins' depends on the budget and on what the brand counts.")
            if engaged_lead and "pout_fans" in m:
                calmer = [v for v in m["pout_fans"] if v != engaged_lead and pair_verdict(
                    table, summary, "pout_fans", brand, v, engaged_lead) == "better"]
                if calmer:
                    notes.append(f"{who}No free lunch: {engaged_lead} reaches the most fans, but the fans "
                                 f"it leaves out pout more than under {join(calmer, 'or')} (`pout_fans` "
                                 f"{compare_list(m['pout_fans'])}).")
        auth = m.get("authenticity", {})
        if auth and max(auth.values()) < 0.1:
            notes.append(f"{who}{cap(every)}, fewer than 10% of positive exposures came from organic "
                         f"(unpaid) mentions (`authenticity` {compare_list(auth)}): whoever gets the "
                         "perks, almost all of the reach is paid.")
        cov = m.get("coverage_ratio", {})
        zero = [v for v, x in cov.items() if x == 0]
        if zero:
            why = coverage_gap_words(zero, kinds)
            notes.append(f"{who}`coverage_ratio` is 0 for {join(zero)}{where} in every run with a "
                         "value: some posting-habit group or region got no perk at all (count perks "
                         f"by `archetype` and `region` in {users_file} to see which).{why}")
        share = m.get("pouting_share", {})
        fans_pout = m.get("pout_fans", {})
        if share and fans_pout and max(share.values()) < 0.01 and max(fans_pout.values()) > 0:
            notes.append(f"{who}Fewer than 1% of users are 'pouting' {anyv} — pout at or above the "
                         "threshold at which they may post complaints — while the mean pout of excluded "
                         f"fans is {compare_list(fans_pout)}. Sort {users_file} by `pout_{brand}` to see "
                         "whether that frustration is spread thin or held by a few.")
        adopt = m.get("adopters", {})
        if users and adopt and max(adopt.values()) < 0.01 * users:
            most = "" if one_variant else "at most "
            top = max(adopt.values())
            count = ("adopter" if top == 1 else "adopters") + ("" if single else " on average")
            notes.append(f"{who}Adoption is rare: {most}{fmt(top)} {count} among "
                         f"{users:,} users {anyv}. Seeing a mention is far more common than being "
                         "persuaded by one — as online: most cascades convert nobody beyond their "
                         "seed (Goel, Watts & Goldstein 2012; `perksim check-model`).")
        persuaded = m.get("adopters_campaign", {})
        if adopt and persuaded and max(persuaded.values()) < 0.5 * max(adopt.values()):
            notes.append(f"{who}Most adopters were persuaded by fans' own talk about the brand, not "
                         f"by the campaign (`adopters` {compare_list(adopt)}; the campaign's "
                         f"`adopters_campaign` {compare_list(persuaded)}): that talk goes on "
                         "whatever the campaign does, so compare the campaign's own numbers.")
        budget = (perks or {}).get(brand)
        if budget:
            short = []
            for p in table.points:
                for v, x in means(table, brand, "perks_given", p).items():
                    if x < budget - 0.5:
                        label = f"{v} at {point_label(table, p)}" if table.sweep else v
                        short.append(f"{label} ({fmt(x)})")
            if short:
                notes.append(f"{who}Not all {budget} perks were given in: {join(short)} — fewer users "
                             "were eligible than there were perks.")
    return notes
