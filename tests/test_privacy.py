"""The privacy adversary: its pieces on small seeded tables, its verdict on copiers and fresh rows.

Every expectation follows from how the tables are built (copied, disguised, freshly drawn),
never from numbers the code printed: fresh rows are exchangeable with the holdout, so each
statistic's reference holds for them exactly; a copier's rows are training rows.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from advsynth.metrics import exact_match_rate, privacy_report
from advsynth.metrics import privacy as P

NUMERIC, CATEGORICAL = ["x", "z"], ["colour", "size"]


def draw(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2])
    frame = pd.DataFrame({"x": np.round(x, 4), "z": np.round(0.8 * x + 0.6 * rng.normal(size=n), 4), "colour": colour,
                          "size": np.where(rng.random(n) < 0.8, colour, "other")})
    frame.loc[rng.random(n) < 0.05, "z"] = np.nan
    return frame


def report(train, holdout, synthetic, **kwargs):
    return privacy_report(train, holdout, synthetic, NUMERIC, CATEGORICAL, **kwargs)


def assert_json_ready(value):
    json.dumps(value, allow_nan=False)


# --------------------------------------------------------------------------- exact matches


def test_exact_match_rate_counts_copies():
    train, other = draw(400, 10), draw(400, 11)
    assert exact_match_rate(train, train.copy()) == 1.0
    assert exact_match_rate(train, other) == 0.0
    half = pd.concat([train.iloc[:100], other.iloc[:100]], ignore_index=True)
    assert exact_match_rate(train, half) == 0.5


def test_exact_match_rate_treats_missing_and_dtypes_by_value():
    train = pd.DataFrame({"a": [39, 40, 41], "b": ["x", None, "z"], "c": [np.nan, 0.0, 2.5]})
    synthetic = pd.DataFrame({"a": [39.0, 40.0, 41.0], "b": pd.Series(["x", None, "y"], dtype="object"),
                              "c": [np.nan, -0.0, 2.5]})
    # Rows 0 and 1 match (NaN == NaN, None == None, -0.0 == 0.0, 39 == 39.0); row 2 differs in b.
    assert exact_match_rate(train, synthetic) == pytest.approx(2 / 3)
    assert exact_match_rate(train, synthetic, columns=["a", "c"]) == 1.0


def copies_of(train, holdout, synthetic):
    real = pd.concat([train, holdout], ignore_index=True)
    hashes = P._RowHashes.of([real, synthetic], NUMERIC + CATEGORICAL, set(NUMERIC), leave_one_out=True)
    return P.copy_rates(hashes, np.arange(len(real)) < len(train))


def test_copies_of_unique_rows_and_near_copies_against_chance():
    train, holdout = draw(2000, 1), draw(500, 2)
    doubled = pd.concat([train, train.iloc[:50]], ignore_index=True)  # 50 training rows appear twice
    one_cell = train.iloc[:400].copy()
    one_cell["colour"] = np.where(one_cell["colour"] == "red", "blue", "red")  # every row: one cell changed
    rates = copies_of(doubled, holdout, one_cell)
    assert rates["exact"]["rate"] == 0.0 and rates["exact_match_rate"] == 0.0
    assert rates["near"]["rate"] == pytest.approx(350 / 400)  # a duplicated row is no unique row to copy
    assert rates["near"]["chance_rate"] == 0.0 and rates["near"]["p_value"] < 1e-10
    copies = copies_of(doubled, holdout, train.iloc[:400])
    assert copies["exact"]["rate"] == pytest.approx(350 / 400) and copies["exact_match_rate"] == 1.0
    assert copies["exact"]["excess"] == pytest.approx(350 / 400)  # no holdout row is copied
    # rows copied from the holdout count as chance, scaled to the training rows' number (2,050 / 500)
    mixed = copies_of(doubled, holdout, pd.concat([train.iloc[100:300], holdout.iloc[:20]], ignore_index=True))
    assert mixed["exact"]["chance_rate"] == pytest.approx(20 * 2050 / 500 / 220)


def test_label_test_counts_a_crowded_row_once():
    """Many synthetic rows on one real row are one piece of evidence, not many: a generator whose
    draws crowd near one training row is not shown to memorise by it."""
    in_train = np.arange(100) < 80
    crowded = np.zeros(100)
    crowded[0] = 500.0  # 500 synthetic rows nearest to training row 0
    assert P.label_test(crowded, in_train)["p_value"] > 0.05
    spread = np.zeros(100)
    spread[:80] = 500 / 80  # the same 500 rows, each nearest to another training row
    assert P.label_test(spread, in_train)["p_value"] < 1e-6
    even = np.ones(100)
    assert P.label_test(even, in_train)["p_value"] == 1.0  # exactly the reference: nothing to see


# --------------------------------------------------------------------------- distances


def test_encoder_units_rank_numbers_and_charge_one_per_level():
    train = pd.DataFrame({"n": np.arange(100, dtype=float) ** 3, "c": ["a", "b"] * 50})  # outliers do not set the unit
    rows = pd.DataFrame({"n": [0.0, 0.0, 99.0**3, np.nan], "c": ["a", "b", "a", "a"]})
    enc = P.DistanceEncoder(["n"], ["c"]).fit(train, (rows,))
    x = enc.transform(rows)
    d = lambda i, j: float(np.linalg.norm(x[i] - x[j]))  # noqa: E731
    assert d(0, 1) == pytest.approx(1.0)                # one differing level
    assert d(0, 2) == pytest.approx(0.99)               # the lowest and highest of 100 values: 0.99 apart
    assert 0.75 ** 0.5 <= d(0, 3) <= 1.0                # missing vs present


@pytest.mark.parametrize("wide", [False, True])
def test_nearest_is_exact_and_counts_ties(wide, monkeypatch):
    from sklearn.metrics import pairwise_distances

    if wide:
        monkeypatch.setattr(P.DistanceEncoder, "DENSE_FEATURES", 4)  # the sparse path
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"n": rng.integers(0, 5, 600).astype(float), "c": rng.integers(0, 40, 600).astype(str)})
    queries = pd.concat([train.iloc[:50], pd.DataFrame({"n": rng.integers(0, 5, 50).astype(float),
                                                        "c": rng.integers(0, 40, 50).astype(str)})], ignore_index=True)
    enc = P.DistanceEncoder(["n"], ["c"]).fit(train)
    q, r = enc.transform(queries), enc.transform(train)
    assert sparse.issparse(r) == wide
    found = P.nearest(q, r)
    dense = pairwise_distances(q.toarray() if wide else q, r.toarray() if wide else r)
    assert found.distance == pytest.approx(dense.min(axis=1), abs=1e-6)
    assert (found.distance[:50] == 0).all()  # a copy is at exactly 0
    tied = (np.abs(dense - dense.min(axis=1, keepdims=True)) < 1e-6).sum(axis=1)
    assert found.ties.tolist() == tied.tolist()  # duplicated training rows are all counted
    assert (dense[np.arange(q.shape[0]), found.index] == dense.min(axis=1)).all()


def test_dcr_share_splits_ties_so_fresh_discrete_rows_score_the_reference():
    """A table of few combinations: most rows duplicate training and holdout rows alike. Counting a tie
    as a training hit would put fresh rows near 100 %; split, they score n_train / (n_train + n_holdout)."""
    shares = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        frame = pd.DataFrame({"a": rng.integers(0, 4, 6000).astype(float), "b": rng.choice(list("xyz"), 6000),
                              "c": rng.zipf(2.0, 6000).clip(max=30).astype(float)})
        train, holdout, fresh = frame.iloc[:3000], frame.iloc[3000:3750], frame.iloc[3750:]
        out = privacy_report(train, holdout, fresh, ["a", "c"], ["b"], random_state=seed)
        assert out["dcr"]["expected"] == pytest.approx(0.8)
        assert out["dcr"]["tie_share"] > 0.5
        shares.append(out["dcr"]["share"])
        assert not out["flagged"], out["flags"]
    assert np.mean(shares) == pytest.approx(0.8, abs=0.01)


# --------------------------------------------------------------------------- the verdict


@pytest.fixture(scope="module")
def tables():
    return draw(4000, 20), draw(1000, 21), draw(4000, 22)


def test_fresh_rows_are_not_flagged_and_score_the_references(tables):
    train, holdout, fresh = tables
    out = report(train, holdout, fresh)
    assert not out["flagged"] and out["flags"] == []
    attacks = out["membership"]["attacks"]
    for name in ("distance", "density_ratio"):
        lo, hi = attacks[name]["roc_auc_ci"]
        assert lo < 0.5 < hi + 0.02 and attacks[name]["p_value"] > 1e-3, name
    assert abs(out["dcr"]["share_equal_size"] - 0.5) < 0.05
    assert 0.8 < out["dcr"]["ratio_median"] < 1.25
    assert_json_ready(out)


@pytest.mark.parametrize("disguise", ["copy", "jitter", "one cell", "mix"])
def test_copiers_are_flagged(tables, disguise):
    train, holdout, fresh = tables
    rng = np.random.default_rng(5)
    copies = train.sample(4000, replace=True, random_state=1).reset_index(drop=True)
    if disguise == "jitter":  # every number moved by ~1 % of a standard deviation: no exact copy left
        copies[NUMERIC] = copies[NUMERIC] + rng.normal(0, 0.01, (len(copies), 2))
    elif disguise == "one cell":
        copies["size"] = rng.choice(["red", "green", "blue", "other"], len(copies))
    elif disguise == "mix":  # a tenth of the rows are copies
        copies = pd.concat([fresh.iloc[:3600], copies.iloc[:400]], ignore_index=True)
    out = report(train, holdout, copies)
    assert out["flagged"], out
    fired = {f["test"] for f in out["flags"]}
    expected = {"copy": {"exact_copies", "dcr_share", "membership_distance"}, "jitter": {"dcr_share", "membership_distance"},
                "one cell": {"near_copies"}, "mix": {"exact_copies"}}[disguise]
    assert expected <= fired, fired
    for flag in out["flags"]:
        assert flag["p_value"] < P.ALPHA and flag["effect"] >= flag["threshold"] and flag["message"]
    assert "FLAGGED" in P.verdict_line(out)


def test_real_identifier_values_are_a_finding(tables):
    """A case number shared by a few rows, redrawn from the real values, discloses which cases
    were trained on; fresh case numbers do not."""
    train, holdout, _ = tables
    rng = np.random.default_rng(7)
    train = train.assign(case=[f"c{i // 3}" for i in range(len(train))])
    holdout = holdout.assign(case=[f"c{10_000 + i // 3}" for i in range(len(holdout))])
    fresh = draw(4000, 23)
    redrawn = fresh.assign(case=rng.choice(train["case"].to_numpy(), len(fresh)))
    new_keys = fresh.assign(case=[f"n{i // 3}" for i in range(len(fresh))])
    columns = CATEGORICAL + ["case"]
    flagged = privacy_report(train, holdout, redrawn, NUMERIC, columns)
    assert P.identifier_columns(train, columns) == ["case"]
    ids = flagged["identifiers"]["case"]
    assert ids["rate"] == ids["real_value_share"] == 1.0 and ids["chance_rate"] == 0.0
    assert ids["largest_real_group"] == 3 and ids["most_repeated_real_value"] > 3
    assert "identifier_values" in {f["test"] for f in flagged["flags"]}
    clean = privacy_report(train, holdout, new_keys, NUMERIC, columns)
    assert clean["identifiers"]["case"]["real_value_share"] == 0.0
    assert "identifier_values" not in {f["test"] for f in clean["flags"]}


def test_a_group_key_no_generator_models_is_still_judged():
    """The typing layer regenerates a group key instead of modelling it; a run's privacy adversary
    still checks it, so a generator (anyone's) that hands out real case numbers is caught, while
    fresh keys that happen to spell real ones (a dense format) hit training and holdout rows alike."""
    from advsynth import GMMSynthesizer
    from advsynth.metrics.evaluate import privacy_of
    from advsynth.schema import infer_schema

    rng = np.random.default_rng(5)
    real = draw(6000, 30).assign(case=[f"{10 + g % 40}-{g // 40}" for g in np.repeat(np.arange(2000), 3)])
    order = rng.permutation(len(real))
    train, holdout = real.iloc[np.sort(order[:4500])], real.iloc[np.sort(order[4500:])]
    schema = infer_schema(train)
    assert schema["case"].group and not schema["case"].is_modelled
    fresh = GMMSynthesizer(max_components=4, n_candidates=2, random_state=0).fit(train, schema).sample(4000, 1)
    assert fresh["case"].isin(set(real["case"])).mean() > 0.5  # the format is dense: most fresh keys spell real ones
    clean = privacy_of(train, holdout, fresh, schema, seed=0)
    assert "case" in clean["identifiers"] and "identifier_values" not in {f["test"] for f in clean["flags"]}
    handed_out = fresh.assign(case=rng.choice(train["case"].to_numpy(), len(fresh)))
    caught = privacy_of(train, holdout, handed_out, schema, seed=0)
    assert "identifier_values" in {f["test"] for f in caught["flags"]}


def test_identifier_values_of_fresh_rows_score_chance():
    """Real rows nobody trained on carry real case numbers too (a case's rows straddle the split):
    against chance they are no finding."""
    rng = np.random.default_rng(8)
    frame = draw(6000, 24).assign(case=[f"c{i}" for i in rng.integers(0, 1500, 6000)])
    train, holdout, fresh = frame.iloc[:3000], frame.iloc[3000:3750], frame.iloc[3750:]
    out = privacy_report(train, holdout, fresh, NUMERIC, CATEGORICAL + ["case"])
    ids = out["identifiers"]["case"]
    assert ids["real_value_share"] > 0.8 and abs(ids["excess"]) < 0.05 and ids["p_value"] > 1e-3
    assert not out["flagged"], out["flags"]


def test_bounded_and_deterministic(tables, monkeypatch):
    train, holdout, fresh = tables
    monkeypatch.setattr(P, "MAX_REFERENCE_ROWS", 1000)
    monkeypatch.setattr(P, "MAX_SYNTHETIC_ROWS", 800)
    monkeypatch.setattr(P, "DCR_QUERIES", 300)
    monkeypatch.setattr(P, "ATTACK_ROWS", 200)
    a, b, c = report(train, holdout, fresh, random_state=1), report(train, holdout, fresh, random_state=1), \
        report(train, holdout, fresh, random_state=2)
    assert a == b and a != c
    assert a["sizes"]["train"] == 1000 and a["sizes"]["synthetic"] == 800
    assert a["dcr"]["n_queries"] == 300 and a["membership"]["n_members"] == a["membership"]["n_non_members"] == 200


def test_holdout_overlap_is_refused_but_natural_duplicates_are_not():
    rng = np.random.default_rng(9)
    discrete = pd.DataFrame({"a": rng.integers(0, 3, 3000), "b": rng.choice(list("xy"), 3000)})
    real, fresh = discrete.iloc[:2000], discrete.iloc[2000:]
    assert P.holdout_overlap(real, fresh, ["a", "b"], {"a"})["overlaps"] is False  # every row is a duplicate
    continuous = draw(3000, 30)
    real, fresh = continuous.iloc[:2000], continuous.iloc[2000:]
    cols = NUMERIC + CATEGORICAL
    assert P.holdout_overlap(real, fresh, cols, set(NUMERIC))["overlaps"] is False
    leaked = pd.concat([fresh.iloc[:900], real.iloc[:100]])
    found = P.holdout_overlap(real, leaked, cols, set(NUMERIC))
    assert found["overlaps"] and found["shared"] == 100
