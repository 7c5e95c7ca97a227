"""Hostile and nonsense input (issue 9, items 1–4 and 7, and the ``--replicates`` bound).

Every case of ``CASES`` is refused by ``perksim validate`` and by ``perksim run`` with exit
code 2, a message located at file:line:col (or at the file, for a file that is not a YAML
document at all) with the dotted field path, no traceback, no file contents leaked, and
nothing written to ``--out`` — each within ``TIMEOUT`` seconds. The commands run in a worker
process (one per session, restarted after a hang), so that a hang fails the test instead of
hanging the suite: the harness kills the worker when a command takes longer than ``TIMEOUT``.

A fuzz test mutates the bundled scenario files with non-finite and extreme numbers, alias
structures, deep nesting, odd tags and type swaps, validates them all and runs those that
validate at a small size: no traceback, no hang, every problem located.
"""

from __future__ import annotations

import json
import os
import random
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from annotated_types import Ge, Gt, Le, Lt

from simulator.model.strategies import registry
from simulator.scenario import schema as S
from simulator.scenario.loader import load_scenario, make_variant

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 10.0  # seconds per command; a hang fails the case
SECRET = "perksim-test-secret-5f3a9c"  # in the worker's environment: must never be printed

WORKER = r"""
import json, math, os, sys, traceback
from click.testing import CliRunner
from simulator import PerkCampaignModel, load_scenario
from simulator.cli import cli
print(json.dumps({"ready": True}), flush=True)


def simulate(path, overrides):
    # load as perksim run does, then step the model without writing anything
    try:
        scenario = load_scenario(path, overrides=overrides)
        model = PerkCampaignModel(scenario, rng=0)
        model.run()
        summary = model.summary().select_dtypes("number")
        infinite = [c for c in summary.columns if any(math.isinf(v) for v in summary[c])]
        return {"exit_code": 0, "output": f"infinite: {infinite}" if infinite else "",
                "traceback": None}
    except ValueError as exc:  # ScenarioError: refused, like exit 2
        return {"exit_code": 2, "output": str(exc), "traceback": None}
    except Exception as exc:
        return {"exit_code": 1, "output": "", "traceback": "".join(traceback.format_exception(exc))}


for line in sys.stdin:
    request = json.loads(line)
    os.chdir(request["cwd"])
    if request.get("simulate"):
        print(json.dumps(simulate(*request["simulate"])), flush=True)
        continue
    result = CliRunner().invoke(cli, request["args"])
    error = result.exception
    trace = None
    if error is not None and not isinstance(error, SystemExit):
        trace = "".join(traceback.format_exception(error))
    print(json.dumps({"exit_code": result.exit_code, "output": result.output, "traceback": trace}),
          flush=True)
"""


class Hang(Exception):
    """A command did not answer within its timeout."""


class Worker:
    """``perksim`` commands (click's CliRunner) in a separate process, each with a timeout."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.errors = tempfile.TemporaryFile()
        self.buffer = b""

    def _start(self) -> None:
        env = {**os.environ, "PERKSIM_TEST_SECRET": SECRET,
               "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errors)
        self.buffer = b""
        ready = self._answer(120.0)  # importing the package is not part of any case's time
        assert ready == {"ready": True}

    def _answer(self, timeout: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    self.stop()
                    raise Hang(f"no answer within {timeout:g} s")
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self.errors.seek(0)
                    raise RuntimeError("the worker died: " + self.errors.read().decode()[-3000:])
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def invoke(self, args: list[Any], cwd: Path = REPO, timeout: float = TIMEOUT) -> dict[str, Any]:
        """``perksim ARGS`` (click's CliRunner): exit_code, output, traceback (None if none)."""
        return self._ask({"args": [str(a) for a in args], "cwd": str(cwd)}, timeout)

    def simulate(self, path: Path, overrides: list[str], timeout: float = TIMEOUT) -> dict[str, Any]:
        """Load a scenario and step its model in memory (what ``perksim run`` does, less the
        writing): exit_code 0 (output names any infinite metric), 2 refused, 1 crashed."""
        return self._ask({"simulate": [str(path), overrides], "cwd": str(REPO)}, timeout)

    def _ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()
        return self._answer(timeout)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="module")
def perksim():
    worker = Worker()
    yield worker
    worker.stop()


# --- the cases ---------------------------------------------------------------------------------

TEMPLATE = """\
name: hardening
steps: 10
seed: 1
population:
  size: 200
  graph: {kind: powerlaw_cluster, m: 3, p: 0.3}
  trait_concentration: 10.0
  topics: [sports, tech]
  archetypes:
    poster: {share: 1.0, post_rate: 1.0, quality: 0.5, topic_spread: 1.0}
score:
  warmup: 3
  weights: {activity: 0.25, reach: 0.35, amplification: 0.5, network: 0.0}
behaviour:
  pout_kappa: 0.5
  exclusivity_pout: -0.3
campaigns:
  - brand: acme
    topic: sports
    perks: 5
    start: 2
    disclosure: true
    perk_cost: {fixed: 100.0, per_follower: 0.0}
    strategy: {kind: score_threshold, threshold: 50}
"""


def bomb(levels: int = 9) -> str:
    """A "billion laughs": ``levels`` anchors of nine aliases each (9**levels values)."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


FLOW_BOMB = "[&a0 [x, x, x, x, x, x, x, x, x], " + ", ".join(
    f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)) + "]"


@dataclass
class Case:
    """One hostile input: the scenario text (from TEMPLATE, with ``old`` replaced by ``new``,
    or ``text`` whole), what the message must say, and where it must point."""

    name: str
    new: str = ""
    old: str = ""
    text: str | None = None
    words: tuple[str, ...] = ()
    path: str | None = None  # the dotted field path named; None: not checked
    at: str | None = None  # the text the message's line:col must point at (default: ``new``)
    offset: int = 0  # … or this many characters after it
    located: str = "line"  # "line": file:line:col; "file": the file alone (not YAML at all)
    setup: Callable[[Path], Path] | None = None  # builds the scenario file itself
    extra: tuple[str, ...] = ()  # more command-line arguments (for run)
    absent: tuple[str, ...] = ()  # text that must not appear in the output

    def scenario(self, folder: Path) -> tuple[Path, str]:
        if self.setup is not None:
            path = self.setup(folder)
            inside = path.is_file() and not path.is_symlink() and folder in path.parents
            return path, path.read_text(encoding="utf-8") if inside else ""
        text = self.text if self.text is not None else _edit(TEMPLATE, self.old, self.new)
        path = folder / f"{self.name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path, text


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} should occur once in the template"
    return text.replace(old, new)


def _position(text: str, needle: str) -> tuple[int, int]:
    idx = text.index(needle)
    return text.count("\n", 0, idx) + 1, idx - (text.rfind("\n", 0, idx) + 1) + 1


def _edge_list_scenario(target: str | Callable[[Path], str]) -> Callable[[Path], Path]:
    """A setup writing the template with an edge-list graph at ``target`` (a path, or a function
    of the case folder that makes the file and returns its path)."""
    def setup(folder: Path) -> Path:
        where = target(folder) if callable(target) else target
        text = _edit(TEMPLATE, "{kind: powerlaw_cluster, m: 3, p: 0.3}",
                     f"{{kind: edgelist, path: '{where}'}}")
        path = folder / "edges_scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    return setup


def _fifo(folder: Path) -> str:
    path = folder / "pipe"
    os.mkfifo(path)
    return str(path)


def _link_to_environ(folder: Path) -> str:
    path = folder / "innocent.txt"
    path.symlink_to("/proc/self/environ")
    return str(path)


def _long_bad_line(folder: Path) -> str:
    path = folder / "long.txt"
    path.write_text("0 1\n1 2\n" + "2 " + "x" * 3000 + "\n")
    return str(path)


def _binary(folder: Path) -> str:
    path = folder / "binary.txt"
    path.write_bytes(b"\x00\x01\x02" + SECRET.encode() + b"\xff\xfe\n")
    return str(path)


def _secret_first_line(folder: Path) -> str:
    path = folder / "notes.txt"
    path.write_text(f"password={SECRET}\n0 1\n")
    return str(path)


def _ids_too_large(folder: Path) -> str:
    path = folder / "large_ids.txt"
    path.write_text("0 1\n1 99999999999999999999999999\n")
    return str(path)


def _system_file(folder: Path) -> str:
    for candidate in ("/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state",
                      "/sys/kernel/uevent_seqnum"):
        if Path(candidate).exists():
            return candidate
    return "/sys"


def _scenario_at(target: str | Callable[[Path], Path]) -> Callable[[Path], Path]:
    def setup(folder: Path) -> Path:
        return target(folder) if callable(target) else Path(target)
    return setup


def _scenario_fifo(folder: Path) -> Path:
    path = folder / "scenario_pipe.yaml"
    os.mkfifo(path)
    return path


def _scenario_too_large(folder: Path) -> Path:
    path = folder / "large.yaml"
    path.write_text(TEMPLATE + "description: '" + "x" * (200 * 1024) + "'\n", encoding="utf-8")
    return path


def _scenario_linked_to_environ(folder: Path) -> Path:
    path = folder / "linked.yaml"
    path.symlink_to("/proc/self/environ")
    return path


FINITE = ("finite",)
NO_TAGS = ("refused", "never executed")

CASES = [
    # item 1–2: aliases and nesting, refused before anything walks the document
    Case("alias_bomb", text=bomb(9) + TEMPLATE, at="*lol4",
         words=("more than 100,000 values", "alias")),
    Case("alias_bomb_7_levels_in_a_field", text=bomb(7) + TEMPLATE.replace(
        "name: hardening", "name: hardening\nquestion: *lol6"), at="*lol4",
         words=("more than 100,000 values",)),
    Case("recursive_alias", text=TEMPLATE + "extra: &a [*a]\n", at="*a]", path="extra[0]",
         words=("inside its own anchor",)),
    Case("recursive_alias_in_mapping", text=TEMPLATE + "extra: &m {x: *m}\n", at="*m}",
         path="extra.x", words=("inside its own anchor",)),
    Case("nested_lists_1000", old="steps: 10", new="steps: " + "[" * 1000 + "]" * 1000,
         at="[", offset=31, words=("nested more than 32 levels",)),  # the document is level 1
    Case("nested_mappings_1000", old="steps: 10", new="steps: " + "{a: " * 1000 + "1" + "}" * 1000,
         at="{a: ", offset=31 * 4, words=("nested more than 32 levels",)),
    Case("undefined_alias", old="steps: 10", new="steps: *nowhere", at="*nowhere",
         words=("undefined alias",)),
    # item 3: non-finite and huge numbers
    Case("pout_kappa_inf", old="pout_kappa: 0.5", new="pout_kappa: .inf", at=".inf",
         path="behaviour.pout_kappa", words=FINITE),
    Case("post_rate_1e300", old="post_rate: 1.0,", new="post_rate: 1.0e300,", at="1.0e300",
         path="population.archetypes.poster.post_rate", words=("less than or equal to 1000",)),
    Case("post_rate_nan", old="post_rate: 1.0,", new="post_rate: .nan,", at=".nan",
         path="population.archetypes.poster.post_rate", words=FINITE),
    Case("topic_spread_inf", old="topic_spread: 1.0", new="topic_spread: .inf", at=".inf",
         path="population.archetypes.poster.topic_spread", words=FINITE),
    Case("trait_concentration_inf", old="trait_concentration: 10.0",
         new="trait_concentration: .inf", at=".inf", path="population.trait_concentration",
         words=FINITE),
    Case("trait_concentration_tiny", old="trait_concentration: 10.0",
         new="trait_concentration: 5.0e-324", at="5.0e-324", path="population.trait_concentration",
         words=("greater than or equal to 0.001",)),
    Case("pout_amplification_inf", old="pout_kappa: 0.5", new="pout_amplification: .inf",
         at="pout_amplification", path="behaviour.pout_amplification", words=("replaced",)),
    Case("exclusivity_pout_inf", old="exclusivity_pout: -0.3", new="exclusivity_pout: .inf",
         at=".inf", path="behaviour.exclusivity_pout", words=FINITE),
    Case("perk_value_inf", old="perks: 5", new="perk_value: .inf", at="perk_value",
         path="campaigns[0].perk_value", words=("perk_cost",)),
    Case("perk_cost_fixed_inf", old="fixed: 100.0", new="fixed: .inf", at=".inf",
         path="campaigns[0].perk_cost.fixed", words=FINITE),
    Case("perk_cost_per_follower_huge", old="per_follower: 0.0", new="per_follower: 1.0e+300",
         at="1.0e+300", path="campaigns[0].perk_cost.per_follower",
         words=("less than or equal to 1000000000000",)),
    Case("network_weight_inf", old="network: 0.0", new="network: .inf", at=".inf",
         path="score.weights.network", words=FINITE),
    Case("threshold_minus_inf", old="threshold: 50", new="threshold: -.inf", at="-.inf",
         path="campaigns[0].strategy.threshold", words=FINITE),
    Case("contact_cost_inf", old="{kind: score_threshold, threshold: 50}",
         new="{kind: outreach, contact_cost: .inf}", at=".inf",
         path="campaigns[0].strategy.contact_cost", words=FINITE),
    Case("overflowing_float", old="pout_kappa: 0.5", new="pout_kappa: 1e400", at="1e400",
         path="behaviour.pout_kappa", words=FINITE),
    Case("population_size_10_to_400", old="size: 200", new="size: 1" + "0" * 400, at="1" + "0" * 40,
         path="population.size", words=("less than or equal to",)),
    Case("seed_2_to_64", old="seed: 1", new=f"seed: {2**64}", at=str(2**64), path="seed",
         words=("less than or equal to",)),
    Case("between_inf", text=TEMPLATE + "claims:\n  - {says: x, metric: reach, variant: base, "
         "between: [0, .inf]}\n", at=".inf", path="claims[0].between[1]", words=FINITE),
    # item 4: no coercion, only plain YAML types
    Case("perks_true", old="perks: 5", new="perks: true", at="true", path="campaigns[0].perks",
         words=("valid integer", "true/false is not a number")),
    Case("steps_quoted", old="steps: 10", new="steps: '10'", at="'10'", path="steps",
         words=("valid integer", "without quotes")),
    Case("steps_decimal", old="steps: 10", new="steps: 10.0", at="10.0", path="steps",
         words=("valid integer",)),
    Case("disclosure_quoted_off", old="disclosure: true", new="disclosure: 'off'", at="'off'",
         path="campaigns[0].disclosure", words=("valid boolean",)),
    Case("threshold_true", old="threshold: 50", new="threshold: true", at="true}",
         path="campaigns[0].strategy.threshold", words=("valid number",)),
    Case("size_quoted", old="size: 200", new='size: "200"', at='"200"', path="population.size",
         words=("valid integer",)),
    Case("topics_set", old="topics: [sports, tech]", new="topics: !!set {sports, tech}",
         at="!!set", path="population.topics", words=NO_TAGS),
    Case("binary_tag", old="name: hardening", new="name: !!binary aGFyZGVuaW5n", at="!!binary",
         path="name", words=NO_TAGS),
    Case("timestamp_tag", old="steps: 10", new="steps: !!timestamp 2012-01-01", at="!!timestamp",
         path="steps", words=NO_TAGS),
    Case("omap_tag", old="score:\n", new="score: !!omap\n", at="!!omap", path="score",
         words=NO_TAGS),
    Case("python_tag", old="steps: 10", new="steps: !!python/object/apply:os.getpid []",
         at="!!python", path="steps", words=NO_TAGS),
    Case("local_tag", old="steps: 10", new="steps: !mine 10", at="!mine", path="steps",
         words=NO_TAGS),
    Case("float_tag_on_text", old="pout_kappa: 0.5", new="pout_kappa: !!float high", at="!!float",
         path="behaviour.pout_kappa", words=("not a plain number",)),
    Case("bool_tag_on_text", old="disclosure: true", new="disclosure: !!bool maybe",
         at="!!bool", path="campaigns[0].disclosure", words=("not a plain boolean",)),
    Case("int_tag_on_text", old="perks: 5", new="perks: !!int five", at="!!int",
         path="campaigns[0].perks", words=("not a plain integer",)),
    Case("long_value_is_cut", old="name: hardening", new="name: " + "x" * 5000, at="x" * 10,
         path="name", words=("…",), absent=("x" * 200,)),
    Case("field_path_too_deep", text=TEMPLATE + "variants:\n  deep: {" + ".".join(["a"] * 40)
         + ": 1}\n", at="a.a.a", words=("more than 32 parts",)),
    Case("too_many_sweep_values", text=TEMPLATE + "sweep: {grid: {seed: ["
         + ", ".join(map(str, range(1001))) + "]}}\n", at="{grid", path="sweep",
         words=("at most 1,000",)),
    # item 5: the memory guard, from the graph that will be built
    Case("balanced_tree_111_million_users", old="{kind: powerlaw_cluster, m: 3, p: 0.3}",
         new="{kind: balanced_tree, branching: 10, height: 8}", at="8}",
         path="population.graph.height", words=("111,111,111 users", "at most 20,000,000")),
    Case("balanced_tree_beyond_10_to_30", old="{kind: powerlaw_cluster, m: 3, p: 0.3}",
         new="{kind: balanced_tree, branching: 50, height: 20}", at="20}",
         path="population.graph.height", words=("more than 10^30 users",)),
    # 10^9 follow edges need ~130 GiB: refused on any machine this suite runs on
    Case("dense_erdos_renyi_one_million", text=_edit(_edit(
        TEMPLATE, "size: 200", "size: 1000000"), "{kind: powerlaw_cluster, m: 3, p: 0.3}",
        "{kind: erdos_renyi, mean_degree: 1000}"), at="1000}",
         path="population.graph.mean_degree", words=("a run would need", "at graph generation",
                                                     "1,000,000,000 follow edges")),
    # item 7 (and 3 of this work): edge lists
    Case("edge_list_proc_environ", setup=_edge_list_scenario("/proc/self/environ"),
         at="path: '", offset=6, path="population.graph.path", words=("/proc", "regular")),
    Case("edge_list_link_to_environ", setup=_edge_list_scenario(_link_to_environ),
         at="path: '", offset=6, path="population.graph.path", words=("/proc",)),
    Case("edge_list_etc_passwd", setup=_edge_list_scenario("../" * 40 + "etc/passwd"),
         at="path: '", offset=6, path="population.graph.path",
         words=("does not look like an edge list", "no content is shown"), absent=("root:",)),
    Case("edge_list_dev_zero", setup=_edge_list_scenario("/dev/zero"), at="path: '", offset=6,
         path="population.graph.path", words=("/dev",)),
    Case("edge_list_fifo", setup=_edge_list_scenario(_fifo), at="path: '", offset=6,
         path="population.graph.path", words=("not a regular file", "named pipe")),
    Case("edge_list_folder", setup=_edge_list_scenario(lambda folder: str(folder)),
         at="path: '", offset=6, path="population.graph.path", words=("folder",)),
    Case("edge_list_sys", setup=_edge_list_scenario(_system_file), at="path: '", offset=6,
         path="population.graph.path", words=("/sys",)),
    Case("edge_list_long_bad_line", setup=_edge_list_scenario(_long_bad_line),
         at="path: '", offset=6, path="population.graph.path", words=("long.txt:3", "…"),
         absent=("x" * 50,)),
    Case("edge_list_binary", setup=_edge_list_scenario(_binary), at="path: '", offset=6,
         path="population.graph.path", words=("binary",)),
    Case("edge_list_secret_first_line", setup=_edge_list_scenario(_secret_first_line),
         at="path: '", offset=6, path="population.graph.path", words=("no content is shown",)),
    Case("edge_list_ids_beyond_64_bits", setup=_edge_list_scenario(_ids_too_large),
         at="path: '", offset=6, path="population.graph.path", words=("below 2^63",)),
    # the scenario file itself
    Case("scenario_dev_zero", setup=_scenario_at("/dev/zero"), located="file", words=("/dev",)),
    Case("scenario_proc_environ", setup=_scenario_at("/proc/self/environ"), located="file",
         words=("/proc",)),
    Case("scenario_linked_to_environ", setup=_scenario_linked_to_environ, located="file",
         words=("/proc",)),
    Case("scenario_fifo", setup=_scenario_fifo, located="file", words=("named pipe",)),
    Case("scenario_too_large", setup=_scenario_too_large, located="file",
         words=("larger than 128 KiB",)),
    Case("extends_proc_environ", text="extends: /proc/self/environ\n" + TEMPLATE,
         at="/proc", path="extends", words=("/proc",)),
    Case("extends_dev_zero", text="extends: /dev/zero\n" + TEMPLATE, at="/dev", path="extends",
         words=("/dev",)),
    Case("long_key", text=TEMPLATE + "? " + "k" * 5000 + "\n: 1\n", at="k" * 10,
         words=("unknown key",), absent=("k" * 300,)),
    # overrides on the command line (run only: validate takes no --set)
    Case("set_alias_bomb", text=TEMPLATE, extra=("--set", "question=" + FLOW_BOMB), located="set",
         words=("more than 100,000 values",)),
    Case("set_tag", text=TEMPLATE, extra=("--set", "population.topics=!!set {sports, tech}"), located="set",
         words=NO_TAGS),
    Case("set_inf", text=TEMPLATE, extra=("--set", "behaviour.pout_kappa=.inf"), located="set", words=FINITE),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_refused_located_with_exit_2(perksim, tmp_path, case):
    folder = tmp_path / "in"
    folder.mkdir()
    file, text = case.scenario(folder)
    out = tmp_path / "out"
    commands = [["run", file, "--out", out, *case.extra]]
    if not case.extra:
        commands.insert(0, ["validate", file])
    for args in commands:
        try:
            result = perksim.invoke(args, cwd=tmp_path)
        except Hang as exc:
            pytest.fail(f"perksim {args[0]} {case.name}: {exc}")
        output = result["output"]
        assert result["traceback"] is None, result["traceback"]
        assert result["exit_code"] == 2, output
        for word in case.words:
            assert word in output, output
        for word in (SECRET, "root:x:", *case.absent):
            assert word not in output, f"leaked {word[:20]!r}…: {output[:500]}"
        assert "Traceback" not in output
        if case.located == "line":
            located = re.search(rf"{re.escape(str(file))}:(\d+):(\d+):( [^:]*:)? ", output)
            assert located, output
            if case.at is not None or case.new:
                line, column = _position(text, case.at or case.new)
                assert (int(located[1]), int(located[2])) == (line, column + case.offset), output
            if case.path is not None:
                assert located[3] == f" {case.path}:", output
        elif case.located == "file":
            assert f"{file}: " in output, output
        else:  # a --set: the message names the option and its value
            assert f"--set {case.extra[1][:20]}" in output, output
        assert not out.exists(), "nothing may be written for a refused input"


def test_the_template_itself_is_valid_and_runs(perksim, tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    result = perksim.invoke(["validate", path], cwd=tmp_path)
    assert result["exit_code"] == 0, result["output"]
    result = perksim.invoke(["run", path, "--out", tmp_path / "out"], cwd=tmp_path, timeout=60)
    assert result["exit_code"] == 0, result["output"]


def test_a_dataset_with_a_huge_population_size_is_legitimate(perksim, tmp_path):
    """item 5: a dataset fixes its own size, so ``population.size`` is ignored, not refused."""
    path = tmp_path / "dataset.yaml"
    path.write_text(_edit(_edit(TEMPLATE, "size: 200", "size: 1000000000000"),
                          "{kind: powerlaw_cluster, m: 3, p: 0.3}",
                          "{kind: dataset, name: ego_facebook}"), encoding="utf-8")
    result = perksim.invoke(["validate", path], cwd=tmp_path)
    assert result["exit_code"] == 0 and result["traceback"] is None, result["output"]


def test_validate_checks_every_file_even_when_some_are_hostile(perksim, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(TEMPLATE, encoding="utf-8")
    hostile = []
    for name, text in [("bomb", bomb(9) + TEMPLATE), ("recursive", TEMPLATE + "x: &a [*a]\n"),
                       ("deep", "name: d\nsteps: " + "[" * 1000 + "]" * 1000 + "\n"),
                       ("tag", TEMPLATE.replace("steps: 10", "steps: !!binary aGk="))]:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        hostile.append(path)
    result = perksim.invoke(["validate", good, *hostile, "/dev/zero", good], cwd=tmp_path)
    assert result["exit_code"] == 2 and result["traceback"] is None
    output = result["output"]
    assert output.count(f"ok: {good}") == 2
    for path in [*hostile, "/dev/zero"]:
        assert f"invalid: {path} (1 problem)" in output, output


@pytest.mark.parametrize(("command", "option", "value", "bound"), [
    ("run", "--replicates", "100001", "1<=x<=100000"),
    ("run", "--replicates", "0", "1<=x<=100000"),
    ("run", "--replicate", "100000", "0<=x<=99999"),
    ("run", "--steps", "100001", "1<=x<=100000"),
    ("run", "--seed", str(2**63), f"0<=x<={2**63 - 1}"),
    ("compare", "--replicates", "1000000", "1<=x<=100000"),
    ("compare", "--workers", "100000", "1<=x<=1024"),
    ("sweep", "--replicates", "100001", "1<=x<=100000"),
    ("sweep", "--steps", "0", "1<=x<=100000"),
])
def test_numeric_options_are_bounded_like_the_scenario_fields(perksim, tmp_path, command, option,
                                                            value, bound):
    path = tmp_path / "ok.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    out = tmp_path / "out"
    result = perksim.invoke([command, path, option, value, "--out", out], cwd=tmp_path)
    assert result["exit_code"] == 2 and result["traceback"] is None
    assert f"'{option}'" in result["output"] and bound in result["output"], result["output"]
    assert not out.exists()


def test_scenario_cli_bounds_are_the_scenario_fields_bounds():
    from simulator import cli

    def bounds(command: str, name: str) -> tuple[Any, Any]:
        param = next(p for p in cli.cli.commands[command].params if p.name == name)
        return param.type.min, param.type.max

    fields = _numeric_fields()
    for command in ("run", "compare", "sweep"):
        for name in ("replicates", "steps", "seed"):
            limits = fields[name][1]
            assert bounds(command, name) == (limits["ge"], limits["le"]), (command, name)


# --- relative edge-list paths ---------------------------------------------------------------


def test_relative_edge_list_paths_are_relative_to_the_scenario_file_everywhere(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a.txt").write_text("0 1\n1 2\n2 0\n")
    (folder / "b.txt").write_text("0 1\n1 2\n2 3\n")
    text = _edit(TEMPLATE, "{kind: powerlaw_cluster, m: 3, p: 0.3}", "{kind: edgelist, path: a.txt}")
    text += ("variants:\n  other: {population.graph.path: b.txt}\n"
             "  whole: {population.graph: {kind: edgelist, path: b.txt}}\n"
             "sweep: {grid: {population.graph.path: [a.txt, b.txt]}}\n")
    path = folder / "s.yaml"
    path.write_text(text, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cwd = Path.cwd()
    try:
        os.chdir(elsewhere)  # relative to the file, not to where perksim runs
        sc = load_scenario(path)
        assert Path(sc.population.graph.path) == folder / "a.txt"
        for name in ("other", "whole"):
            assert Path(make_variant(sc, name).population.graph.path) == folder / "b.txt"
        assert sc.sweep.grid["population.graph.path"] == [str(folder / "a.txt"), str(folder / "b.txt")]
    finally:
        os.chdir(cwd)


# --- the documented ranges are the code's --------------------------------------------------------

SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
NUM = r"−?[\d,.]+(?:[⁰¹²³⁴⁵⁶⁷⁸⁹]+)?"


def _number(text: str) -> int | float:
    """``1,000`` → 1000; ``0.001``; ``10¹²`` → 10**12; ``−2⁶³`` → -2**63."""
    text = text.strip().replace(",", "").replace("−", "-")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("-")
    if m := re.fullmatch(r"(\d+)([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", text):
        return sign * int(m[1]) ** int(m[2].translate(SUPERSCRIPT))
    return sign * (int(text) if text.isdigit() else float(text))


def documented_range(cell: str) -> tuple[Any, bool, Any, bool] | None:
    """(low, low inclusive, high, high inclusive) of a range cell's first clause, if it is a
    range: ``[a, b]`` and the like, ``a–b`` (integers), ``a ≤ name < b``, ``≥ a``, ``> a``."""
    first = cell.split(";")[0].strip()
    if m := re.fullmatch(rf"([\[(])({NUM}), ({NUM})([\])])", first):
        return _number(m[2]), m[1] == "[", _number(m[3]), m[4] == "]"
    if m := re.fullmatch(rf"({NUM})–({NUM})", first):
        return _number(m[1]), True, _number(m[2]), True
    if m := re.fullmatch(rf"({NUM}) ≤ \w+ < ({NUM})(?: \(.*\))?", first):
        return _number(m[1]), True, _number(m[2]), False
    if m := re.fullmatch(rf"([≥>]) ({NUM})", first):
        return _number(m[2]), m[1] == "≥", None, False
    return None


def _bounds(metadata: Any) -> dict[str, Any]:
    """ge/gt/le/lt found in a field's metadata (also inside nested ``Field(...)``s)."""
    out: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, (Ge, Gt, Le, Lt)):
            key = type(item).__name__.lower()
            out[key] = getattr(item, key)
        elif hasattr(item, "metadata"):
            out.update(_bounds(item.metadata))
    return out


def _numeric(fld: Any) -> tuple[type, dict[str, Any]] | None:
    """(int or float, bounds) of a number field — plain, optional or a list of numbers."""
    tp, metadata = fld.annotation, list(fld.metadata)
    args = [a for a in getattr(tp, "__args__", ()) if a is not type(None)]
    if getattr(tp, "__origin__", None) is list or (len(args) == 1 and tp not in (int, float)):
        tp = args[0]  # list[X] or X | None
    if hasattr(tp, "__metadata__"):  # Annotated[X, Field(...)]
        metadata += list(tp.__metadata__)
        tp = tp.__origin__
    if tp not in (int, float):
        return None
    return tp, _bounds(metadata)


def _numeric_fields() -> dict[str, tuple[type, dict[str, Any]]]:
    """Every number field, named as the tables of docs/reference/scenario.md name it."""
    prefixes = {"": S.Scenario, "population.": S.Population,
                "population.archetypes.NAME.": S.Archetype, "score.": S.Score,
                "score.weights.": S.ScoreWeights, "score.calibration.": S.ScoreCalibration,
                "behaviour.": S.Behaviour, "processes.": S.Processes, "campaigns[i].": S.Campaign,
                "campaigns[i].perk_cost.": S.PerkCost, "sweep.": S.Sweep}
    fields = {p + n: f for p, m in prefixes.items() for n, f in m.model_fields.items()}
    for g in (S.BarabasiAlbert, S.PowerlawCluster, S.WattsStrogatz, S.ErdosRenyi, S.StochasticBlock,
              S.BalancedTree, S.EdgeList, S.Dataset):
        kind = g.model_fields["kind"].annotation.__args__[0]
        fields.update({f"{kind}:{n}": f for n, f in g.model_fields.items() if n != "kind"})
    for kind, cls in registry().items():
        fields.update({f"{kind}:{n}": f for n, f in cls.Params.model_fields.items() if n != "kind"})
    return {path: num for path, fld in fields.items() if (num := _numeric(fld)) is not None}


def _inclusive(tp: type, value: Any, inclusive: bool, step: int) -> tuple[Any, bool]:
    """An integer bound as an inclusive one (``< 2⁶³`` is ``≤ 2⁶³ − 1``)."""
    if tp is int and value is not None and not inclusive:
        return int(value) + step, True
    return value, inclusive


def test_documented_ranges_match_the_schema():
    """Every number field's range in docs/reference/scenario.md is its pydantic constraint."""
    text = (REPO / "docs" / "reference" / "scenario.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([\w.\[\]]+)` \| [^|]+ \| [^|]+ \| ([^|]*?) \|", text, re.M))
    rows.update({f"{k}:{n}": r for k, n, r in
                 re.findall(r"^\| `(\w+)` \| `(\w+)` \| [^|]+ \| [^|]+ \| ([^|]*?) \|", text, re.M)})
    fields = _numeric_fields()
    assert len(fields) >= 60, len(fields)
    for path, (tp, bounds) in fields.items():
        documented = documented_range(rows[path])
        assert documented is not None, f"{path}: no range documented ({rows[path]!r})"
        low, low_in, high, high_in = documented
        want_low = (bounds.get("ge", bounds.get("gt")), "ge" in bounds)
        want_high = (bounds.get("le", bounds.get("lt")), "le" in bounds)
        assert _inclusive(tp, low, low_in, 1) == _inclusive(tp, *want_low, 1), \
            f"{path}: documented {rows[path]!r}, code {bounds}"
        assert _inclusive(tp, high, high_in, -1) == _inclusive(tp, *want_high, -1), \
            f"{path}: documented {rows[path]!r}, code {bounds}"


def test_every_number_field_has_an_upper_bound():
    """No unbounded number field (nor infinities, by the models' config): runs stay finite."""
    unbounded = [path for path, (_, bounds) in _numeric_fields().items()
                 if "le" not in bounds and "lt" not in bounds]
    assert unbounded == []
    models = [S.Scenario, S.Population, S.Archetype, S.Score, S.ScoreWeights, S.ScoreCalibration,
              S.Behaviour, S.Processes, S.Campaign, S.PerkCost, S.Sweep, S.Claim, S.ErdosRenyi,
              *(cls.Params for cls in registry().values())]
    for model in models:
        assert model.model_config.get("allow_inf_nan") is False, model
        assert model.model_config.get("strict") is True, model


def _extreme(high: bool) -> dict[str, Any]:
    """A scenario with every rate, strength, weight and cost at its upper (or lower) bound."""
    top = {"share": 0.5, "post_rate": 1000.0 if high else 0.0, "quality": 1.0,
           "topic_spread": 1e4 if high else 1e-300, "susceptibility": 1.0, "gaming": 1.0}
    return {
        "name": "extreme", "steps": 30, "seed": 3,
        "score": {"warmup": 5, "window": 365 if high else 1,
                  "weights": {k: 1000.0 if high else 0.0
                              for k in ("activity", "reach", "amplification", "network")}},
        "population": {
            "size": 300, "trait_concentration": 1e4 if high else 1e-3,
            "graph": {"kind": "erdos_renyi", "mean_degree": 1000.0 if high else 1e-9},
            "homophily": 1.0, "homophily_passes": 50 if high else 0, "pout_sensitivity": 1.0,
            "archetypes": {"a": top, "b": {**top, "quality": 0.0, "susceptibility": 0.0}}},
        "behaviour": {
            "attention_beta": 2.0 if high else 0.0, "exclusivity_boost": 100.0 if high else 0.0,
            "pout_kappa": 1000.0 if high else 0.0, "closeness_scale": 100.0 if high else 1e-300,
            "gaming_post_boost": 100.0 if high else 0.0, "gaming_reciprocity": 100.0 if high else 0.0,
            "gaming_max_rate_factor": 100.0 if high else 1.0, "publicity": 1.0, "brand_talk": 1.0,
            "base_negative": 1.0, "exclusivity_pout": 1.0 if high else -1.0,
            "fan_quantile": 1.0 if high else 1e-300},
        "campaigns": [
            {"brand": "b", "topic": {"sports": 1e6 if high else 1e-300, "tech": 1e6}, "perks": 50,
             "perk_cost": {"fixed": 1e12, "per_follower": 1e12}, "start": 1, "waves": 1000,
             "wave_every": 1, "exclusivity": 1.0, "strategy": {"kind": "score_threshold", "threshold": 1.0}},
            {"brand": "c", "topic": "sports", "start": 0, "wave_every": 100_000,
             "strategy": {"kind": "outreach", "contacts": 100_000, "contact_cost": 1e12}}],
    }


@pytest.mark.parametrize("high", [True, False], ids=["upper_bounds", "lower_bounds"])
def test_every_rate_and_cost_at_its_bound_runs_with_finite_metrics(high):
    """The bounds are chosen so that a run stays finite: no 'lam value too large', no inf cost."""
    import numpy as np

    from simulator import PerkCampaignModel, scenario_from_text

    scenario = scenario_from_text(yaml.safe_dump(_extreme(high)))
    model = PerkCampaignModel(scenario, rng=0)
    model.run()
    summary = model.summary().select_dtypes("number")
    assert not np.isinf(summary.to_numpy(dtype=float)).any(), summary.T


# --- fuzzing the bundled scenario files ----------------------------------------------------------

SOURCES = [*sorted((REPO / "scenarios").glob("*.yaml")), REPO / "scenarios" / "base" / "city.yaml"]
NUMBERS = [".inf", "-.inf", ".nan", "1.0e300", "-1.0e300", "1e308", "1e400", "1.0e-300", "0", "-1",
           "1", "1000", "100000", str(2**63), "1" + "0" * 30, "-0.0", "0.5", "1e12", "10000"]
SWAPS = ["true", "false", "'10'", "'off'", "null", "[1, 2]", "{a: 1}", "''", "yes", "1e3",
         "2012-01-01", "=", "~"]
TAGS = ["!!binary aGk=", "!!set {a, b}", "!!timestamp 2001-12-14", "!!omap [{a: 1}]",
        "!!python/name:os.getpid", "!!float abc", "!!int 1.5", "!!str 10", "!!bool yes", "!x 1"]


@dataclass
class Mutant:
    source: Path
    text: str
    changes: list[str] = field(default_factory=list)


def _scalars(text: str) -> list[yaml.ScalarNode]:
    """The one-line value scalars of a document (not keys), in order."""
    out: list[yaml.ScalarNode] = []

    def walk(node: yaml.Node) -> None:
        if isinstance(node, yaml.ScalarNode):
            out.append(node)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)
        elif isinstance(node, yaml.MappingNode):
            for _, value in node.value:
                walk(value)

    walk(yaml.compose(text, Loader=yaml.SafeLoader))
    return [n for n in out if n.start_mark.line == n.end_mark.line]


def _is_number(node: yaml.ScalarNode) -> bool:
    return node.tag.endswith((":int", ":float"))


def mutate(source: Path, rng: random.Random) -> Mutant:
    """A bundled scenario with one or two of its values replaced by hostile or extreme ones:
    numbers mostly (non-finite, huge, tiny, or extreme but valid), type swaps, odd tags, an
    anchor reused by an alias, deep nesting, an alias bomb, a recursive alias."""
    text = source.read_text(encoding="utf-8")
    nodes = _scalars(text)
    numbers = [n for n in nodes if _is_number(n)]
    edits: dict[int, tuple[int, str, str]] = {}  # start → (end, replacement, what)
    for i in range(rng.randint(1, 2)):
        kind = rng.choice(["number"] * 6 + ["swap", "tag", "alias", "nest", "bomb", "recursive"])
        node = rng.choice(numbers if kind in ("number", "swap", "alias") else nodes)
        start, end = node.start_mark.index, node.end_mark.index
        if start in edits:
            continue
        old = text[start:end]
        if kind == "number":
            new = rng.choice(NUMBERS)
        elif kind == "swap":
            new = rng.choice(SWAPS)
        elif kind == "tag":
            new = rng.choice(TAGS)
        elif kind == "alias":  # anchor this value; an equal value elsewhere becomes an alias
            new = f"&keep{i} {old}"
            twins = [n for n in nodes if text[n.start_mark.index:n.end_mark.index] == old
                     and n.start_mark.index > end and n.start_mark.index not in edits]
            if twins:
                twin = rng.choice(twins)
                edits[twin.start_mark.index] = (twin.end_mark.index, f"*keep{i}", "alias use")
        elif kind == "nest":
            depth = rng.choice([5, 31, 33, 200, 5000])
            new = "[" * depth + "1" + "]" * depth
        elif kind == "bomb":
            levels = rng.randint(3, 9)
            new = f"[&b{i}_0 [x, x, x, x, x, x, x, x, x], " + ", ".join(
                f"&b{i}_{j} [{', '.join([f'*b{i}_{j - 1}'] * 9)}]" for j in range(1, levels)) + "]"
        else:
            new = f"&r{i} [1, *r{i}]"
        edits[start] = (end, new, kind)
    changes = []
    for start in sorted(edits, reverse=True):
        end, new, kind = edits[start]
        changes.append(f"{kind}: {text[start:end]!r} → {new[:40]!r}")
        text = text[:start] + new + text[end:]
    return Mutant(source, text, changes)


def mutants(count: int, seed: int = 2012) -> list[Mutant]:
    rng = random.Random(seed)
    return [mutate(rng.choice(SOURCES), rng) for _ in range(count)]


def _write(mutant: Mutant, folder: Path, i: int) -> Path:
    """Beside a copy of its source (``extends: base/city.yaml`` must resolve)."""
    rel = mutant.source.relative_to(REPO / "scenarios")
    path = folder / rel.parent / f"mutant_{i:03d}.yaml"
    path.write_text(mutant.text, encoding="utf-8")
    return path


@pytest.fixture
def scenario_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios", folder)
    return folder


FUZZ_VALIDATE = 120  # mutants, validated ten per `perksim validate`
FUZZ_RUN = 8  # of those that validate, run at a small size


def test_fuzzed_bundled_scenarios_never_crash_hang_or_leave_a_problem_unlocated(perksim, tmp_path,
                                                                               scenario_copy):
    all_mutants = mutants(FUZZ_VALIDATE)
    paths = [_write(m, scenario_copy, i) for i, m in enumerate(all_mutants)]
    valid: list[tuple[Path, Mutant]] = []
    for start in range(0, len(paths), 10):
        batch = paths[start:start + 10]
        try:
            result = perksim.invoke(["validate", *batch], cwd=tmp_path, timeout=3 * TIMEOUT)
        except Hang:
            pytest.fail("validate hung on: " + "; ".join(
                f"{p.name}: {all_mutants[paths.index(p)].changes}" for p in batch))
        assert result["traceback"] is None, result["traceback"]
        assert result["exit_code"] in (0, 2), result["output"]
        output = result["output"]
        for path in batch:
            mutant = all_mutants[paths.index(path)]
            assert f"ok: {path}" in output or f"invalid: {path}" in output, (mutant.changes, output)
            if f"ok: {path}" in output:
                valid.append((path, mutant))
        for line in output.splitlines():
            if line.startswith(("ok: ", "invalid: ")):
                continue
            # every problem names its file (the mutant, or the base it extends), with a line
            # and column unless the problem is about the file as a whole
            assert re.match(r"(/\S+\.yaml)(:\d+:\d+)?: ", line), line
    assert len(valid) >= FUZZ_RUN, f"only {len(valid)} mutants validate"
    small = ["population.size=100", "steps=20", "score.warmup=3"]
    for path, mutant in valid[:FUZZ_RUN]:
        try:
            result = perksim.simulate(path, small, timeout=3 * TIMEOUT)
        except Hang:
            pytest.fail(f"the run hung on {path.name}: {mutant.changes}")
        assert result["traceback"] is None, (mutant.changes, result["traceback"])
        assert result["exit_code"] in (0, 2), (mutant.changes, result["output"])
        assert "infinite" not in result["output"], (mutant.changes, result["output"])


def test_the_fuzzer_makes_every_kind_of_mutation():
    kinds = {change.split(":")[0] for m in mutants(FUZZ_VALIDATE) for change in m.changes}
    assert kinds == {"number", "swap", "tag", "alias", "alias use", "nest", "bomb", "recursive"}
