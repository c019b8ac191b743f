"""Rank matching's output values (advsynth.encoding.RankMarginal): heaps exact, no twins of rare values."""

import numpy as np
import pandas as pd
import pytest

from advsynth.encoding import RankMarginal
from advsynth.errors import ConfigError
from advsynth.schema import ColumnSpec, infer_schema
from advsynth.synthesizers.gmm import GMMSynthesizer


def heaped_and_unique(rng):
    """Integers: three heaps (round values held by 200 rows each) and 1,500 distinct values."""
    unique = rng.choice(np.arange(1, 2_000_000, 7), size=1500, replace=False).astype(float)
    heaps = np.repeat([40.0, 50.0, 60.0], 200)
    return np.concatenate([unique, heaps]), unique, heaps


def test_smooth_keeps_heaps_exact_and_copies_no_rare_value():
    values, unique, _ = heaped_and_unique(np.random.default_rng(0))
    ranks = (np.arange(5000) + 0.5) / 5000
    smooth = RankMarginal.fit(values, "smooth", ColumnSpec("x", "integer"), heap_min_count=3).at_ranks(ranks)
    assert not np.isin(smooth, unique).any()  # no synthetic value is a copy of a value one real row holds
    assert np.array_equal(smooth, np.round(smooth))  # the column's precision (integers)
    for heap in (40.0, 50.0, 60.0):  # each heap exact, at its real share (200 of 2,100 rows)
        assert (smooth == heap).mean() == pytest.approx(200 / 2100, abs=0.002)
    assert ((smooth > 39) & (smooth < 61) & ~np.isin(smooth, [40, 50, 60])).sum() < 10  # no fractions beside heaps
    # the marginal is kept: same quantiles as the real values, to within a few order statistics
    assert np.abs(np.quantile(smooth, [0.1, 0.5, 0.9]) / np.quantile(values, [0.1, 0.5, 0.9]) - 1).max() < 0.01
    # the contrast: "exact" outputs training values only, so most outputs copy a single real row's value
    exact = RankMarginal.fit(values, "exact", ColumnSpec("x", "integer")).at_ranks(ranks)
    assert np.isin(exact, values).all() and np.isin(exact, unique).mean() > 0.6


def test_smooth_full_precision_floats_copy_nothing():
    values = np.random.default_rng(1).normal(size=800)
    ranks = (np.arange(800) + 0.5) / 800  # as many draws as values: every rank hits an order statistic
    out = RankMarginal.fit(values, "smooth", ColumnSpec("x", "numeric", full_precision=True)).at_ranks(ranks)
    assert not np.isin(out, values).any()
    assert RankMarginal.fit(values, "exact", ColumnSpec("x", "numeric")).at_ranks(ranks).tolist() == sorted(values)


def test_gmm_smooth_decoding_end_to_end():
    rng = np.random.default_rng(2)
    values, unique, _ = heaped_and_unique(rng)
    df = pd.DataFrame({"amount": rng.permutation(values).astype(int), "group": rng.choice(["a", "b"], len(values))})
    schema = infer_schema(df, {"amount": "integer"})
    gen = GMMSynthesizer(max_components=3, n_candidates=1, random_state=0).fit(df, schema)
    out = gen.sample(3000, random_state=1)["amount"].to_numpy()
    assert not np.isin(out, unique).any()
    assert set(np.unique(out[(out >= 40) & (out <= 60)])) <= {40, 50, 60}
    assert (out == 50).mean() == pytest.approx(200 / 2100, abs=0.01)
    with pytest.raises(ConfigError, match="marginal_values"):
        GMMSynthesizer(marginal_values="nearest").fit(df, schema)


def test_smooth_decimals_copy_no_rare_value():
    """Two-decimal values (as the typing layer rounds them): no output equals a rare training value."""
    rng = np.random.default_rng(3)
    values = np.round(rng.gamma(2.0, 3.0, size=600), 2)
    counts = pd.Series(values).value_counts()
    rare = counts.index[counts < 3].to_numpy()
    ranks = (np.arange(2000) + 0.5) / 2000
    out = RankMarginal.fit(values, "smooth", ColumnSpec("x", "numeric", decimals=2)).at_ranks(ranks)
    assert np.array_equal(out, np.round(out, 2)) and not np.isin(out, rare).any()


def test_reference_is_bounded(monkeypatch):
    import advsynth.encoding as encoding

    monkeypatch.setattr(encoding, "MAX_REFERENCE", 500)
    values = np.random.default_rng(4).integers(0, 10**9, size=5000).astype(float)
    marginal = RankMarginal.fit(values, "smooth", ColumnSpec("x", "integer"))
    assert len(marginal.reference) == 500 and len(marginal.rare) <= 500
    out = marginal.at_ranks((np.arange(3000) + 0.5) / 3000)
    assert not np.isin(out, marginal.reference).any()
