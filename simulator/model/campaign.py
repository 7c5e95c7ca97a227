"""The perk-campaign model: a Mesa model whose users are columns (docs/model.md §3).

``PerkCampaignModel`` owns the run — its random generator, step counter, ``running`` flag,
``DataCollector`` and the brands (``mesa.Agent``s) — while users are rows of numpy arrays
and every rule is applied to all of them at once (see ARCHITECTURE: agents as columns).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from simulator.model import dynamics as dyn
from simulator.model import kernels, metrics
from simulator.model.dynamics import (
    CAUSE_ORIGIN,
    ORIGIN_CAMPAIGN,
    ORIGIN_CHAIN,
    ORIGIN_TALK,
    ORIGINS,
    POUT_SOURCES,
)
from simulator.model.graphs import Graph, generate
from simulator.model.population import NATIONAL, Population, build_population

if TYPE_CHECKING:  # the model reads a validated scenario; it never imports the scenario layer
    from simulator.scenario.schema import Campaign, Scenario
from simulator.model.score import AMPLIFICATION_FLOOR, ScoreMap, ScoreTracker, fit_score_map
from simulator.model.strategies import Candidates, Strategy, make_strategy

EMPTY = np.empty(0, dtype=np.int64)


def _silent(stage: str, done: int, total: int) -> None:
    """The construction's progress, heard by nobody."""


class Brand(mesa.Agent):
    """A brand running one perk campaign; its per-user state is a column of the model's arrays."""

    def __init__(self, model: PerkCampaignModel, index: int, campaign: Campaign):
        super().__init__(model)
        self.index = index
        self.campaign = campaign
        self.name = campaign.brand
        self.strategy: Strategy = make_strategy(campaign.strategy)
        sc = model.spec
        topics = sc.population.topics
        tau = np.zeros(len(topics))
        if isinstance(campaign.topic, str):
            tau[topics.index(campaign.topic)] = 1.0
        else:
            for t, w in campaign.topic.items():
                tau[topics.index(t)] = w
        self.topic_vector = tau / tau.sum()
        pop = model.population
        self.region_index = (None if campaign.region == NATIONAL
                             else pop.region_names.index(campaign.region))
        b = sc.behaviour
        self.region_factor = (np.ones(model.n) if self.region_index is None else
                              np.where(pop.region == self.region_index, 1.0, b.region_mismatch))
        self.relevance = dyn.relevance(pop.interests, self.topic_vector, pop.region,
                                       self.region_index, b.region_mismatch)
        self.fans = dyn.fan_mask(self.relevance, b.fan_quantile)
        self.fanness = dyn.fanness(self.relevance, self.fans)
        self.log_silence = dyn.talk_log_silence(self.relevance, b.brand_talk)
        self.transparency = (campaign.rule_transparency if campaign.rule_transparency is not None
                             else self.strategy.transparency)
        per_wave = np.diff(np.linspace(0, campaign.perks, campaign.waves + 1).round().astype(int))
        # step → perks in that wave; the budget is split as evenly as whole perks allow
        self.schedule = {campaign.start + w * campaign.wave_every: int(k)
                         for w, k in enumerate(per_wave)}
        self.cutoff: float | None = None
        self.totals = dict.fromkeys(
            ["mentions_paid", "mentions_organic", "mentions_negative", "exposures_paid",
             "exposures_paid_positive", "exposures_organic", "exposures_negative", "perks_given",
             "contacts", "cost"], 0.0)

    def allocate(self, t: int) -> np.ndarray:
        """Pick this wave's recipients (empty if no wave is due at step ``t``)."""
        k = self.schedule.get(t)
        if k is None:
            return np.empty(0, dtype=np.int64)
        m = self.model
        c = self.index
        eligible = np.ones(m.n, dtype=bool) if self.campaign.allow_repeats else m.perk[:, c] == 0
        topic = m.observed_topic(self)
        candidates = Candidates(
            score=m.score.copy(),
            observed_relevance=topic * self.region_factor,
            followers=m.graph.followers_count.copy(),
            eligible=eligible,
            observed_topic=topic,
        )
        budget = self.strategy.budget(k)
        picked = np.asarray(self.strategy.allocate(candidates, budget, m.rng), dtype=np.int64)
        if (picked.size > budget or np.unique(picked).size != picked.size
                or not np.all((picked >= 0) & (picked < m.n)) or not eligible[picked].all()):
            raise RuntimeError(
                f"strategy {self.strategy.name!r} of brand {self.name!r} returned an invalid pick: "
                f"at most {budget} distinct eligible user ids are allowed")
        self.cutoff = self.strategy.cutoff(candidates, picked)
        if m.watched:
            m.note("allocation", self, {
                "score": candidates.score, "observed_relevance": candidates.observed_relevance,
                "observed_topic": topic, "eligible": eligible,
                "picked": np.isin(np.arange(m.n), picked),
                "recent_posts": m.recent_posts.sum(axis=0),
                **m.tracker.parts(m.graph.followers_count)},
                budget=budget, eligible_count=int(eligible.sum()), picked_count=int(picked.size),
                cutoff=self.cutoff,
                at_or_above_cutoff=(int((eligible & (candidates.score >= self.cutoff)).sum())
                                    if self.cutoff is not None else None),
                lowest_picked_score=float(candidates.score[picked].min()) if picked.size else None,
                lowest_picked_relevance=(float(candidates.observed_relevance[picked].min())
                                         if picked.size else None))
        m.perk[picked, c] += 1
        m.picked_at[picked, c] = t
        if self.strategy.paid:
            self.totals["perks_given"] += picked.size
        else:
            self.totals["contacts"] += picked.size
        self.totals["cost"] += self.strategy.cost(m.graph.followers_count[picked],
                                                  self.campaign.perk_cost)
        return picked


@dataclass(frozen=True)
class UserView:
    """A read-only view of one user, for inspection and teaching (``model.user(i)``)."""

    id: int
    archetype: str
    region: str
    followers: int
    post_rate: float
    quality: float
    interests: MappingProxyType
    susceptibility: float
    pout_sensitivity: float
    gaming: float
    score: float
    brands: MappingProxyType


class PerkCampaignModel(mesa.Model):
    """Users on a follows graph, brands handing out perks, mentions spreading, pout growing.

    >>> from simulator import load_scenario, PerkCampaignModel
    >>> model = PerkCampaignModel(load_scenario("scenarios/klout_pout.yaml"), rng=1)
    >>> model.run(steps=20)
    >>> sorted(model.summary().columns)[:3]
    ['adopters', 'adopters_campaign', 'authenticity']
    """

    def __init__(self, scenario: Scenario, rng: int | np.random.SeedSequence | None = None,
                 progress: Callable[[str, int, int], Any] | None = None):
        """``rng``: a master seed (int; default the scenario's), run as replicate 0 of that
        seed — the same run as ``perksim run --seed`` — or a ``SeedSequence`` (e.g.
        ``simulator.replicate_seed(seed, r)`` for replicate r), which is copied, not consumed.
        ``progress(stage, done, total)`` hears how the construction goes: the stages
        ``graph``, ``population`` (total 0: not counted) and ``warm-up`` (its steps)."""
        say = progress or _silent
        if rng is None or isinstance(rng, (int, np.integer)):
            seed = np.random.SeedSequence(int(scenario.seed if rng is None else rng), spawn_key=(0,))
        elif isinstance(rng, np.random.SeedSequence):
            seed = np.random.SeedSequence(rng.entropy, spawn_key=rng.spawn_key,
                                          pool_size=rng.pool_size)
        else:
            raise TypeError("rng must be an int seed or a numpy.random.SeedSequence")
        super().__init__(rng=seed)
        self.spec = scenario
        self.seed_sequence = seed
        # independent streams, so e.g. a different homophily does not change the graph
        graph_rng, population_rng, self.run_rng = self.rng.spawn(3)
        self.kernels = kernels.compiled() if kernels.wanted() else None  # phases 1–3 compiled
        say("graph", 0, 0)
        self.graph: Graph = generate(scenario.population.graph, scenario.population.size, graph_rng)
        say("population", 0, 0)
        self.population: Population = build_population(scenario.population, self.graph, population_rng)
        self.n = self.graph.n
        b = scenario.behaviour
        self.view = dyn.view_probability(self.graph.followers_count, b.attention_v0, b.attention_beta)
        self.overlap = dyn.follower_overlap(self.graph.followers, self.population.interests)
        window = scenario.score.window
        self.tracker = ScoreTracker(self.n, window)
        self.recent_posts = np.zeros((window, self.n), dtype=np.int32)
        self.post_factor = np.ones(self.n)
        self.reaction_factor = np.ones(self.n)
        self.quality_factor = np.ones(self.n)
        self.posts = np.zeros(self.n, dtype=np.int64)  # posts of the current step
        self.posting = EMPTY  # the users who posted in the current step (np.flatnonzero(posts))
        self.score = np.full(self.n, scenario.score.calibration.mean)
        self.t = 0  # index of the next step to run (0-based)

        self.brands: list[Brand] = [Brand(self, i, c) for i, c in enumerate(scenario.campaigns)]
        nb = len(self.brands)
        shape = (self.n, nb)
        self.perk = np.zeros(shape, dtype=np.int32)  # perks (or contacts) received
        self.picked_at = np.full(shape, -1, dtype=np.int32)
        self.aware = np.zeros(shape, dtype=bool)
        self.adopted = np.zeros(shape, dtype=bool)
        self.adopted_at = np.full(shape, -1, dtype=np.int32)
        self.origin = np.zeros(shape, dtype=np.int8)  # how an adopter was persuaded: ORIGINS
        self.enthusiasm = np.zeros(shape)
        self.affinity = np.ones(shape)
        self.pout = np.zeros(shape)
        self.pout_parts = np.zeros((*shape, len(POUT_SOURCES)))  # pout by what was seen (§5.5)
        self.reached_paid = np.zeros(shape, dtype=bool)  # any paid mention, recognised or not
        self.reached_organic = np.zeros(shape, dtype=bool)  # the campaign's own organic mentions
        self.reached_negative = np.zeros(shape, dtype=bool)
        self.reached_positive = np.zeros(shape, dtype=bool)  # the campaign's, taken as positive
        self.reached_without_perk = np.zeros(shape, dtype=bool)  # …while holding no perk from b
        self._topic_share: np.ndarray | None = None
        self.watched: dict[int, list[dict[str, Any]]] = {}  # user → what happened to them

        self.score_map: ScoreMap = self._warm_up(scenario.score.warmup, say)
        self.score = self._current_score()
        self.score_start = self.score.copy()  # scores at step 0, to measure inflation
        self.datacollector = mesa.DataCollector(tables={"steps": metrics.STEP_COLUMNS})

    # --- phases -------------------------------------------------------------------------------

    def _post_and_engage(self) -> None:
        """Phases 1–2: posting and engagement, feeding the score's rolling signals."""
        sc = self.spec
        if sc.processes.posting and self.kernels is not None:
            self._post_and_engage_compiled()
            return
        if sc.processes.posting:
            posts = dyn.sample_posts(self.population.post_rate * self.post_factor, self.run_rng)
            self.posting = np.flatnonzero(posts)
            # reactions elicited by a gamer's reciprocity count like reactions to quality
            appeal = self.population.quality * self.quality_factor * self.reaction_factor
            reactions = dyn.sample_reactions(posts, self.view, appeal, self.overlap,
                                             sc.behaviour.base_engage, self.run_rng, self.posting)
        else:
            posts = np.zeros(self.n, dtype=np.int64)
            reactions = np.zeros(self.n, dtype=np.int64)
            self.posting = EMPTY
        distinct = dyn.distinct_reactors(reactions, self.graph.followers_count)
        self.tracker.observe(posts, reactions, distinct)
        self.posts = posts
        self.recent_posts[self.t % self.recent_posts.shape[0]] = posts
        self._topic_share = None

    def _post_and_engage_compiled(self) -> None:
        pop, tr = self.population, self.tracker
        posts = np.empty(self.n, dtype=np.int64)
        self.posting = self.kernels.post_and_engage(
            self.run_rng, pop.post_rate, self.post_factor, pop.quality, self.quality_factor,
            self.reaction_factor, self.view, self.overlap, self.spec.behaviour.base_engage,
            self.graph.followers_count, tr.alpha, tr.posts, tr.reactions, tr.distinct,
            self.recent_posts[self.t % self.recent_posts.shape[0]], posts)
        self.posts = posts
        self._topic_share = None

    def _network(self) -> np.ndarray | float:
        """The score's network term: followers' mean score / 100 (0 when its weight is 0)."""
        if self.spec.score.weights.network <= 0:
            return 0.0
        f = self.graph.followers_count
        return np.divide(self.graph.followers @ self.score, f * 100.0, out=np.zeros(self.n),
                         where=f > 0)

    def _raw_score(self) -> np.ndarray:
        return self.tracker.raw(self.graph.followers_count, self._network(), self.spec.score.weights)

    def _current_score(self) -> np.ndarray:
        lookup = self.score_map.lookup
        if self.kernels is None or lookup is None:
            return self.score_map(self._raw_score())
        network = self._network()
        w = self.spec.score.weights
        tr, m = self.tracker, self.score_map
        out = np.empty(self.n)
        self.kernels.score(tr.posts, tr.reactions, tr.distinct,
                           tr.log_reach(self.graph.followers_count),
                           network if isinstance(network, np.ndarray) else np.empty(0),
                           np.array([w.activity, w.reach, w.amplification, w.network], dtype=float),
                           AMPLIFICATION_FLOOR, m.knots, m.z, *lookup, m.mean, m.sd, out)
        return out

    def _warm_up(self, steps: int, progress: Callable[[str, int, int], Any] = _silent) -> ScoreMap:
        """Run posting and engagement for ``steps`` steps, then fit and freeze the score map."""
        for i in range(steps):
            progress("warm-up", i, steps)
            self._post_and_engage()
            self.t += 1
        progress("warm-up", steps, steps)
        self.t = 0
        calibration = self.spec.score.calibration
        score_map = fit_score_map(self._raw_score(), calibration)
        if self.spec.score.weights.network > 0:
            # the network term depends on the scores themselves: iterate to a consistent map
            for _ in range(5):
                self.score = score_map(self._raw_score())
                score_map = fit_score_map(self._raw_score(), calibration)
        return score_map

    def observed_topic(self, brand: Brand) -> np.ndarray:
        """How much users' recent posts are about the brand's topic, as search sees it (§5.2).

        Observed relevance is this times the brand's region factor (profiles show regions).
        """
        if self._topic_share is None:
            recent = self.recent_posts.sum(axis=0)
            self._topic_share = dyn.observed_topic_share(recent, self.population.interests,
                                                         self.run_rng)
        return dyn.relevance(self._topic_share, brand.topic_vector, self.population.region,
                             None, self.spec.behaviour.region_mismatch)

    def _mentions(self, brand: Brand, new: np.ndarray) -> dict[str, np.ndarray]:
        """Phase 5: who mentions the brand this step, by kind of author (user indices).

        Keys: ``paid`` (new recipients), ``seed`` (outreach contacts: organic, the campaign's
        own), ``chain1``/``chain2`` (adopters the campaign persuaded directly / through a chain),
        ``talk`` (fans' own talk and the adopters it persuaded), ``negative`` (pouting users).
        """
        b = self.spec.behaviour
        c = brand.index
        rng = self.run_rng
        rel = brand.relevance
        out: dict[str, np.ndarray] = {"paid": EMPTY, "seed": EMPTY}
        if new.size:
            camp = brand.campaign
            if brand.strategy.paid:
                p = dyn.mention_probability_paid(
                    rel[new], b.base_paid, getattr(b.policy_paid, camp.mention), camp.exclusivity,
                    b.exclusivity_boost, brand.transparency, b.transparency_target_loss)
                out["paid"] = new[rng.random(new.size) < p]
            else:
                p = np.clip(brand.strategy.mention_chance() * rel[new], 0, 1)
                out["seed"] = new[rng.random(new.size) < p]
        adopters = self.adopted[:, c]
        if b.organic_mentions == "once":
            organic = np.flatnonzero(adopters & (self.adopted_at[:, c] == self.t - 1))
        else:
            enthusiastic = np.flatnonzero(adopters & (self.adopted_at[:, c] < self.t))
            p = (b.base_organic * rel[enthusiastic] * (1 - self.pout[enthusiastic, c])
                 * self.enthusiasm[enthusiastic, c])
            organic = enthusiastic[rng.random(enthusiastic.size) < p]
            self.enthusiasm[enthusiastic, c] *= b.enthusiasm_decay
        origin = self.origin[organic, c]
        out["chain1"] = organic[origin == ORIGIN_CAMPAIGN]
        out["chain2"] = organic[origin == ORIGIN_CHAIN]
        talk = EMPTY
        if b.brand_talk > 0 and self.posting.size:
            # one draw per user; only those who posted can talk (the others' chance is 0)
            u = rng.random(self.n)
            posting = self.posting
            p = dyn.talk_probability(self.posts[posting], rel[posting], b.brand_talk,
                                     self.pout[posting, c], brand.log_silence[posting])
            talk = posting[u[posting] < p]
            # one mention per author and step: a new recipient's mention is the paid one,
            # an enthusiastic adopter's the one its origin says
            talk = np.setdiff1d(talk, np.concatenate([new, organic]), assume_unique=False)
        out["talk"] = np.union1d(talk, organic[origin == ORIGIN_TALK])
        if self.spec.processes.pout:
            pouting = np.flatnonzero(self.pout[:, c] >= b.pout_threshold)
            p = b.base_negative * self.pout[pouting, c]
            out["negative"] = pouting[rng.random(pouting.size) < p]
        else:
            out["negative"] = EMPTY
        return out

    def _expose_and_persuade(self, brand: Brand, authors: dict[str, np.ndarray]) -> np.ndarray:
        """Phase 6: mentions expose followers; exposed non-adopters may adopt (§5.4).

        Returns this step's paid exposures per user (they also make perks visible, §5.5).
        """
        b = self.spec.behaviour
        c = brand.index
        rng = self.run_rng
        fol = self.graph.followers
        seen = {kind: dyn.sample_exposures(fol, authors[kind], self.view, rng)
                for kind in ("paid", "seed", "chain1", "chain2", "talk", "negative")}
        paid, negative = seen["paid"], seen["negative"]
        campaign_organic = seen["seed"] + seen["chain1"] + seen["chain2"]
        organic = campaign_organic + seen["talk"]
        persuasion_paid = b.persuasion_paid
        if brand.campaign.disclosure:
            persuasion_paid *= b.disclosure_discount
            paid_positive = paid
        else:  # an undisclosed paid mention recognised as paid counts against the brand
            recognised = np.zeros_like(paid)
            hit = np.flatnonzero(paid)  # a binomial draw of 0 trials takes nothing from rng
            recognised[hit] = rng.binomial(paid[hit], b.recognition)
            paid_positive = paid - recognised
            negative = negative + recognised
        t = brand.totals
        t["mentions_paid"] += authors["paid"].size
        t["mentions_organic"] += sum(authors[k].size for k in ("seed", "chain1", "chain2", "talk"))
        t["mentions_negative"] += authors["negative"].size
        t["exposures_paid"] += float(paid.sum())
        t["exposures_paid_positive"] += float(paid_positive.sum())
        t["exposures_organic"] += float(organic.sum())
        t["exposures_negative"] += float(negative.sum())
        self.reached_paid[:, c] |= paid > 0
        self.reached_organic[:, c] |= campaign_organic > 0
        self.reached_negative[:, c] |= negative > 0
        positive = (paid_positive + campaign_organic) > 0
        self.reached_positive[:, c] |= positive
        self.reached_without_perk[:, c] |= positive & (self.perk[:, c] == 0)
        self.aware[:, c] |= (paid + organic + negative) > 0

        # perk holders already have the product: they are the cascade's seeds, not its targets
        open_ = ~self.adopted[:, c] & (self.perk[:, c] == 0) & ((paid_positive + organic) > 0)
        who = np.flatnonzero(open_)
        if who.size:
            persuasion = [persuasion_paid, b.persuasion_organic, b.persuasion_organic,
                          b.persuasion_organic, b.persuasion_organic]
            counts = [paid_positive, seen["seed"], seen["chain1"], seen["chain2"], seen["talk"]]
            p = dyn.adoption_probability(
                self.population.susceptibility[who], brand.relevance[who], self.affinity[who, c],
                [(organic[who], b.persuasion_organic), (paid_positive[who], persuasion_paid)],
            )
            new = who[rng.random(who.size) < p]
            base = self.population.susceptibility[new] * brand.relevance[new] * self.affinity[new, c]
            cause = dyn.attribute_adoptions([x[new] for x in counts], persuasion, base, rng)
            self.origin[new, c] = CAUSE_ORIGIN[cause]
            self.adopted[new, c] = True
            self.adopted_at[new, c] = self.t
            self.enthusiasm[new, c] = 1.0
        if self.watched:
            adopted_now = self.adopted[:, c] & (self.adopted_at[:, c] == self.t)
            self.note("exposure", brand, {"paid_seen": paid, "paid_positive": paid_positive,
                                          "organic_seen": organic, "talk_seen": seen["talk"],
                                          "negative_seen": negative, "adopted_now": adopted_now,
                                          "origin": self.origin[:, c]})
        hit = negative > 0
        if hit.any():
            self.affinity[hit, c] *= (1.0 - b.negative_impact) ** negative[hit]
        return paid

    def _pout(self, brand: Brand, new: np.ndarray, paid_seen: np.ndarray) -> None:
        """Phase 7: Klout Pout as relative deprivation, kept apart by what was seen (§5.5)."""
        b = self.spec.behaviour
        c = brand.index
        rng = self.run_rng
        parts = b.pout_decay * self.pout_parts[:, c, :]
        if brand.strategy.paid and (brand.totals["perks_given"] > 0):
            # each new recipient's profile shows the perk once; followers see it with view_i
            displays = dyn.sample_exposures(self.graph.followers, new, self.view, rng)
            heard = rng.random(self.n) < b.publicity
            if not (self.watched or paid_seen.any() or displays.any() or heard.any()):
                self._store_pout(c, parts)  # nothing seen this step: pout only decays
                return
            # pout grows only where something was seen: the rest only decays
            who = (np.arange(self.n) if self.watched else
                   np.flatnonzero((paid_seen > 0) | (displays > 0) | heard))
            sources = np.stack([paid_seen[who], displays[who], heard[who]],
                               axis=1).astype(float)  # POUT_SOURCES
            closeness = dyn.closeness(self.score[who], brand.cutoff, b.closeness_scale)
            entitled = dyn.entitlement(brand.fanness[who], closeness, b.entitlement_fan,
                                       brand.transparency, b.transparency_relief)
            factor = 1.0 + b.exclusivity_pout * brand.campaign.exclusivity
            inc = dyn.pout_increment(sources.sum(axis=1), self.population.pout_sensitivity[who],
                                     brand.relevance[who], entitled, b.pout_kappa, factor)
            inc = np.where(self.perk[who, c] > 0, 0.0, inc)
            parts[who] = parts[who] + dyn.split_by_source(inc, sources)
            if self.watched:
                self.note("pout", brand, {"displays_seen": displays, "heard_of_programme": heard,
                                          "visible": sources.sum(axis=1), "entitled": entitled,
                                          "closeness": closeness, "increment": inc})
        self._store_pout(c, parts)

    def _store_pout(self, c: int, parts: np.ndarray) -> None:
        """Keep brand ``c``'s pout parts and their sum, at most 1 (parts scaled down together)."""
        total = parts[:, 0].copy()  # parts.sum(axis=1), the same additions in the same order
        for k in range(1, parts.shape[1]):
            total += parts[:, k]
        over = total > 1.0
        if over.any():
            parts[over] /= total[over, None]
        self.pout_parts[:, c, :] = parts
        self.pout[:, c] = np.minimum(total, 1.0)

    def _adapt(self) -> None:
        """Phase 8: pouting score-chasers post more and worse (§5.6)."""
        b = self.spec.behaviour
        worst = self.pout.max(axis=1) if self.pout.shape[1] else np.zeros(self.n)
        self.post_factor, self.reaction_factor, self.quality_factor = dyn.gaming_factors(
            self.population.gaming, worst, b.gaming_post_boost, b.gaming_reciprocity,
            b.gaming_quality_loss, b.gaming_max_rate_factor, b.gaming_min_quality_factor)

    # --- watching individual users (for explanations) -------------------------------------------

    def watch(self, users: list[int]) -> None:
        """Record, step by step, what happens to these users (see :meth:`note`)."""
        for u in users:
            if not 0 <= u < self.n:
                raise IndexError(f"user {u} does not exist (0…{self.n - 1})")
            self.watched.setdefault(int(u), [])

    def note(self, phase: str, brand: Brand, arrays: dict[str, np.ndarray], **facts: Any) -> None:
        """Append one record per watched user: the phase, the brand, their entries of
        ``arrays`` and the shared ``facts``."""
        for u, log in self.watched.items():
            row = {"step": self.t, "phase": phase, "brand": brand.name, **facts}
            for key, values in arrays.items():
                v = values[u]
                row[key] = v.item() if hasattr(v, "item") else v
            log.append(row)

    # --- the step ------------------------------------------------------------------------------

    def step(self) -> None:
        """One step (a day): the nine phases of docs/model.md §3, in order."""
        self._post_and_engage()  # 1–2
        self.score = self._current_score()  # 3
        new = [brand.allocate(self.t) for brand in self.brands]  # 4
        for brand, picked in zip(self.brands, new, strict=False):
            authors = self._mentions(brand, picked)  # 5
            paid_seen = self._expose_and_persuade(brand, authors)  # 6
            if self.spec.processes.pout:
                self._pout(brand, picked, paid_seen)  # 7
        if self.spec.processes.gaming:
            self._adapt()  # 8
        for brand in self.brands:  # 9
            self.datacollector.add_table_row("steps", metrics.brand_metrics(self, brand))
            if self.watched:
                self.note("end", brand, {"score": self.score, "pout": self.pout[:, brand.index],
                                         "perk": self.perk[:, brand.index],
                                         "aware": self.aware[:, brand.index],
                                         "adopted": self.adopted[:, brand.index],
                                         "post_factor": self.post_factor})
        self.t += 1
        if self.t >= self.spec.steps:
            self.running = False

    def run(self, steps: int | None = None,
            progress: Callable[[int, int], Any] | None = None) -> None:
        """Run ``steps`` more steps (default: to the scenario's end); ``progress(done, total)``."""
        total = (self.spec.steps - self.t) if steps is None else steps
        for i in range(total):
            self.step()
            if progress is not None:
                progress(i + 1, total)

    # --- looking at the results -----------------------------------------------------------------

    def steps_frame(self) -> pd.DataFrame:
        """Tidy per-step metrics: one row per step × brand (names as docs/model.md §8)."""
        return self.datacollector.get_table_dataframe("steps")

    def summary(self) -> pd.DataFrame:
        """Final metrics: one row per brand."""
        frame = self.steps_frame()
        if frame.empty:
            rows = [metrics.brand_metrics(self, brand) for brand in self.brands]
            return pd.DataFrame(rows, columns=metrics.STEP_COLUMNS)
        return frame.groupby("brand", sort=False).tail(1).reset_index(drop=True)

    def users_frame(self) -> pd.DataFrame:
        """One row per user: traits, score, and per brand relevance, fan, perk, aware, adopted
        (and how), pout and its parts by what the user saw."""
        pop = self.population
        data: dict[str, Any] = {
            "id": np.arange(self.n),
            "archetype": np.asarray(pop.archetype_names)[pop.archetype],
            "region": np.asarray(pop.region_names)[pop.region],
            "followers": self.graph.followers_count,
            "post_rate": pop.post_rate,
            "quality": pop.quality,
            "score": self.score,
        }
        for brand in self.brands:
            c = brand.index
            data[f"relevance_{brand.name}"] = brand.relevance
            data[f"fan_{brand.name}"] = brand.fans
            data[f"perk_{brand.name}"] = self.perk[:, c]
            data[f"aware_{brand.name}"] = self.aware[:, c]
            data[f"adopted_{brand.name}"] = self.adopted[:, c]
            data[f"adopted_via_{brand.name}"] = np.asarray(ORIGINS)[self.origin[:, c]]
            data[f"pout_{brand.name}"] = self.pout[:, c]
            for k, source in enumerate(POUT_SOURCES):
                data[f"pout_from_{source}_{brand.name}"] = self.pout_parts[:, c, k]
        return pd.DataFrame(data)

    def user(self, i: int) -> UserView:
        """A read-only snapshot of user ``i``."""
        if not 0 <= i < self.n:
            raise IndexError(f"user {i} does not exist (0…{self.n - 1})")
        pop = self.population
        brands = {
            brand.name: MappingProxyType({
                "relevance": float(brand.relevance[i]), "fan": bool(brand.fans[i]),
                "perk": int(self.perk[i, brand.index]), "aware": bool(self.aware[i, brand.index]),
                "adopted": bool(self.adopted[i, brand.index]),
                "adopted_via": ORIGINS[self.origin[i, brand.index]],
                "pout": float(self.pout[i, brand.index]),
                "pout_from": MappingProxyType(dict(zip(
                    POUT_SOURCES, map(float, self.pout_parts[i, brand.index]), strict=True))),
            })
            for brand in self.brands
        }
        return UserView(
            id=i, archetype=pop.archetype_names[pop.archetype[i]],
            region=pop.region_names[pop.region[i]], followers=int(self.graph.followers_count[i]),
            post_rate=float(pop.post_rate[i]), quality=float(pop.quality[i]),
            interests=MappingProxyType(dict(zip(pop.topics, map(float, pop.interests[i]), strict=False))),
            susceptibility=float(pop.susceptibility[i]),
            pout_sensitivity=float(pop.pout_sensitivity[i]), gaming=float(pop.gaming[i]),
            score=float(self.score[i]), brands=MappingProxyType(brands),
        )
