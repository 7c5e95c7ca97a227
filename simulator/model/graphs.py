"""The follows graph: seeded generators (networkx) and edge-list loaders → CSR adjacency.

Convention (docs/model.md §2): ``followers[i, j] == 1`` when user ``j`` follows user ``i``
(``j`` sees ``i``'s posts). An undirected friendship is a mutual follow.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import stat
import zlib
from array import array
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from simulator.model import generators

DATASETS = {
    # name: (file in simulator/data, citation)
    "ego_facebook": (
        "facebook_combined.txt.gz",
        "SNAP ego-Facebook (McAuley & Leskovec, NIPS 2012): 4,039 users, 88,234 friendships",
    ),
    "ca_hepth": (
        "ca-hepth.txt.gz",
        "SNAP ca-HepTh (Leskovec, Kleinberg & Faloutsos, TKDD 2007): 9,877 authors, "
        "25,998 co-authorships",
    ),
}


# Bounds of an edge list (docs/reference/scenario.md, "Edge-list files")
MAX_EDGES = 10_000_000  # edge lines: 2,000,000 users (simulator.scenario.schema.MAX_USERS) × mean degree 10
MAX_LINE_CHARS = 4_096  # characters of one line
MAX_TEXT_CHARS = 2**30  # characters of the whole (decompressed) file
MAX_ID = 2**63 - 1  # user ids are non-negative 64-bit integers
EXCERPT_CHARS = 40  # characters of a bad line quoted in a message
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")  # files there are not data (and may be secrets)
# graphs this small get a network picture: the runs keep their follows (edges.csv) and the
# figures draw them (the layout of larger graphs would take minutes and show nothing)
NETWORK_MAX_USERS = 3000


class EdgeListError(ValueError):
    """An edge-list file cannot be read; the message names the file and line.

    Messages quote file contents only as a short, escaped excerpt of the offending line, and
    only of a file that looks like an edge list (an earlier line was a valid edge).
    """

    def __init__(self, file: str, line: int | None, message: str, missing: bool = False):
        self.file, self.line, self.missing = file, line, missing
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


def special_file_reason(path: str | Path) -> str | None:
    """Why ``path`` is not a data file one may read (a folder, device, FIFO, socket, or a file
    under /proc, /sys or /dev), or None — also None if it does not exist (reported elsewhere).

    Both the path as written and the file it links to are checked.
    """
    p = Path(path).expanduser()
    seen = [Path(os.path.normpath(os.path.abspath(p)))]
    try:
        seen.append(p.resolve())
    except (OSError, RuntimeError):
        pass
    for where in seen:
        for folder in SYSTEM_FOLDERS:
            if where == Path(folder) or Path(folder) in where.parents:
                return f"{where} is under {folder}, which holds system files, not data"
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot use this path: {exc.strerror or exc}"
    return None if stat.S_ISREG(mode) else f"not a regular file (a {_file_kind(mode)})"


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "folder"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "named pipe"),
                       (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def excerpt(text: str) -> str:
    """A short, escaped excerpt of a line for a message: ``'0 x 1'``, ``'a very lon…'``."""
    cut = text[:EXCERPT_CHARS]
    return repr(cut) + ("…" if len(text) > EXCERPT_CHARS else "")


@dataclass
class Graph:
    """A follows graph as sparse matrices (rows are authors, columns their followers)."""

    followers: sp.csr_array
    description: str

    def __post_init__(self) -> None:
        self.follows: sp.csr_array = self.followers.T.tocsr()  # row j: whom j follows
        self.followers_count = np.asarray(self.followers.sum(axis=1)).ravel().astype(np.int64)

    @property
    def n(self) -> int:
        """The number of users."""
        return self.followers.shape[0]

    @property
    def edges(self) -> int:
        """The number of follow edges (a friendship counts twice)."""
        return int(self.followers.nnz)

    def neighbours(self) -> sp.csr_array:
        """Symmetric 0/1 adjacency: users connected either way."""
        sym = (self.followers + self.follows).tocsr()
        sym.data[:] = 1.0
        return sym


def from_edges(src: np.ndarray, dst: np.ndarray, n: int, directed: bool, description: str) -> Graph:
    """Build a :class:`Graph` from edge arrays; ``src`` follows ``dst`` when directed.

    Self-loops and repeated edges are dropped.
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if not directed:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    # followers[author, follower]: dst is followed by src
    mat = sp.coo_array((np.ones(src.size), (dst, src)), shape=(n, n)).tocsr()
    mat.sum_duplicates()
    mat.data[:] = 1.0
    mat.sort_indices()
    return Graph(mat, description)


def generate(spec: Any, size: int, rng: np.random.Generator) -> Graph:
    """Generate the graph described by ``spec`` from a seed drawn from ``rng``.

    The generators (:mod:`simulator.model.generators`) are vectorised numpy driven by a
    generator seeded from the run's, so graphs are reproducible across runs and executors and
    no global random state is touched.
    """
    seed = int(rng.integers(2**31 - 1))
    draw = np.random.default_rng(seed)
    kind = spec.kind
    if kind == "barabasi_albert":
        src, dst = generators.preferential_attachment(size, spec.m, 0.0, draw, "star")
        desc = f"Barabási–Albert (n={size}, m={spec.m})"
    elif kind == "powerlaw_cluster":
        src, dst = generators.preferential_attachment(size, spec.m, spec.p, draw, "isolated")
        desc = f"Holme–Kim power-law cluster (n={size}, m={spec.m}, p={spec.p})"
    elif kind == "watts_strogatz":
        src, dst = generators.watts_strogatz(size, spec.k, spec.p, draw)
        desc = f"Watts–Strogatz (n={size}, k={spec.k}, p={spec.p})"
    elif kind == "erdos_renyi":
        p = min(1.0, spec.mean_degree / max(size - 1, 1))
        src, dst = generators.erdos_renyi(size, p, draw)
        desc = f"Erdős–Rényi (n={size}, mean degree {spec.mean_degree})"
    elif kind == "stochastic_block":
        blocks = min(spec.blocks, size)
        sizes = [size // blocks + (1 if b < size % blocks else 0) for b in range(blocks)]
        s = sizes[0]
        within = min(1.0, (1 - spec.mixing) * spec.mean_degree / max(s - 1, 1))
        between = min(1.0, spec.mixing * spec.mean_degree / max(size - s, 1)) if blocks > 1 else 0.0
        src, dst = generators.stochastic_block(sizes, within, between, draw)
        desc = (f"stochastic block model (n={size}, {blocks} blocks, mean degree "
                f"{spec.mean_degree}, mixing {spec.mixing})")
    elif kind == "balanced_tree":
        src, dst = generators.balanced_tree(spec.branching, spec.height)
        size = graph_size(spec, size) or size
        desc = f"balanced tree (branching {spec.branching}, height {spec.height})"
    elif kind == "edgelist":
        return read_edgelist(spec.path, directed=spec.directed)
    elif kind == "dataset":
        return load_dataset(spec.name)
    else:  # pragma: no cover - the scenario schema admits only the kinds above
        raise ValueError(f"unknown graph kind {kind!r}")
    return from_edges(src, dst, size, directed=False, description=desc)


def graph_size(spec: Any, size: int) -> int | None:
    """The number of users a graph spec implies, if the spec fixes it (trees)."""
    if spec.kind == "balanced_tree":
        b, h = spec.branching, spec.height
        return h + 1 if b == 1 else (b ** (h + 1) - 1) // (b - 1)
    if spec.kind in ("edgelist", "dataset"):
        return None
    return size


def _open_text(path: Path) -> io.TextIOBase:
    """Open a regular file as text, gunzipping it if it starts with the gzip magic bytes.

    Opened without blocking (a named pipe must not hang the reader) and checked after the
    open, so a path swapped for a device in between is refused too.
    """
    reason = special_file_reason(path)
    if reason:
        raise EdgeListError(str(path), None, f"{reason}; an edge list is a regular text file")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    raw = os.fdopen(fd, "rb")
    try:
        if not stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
            raise EdgeListError(str(path), None, "not a regular file; an edge list is a regular "
                                                 "text file")
        magic = raw.read(2)
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if magic == b"\x1f\x8b" else raw
        return io.TextIOWrapper(stream, encoding="utf-8", errors="replace")  # type: ignore[arg-type]
    except BaseException:
        raw.close()
        raise


def read_edgelist(path: str | Path, directed: bool = False, description: str | None = None) -> Graph:
    """Read an edge list (cached by path, size and modification time; see ``_read_edgelist``)."""
    p = Path(path)
    reason = special_file_reason(p)
    if reason:
        raise EdgeListError(str(p), None, f"{reason}; an edge list is a regular text file")
    try:
        st = p.stat()
    except OSError:
        return _read_edgelist(p, directed, description)
    return _cached_edgelist(str(p.resolve()), st.st_size, st.st_mtime_ns, directed, description)


@functools.lru_cache(maxsize=8)
def _cached_edgelist(path: str, size: int, mtime: int, directed: bool,
                     description: str | None) -> Graph:
    return _read_edgelist(Path(path), directed, description)


def _read_edgelist(path: Path, directed: bool = False, description: str | None = None) -> Graph:
    """Read a ``u v`` edge list (``#``/``%`` comments, blank lines ignored; plain or gzip).

    Labels may be any non-negative integers below 2⁶³; they are renumbered 0…n-1 in sorted
    order. Raises :class:`EdgeListError` naming the file and line of the first bad line; a bad
    line is quoted (a short, escaped excerpt) only when an earlier line was a valid edge, so
    that naming some other file (``/etc/passwd``) never prints its contents.
    """
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise EdgeListError(file, None, "file not found", missing=True)
    src = array("q")
    dst = array("q")
    chars = 0
    try:
        with _open_text(path) as fh:
            lineno = 0
            while line := fh.readline(MAX_LINE_CHARS + 2):
                lineno += 1
                chars += len(line)
                problem = _edge_line(line, src, dst)
                if problem is None:
                    pass
                elif not src:
                    raise EdgeListError(file, lineno, f"{problem[0]}; this does not look like an "
                                                      "edge list ('u v' lines), so no content is shown")
                else:
                    raise EdgeListError(file, lineno, problem[0] + problem[1])
                if len(src) > MAX_EDGES:
                    raise EdgeListError(file, lineno, f"more than {MAX_EDGES:,} edges")
                if chars > MAX_TEXT_CHARS:
                    raise EdgeListError(file, lineno, f"more than {MAX_TEXT_CHARS // 2**20:,} MiB "
                                                      "of text")
    except (OSError, EOFError, zlib.error) as exc:
        raise EdgeListError(file, None, f"cannot read the file: {exc}") from None
    if not src:
        raise EdgeListError(file, None, "no edges found (expected lines of 'u v')")
    src_a, dst_a = np.frombuffer(src, dtype=np.int64), np.frombuffer(dst, dtype=np.int64)
    labels, inverse = np.unique(np.concatenate([src_a, dst_a]), return_inverse=True)
    m = src_a.size
    desc = description or f"edge list {path.name} ({labels.size} users, {m} edges)"
    return from_edges(inverse[:m], inverse[m:], labels.size, directed, desc)


def _edge_line(line: str, src: array, dst: array) -> tuple[str, str] | None:
    """Parse one line into ``src``/``dst``; a problem is (what is wrong, the quoted excerpt)."""
    if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
        return f"line longer than {MAX_LINE_CHARS:,} characters", ""
    text = line.strip()
    if not text or text[0] in "#%":
        return None
    if "\x00" in text or "\ufffd" in text:
        return "binary or non-UTF-8 content", ""
    parts = text.replace(",", " ").split()
    if len(parts) < 2:
        return "expected two user ids 'u v'", f", got {excerpt(text)}"
    try:
        u, v = int(parts[0]), int(parts[1])
    except ValueError:
        return "user ids must be non-negative integers", f", got {excerpt(text)}"
    if u < 0 or v < 0:
        return "user ids must be non-negative", f", got {excerpt(text)}"
    if u > MAX_ID or v > MAX_ID:
        return "user ids must be below 2^63", f", got {excerpt(text)}"
    src.append(u)
    dst.append(v)
    return None


def dataset_path(name: str) -> Path:
    """Path of a bundled dataset file (see ``DATASETS``)."""
    file, _ = DATASETS[name]
    return Path(str(resources.files("simulator") / "data" / file))


def load_dataset(name: str) -> Graph:
    """Load a real social graph shipped with the package."""
    _, citation = DATASETS[name]
    return read_edgelist(dataset_path(name), directed=False, description=citation)
