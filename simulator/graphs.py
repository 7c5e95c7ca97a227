"""The follows graph: seeded generators (networkx) and edge-list loaders → CSR adjacency.

Convention (docs/model.md §2): ``followers[i, j] == 1`` when user ``j`` follows user ``i``
(``j`` sees ``i``'s posts). An undirected friendship is a mutual follow.
"""

from __future__ import annotations

import functools
import gzip
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

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


class EdgeListError(ValueError):
    """An edge-list file cannot be read; the message names the file and line."""

    def __init__(self, file: str, line: int | None, message: str):
        self.file, self.line = file, line
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


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
        return self.followers.shape[0]

    @property
    def edges(self) -> int:
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


def _nx_edges(g: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    arr = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def generate(spec: Any, size: int, rng: np.random.Generator) -> Graph:
    """Generate the graph described by ``spec`` with a seed drawn from ``rng``.

    networkx takes an integer seed (its own local ``random.Random``), drawn from the run's
    generator, so graphs are reproducible and no global random state is touched.
    """
    seed = int(rng.integers(2**31 - 1))
    kind = spec.kind
    if kind == "barabasi_albert":
        g = nx.barabasi_albert_graph(size, min(spec.m, size - 1), seed=seed)
        desc = f"Barabási–Albert (n={size}, m={spec.m})"
    elif kind == "powerlaw_cluster":
        g = nx.powerlaw_cluster_graph(size, min(spec.m, size - 1), spec.p, seed=seed)
        desc = f"Holme–Kim power-law cluster (n={size}, m={spec.m}, p={spec.p})"
    elif kind == "watts_strogatz":
        g = nx.watts_strogatz_graph(size, min(spec.k, size - 1), spec.p, seed=seed)
        desc = f"Watts–Strogatz (n={size}, k={spec.k}, p={spec.p})"
    elif kind == "erdos_renyi":
        p = min(1.0, spec.mean_degree / max(size - 1, 1))
        g = nx.fast_gnp_random_graph(size, p, seed=seed)
        desc = f"Erdős–Rényi (n={size}, mean degree {spec.mean_degree})"
    elif kind == "stochastic_block":
        blocks = min(spec.blocks, size)
        sizes = [size // blocks + (1 if b < size % blocks else 0) for b in range(blocks)]
        s = sizes[0]
        within = (1 - spec.mixing) * spec.mean_degree / max(s - 1, 1)
        between = spec.mixing * spec.mean_degree / max(size - s, 1) if blocks > 1 else 0.0
        probs = [[min(1.0, within if a == b else between) for b in range(blocks)]
                 for a in range(blocks)]
        g = nx.stochastic_block_model(sizes, probs, seed=seed, sparse=True)
        desc = (f"stochastic block model (n={size}, {blocks} blocks, mean degree "
                f"{spec.mean_degree}, mixing {spec.mixing})")
    elif kind == "balanced_tree":
        g = nx.balanced_tree(spec.branching, spec.height)
        desc = f"balanced tree (branching {spec.branching}, height {spec.height})"
    elif kind == "edgelist":
        return read_edgelist(spec.path, directed=spec.directed)
    elif kind == "dataset":
        return load_dataset(spec.name)
    else:  # pragma: no cover - the scenario schema admits only the kinds above
        raise ValueError(f"unknown graph kind {kind!r}")
    src, dst = _nx_edges(g)
    return from_edges(src, dst, g.number_of_nodes(), directed=False, description=desc)


def graph_size(spec: Any, size: int) -> int | None:
    """The number of users a graph spec implies, if the spec fixes it (trees)."""
    if spec.kind == "balanced_tree":
        b, h = spec.branching, spec.height
        return h + 1 if b == 1 else (b ** (h + 1) - 1) // (b - 1)
    if spec.kind in ("edgelist", "dataset"):
        return None
    return size


def _open_text(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_edgelist(path: str | Path, directed: bool = False, description: str | None = None) -> Graph:
    """Read an edge list (cached by path, size and modification time; see ``_read_edgelist``)."""
    p = Path(path)
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

    Labels may be any non-negative integers; they are renumbered 0…n-1 in sorted order.
    Raises :class:`EdgeListError` naming the file and line of the first bad line.
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise EdgeListError(file, None, "file not found")
    src: list[int] = []
    dst: list[int] = []
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, start=1):
                text = line.strip()
                if not text or text[0] in "#%":
                    continue
                parts = text.replace(",", " ").split()
                if len(parts) < 2:
                    raise EdgeListError(file, lineno, f"expected two user ids 'u v', got {text!r}")
                try:
                    u, v = int(parts[0]), int(parts[1])
                except ValueError:
                    raise EdgeListError(
                        file, lineno, f"user ids must be non-negative integers, got {text!r}"
                    ) from None
                if u < 0 or v < 0:
                    raise EdgeListError(file, lineno, f"user ids must be non-negative, got {text!r}")
                src.append(u)
                dst.append(v)
    except (OSError, EOFError, zlib.error) as exc:
        raise EdgeListError(file, None, f"cannot read the file: {exc}") from None
    if not src:
        raise EdgeListError(file, None, "no edges found (expected lines of 'u v')")
    labels, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    m = len(src)
    desc = description or f"edge list {path.name} ({labels.size} users, {m} edges)"
    return from_edges(inverse[:m], inverse[m:], labels.size, directed, desc)


def dataset_path(name: str) -> Path:
    """Path of a bundled dataset file (see ``DATASETS``)."""
    file, _ = DATASETS[name]
    return Path(str(resources.files("simulator") / "data" / file))


def load_dataset(name: str) -> Graph:
    """Load a real social graph shipped with the package."""
    _, citation = DATASETS[name]
    return read_edgelist(dataset_path(name), directed=False, description=citation)
