"""The step's faster kernels give the very numbers of the plain numpy expressions they replace.

Refactors for speed keep results byte-identical (the project's rule); these tests pin each
shortcut to the expression it stands for, bit for bit, on random inputs (hypothesis) and on
the edge cases each shortcut has to get right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.experiment.store import _through_text, normalise_by_column
from simulator.model import dynamics as dyn
from simulator.model.metrics import near_misses
from simulator.model.score import LOOKUP_MAX_KNOTS_PER_CELL, ScoreMap, fit_score_map
from simulator.scenario.schema import ScoreCalibration


def _reference_scores(score_map: ScoreMap, raw: np.ndarray) -> np.ndarray:
    """ScoreMap.__call__ as it was written with np.interp (before the lookup grid)."""
    k, z = score_map.knots, score_map.z
    out = np.interp(raw, k, z)
    lo = (z[1] - z[0]) / (k[1] - k[0])
    hi = (z[-1] - z[-2]) / (k[-1] - k[-2])
    out = np.where(raw < k[0], z[0] + lo * (raw - k[0]), out)
    out = np.where(raw > k[-1], z[-1] + hi * (raw - k[-1]), out)
    return np.clip(score_map.mean + score_map.sd * out, 1.0, 100.0)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(2, 3000), shape=st.floats(0.05, 5.0),
       ties=st.booleans())
def test_the_score_map_lookup_is_np_interp_bit_for_bit(seed, size, shape, ties):
    rng = np.random.default_rng(seed)
    raw = rng.gamma(shape, 1.0, size)
    if ties:  # silent users share one raw value; fitted maps have a knot there
        raw[: size // 3] = raw[0]
    score_map = fit_score_map(raw, ScoreCalibration())
    k = score_map.knots
    probes = np.concatenate([
        raw, k, np.nextafter(k, np.inf), np.nextafter(k, -np.inf),
        rng.uniform(k[0] - 1.0, k[-1] + 1.0, 500), [k[0] - 1e9, k[-1] + 1e9]])
    np.testing.assert_array_equal(score_map(probes), _reference_scores(score_map, probes))


def test_uneven_knots_fall_back_to_np_interp_and_even_ones_use_the_grid():
    rng = np.random.default_rng(5)
    even = ScoreMap(np.linspace(0.0, 10.0, 401), np.linspace(-3.0, 3.0, 401), 50.0, 15.0)
    assert even._lookup is not None
    # 200 knots within 1e-9 of each other, then one far away: no grid keeps ≤ 4 per cell
    k = np.concatenate([np.sort(rng.uniform(0.0, 1e-9, 200)), [1e6]])
    uneven = ScoreMap(np.unique(k), np.linspace(-3.0, 3.0, np.unique(k).size), 50.0, 15.0)
    assert uneven._lookup is None
    x = rng.uniform(-1.0, 2e6, 1000)
    np.testing.assert_array_equal(uneven(x), _reference_scores(uneven, x))
    assert even._lookup[4] <= LOOKUP_MAX_KNOTS_PER_CELL


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 2000))
def test_reactions_drawn_for_posting_users_only_are_the_full_draw(seed, n):
    """A Poisson draw with mean 0 takes nothing from the generator (numpy's rule)."""
    rng = np.random.default_rng(seed)
    posts = rng.poisson(0.7, n)
    view, quality, overlap = rng.random(n), rng.random(n), rng.random(n) * 5
    full = np.random.default_rng(seed + 1).poisson(posts * view * 0.3 * quality * overlap)
    fast = dyn.sample_reactions(posts, view, quality, overlap, 0.3, np.random.default_rng(seed + 1))
    np.testing.assert_array_equal(fast, full)
    followers = rng.integers(0, 50, n)
    f = followers.astype(float)
    plain = np.where(f > 0, f * -np.expm1(-full / np.maximum(f, 1.0)), 0.0)
    # equal as numbers; the plain expression gives −0.0 where nobody reacted
    np.testing.assert_array_equal(dyn.distinct_reactors(full, followers), plain)


def test_the_pout_total_is_the_row_sum_bit_for_bit():
    """campaign._store_pout adds the parts column by column: numpy's row sum adds them in
    that order (a change of numpy that broke it would change published tables)."""
    rng = np.random.default_rng(11)
    parts = rng.random((200_000, 3)) ** 6
    total = parts[:, 0].copy()
    for k in range(1, 3):
        total += parts[:, k]
    np.testing.assert_array_equal(total, parts.sum(axis=1))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cutoff=st.one_of(st.none(), st.floats(1.0, 100.0)),
       scale=st.floats(0.01, 50.0))
def test_near_misses_are_the_closeness_rule(seed, cutoff, scale):
    rng = np.random.default_rng(seed)
    score = rng.uniform(1.0, 100.0, 3000)
    if cutoff is not None:  # users just around one scale below the bar
        score[:50] = cutoff - scale * (1.0 + rng.uniform(-1e-9, 1e-9, 50))
    expected = dyn.closeness(score, cutoff, scale) >= np.exp(-1.0)
    np.testing.assert_array_equal(near_misses(score, cutoff, scale), expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), talk=st.floats(0.0, 2.0))
def test_talk_with_the_cached_log_is_the_plain_formula(seed, talk):
    rng = np.random.default_rng(seed)
    rel, pout, posts = rng.random(500), rng.random(500), rng.poisson(1.0, 500)
    per_post = np.clip(talk * rel, 0.0, 1.0)
    plain = -np.expm1(posts * np.log1p(-np.minimum(per_post, 1 - 1e-12))) * (1.0 - pout)
    np.testing.assert_array_equal(dyn.talk_probability(posts, rel, talk, pout), plain)
    cached = dyn.talk_probability(posts, rel, talk, pout, dyn.talk_log_silence(rel, talk))
    np.testing.assert_array_equal(cached, plain)


_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, -3.0, 9_999_999_999.0, 1e10, 0.1, 1e-5, 123456.7890123]),
    st.integers(-10**12, 10**12).map(float))
_TEXT = st.sampled_from(["a", "NA", "None", "1", "2.5", "True", "x,y", 'say "hi"', "nan", " "])


@st.composite
def _tables(draw):
    rows = draw(st.integers(1, 40))
    columns = {}
    for i, kind in enumerate(draw(st.lists(st.sampled_from("fFibst"), min_size=1, max_size=6))):
        if kind == "f":
            values = np.array(draw(st.lists(_FLOATS, min_size=rows, max_size=rows)))
        elif kind == "F":  # whole numbers only: reads back as int64 unless a NaN is there
            values = np.array(draw(st.lists(st.integers(-10**6, 10**6), min_size=rows,
                                            max_size=rows)), dtype=float)
        elif kind == "i":
            values = np.array(draw(st.lists(st.integers(-2**31, 2**31 - 1), min_size=rows,
                                            max_size=rows)), dtype=np.int32)
        elif kind == "b":
            values = np.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)))
        else:
            values = draw(st.lists(_TEXT, min_size=rows, max_size=rows))
        columns[f"c{i}_{kind}"] = values
    return pd.DataFrame(columns)


@settings(max_examples=150, deadline=None)
@given(frame=_tables())
def test_normalising_column_by_column_is_the_round_trip_through_text(frame):
    """store.normalise_by_column (large tables) gives what CSV text read back gives: the
    same dtypes, and floats equal to the bit (−0.0 and NaN included)."""
    fast, slow = normalise_by_column(frame), _through_text(frame)
    assert list(fast.columns) == list(slow.columns)
    assert [str(t) for t in fast.dtypes] == [str(t) for t in slow.dtypes]
    for name in slow.columns:
        a, b = fast[name].to_numpy(), slow[name].to_numpy()
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a.view(np.int64), b.view(np.int64))
        else:
            pd.testing.assert_series_equal(fast[name], slow[name], check_exact=True)
    assert fast.to_csv(index=False) == slow.to_csv(index=False)


def test_a_big_users_table_is_normalised_column_by_column():
    """At FAST_ROWS rows and more, normalise takes the column-by-column route; it equals the
    text round trip on a real users table (two brands, every kind of column)."""
    import simulator.experiment.store as store
    from simulator import PerkCampaignModel, load_scenario

    model = PerkCampaignModel(load_scenario("scenarios/two_brands.yaml"), rng=3)
    model.run(steps=20)
    users = model.users_frame()
    users.insert(0, "variant", "base")
    pd.testing.assert_frame_equal(normalise_by_column(users), _through_text(users),
                                  check_exact=True)
    assert len(users) < store.FAST_ROWS  # the bundled runs keep the text route
