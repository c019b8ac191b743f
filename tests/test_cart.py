"""The CART reference generator (``advsynth.synthesizers.cart``, generator name ``cart``), tested for real.

Marked ``cart``: the main suite runs these, and scripts/test.sh runs them again in the SDV
environment (pandas < 3) beside the SDV adapters, so both references of the race are exercised
on both pandas lines. Small tables, a second or two in all.
"""

from __future__ import annotations

import pandas as pd
import pytest

from advsynth.errors import AdvsynthError
from advsynth.schema import infer_schema
from advsynth.synthesizers import CARTSynthesizer, make_generator
from conftest import make_mixed

pytestmark = pytest.mark.cart


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """Mixed types with a deterministic relation (``double`` = 2 × ``count``), missing values and dates."""
    df = make_mixed(600, seed=4)
    df["double"] = df["count"] * 2
    df["when"] = pd.date_range("2022-01-01", periods=len(df), freq="D")
    return df


@pytest.fixture(scope="module")
def fitted(table):
    return make_generator("cart", random_state=0).fit(table, infer_schema(table))


def test_cart_is_registered_under_its_name():
    gen = make_generator("cart", random_state=3, min_samples_leaf=7)
    assert isinstance(gen, CARTSynthesizer) and gen.min_samples_leaf == 7 and gen.random_state == 3


def test_cart_output_is_typed_like_the_input(fitted, table):
    out = fitted.sample(500)
    assert list(out.columns) == list(table.columns) and len(out) == 500
    for col in table.columns:
        assert out[col].dtype == table[col].dtype, col
    # categorical levels are the real ones; booleans stay booleans; integers stay whole numbers
    assert set(out["group"].dropna()) <= set(table["group"].dropna())
    assert set(out["flag"].unique()) <= {True, False}
    assert (out["count"] == out["count"].round()).all()
    # missing values are reproduced, not dropped
    assert out["x"].isna().any() and out["group"].isna().any()
    assert out["when"].min() >= table["when"].min() and out["when"].max() <= table["when"].max()


def test_cart_values_are_training_values_and_relations_survive(fitted, table):
    out = fitted.sample(500, random_state=1)
    # synthpop's cart draws a real row's value from the leaf: every number is a training value
    assert set(out["spend"].dropna()) <= set(table["spend"].dropna())
    # a leaf whose rows share a value hands it out: the deterministic relation comes back for most rows
    assert (out["double"] == out["count"] * 2).mean() > 0.9


def test_cart_same_seed_same_rows_other_seed_other_rows(table):
    schema = infer_schema(table)
    a = make_generator("cart", random_state=5).fit(table, schema).sample(300)
    b = make_generator("cart", random_state=5).fit(table, schema).sample(300)
    pd.testing.assert_frame_equal(a, b)
    c = make_generator("cart", random_state=5).fit(table, schema).sample(300, random_state=6)
    assert not a.equals(c)


def test_cart_fit_rows_bounds_the_training_rows(table):
    gen = make_generator("cart", random_state=0, fit_rows=100).fit(table, infer_schema(table))
    assert len(gen.first_) == 100


def test_cart_errors_are_advsynth_errors(table):
    with pytest.raises(AdvsynthError, match="not fitted"):
        CARTSynthesizer().sample(5)
    with pytest.raises(AdvsynthError, match="no parameter"):
        make_generator("cart", depth=3)
    with pytest.raises(AdvsynthError, match="positive"):
        make_generator("cart").fit(table).sample(0)
