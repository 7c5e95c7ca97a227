"""The follows graph: seeded generators, edge-list loaders and the bundled real datasets.

Convention (MODEL.md §2): ``followers[i, j] == 1`` when user ``j`` follows user ``i``; an
undirected friendship is a mutual follow; a directed edge-list line ``u v`` means u follows v.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from simulator.model import graphs
from simulator.model.graphs import EdgeListError, generate, graph_size, load_dataset, read_edgelist
from simulator.scenario.schema import (
    BalancedTree,
    BarabasiAlbert,
    Dataset,
    EdgeList,
    ErdosRenyi,
    PowerlawCluster,
    StochasticBlock,
    WattsStrogatz,
)

SHARED_DATA = Path(__file__).parents[2] / "shared" / "data"  # CI: ../shared beside the checkout

RANDOM_SPECS = {
    "barabasi_albert": BarabasiAlbert(kind="barabasi_albert", m=3),
    "powerlaw_cluster": PowerlawCluster(kind="powerlaw_cluster", m=4, p=0.3),
    "watts_strogatz": WattsStrogatz(kind="watts_strogatz", k=6, p=0.2),
    "erdos_renyi": ErdosRenyi(kind="erdos_renyi", mean_degree=6.0),
    "stochastic_block": StochasticBlock(kind="stochastic_block", blocks=4, mean_degree=6.0, mixing=0.2),
}
TREE = BalancedTree(kind="balanced_tree", branching=3, height=4)
ALL_SPECS = {**RANDOM_SPECS, "balanced_tree": TREE}
SIZE = 240


def build(spec, seed: int, size: int = SIZE) -> graphs.Graph:
    return generate(spec, size, np.random.default_rng(seed))


def same_matrix(a: sp.csr_array, b: sp.csr_array) -> bool:
    return a.shape == b.shape and (a != b).nnz == 0


def is_symmetric(m: sp.csr_array) -> bool:
    return (m != m.T).nnz == 0


def write_gz(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)
    return path


# --- generators ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ALL_SPECS))
def test_generator_builds_a_graph_of_the_requested_size(kind):
    spec = ALL_SPECS[kind]
    g = build(spec, 1)
    expected = graph_size(spec, SIZE)
    assert g.n == expected
    assert g.followers.shape == (expected, expected)
    assert g.followers_count.shape == (expected,)
    assert g.edges > 0


@pytest.mark.parametrize("kind", list(ALL_SPECS))
def test_generated_graph_is_undirected_simple_and_binary(kind):
    g = build(ALL_SPECS[kind], 2)
    assert is_symmetric(g.followers), "friendships must be mutual follows"
    assert g.followers.diagonal().sum() == 0, "nobody follows themselves"
    assert set(np.unique(g.followers.data)) == {1.0}
    assert same_matrix(g.follows, g.followers.T.tocsr())
    assert np.array_equal(g.followers_count, np.asarray(g.followers.sum(axis=1)).ravel())


@pytest.mark.parametrize("kind", list(ALL_SPECS))
def test_generator_is_reproducible_for_the_same_seed(kind):
    a, b = build(ALL_SPECS[kind], 123), build(ALL_SPECS[kind], 123)
    assert same_matrix(a.followers, b.followers)
    assert a.description == b.description


@pytest.mark.parametrize("kind", list(RANDOM_SPECS))
def test_random_generator_differs_for_another_seed(kind):
    a, b = build(RANDOM_SPECS[kind], 123), build(RANDOM_SPECS[kind], 124)
    assert not same_matrix(a.followers, b.followers)


def test_balanced_tree_is_the_same_tree_whatever_the_seed():
    a, b = build(TREE, 1), build(TREE, 999)
    assert same_matrix(a.followers, b.followers)


def test_generators_do_not_touch_global_random_state():
    import random

    np.random.seed(5)
    random.seed(5)
    np_before, py_before = np.random.get_state()[1].copy(), random.getstate()
    for spec in ALL_SPECS.values():
        build(spec, 3)
    assert np.array_equal(np.random.get_state()[1], np_before)
    assert random.getstate() == py_before


def test_barabasi_albert_has_m_edges_per_added_user():
    g = build(BarabasiAlbert(kind="barabasi_albert", m=3), 4)
    assert g.edges == 2 * 3 * (SIZE - 3)
    assert g.followers_count.min() >= 3


def test_watts_strogatz_keeps_k_neighbours_per_user_on_average():
    g = build(WattsStrogatz(kind="watts_strogatz", k=6, p=0.2), 4)
    assert g.edges == SIZE * 6  # rewiring moves edges, it never adds or removes them


@pytest.mark.parametrize("kind", ["erdos_renyi", "stochastic_block"])
def test_mean_degree_generators_hit_the_requested_mean_degree(kind):
    g = build(RANDOM_SPECS[kind], 5, size=2000)
    assert g.followers_count.mean() == pytest.approx(6.0, rel=0.1)


def test_stochastic_block_mixing_sets_the_share_of_edges_between_blocks():
    spec = StochasticBlock(kind="stochastic_block", blocks=4, mean_degree=8.0, mixing=0.1)
    g = build(spec, 6, size=2000)
    block = np.repeat(np.arange(4), 500)  # networkx numbers blocks' members consecutively
    rows, cols = g.followers.nonzero()
    between = np.mean(block[rows] != block[cols])
    assert between == pytest.approx(0.1, abs=0.03)


def test_balanced_tree_has_size_from_branching_and_height_and_root_zero():
    g = build(TREE, 0)
    assert g.n == (3 ** 5 - 1) // 2 == 121
    assert g.edges == 2 * (g.n - 1)
    assert g.followers_count[0] == 3  # the root has `branching` children
    assert graph_size(BalancedTree(kind="balanced_tree", branching=1, height=4), 10) == 5


def test_small_population_caps_the_attachment_parameter():
    g = build(BarabasiAlbert(kind="barabasi_albert", m=10), 1, size=5)
    assert g.n == 5
    assert is_symmetric(g.followers)


# --- edge lists ---------------------------------------------------------------------------------


def test_directed_edge_list_line_u_v_means_u_follows_v(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("0 1\n1 2\n")
    g = read_edgelist(path, directed=True)
    f = g.followers.toarray()
    assert f[1, 0] == 1 and f[0, 1] == 0  # 0 follows 1: 0 sees 1's posts
    assert f[2, 1] == 1 and f[1, 2] == 0
    assert g.follows.toarray()[0, 1] == 1  # row j of follows: whom j follows
    assert list(g.followers_count) == [0, 1, 1]
    assert g.edges == 2


def test_undirected_edge_list_gives_mutual_follows(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("0 1\n1 2\n")
    g = read_edgelist(path)
    assert is_symmetric(g.followers)
    assert g.edges == 4
    assert list(g.followers_count) == [1, 2, 1]


def test_self_loops_and_duplicate_edges_are_dropped(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("0 0\n0 1\n0 1\n1 0\n2 2\n1 2\n")
    undirected = read_edgelist(path)
    assert undirected.n == 3
    assert undirected.edges == 4  # {0,1} and {1,2}, both ways
    assert undirected.followers.diagonal().sum() == 0
    assert set(undirected.followers.data) == {1.0}
    directed = read_edgelist(path, directed=True)
    assert directed.edges == 3  # 0→1, 1→0, 1→2
    assert directed.followers.diagonal().sum() == 0
    assert set(directed.followers.data) == {1.0}


def test_labels_are_renumbered_in_sorted_order(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("1000 20\n20 35\n")
    g = read_edgelist(path, directed=True)
    assert g.n == 3  # labels 20, 35, 1000 → 0, 1, 2
    f = g.followers.toarray()
    assert f[0, 2] == 1  # 1000 follows 20
    assert f[1, 0] == 1  # 20 follows 35
    assert g.edges == 2


def test_comments_blank_lines_commas_and_extra_columns_are_accepted(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("# a comment\n% another\n\n0,1\n  1 2 0.5  \n\n")
    g = read_edgelist(path)
    assert g.n == 3 and g.edges == 4


def test_gzipped_and_plain_files_give_the_same_graph(tmp_path):
    text = "# test\n" + "".join(f"{i} {(i * 7 + 3) % 50}\n" for i in range(50))
    plain = tmp_path / "e.txt"
    plain.write_text(text)
    zipped = write_gz(tmp_path / "e.txt.gz", text)
    unsuffixed = write_gz(tmp_path / "e_gz.txt", text)  # gzip is recognised by content
    a, b, c = read_edgelist(plain), read_edgelist(zipped), read_edgelist(unsuffixed)
    assert a.n == 50
    assert same_matrix(a.followers, b.followers)
    assert same_matrix(a.followers, c.followers)


def test_edgelist_graph_spec_reads_the_file(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("0 1\n2 1\n")
    spec = EdgeList(kind="edgelist", path=str(path), directed=True)
    g = generate(spec, 3000, np.random.default_rng(0))
    assert g.n == 3  # the file fixes the size, not population.size
    assert g.followers_count[1] == 2
    assert graph_size(spec, 3000) is None


# --- bundled datasets ----------------------------------------------------------------------------


def _undirected_pairs(path: Path) -> tuple[int, set[tuple[int, int]], int]:
    """(edge lines, distinct non-loop pairs, self-loops) of a SNAP edge-list file."""
    lines, loops, pairs = 0, 0, set()
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            u, v = map(int, line.split())
            lines += 1
            if u == v:
                loops += 1
            else:
                pairs.add((min(u, v), max(u, v)))
    return lines, pairs, loops


def test_ego_facebook_dataset_has_4039_users_and_88234_friendships():
    g = load_dataset("ego_facebook")
    assert g.n == 4039
    assert g.edges == 2 * 88234
    assert is_symmetric(g.followers)
    assert "ego-Facebook" in g.description


def test_ca_hepth_dataset_has_9877_users_and_its_files_distinct_edges():
    """SNAP counts 25,998 edges for ca-HepTh; 25 of those lines are self-loops (dropped)."""
    g = load_dataset("ca_hepth")
    assert g.n == 9877
    lines, pairs, loops = _undirected_pairs(graphs.dataset_path("ca_hepth"))
    assert lines == 25998
    assert loops == 25
    assert len(pairs) == 25998 - 25
    assert g.edges == 2 * len(pairs) == 2 * 25973
    assert is_symmetric(g.followers)
    assert g.followers.diagonal().sum() == 0


def test_dataset_graph_spec_ignores_population_size():
    g = generate(Dataset(kind="dataset", name="ego_facebook"), 100, np.random.default_rng(0))
    assert g.n == 4039
    assert graph_size(Dataset(kind="dataset", name="ego_facebook"), 100) is None


SHARED_FILES = {"facebook_combined.txt.gz": ("ego_facebook", 4039, 88234),
                "ca-hepth.txt.gz": ("ca_hepth", 9877, 25973)}


@pytest.mark.parametrize("file", list(SHARED_FILES))
def test_shared_copy_of_dataset_loads_and_matches_the_bundled_one(file):
    path = SHARED_DATA / file
    if not path.is_file():
        pytest.skip(f"{path} not present (CI has ../shared beside the checkout)")
    name, users, friendships = SHARED_FILES[file]
    g = read_edgelist(path)
    assert g.n == users
    assert g.edges == 2 * friendships
    assert same_matrix(g.followers, load_dataset(name).followers)


# --- edge-list errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "line", "words"), [
    ("0 1\na b\n", 2, ["integers", "'a b'"]),
    ("0 1\n1 2.5\n", 2, ["integers"]),
    ("# header\n0 1\n\n7\n", 4, ["two user ids", "'7'"]),
    ("0 1\n1 2\n-1 3\n", 3, ["non-negative", "'-1 3'"]),
], ids=["non_integer", "float", "one_column", "negative"])
def test_bad_line_error_names_file_and_line(tmp_path, content, line, words):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(EdgeListError) as info:
        read_edgelist(path)
    err = info.value
    assert (err.file, err.line) == (str(path), line)
    assert str(err).startswith(f"{path}:{line}: ")
    for word in words:
        assert word in str(err)


def test_bad_line_in_gzipped_file_names_file_and_line(tmp_path):
    path = write_gz(tmp_path / "bad.txt.gz", "0 1\n1 2\n2 x\n")
    with pytest.raises(EdgeListError) as info:
        read_edgelist(path)
    assert (info.value.file, info.value.line) == (str(path), 3)


@pytest.mark.parametrize("content", ["", "\n\n", "# only comments\n% here\n"],
                         ids=["empty", "blank", "comments"])
def test_file_without_edges_is_an_error_naming_the_file(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_text(content)
    with pytest.raises(EdgeListError) as info:
        read_edgelist(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "no edges" in str(info.value)


def test_missing_file_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "missing.txt"
    with pytest.raises(EdgeListError) as info:
        read_edgelist(path)
    assert str(path) in str(info.value) and "not found" in str(info.value)


def test_truncated_gzip_file_is_an_edge_list_error(tmp_path):
    good = write_gz(tmp_path / "good.gz", "".join(f"{i} {i + 1}\n" for i in range(5000)))
    path = tmp_path / "truncated.gz"
    path.write_bytes(good.read_bytes()[:200])
    with pytest.raises(EdgeListError) as info:
        read_edgelist(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_data_is_an_edge_list_error(tmp_path):
    """Damaged deflate data raises zlib.error inside gzip; it must surface as EdgeListError."""
    good = write_gz(tmp_path / "good.gz", "".join(f"{i} {(i * 7 + 1) % 2000}\n" for i in range(2000)))
    raw = bytearray(good.read_bytes())
    raw[30:60] = b"\xff" * 30
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(raw))
    with pytest.raises(EdgeListError) as info:
        read_edgelist(path)
    assert str(path) in str(info.value)
