"""Scenario files: YAML → a validated, typed :class:`Scenario`.

Every error names the file, line and column, the dotted path of the field and what is
allowed; all errors of a file are reported together (see ``docs/reference/scenario.md``).
Only ``yaml.SafeLoader`` is used: tags such as ``!!python/object`` are refused, never run.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import strategies

NATIONAL = "national"
TOLERANCE = 1e-3  # shares must sum to 1 within this
MAX_USERS = 2_000_000  # a hard ceiling; memory is estimated below it
BYTES_PER_USER = 1_200  # measured order of magnitude: arrays + graph at mean degree 8


class StrictModel(BaseModel):
    """Base of every scenario section: unknown keys are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


UnitFloat = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]


# --- population -------------------------------------------------------------------------


class Archetype(StrictModel):
    """A posting-habit class; traits are drawn around these means (docs/model.md §2)."""

    share: UnitFloat = Field(description="fraction of users with this habit")
    post_rate: NonNegFloat = Field(description="mean posts per step (Gamma mean)")
    quality: UnitFloat = Field(description="mean content quality (Beta mean)")
    topic_spread: PositiveFloat = Field(
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

    size: Annotated[int, Field(ge=2, le=MAX_USERS)] = 3000
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
    trait_concentration: PositiveFloat = Field(
        10.0, description="Beta concentration of quality/susceptibility/gaming around means"
    )
    pout_sensitivity: UnitFloat = Field(0.5, description="mean of the Beta for ρ_i")


# --- score, behaviour, processes --------------------------------------------------------


class ScoreWeights(StrictModel):
    activity: NonNegFloat = 0.25
    reach: NonNegFloat = 0.35
    amplification: NonNegFloat = 0.5
    network: NonNegFloat = 0.0


class ScoreCalibration(StrictModel):
    """The score map is fitted so the population has this mean and top share."""

    mean: Annotated[float, Field(gt=1.0, lt=100.0)] = 40.0
    top_score: Annotated[float, Field(gt=1.0, lt=100.0)] = 63.0
    top_share: Annotated[float, Field(gt=0.0, lt=0.5)] = 0.05


class Score(StrictModel):
    """The Klout-like score (docs/model.md §5.1)."""

    window: Annotated[int, Field(ge=1, le=365)] = 14
    warmup: Annotated[int, Field(ge=1, le=1000)] = 28
    weights: ScoreWeights = Field(default_factory=ScoreWeights)
    calibration: ScoreCalibration = Field(default_factory=ScoreCalibration)


class Behaviour(StrictModel):
    """Rates and strengths of the behaviour rules (docs/model.md §5)."""

    attention_v0: UnitFloat = Field(1.0, description="view probability scale v0")
    attention_beta: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        0.25, description="fall of views with audience size: view = v0·followers^-β"
    )
    base_engage: UnitFloat = 1.0
    publicity: UnitFloat = Field(0.02, description="chance per step to hear of the programme")
    base_paid: UnitFloat = 1.0
    policy_paid: dict[Literal["none", "recommended", "required"], UnitFloat] = Field(
        default_factory=lambda: {"none": 0.1, "recommended": 0.4, "required": 0.9}
    )
    exclusivity_boost: NonNegFloat = 0.5
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
    pout_kappa: NonNegFloat = 0.5
    pout_threshold: UnitFloat = 0.3
    pout_amplification: NonNegFloat = 1.0
    closeness_scale: PositiveFloat = Field(5.0, description="score points over which 'almost' fades")
    transparency_relief: UnitFloat = 0.7
    gaming_post_boost: NonNegFloat = 1.0
    gaming_quality_loss: UnitFloat = 0.5
    gaming_max_rate_factor: Annotated[float, Field(ge=1.0, le=100.0)] = 3.0
    gaming_min_quality_factor: UnitFloat = 0.3


class Processes(StrictModel):
    """Switches for whole submodels (turn off for the reduction checks, docs/model.md §7)."""

    posting: bool = True
    pout: bool = True
    gaming: bool = True


# --- campaigns ----------------------------------------------------------------------------


class Campaign(StrictModel):
    """One brand's perk programme (docs/model.md §2, §5.2, §5.3)."""

    brand: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]
    topic: str | dict[str, NonNegFloat] = Field(
        description="a topic name, or a mix {topic: weight}"
    )
    region: str = Field(NATIONAL, description="a region name, or 'national'")
    perks: Annotated[int, Field(ge=0, le=MAX_USERS)] = 50
    perk_value: NonNegFloat = 100.0
    start: Annotated[int, Field(ge=0)] = 14
    waves: Annotated[int, Field(ge=1, le=1000)] = 1
    wave_every: Annotated[int, Field(ge=1)] = 7
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


class Scenario(StrictModel):
    """A complete, validated scenario."""

    name: Annotated[str, Field(min_length=1, max_length=80,
                               pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
    question: str = ""
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    steps: Annotated[int, Field(ge=1, le=100_000)] = 60
    replicates: Annotated[int, Field(ge=1, le=100_000)] = 1
    population: Population = Field(default_factory=Population)
    score: Score = Field(default_factory=Score)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    processes: Processes = Field(default_factory=Processes)
    campaigns: Annotated[list[Campaign], Field(min_length=1)]
    variants: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def topic_index(self, topic: str) -> int:
        return self.population.topics.index(topic)

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
        field = f" {self.path}:" if self.path else ""
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


# --- YAML with positions ------------------------------------------------------------------


class _Marks:
    """Line/column of every key and value in a YAML document, by field path."""

    def __init__(self) -> None:
        self.value: dict[tuple[Any, ...], yaml.Mark] = {}
        self.key: dict[tuple[Any, ...], yaml.Mark] = {}
        self.duplicates: list[tuple[tuple[Any, ...], yaml.Mark]] = []

    def walk(self, node: yaml.Node, path: tuple[Any, ...] = ()) -> None:
        self.value[path] = node.start_mark
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key = key_node.value
                if key in seen:
                    self.duplicates.append(((*path, key), key_node.start_mark))
                seen.add(key)
                self.key[(*path, key)] = key_node.start_mark
                self.walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.walk(item, (*path, i))

    def locate(self, loc: tuple[Any, ...], prefer_key: bool = False) -> tuple[int, int] | None:
        """The nearest recorded position for ``loc`` (walking up to the parent if needed)."""
        loc = tuple(loc)
        while True:
            table = (self.key, self.value) if prefer_key else (self.value, self.key)
            for marks in table:
                if loc in marks:
                    m = marks[loc]
                    return m.line + 1, m.column + 1
            if not loc:
                return None
            loc = loc[:-1]


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset in ``text``."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _problem_from_yaml_error(file: str, exc: yaml.YAMLError, text: str | None = None) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError) and text is not None:
        line, col = _position(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem(file, line, col, "",
                       f"unacceptable character U+{code:04X}: {exc.reason} in a YAML file")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    text = str(getattr(exc, "problem", None) or exc).strip()
    if "python/" in text or "could not determine a constructor" in text:
        text = (f"{text}; only plain YAML (mappings, lists, strings, numbers, booleans) "
                "is allowed: tags such as !!python/object are refused, never executed")
    else:
        text = f"YAML syntax error: {text}"
    if mark is None:
        return Problem(file, None, None, "", text)
    return Problem(file, mark.line + 1, mark.column + 1, "", text)


def _parse(text: str, file: str) -> tuple[Any, _Marks]:
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ScenarioError([_problem_from_yaml_error(file, exc, text)]) from None
    marks = _Marks()
    if node is not None:
        marks.walk(node)
    return data, marks


# --- validation -----------------------------------------------------------------------------


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for model in (Scenario, Population, Archetype, Score, ScoreWeights, ScoreCalibration,
                  Behaviour, Processes, Campaign, BarabasiAlbert, PowerlawCluster,
                  WattsStrogatz, ErdosRenyi, StochasticBlock, BalancedTree, EdgeList, Dataset):
        names.update(model.model_fields)
    for cls in strategies.registry().values():
        names.update(cls.Params.model_fields)
    return names


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    loc = err["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(key, sorted(_all_field_names() - {key}), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown key '{key}'{hint}"
    if kind == "missing":
        return "required field is missing"
    got = err.get("input")
    shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
    msg = err["msg"]
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown kind {ctx.get('tag')!r}; allowed: {ctx.get('expected_tags')}"
    if kind == "strategy_kind":
        return msg
    return f"{msg} (got {shown})"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-tag and function-validator steps from an error location."""
    graph_kinds = {"barabasi_albert", "powerlaw_cluster", "watts_strogatz", "erdos_renyi",
                   "stochastic_block", "balanced_tree", "edgelist", "dataset"}
    out = []
    for i, part in enumerate(loc):
        if i > 0 and loc[i - 1] == "graph" and part in graph_kinds:
            continue
        if isinstance(part, str) and (part == "str" or part.startswith(("dict[", "function-"))):
            continue  # a member of a union (``topic: str | dict``) — keep the field itself
        out.append(part)
    return tuple(out)


Found = list[tuple[tuple[Any, ...], str]]


def _check_population(pop: Population, base_dir: Path) -> Found:
    """Cross-field checks of the population that a schema alone cannot express."""
    bad: Found = []
    shares = sum(a.share for a in pop.archetypes.values())
    if not pop.archetypes:
        bad.append((("population", "archetypes"), "at least one archetype is needed"))
    elif abs(shares - 1.0) > TOLERANCE:
        bad.append((("population", "archetypes"),
                    f"archetype shares must sum to 1 (±{TOLERANCE}); they sum to {shares:.4g}"))
    if not pop.regions:
        bad.append((("population", "regions"), "at least one region is needed"))
    else:
        total = sum(pop.regions.values())
        if abs(total - 1.0) > TOLERANCE:
            bad.append((("population", "regions"),
                        f"region shares must sum to 1 (±{TOLERANCE}); they sum to {total:.4g}"))
    if NATIONAL in pop.regions:
        bad.append((("population", "regions", NATIONAL),
                    f"'{NATIONAL}' is reserved for campaigns that target every region"))
    if len(set(pop.topics)) != len(pop.topics):
        bad.append((("population", "topics"), "topics must be unique"))
    graph = pop.graph
    if graph.kind == "edgelist":
        where = ("population", "graph", "path")
        try:
            path = resolve_path(graph.path, base_dir)
            if not path.is_file():
                bad.append((where, f"edge-list file not found: {path} "
                                   "(paths are relative to the scenario file)"))
        except (OSError, RuntimeError, ValueError) as exc:
            bad.append((where, f"unusable edge-list path {graph.path!r}: {exc}"))
    return bad


def _check_campaign(i: int, c: Campaign, pop: Population, steps: int, brands: list[str]) -> Found:
    """Cross-field checks of one campaign against the population and the run length."""
    bad: Found = []
    if brands.count(c.brand) > 1:
        bad.append((("campaigns", i, "brand"), f"brand name '{c.brand}' is used twice"))
    topics = [c.topic] if isinstance(c.topic, str) else list(c.topic)
    for t in topics:
        if t not in pop.topics:
            hint = difflib.get_close_matches(t, pop.topics, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            bad.append((("campaigns", i, "topic"),
                        f"topic '{t}' is not one of population.topics {pop.topics}{extra}"))
    if isinstance(c.topic, dict) and not sum(c.topic.values()) > 0:
        bad.append((("campaigns", i, "topic"), "a topic mix needs a positive weight"))
    if c.region != NATIONAL and c.region not in pop.regions:
        hint = difflib.get_close_matches(c.region, list(pop.regions), n=1)
        extra = f"; did you mean '{hint[0]}'?" if hint else ""
        bad.append((("campaigns", i, "region"),
                    f"region '{c.region}' is not one of population.regions "
                    f"{list(pop.regions)} or '{NATIONAL}'{extra}"))
    if c.start >= steps:
        bad.append((("campaigns", i, "start"),
                    f"the campaign starts at step {c.start} but the run has only "
                    f"{steps} steps (0…{steps - 1})"))
    return bad


def _check_semantics(sc: Scenario, base_dir: Path) -> Found:
    """Cross-field checks that a schema alone cannot express."""
    bad = _check_population(sc.population, base_dir)
    brands = [c.brand for c in sc.campaigns]
    for i, c in enumerate(sc.campaigns):
        bad += _check_campaign(i, c, sc.population, sc.steps, brands)
    need = estimated_memory_bytes(sc)
    if need > 16 * 2**30:
        bad.append((("population", "size"),
                    f"about {need / 2**30:.0f} GiB of memory would be needed; at most 16 GiB "
                    "is allowed — use fewer users"))
    return bad


def _check_parts(data: dict[str, Any], base_dir: Path) -> Found:
    """Cross-field checks of the parts that are valid, when the whole scenario is not.

    So a typo elsewhere does not hide, say, region shares that sum to 1.2.
    """
    try:
        pop = Population.model_validate(data.get("population") or {})
    except (ValidationError, TypeError):
        return []
    bad = _check_population(pop, base_dir)
    steps = data.get("steps", Scenario.model_fields["steps"].default)
    raw = data.get("campaigns")
    if not isinstance(steps, int) or isinstance(steps, bool) or not isinstance(raw, list):
        return bad
    campaigns: list[tuple[int, Campaign]] = []
    for i, item in enumerate(raw):
        try:
            campaigns.append((i, Campaign.model_validate(item)))
        except (ValidationError, TypeError):
            continue
    brands = [c.brand for _, c in campaigns]
    for i, c in campaigns:
        bad += _check_campaign(i, c, pop, steps, brands)
    return bad


def estimated_memory_bytes(sc: Scenario) -> int:
    """A rough upper estimate of a run's memory (users × per-user cost × brands)."""
    size = sc.population.size
    degree = 8
    g = sc.population.graph
    if g.kind in ("barabasi_albert", "powerlaw_cluster"):
        degree = 2 * g.m
    elif g.kind == "watts_strogatz":
        degree = g.k
    elif g.kind in ("erdos_renyi", "stochastic_block"):
        degree = math.ceil(g.mean_degree)
    per_user = BYTES_PER_USER + 40 * degree + 80 * len(sc.campaigns)
    return int(size * per_user)


def resolve_path(path: str, base_dir: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base_dir / p)


def validate_document(data: Any, file: str = "<scenario>", marks: _Marks | None = None,
                      base_dir: Path | None = None) -> Scenario:
    """Validate plain data (as parsed from YAML) into a :class:`Scenario`.

    Raises :class:`ScenarioError` listing every problem, each located in ``file``.
    """
    marks = marks or _Marks()
    base_dir = base_dir or Path.cwd()
    problems: list[Problem] = []

    def add(loc: tuple[Any, ...], message: str, prefer_key: bool = False) -> None:
        pos = marks.locate(loc, prefer_key=prefer_key)
        line, col = pos if pos else (None, None)
        problems.append(Problem(file, line, col, dotted(loc), message))

    for loc, mark in marks.duplicates:
        problems.append(Problem(file, mark.line + 1, mark.column + 1, dotted(loc),
                                "this key appears twice; YAML would silently keep the last"))
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        add((), f"a scenario must be a mapping of keys (name:, steps:, campaigns: …); got {got}")
        raise ScenarioError(problems)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        specific = {_clean_loc(tuple(e["loc"])) for e in errors if not _is_union_member(e["loc"])}
        for err in errors:
            loc = _clean_loc(tuple(err["loc"]))
            if _is_union_member(err["loc"]) and any(s[:len(loc)] == loc for s in specific):
                continue  # the other member of the union explains the problem better
            add(loc, _message(err), prefer_key=err["type"] in ("extra_forbidden",))
        for loc, message in _check_parts(data, base_dir):
            add(loc, message)
        raise ScenarioError(_sorted(_dedupe(problems))) from None
    for loc, message in _check_semantics(sc, base_dir):
        add(loc, message)
    if problems:
        raise ScenarioError(problems)
    if sc.population.graph.kind == "edgelist":
        resolved = str(resolve_path(sc.population.graph.path, base_dir).resolve())
        sc.population.graph.path = resolved
    return sc


def _is_union_member(loc: tuple[Any, ...] | list[Any]) -> bool:
    return bool(loc) and isinstance(loc[-1], str) and (loc[-1] == "str" or loc[-1].startswith("dict["))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0))


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]")


def parse_field_path(text: str) -> tuple[Any, ...]:
    """``campaigns[0].strategy.threshold`` → ``('campaigns', 0, 'strategy', 'threshold')``."""
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
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not parts:
        raise ValueError("empty field path")
    return tuple(parts)


def apply_override(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set ``data[path] = value``, creating mappings on the way; lists must already exist."""
    node: Any = data
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                raise ValueError(f"{dotted(path[:i + 1])} does not exist")
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise ValueError(f"{dotted(path[:i])} is not a mapping")
        if part not in node or node[part] is None:
            if isinstance(nxt, int):
                raise ValueError(f"{dotted(path[:i + 1])} is not a list in this scenario")
            node[part] = {}
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or not -len(node) <= last < len(node):
            raise ValueError(f"{dotted(path)} does not exist")
    elif not isinstance(node, dict):
        raise ValueError(f"{dotted(path[:-1])} is not a mapping")
    node[last] = value


def _apply_overrides(data: Any, overrides: list[str], file: str) -> tuple[Any, dict[tuple, str]]:
    """Apply ``path=value`` overrides (values are YAML); returns the data and what was set."""
    problems: list[Problem] = []
    applied: dict[tuple, str] = {}
    for expr in overrides:
        if "=" not in expr:
            problems.append(Problem(f"--set {expr}", None, None, "",
                                    "expected PATH=VALUE, e.g. --set campaigns[0].perks=10"))
            continue
        key, raw = expr.split("=", 1)
        try:
            path = parse_field_path(key)
            value = yaml.safe_load(raw) if raw.strip() else ""
            if not isinstance(data, dict):
                raise ValueError("the scenario is not a mapping")
            apply_override(data, path, value)
            applied[path] = expr
        except yaml.YAMLError as exc:
            problems.append(Problem(f"--set {expr}", None, None, key,
                                    _problem_from_yaml_error(file, exc).message))
        except ValueError as exc:
            problems.append(Problem(f"--set {expr}", None, None, key, str(exc)))
    if problems:
        raise ScenarioError(problems)
    return data, applied


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, parse and validate a scenario file, with optional ``PATH=VALUE`` overrides.

    >>> sc = load_scenario("scenarios/klout_pout.yaml")
    >>> sc.campaigns[0].strategy.kind
    'score_threshold'
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(file, None, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(file, None, None, "", f"cannot read the file: {exc}")]) from None
    data, marks = _parse(text, file)
    data, applied = _apply_overrides(data, list(overrides or []), file)
    try:
        return validate_document(data, file=file, marks=marks, base_dir=path.parent)
    except ScenarioError as exc:
        raise ScenarioError([_blame_override(p, applied) for p in exc.problems]) from None


def _blame_override(problem: Problem, applied: dict[tuple, str]) -> Problem:
    """Point a problem at the ``--set`` that caused it rather than at the file's line."""
    for path, expr in applied.items():
        d = dotted(path)
        if problem.path == d or problem.path.startswith(d + ".") or problem.path.startswith(d + "["):
            return Problem(f"--set {expr}", None, None, problem.path, problem.message)
    return problem


def scenario_from_text(text: str, file: str = "<string>", base_dir: Path | None = None) -> Scenario:
    """Validate a scenario given as YAML text (for notebooks and tests)."""
    data, marks = _parse(text, file)
    return validate_document(data, file=file, marks=marks, base_dir=base_dir)
