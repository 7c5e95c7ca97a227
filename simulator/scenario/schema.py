"""The scenario format: typed, validated sections with ranges and defaults.

Reading files (YAML with positions, ``extends:``, overrides, variants and located error
messages) is in :mod:`simulator.scenario.loader`; :mod:`simulator.scenario` exports both.
See ``docs/reference/scenario.md`` for the format, field by field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.model import strategies
from simulator.model.population import NATIONAL
from simulator.scenario.uncertainty import MAX_UNCERTAIN_FIELDS, Uncertainty

TOLERANCE = 1e-3  # shares must sum to 1 within this
MAX_USERS = 20_000_000  # a hard ceiling (twice the largest run measured, benchmarks/); below it,
# the memory estimate decides (simulator.scenario.memory)
MAX_STEPS = 100_000  # steps of a run; also the ceiling of start and wave_every
MAX_REPLICATES = 100_000  # replicates per variant (the command line's --replicates too)
MAX_SEED = 2**63 - 1  # seeds are non-negative 64-bit integers
MAX_VARIANTS = 100  # each is validated in full when the file is loaded
MAX_SWEEP_FIELDS = 20  # fields in sweep.grid, and in sweep.ranges
MAX_SWEEP_VALUES = 1_000  # values in sweep.grid, all fields together (each is validated)
MAX_SWEEP_POINTS = 100_000  # grid combinations × Latin-hypercube samples
MAX_COST = 1e12  # money: a perk's or a contact's cost
MAX_DEPTH = 32  # levels of lists and mappings in a scenario document; parts of a field path
# Fields that were renamed or replaced, by section (pydantic model name) → what to write instead
RENAMED = {
    ("Campaign", "perk_value"): "perk_cost: {fixed: VALUE} (a perk can also cost per follower: "
                                "perk_cost.per_follower)",
    ("Behaviour", "pout_amplification"): "exclusivity_pout, whose default now follows Steinhoff & "
                                         "Palmatier (2016): exclusivity relieves bystanders' pout "
                                         "(docs/model.md §12)",
}


class StrictModel(BaseModel):
    """Base of every scenario section: unknown keys are errors, never ignored.

    Values are strict: a number field takes a number (an integer where a decimal is expected,
    never ``true`` or ``'10'``), a boolean field ``true``/``false`` only, and every number is
    finite (``.inf`` and ``.nan`` are refused); each unbounded-looking field has an explicit
    upper bound below, chosen so that every computation of a run stays finite.
    """

    model_config = ConfigDict(extra="forbid", validate_default=True, strict=True,
                              allow_inf_nan=False)


UnitFloat = Annotated[float, Field(ge=0.0, le=1.0)]


# --- population -------------------------------------------------------------------------


class Archetype(StrictModel):
    """A posting-habit class; traits are drawn around these means (docs/model.md §2)."""

    share: UnitFloat = Field(description="fraction of users with this habit")
    post_rate: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        description="mean posts per step (Gamma mean)")
    quality: UnitFloat = Field(description="mean content quality (Beta mean)")
    topic_spread: Annotated[float, Field(gt=0.0, le=1e4)] = Field(
        1.0, description="Dirichlet concentration of interests: small = focused on one topic"
    )
    susceptibility: UnitFloat = Field(0.3, description="mean chance one mention persuades")
    gaming: UnitFloat = Field(0.1, description="mean readiness to chase the score when excluded")


DEFAULT_ARCHETYPES: dict[str, dict[str, float]] = {
    # post rates as MODEL.md §2; quality/spread/gaming are the habits the names describe
    "broadcaster": dict(share=0.02, post_rate=6.0, quality=0.45, topic_spread=1.0,
                        susceptibility=0.15, gaming=0.3),
    "enthusiast": dict(share=0.15, post_rate=2.0, quality=0.8, topic_spread=0.15,
                       susceptibility=0.35, gaming=0.05),
    "casual": dict(share=0.45, post_rate=0.6, quality=0.6, topic_spread=0.5,
                   susceptibility=0.3, gaming=0.1),
    "lurker": dict(share=0.33, post_rate=0.1, quality=0.5, topic_spread=0.5,
                   susceptibility=0.3, gaming=0.02),
    "score_chaser": dict(share=0.05, post_rate=4.0, quality=0.35, topic_spread=0.8,
                         susceptibility=0.15, gaming=0.9),
}


class BarabasiAlbert(StrictModel):
    """Preferential attachment: each new user follows ``m`` existing ones (mutually)."""

    kind: Literal["barabasi_albert"]
    m: Annotated[int, Field(ge=1, le=200)] = 4


class PowerlawCluster(StrictModel):
    """Holme–Kim: preferential attachment plus triangle closing with probability ``p``."""

    kind: Literal["powerlaw_cluster"]
    m: Annotated[int, Field(ge=1, le=200)] = 4
    p: UnitFloat = 0.3


class WattsStrogatz(StrictModel):
    """Small world: a ring of ``k`` nearest neighbours, each edge rewired with ``p``."""

    kind: Literal["watts_strogatz"]
    k: Annotated[int, Field(ge=2, le=400)] = 8
    p: UnitFloat = 0.1


class ErdosRenyi(StrictModel):
    """Random graph with the given mean degree (networkx ``fast_gnp_random_graph``)."""

    kind: Literal["erdos_renyi"]
    mean_degree: Annotated[float, Field(gt=0.0, le=1000.0)] = 8.0


class StochasticBlock(StrictModel):
    """Planted partition: ``blocks`` equal communities; ``mixing`` = share of edges between."""

    kind: Literal["stochastic_block"]
    blocks: Annotated[int, Field(ge=1, le=1000)] = 6
    mean_degree: Annotated[float, Field(gt=0.0, le=1000.0)] = 8.0
    mixing: UnitFloat = 0.1


class BalancedTree(StrictModel):
    """A rooted tree (user 0 is the root); size is ``(b^(h+1)-1)/(b-1)``. For checks."""

    kind: Literal["balanced_tree"]
    branching: Annotated[int, Field(ge=1, le=50)] = 2
    height: Annotated[int, Field(ge=1, le=20)] = 4


class EdgeList(StrictModel):
    """A file with one ``u v`` pair per line (``#`` comments; plain or ``.gz``)."""

    kind: Literal["edgelist"]
    path: str = Field(description="relative to the scenario file")
    directed: bool = Field(False, description="true: 'u v' means u follows v; else mutual")


class Dataset(StrictModel):
    """A real graph shipped with the package (see docs/reference/data.md)."""

    kind: Literal["dataset"]
    name: Literal["ego_facebook", "ca_hepth"]


GraphSpec = Annotated[
    BarabasiAlbert | PowerlawCluster | WattsStrogatz | ErdosRenyi | StochasticBlock
    | BalancedTree | EdgeList | Dataset,
    Field(discriminator="kind"),
]
GRAPHS_WITH_OWN_SIZE = ("balanced_tree", "edgelist", "dataset")


class Population(StrictModel):
    """Who the users are and how they are connected (docs/model.md §2)."""

    size: Annotated[int, Field(ge=2, le=MAX_SEED)] = Field(
        3000, description="number of users (graphs that fix their own size ignore it)")
    graph: GraphSpec = Field(default_factory=lambda: PowerlawCluster(kind="powerlaw_cluster"))
    homophily: UnitFloat = Field(
        0.6, description="chance a user's main topic is their neighbourhood's (0 = none)")
    homophily_passes: Annotated[int, Field(ge=0, le=50)] = Field(
        4, description="rounds of smoothing that form a neighbourhood's topic")
    topics: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: ["sports", "tech", "food", "travel", "fashion", "music"]
    )
    regions: dict[str, UnitFloat] = Field(
        default_factory=lambda: {"phoenix": 0.3, "los_angeles": 0.5, "toronto": 0.2}
    )
    archetypes: dict[str, Archetype] = Field(
        default_factory=lambda: {k: Archetype(**v) for k, v in DEFAULT_ARCHETYPES.items()}
    )
    trait_concentration: Annotated[float, Field(ge=1e-3, le=1e4)] = Field(
        10.0, description="Beta concentration of quality/susceptibility/gaming around means"
    )
    pout_sensitivity: UnitFloat = Field(0.5, description="mean of the Beta for ρ_i")


# --- score, behaviour, processes --------------------------------------------------------


Weight = Annotated[float, Field(ge=0.0, le=1000.0)]  # only the weights' ratios matter


class ScoreWeights(StrictModel):
    activity: Weight = 0.25
    reach: Weight = 0.35
    amplification: Weight = 0.5
    network: Weight = 0.0


class ScoreCalibration(StrictModel):
    """The score map is fitted so the population has this mean and top share."""

    mean: Annotated[float, Field(gt=1.0, lt=100.0)] = 40.0
    top_score: Annotated[float, Field(gt=1.0, lt=100.0)] = 63.0
    top_share: Annotated[float, Field(gt=0.0, lt=0.5)] = 0.05

    @model_validator(mode="after")
    def _top_above_mean(self) -> ScoreCalibration:
        if self.top_score <= self.mean:
            raise ValueError(f"top_score ({self.top_score:g}) must be above mean ({self.mean:g}): "
                             "top_share of users score at least top_score")
        return self


class Score(StrictModel):
    """The Klout-like score (docs/model.md §5.1)."""

    window: Annotated[int, Field(ge=1, le=365)] = 14
    warmup: Annotated[int, Field(ge=1, le=1000)] = 28
    weights: ScoreWeights = Field(default_factory=ScoreWeights)
    calibration: ScoreCalibration = Field(default_factory=ScoreCalibration)


class PolicyPaid(StrictModel):
    """How much each mention policy makes a recipient post a paid mention (§5.3)."""

    none: UnitFloat = 0.1
    recommended: UnitFloat = 0.4
    required: UnitFloat = 0.9


class Behaviour(StrictModel):
    """Rates and strengths of the behaviour rules (docs/model.md §5; sources in §9)."""

    attention_v0: UnitFloat = Field(1.0, description="view probability scale v0")
    attention_beta: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        0.25, description="fall of views with audience size: view = v0·followers^-β"
    )
    base_engage: UnitFloat = 1.0
    publicity: UnitFloat = Field(
        0.0, description="chance per step to hear of a programme that has given perks")
    base_paid: UnitFloat = 1.0
    policy_paid: PolicyPaid = Field(default_factory=lambda: PolicyPaid(),
                                    description="paid-mention factor of each mention policy")
    exclusivity_boost: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.0, description="extra paid-mention propensity per unit of exclusivity")
    transparency_target_loss: UnitFloat = Field(
        0.3, description="paid-mention propensity lost by recipients of fully transparent rules")
    brand_talk: UnitFloat = Field(
        0.01, description="share of a user's posts that mention the brand, per unit relevance")
    base_organic: UnitFloat = 0.3
    enthusiasm_decay: UnitFloat = 0.8
    organic_mentions: Literal["decaying", "once"] = "decaying"
    base_negative: UnitFloat = 0.05
    persuasion_organic: UnitFloat = 0.25
    persuasion_paid: UnitFloat = 0.1
    disclosure_discount: UnitFloat = Field(0.9, description="paid persuasion × this if #ad")
    recognition: UnitFloat = Field(0.3, description="chance an undisclosed paid mention is seen as paid")
    negative_impact: UnitFloat = Field(0.3, description="affinity lost per negative exposure")
    region_mismatch: UnitFloat = Field(0.3, description="relevance factor outside the brand's region")
    fan_quantile: Annotated[float, Field(gt=0.0, le=1.0)] = 0.1
    pout_decay: UnitFloat = 0.95
    pout_kappa: Annotated[float, Field(ge=0.0, le=1000.0)] = 0.5
    pout_threshold: UnitFloat = 0.3
    entitlement_fan: UnitFloat = Field(
        0.5, description="entitlement a fan feels far from any bar (1 = as much as a near miss)")
    exclusivity_pout: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        -0.3, description="change of bystanders' pout per unit of exclusivity (< 0: relief)")
    closeness_scale: Annotated[float, Field(gt=0.0, le=100.0)] = Field(
        5.0, description="score points over which 'almost' fades")
    transparency_relief: UnitFloat = 0.7
    gaming_post_boost: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    gaming_reciprocity: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        2.0, description="extra reactions elicited per unit of gaming drive (reciprocity)")
    gaming_quality_loss: UnitFloat = 0.5
    gaming_max_rate_factor: Annotated[float, Field(ge=1.0, le=100.0)] = 3.0
    gaming_min_quality_factor: UnitFloat = 0.3


class Processes(StrictModel):
    """Switches for whole submodels (turn off for the reduction checks, docs/model.md §10)."""

    posting: bool = True
    pout: bool = True
    gaming: bool = True


# --- campaigns ----------------------------------------------------------------------------


class PerkCost(StrictModel):
    """What one perk costs: a fixed part plus a part per follower of the recipient.

    Bakshy et al. (2011) price a seed at c_a + c_f·followers; ``per_follower: 0`` is a flat
    price per perk.
    """

    fixed: Annotated[float, Field(ge=0.0, le=MAX_COST)] = Field(
        100.0, description="c_a: cost of one perk whoever gets it")
    per_follower: Annotated[float, Field(ge=0.0, le=MAX_COST)] = Field(
        0.0, description="c_f: extra cost per follower of the recipient")


class Campaign(StrictModel):
    """One brand's perk programme (docs/model.md §2, §5.2, §5.3)."""

    brand: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]
    topic: str | dict[str, Annotated[float, Field(ge=0.0, le=1e6)]] = Field(
        description="a topic name, or a mix {topic: weight}"
    )
    region: str = Field(NATIONAL, description="a region name, or 'national'")
    perks: Annotated[int, Field(ge=0, le=MAX_USERS)] = 50
    perk_cost: PerkCost = Field(default_factory=lambda: PerkCost(),
                                description="cost of one perk: fixed + per_follower × followers")
    start: Annotated[int, Field(ge=0, le=MAX_STEPS)] = 14
    waves: Annotated[int, Field(ge=1, le=1000)] = 1
    wave_every: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 7
    mention: Literal["none", "recommended", "required"] = "recommended"
    disclosure: bool = True
    exclusivity: UnitFloat = 0.5
    rule_transparency: UnitFloat | None = Field(
        None, description="0 opaque … 1 published rules; default: the strategy's own"
    )
    allow_repeats: bool = False
    strategy: Any = Field(description="{kind: NAME, ...that strategy's parameters}")

    @field_validator("strategy", mode="before")
    @classmethod
    def _strategy_params(cls, value: Any) -> Any:
        return strategies.validate_params(value)


VariantName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=60)]


class Sweep(StrictModel):
    """A grid and/or Latin-hypercube samples over any scenario fields (``perksim sweep``).

    Points are the product of the ``grid`` values; with ``samples`` > 0, each grid point is
    combined with ``samples`` Latin-hypercube draws over ``ranges`` (integers stay integers).
    """

    grid: Annotated[dict[str, Annotated[list[Any], Field(min_length=1)]],
                    Field(max_length=MAX_SWEEP_FIELDS)] = Field(
        default_factory=dict, description="{field.path: [value, ...]}")
    ranges: Annotated[dict[str, Annotated[list[int | float], Field(min_length=2, max_length=2)]],
                      Field(max_length=MAX_SWEEP_FIELDS)] = Field(
        default_factory=dict, description="{field.path: [low, high]} for Latin-hypercube samples")
    samples: Annotated[int, Field(ge=0, le=MAX_SWEEP_POINTS)] = 0

    @model_validator(mode="after")
    def _bounded_points(self) -> Sweep:
        values = sum(len(v) for v in self.grid.values())
        if values > MAX_SWEEP_VALUES:
            raise ValueError(f"the grid lists {values:,} values; at most {MAX_SWEEP_VALUES:,} "
                             "(each is checked when the file is loaded)")
        points = max(self.samples, 1)
        for values in self.grid.values():
            points *= len(values)
            if points > MAX_SWEEP_POINTS:
                raise ValueError(f"the grid's combinations × samples exceed {MAX_SWEEP_POINTS:,} "
                                 "points; sweep fewer values (or sample ranges)")
        return self


CLAIM_FORMS = ("better", "higher", "lower", "same", "variant", "ratio", "rare")


class Claim(StrictModel):
    """One finding a scenario states about its own results, checked against a run.

    Exactly one form: ``better: A, than: B`` (A beats B beyond noise, in the metric's better
    direction); ``higher``/``lower: A, than: B`` (for metrics with no better direction);
    ``same: [A, B]`` (indistinguishable from noise); ``variant: A, between: [lo, hi]`` (A's
    mean lies in the range); ``ratio: [A, B], between: [lo, hi]`` (mean of A / mean of B);
    ``rare: A`` (too rare to compare at the scenario's replicate count). Differences are
    paired by replicate, with the bootstrap interval of comparison.csv.
    """

    says: str = Field(min_length=1, description="the finding in words, as the report shows it")
    metric: str = Field(description="a metric name (docs/model.md §8)")
    brand: str | None = Field(None, description="the campaign's brand (default: the first)")
    at: dict[str, Any] | None = Field(
        None, description="a sweep point {field.path: value}; the claim is checked by perksim sweep")
    better: str | None = None
    higher: str | None = None
    lower: str | None = None
    than: str | None = None
    same: Annotated[list[str], Field(min_length=2, max_length=2)] | None = None
    variant: str | None = None
    ratio: Annotated[list[str], Field(min_length=2, max_length=2)] | None = None
    between: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    rare: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Claim:
        forms = [f for f in CLAIM_FORMS if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError("a claim has exactly one of better/higher/lower (with than), same, "
                             f"variant or ratio (with between), rare; got {forms or 'none'}")
        form = forms[0]
        if (self.than is not None) != (form in ("better", "higher", "lower")):
            raise ValueError(f"'than:' goes with better/higher/lower, not with {form}")
        if (self.between is not None) != (form in ("variant", "ratio")):
            raise ValueError(f"'between: [low, high]' goes with variant/ratio, not with {form}")
        if self.between is not None and not self.between[0] <= self.between[1]:
            raise ValueError(f"between is [low, high] with low ≤ high; got {self.between}")
        return self

    @property
    def form(self) -> str:
        """Which form of claim this is (one of CLAIM_FORMS)."""
        return next(f for f in CLAIM_FORMS if getattr(self, f) is not None)


class Scenario(StrictModel):
    """A complete, validated scenario."""

    name: Annotated[str, Field(min_length=1, max_length=80,
                               pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
    question: str = ""
    description: str = ""
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 60
    replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES)] = 1
    population: Population = Field(default_factory=Population)
    score: Score = Field(default_factory=Score)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    processes: Processes = Field(default_factory=Processes)
    campaigns: Annotated[list[Campaign], Field(min_length=1)]
    variants: Annotated[dict[VariantName, dict[str, Any]], Field(max_length=MAX_VARIANTS)] = Field(
        default_factory=dict, description="named alternatives: {name: {field.path: value}}")
    sweep: Sweep | None = None
    uncertainties: Annotated[dict[str, Uncertainty], Field(max_length=MAX_UNCERTAIN_FIELDS)] = Field(
        default_factory=dict, description="what is not known about parameters: {field.path: "
        "{uniform: [low, high]} | {log_uniform: [low, high]} | {values: [a, b, ...]}}; null "
        "drops an entry of the scenario extended (inert for run, compare and sweep)")
    metrics: list[str] = Field(
        default_factory=list, description="the metrics this question is about, shown first")
    claims: list[Claim] = Field(
        default_factory=list, description="findings about the results, checked against a run")

    @field_validator("uncertainties", mode="before")
    @classmethod
    def _drop_nulls(cls, value: Any) -> Any:
        # ``path: null`` removes an entry inherited through extends: (a merge cannot delete)
        return {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value

    def to_document(self) -> dict[str, Any]:
        """The resolved scenario as plain data (what ``scenario.yaml`` of a run holds)."""
        return self.model_dump(mode="json")


# --- errors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One located problem in a scenario file."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        path = self.path if len(self.path) <= 200 else self.path[:200] + "…"
        field = f" {path}:" if path else ""
        return f"{where}:{field} {self.message}"


class ScenarioError(ValueError):
    """A scenario is invalid; ``problems`` lists every located problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    """``('campaigns', 0, 'strategy')`` → ``campaigns[0].strategy``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|(\d+)")


def parse_field_path(text: str) -> tuple[Any, ...]:
    """``campaigns[0].strategy.threshold`` → ``('campaigns', 0, 'strategy', 'threshold')``.

    ``campaigns.0.strategy`` means the same (handy inside YAML flow mappings ``{...}``,
    where ``[`` cannot appear in an unquoted key).
    """
    parts: list[Any] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        if text[pos] == "." and parts:
            pos += 1
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot read the field path {text!r} at {text[pos:]!r}; "
                             "use dots and [index], e.g. campaigns[0].perks")
        if m.group(3) is not None and (not parts or text[pos - 1] != "."):
            raise ValueError(f"cannot read the field path {text!r}: a list index is written "
                             "[0] or .0 after a field name")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2) or m.group(3)))
        pos = m.end()
        if len(parts) > MAX_DEPTH:
            raise ValueError(f"the field path {text[:60]!r}… has more than {MAX_DEPTH} parts; "
                             "no scenario field is that deep")
    if not parts:
        raise ValueError("empty field path")
    return tuple(parts)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (``perksim schema``), strategies included."""
    schema = Scenario.model_json_schema()
    defs = schema.setdefault("$defs", {})
    refs = []
    for name, cls in sorted(strategies.registry().items()):
        sub = cls.Params.model_json_schema()
        defs.update(sub.pop("$defs", {}))
        sub["description"] = (cls.__doc__ or "").strip().split("\n")[0]
        key = f"strategy_{name}"
        defs[key] = sub
        refs.append({"$ref": f"#/$defs/{key}"})
    defs["Campaign"]["properties"]["strategy"] = {
        "description": "how the brand picks recipients: {kind: NAME, ...its parameters}",
        "oneOf": refs,
        "discriminator": {"propertyName": "kind",
                          "mapping": {n: f"#/$defs/strategy_{n}" for n in strategies.registry()}},
    }
    entry = schema["properties"]["uncertainties"]["additionalProperties"]
    schema["properties"]["uncertainties"]["additionalProperties"] = {"anyOf": [entry, {"type": "null"}]}
    schema["properties"]["extends"] = {
        "type": "string", "description": "path of a scenario file this one builds on (relative)"}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "perksim scenario"
    json.dumps(schema)  # must be plain JSON
    return schema


__all__ = [
    "Campaign", "Population", "Problem", "Scenario", "ScenarioError", "dotted", "json_schema",
    "parse_field_path",
]
