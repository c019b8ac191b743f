"""Properties of the fidelity, privacy and utility metrics on small seeded tables.

Every expectation follows from how the tables are built (identical, shifted, shuffled,
copied, freshly drawn), never from numbers the code printed.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from advsynth.metrics import (
    MISSING_LEVEL,
    MetricInputError,
    association_difference,
    conditional_difference,
    correlation_difference,
    cramers_v,
    fidelity_report,
    marginals,
    tstr,
)

NUMERIC = ["x", "z", "count"]
CATEGORICAL = ["colour", "size", "label"]


def draw(n: int, seed: int) -> pd.DataFrame:
    """A mixed table with known structure.

    ``z`` is strongly correlated with ``x``; ``size`` mostly copies ``colour``; ``label``
    depends on ``x`` and ``colour`` (so it is predictable); some values are missing.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    z = 0.9 * x + np.sqrt(1 - 0.81) * rng.normal(0.0, 1.0, n)
    colour = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2])
    size = np.where(rng.random(n) < 0.8, colour, rng.choice(["red", "green", "blue"], n))
    size = pd.Series(size).map({"red": "S", "green": "M", "blue": "L"}).to_numpy(dtype=object)
    logit = 2.5 * x + 1.5 * (colour == "red") - 0.75
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    count = rng.poisson(3, n).astype(float)
    frame = pd.DataFrame({"x": x, "z": z, "count": count, "colour": colour, "size": size, "label": label})
    frame.loc[rng.random(n) < 0.05, "count"] = np.nan
    frame.loc[rng.random(n) < 0.05, "colour"] = None
    return frame


def _check_types(value, path):
    if isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str, f"{path}: key {k!r} is {type(k).__name__}"
            _check_types(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_types(v, f"{path}[{i}]")
    else:
        assert type(value) in (str, int, float, bool, type(None)), f"{path} is {type(value).__name__}"


def assert_json_ready(value):
    """Only builtin types (np.float64 subclasses float, so exact types are checked) and no NaN."""
    _check_types(value, "result")
    json.dumps(value, allow_nan=False)


@pytest.fixture(scope="module")
def real():
    return draw(2000, seed=1)


@pytest.fixture(scope="module")
def fresh():
    """An independent draw from the same distribution as ``real``."""
    return draw(2000, seed=2)


# --------------------------------------------------------------------------- fidelity


def test_identical_frames_have_zero_distance_everywhere(real):
    report = fidelity_report(real, real.copy(), NUMERIC, CATEGORICAL, target="label")
    for col, m in report["marginals"].items():
        assert m["value"] == 0.0, col
        assert m["missing_rate_real"] == m["missing_rate_synthetic"]
    summary = report["summary"]
    assert summary["mean_ks"] == 0.0
    assert summary["mean_tvd"] == 0.0
    assert summary["mean_abs_corr_diff"] == 0.0
    assert summary["mean_abs_cramers_v_diff"] == 0.0
    assert summary["max_missing_rate_diff"] == 0.0
    assert summary["mean_conditional_distance"] == 0.0
    assert_json_ready(report)


def test_report_of_a_fresh_draw_is_json_ready_and_small(real, fresh):
    report = fidelity_report(real, fresh, NUMERIC, CATEGORICAL, target="label")
    assert_json_ready(report)
    summary = report["summary"]
    # Two samples of 2000 from one distribution: KS and TVD fluctuate around 1/sqrt(n).
    assert 0 < summary["mean_ks"] < 0.08
    assert 0 < summary["mean_tvd"] < 0.08
    assert summary["mean_abs_corr_diff"] < 0.1
    assert set(report["marginals"]) == set(NUMERIC + CATEGORICAL)


def test_shifted_column_has_larger_ks_than_unshifted(real, fresh):
    shifted = fresh.assign(x=fresh["x"] + 1.0)  # one standard deviation
    result = marginals(real, shifted, NUMERIC, CATEGORICAL)
    # Population KS of N(0,1) vs N(1,1) is 2*Phi(0.5) - 1 = 0.383.
    assert result["x"]["value"] > 0.3
    assert result["x"]["value"] > result["z"]["value"] + 0.2
    assert result["x"]["statistic"] == "ks" and result["colour"]["statistic"] == "tvd"


def test_numeric_missing_values_are_reported_not_compared(real):
    rng = np.random.default_rng(5)
    holes = real.copy()
    holes.loc[rng.random(len(holes)) < 0.5, "x"] = np.nan  # random rows: the rest keep the distribution
    m = marginals(real, holes, ["x"], [])["x"]
    assert m["missing_rate_real"] == 0.0
    assert 0.45 < m["missing_rate_synthetic"] < 0.55
    assert m["value"] < 0.06

    empty = real.assign(x=np.nan)
    assert marginals(real, empty, ["x"], [])["x"]["value"] is None


def test_categorical_missing_is_its_own_level():
    real = pd.DataFrame({"c": ["a", "b"] * 50})
    synthetic = pd.DataFrame({"c": ["a", None] * 50})
    m = marginals(real, synthetic, [], ["c"])["c"]
    # Half the mass moved from "b" to the missing level.
    assert m["value"] == pytest.approx(0.5)
    assert m["missing_rate_synthetic"] == pytest.approx(0.5)


def test_tvd_is_one_for_disjoint_levels_and_zero_across_representations():
    assert marginals(pd.DataFrame({"c": ["a"] * 10}), pd.DataFrame({"c": ["b"] * 10}), [], ["c"])["c"]["value"] == 1.0
    ints = pd.DataFrame({"c": [1, 2, 2, None]})  # float64 with NaN
    strings = pd.DataFrame({"c": ["1", "2", "2", None]})
    assert marginals(ints, strings, [], ["c"])["c"]["value"] == 0.0


def test_independently_shuffled_columns_lose_correlation(real, fresh):
    rng = np.random.default_rng(3)
    shuffled = fresh.assign(z=rng.permutation(fresh["z"].to_numpy()))
    kept = correlation_difference(real, fresh, ["x", "z"])
    lost = correlation_difference(real, shuffled, ["x", "z"])
    # Spearman of a 0.9-correlated Gaussian pair is about 0.89; shuffling makes it about 0.
    assert kept["mean_abs_diff"] < 0.05
    assert lost["mean_abs_diff"] > 0.7
    assert lost["real"][0][0] == pytest.approx(1.0)
    assert lost["columns"] == ["x", "z"]


def test_correlation_uses_pairwise_complete_rows(real):
    holes = real.copy()
    holes.loc[holes.index[::3], "z"] = np.nan
    result = correlation_difference(real, holes, ["x", "z"])
    assert result["mean_abs_diff"] < 0.03  # deleting rows at random keeps the correlation


def test_constant_column_correlation_is_none_not_nan(real):
    constant = real.assign(z=1.0)
    result = correlation_difference(real, constant, ["x", "z"])
    assert result["synthetic"][0][1] is None
    assert result["mean_abs_diff"] is None
    assert_json_ready(result)


def test_cramers_v_of_a_column_with_itself_is_one_and_of_independent_columns_near_zero():
    rng = np.random.default_rng(4)
    a = pd.Series(rng.choice(list("abcd"), 3000))
    b = pd.Series(rng.choice(list("xyz"), 3000))
    assert cramers_v(a, a) == pytest.approx(1.0)
    assert cramers_v(a, a.map({"a": 1, "b": 2, "c": 3, "d": 4})) == pytest.approx(1.0)  # relabelled
    assert cramers_v(a, b) < 0.05
    assert cramers_v(a, pd.Series(["k"] * 3000)) is None


def test_association_difference_detects_broken_dependence(real, fresh):
    rng = np.random.default_rng(6)
    broken = fresh.assign(size=rng.permutation(fresh["size"].to_numpy()))
    ok = association_difference(real, fresh, ["colour", "size"])
    bad = association_difference(real, broken, ["colour", "size"])
    assert ok["real"][0][1] > 0.5  # size copies colour 80% of the time
    assert ok["mean_abs_diff"] < 0.05
    assert bad["mean_abs_diff"] > 0.5
    assert bad["skipped"] == []


def test_association_skips_many_level_columns_with_a_logged_reason(real, caplog):
    many = real.assign(id=[f"id{i % 60}" for i in range(len(real))])
    with caplog.at_level(logging.INFO, logger="advsynth.metrics.fidelity"):
        result = association_difference(many, many, ["colour", "id"], max_levels=50)
    assert [s["column"] for s in result["skipped"]] == ["id"]
    assert result["real"][0][1] is None and result["real"][1][1] is None
    assert any("id" in r.getMessage() and "max_levels" in r.getMessage() for r in caplog.records)
    assert result["real"][0][0] == pytest.approx(1.0)


def test_conditional_difference_sees_what_marginals_miss(real):
    rng = np.random.default_rng(7)
    # Permuting x keeps its marginal exactly but cuts its link to the label.
    cut = real.assign(x=rng.permutation(real["x"].to_numpy()))
    assert marginals(real, cut, ["x"], [])["x"]["value"] == 0.0
    same = conditional_difference(real, real, "label", NUMERIC, CATEGORICAL)
    diff = conditional_difference(real, cut, "label", NUMERIC, CATEGORICAL)
    assert "label" not in diff
    assert set(diff["x"]["by_level"]) == {"0", "1"}
    assert same["x"]["weighted_mean"] == 0.0
    assert diff["x"]["weighted_mean"] > 0.2
    assert all(d > 0.2 for d in diff["x"]["by_level"].values())


def test_conditional_level_missing_from_synthetic_is_maximal(real):
    only_ones = real[real["label"] == 1]
    result = conditional_difference(real, only_ones, "label", ["x"], ["colour", "label"])
    assert result["x"]["by_level"]["0"] == 1.0
    assert result["colour"]["by_level"]["0"] == 1.0


def test_datetime_columns_compare_as_nanoseconds():
    rng = np.random.default_rng(8)
    days = rng.integers(0, 1000, 500)
    base = pd.Timestamp("2020-01-01")
    real = pd.DataFrame({"t": (base + pd.to_timedelta(days, unit="D")).astype("datetime64[us]")})
    same_ns = pd.DataFrame({"t": (base + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")})
    aware = pd.DataFrame({"t": same_ns["t"].dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")})
    later = pd.DataFrame({"t": base + pd.to_timedelta(days + 500, unit="D")})
    assert marginals(real, same_ns, [], [], datetime=["t"])["t"]["value"] == 0.0
    assert marginals(real, aware, [], [], datetime=["t"])["t"]["value"] == 0.0
    # Shifting uniform days by half the range moves half the mass past every real value.
    assert marginals(real, later, [], [], datetime=["t"])["t"]["value"] > 0.4
    report = fidelity_report(real, later, [], [], datetime=["t"])
    assert report["summary"]["mean_ks"] > 0.4
    assert_json_ready(report)


def test_fidelity_input_errors_are_value_errors(real):
    with pytest.raises(ValueError, match="lacks column"):
        marginals(real, real.drop(columns="x"), ["x"], [])
    with pytest.raises(ValueError, match="more than one type"):
        marginals(real, real, ["x"], ["x"])
    with pytest.raises(MetricInputError, match="categorical"):
        conditional_difference(real, real, "x", ["x"], [])


# --------------------------------------------------------------------------- utility


@pytest.fixture(scope="module")
def split():
    return draw(1500, 60), draw(800, 61)


FEATURES_NUM = ["x", "count"]
# One thread: on a shared, loaded runner two OpenMP threads can be 10x slower for tables this small.
FAST = {"n_jobs": 1}


def test_tstr_on_a_copy_of_real_train_has_no_gap(split):
    train, test = split
    result = tstr(train, test, train.copy(), "label", FEATURES_NUM, CATEGORICAL, **FAST)
    assert result["task"] == "classification"
    assert result["trtr"]["auc"] > 0.8  # label is a strong function of x and colour
    assert result["auc_gap"] == pytest.approx(0.0, abs=1e-12)
    assert result["accuracy_gap"] == pytest.approx(0.0, abs=1e-12)
    assert result["tstr_skipped_reason"] is None
    assert_json_ready(result)


def test_tstr_on_label_shuffled_synthetic_is_chance(split):
    train, test = split
    rng = np.random.default_rng(62)
    shuffled = train.assign(label=rng.permutation(train["label"].to_numpy()))
    result = tstr(train, test, shuffled, "label", FEATURES_NUM, CATEGORICAL, **FAST)
    # Labels independent of features: AUC is 0.5 up to noise (sd ~0.02 on 800 test rows).
    assert 0.4 < result["tstr"]["auc"] < 0.6
    assert result["auc_gap"] > 0.2


def test_tstr_is_deterministic(split):
    train, test = split
    fresh = draw(1500, 63)
    args = (train, test, fresh, "label", FEATURES_NUM, CATEGORICAL)
    first = tstr(*args, random_state=3, **FAST)
    assert first == tstr(*args, random_state=3, **FAST)
    assert first["tstr"] is not None


def test_tstr_single_level_synthetic_target_is_reported_not_raised(split):
    train, test = split
    degenerate = train.assign(label=1)
    result = tstr(train, test, degenerate, "label", FEATURES_NUM, CATEGORICAL, **FAST)
    assert result["tstr"] is None
    assert "1 level" in result["tstr_skipped_reason"]
    assert result["auc_gap"] is None
    assert result["trtr"]["auc"] > 0.8


def test_tstr_input_errors(split):
    train, test = split
    with pytest.raises(ValueError, match="not a column of synthetic"):
        tstr(train, test, train.drop(columns="label"), "label", FEATURES_NUM, CATEGORICAL)
    with pytest.raises(ValueError, match="level"):
        tstr(train.assign(label=0), test, train, "label", FEATURES_NUM, CATEGORICAL, **FAST)


def test_tstr_multiclass_with_levels_unseen_in_training(split):
    train, test = split
    test = test.copy()
    test.loc[test.index[:20], "size"] = "XXL"  # a feature level only the test rows have
    synthetic = draw(1500, 64)
    result = tstr(train, test, synthetic, "colour", FEATURES_NUM, CATEGORICAL, **FAST)
    # colour is a 3-level target (missing rows dropped) well predicted by size.
    assert result["classes"] == sorted(["red", "green", "blue"])
    assert MISSING_LEVEL not in result["classes"]
    assert result["n_test"] == int(test["colour"].notna().sum())
    assert result["trtr"]["auc"] > 0.7
    assert abs(result["auc_gap"]) < 0.05


def test_tstr_regression_reports_r2_and_mae(split):
    train, test = split
    rng = np.random.default_rng(65)
    same = tstr(train, test, train.copy(), "z", ["x", "z"], CATEGORICAL, **FAST)
    assert same["task"] == "regression"
    assert same["trtr"]["r2"] > 0.6  # z = 0.9 x + noise: R² about 0.81
    assert same["r2_gap"] == pytest.approx(0.0, abs=1e-12)
    shuffled = train.assign(z=rng.permutation(train["z"].to_numpy()))
    broken = tstr(train, test, shuffled, "z", ["x", "z"], CATEGORICAL, **FAST)
    assert broken["tstr"]["r2"] < 0.1
    assert broken["mae_gap"] > 0
    assert_json_ready(broken)


def test_numeric_target_runs_through_extras_and_the_summary():
    """A regression target (diabetes' `target`) used to crash the run's summary after the run finished."""
    from sklearn.datasets import load_diabetes

    from advsynth import BaselineSynthesizer
    from advsynth.cli import summary
    from advsynth.experiment.splits import split_real
    from advsynth.metrics.evaluate import evaluate_extras
    from advsynth.schema import infer_schema

    real = load_diabetes(as_frame=True).frame
    schema = infer_schema(real)
    train, hold = split_real(real, 0, 0.2)
    synthetic = BaselineSynthesizer().fit(train, schema).sample(len(real))
    extras = evaluate_extras(real, synthetic, schema, "target", 0, split=(train, hold))
    tstr_result = extras["utility"]["tstr"]
    assert tstr_result["task"] == "regression" and tstr_result["tstr"]["r2"] < tstr_result["trtr"]["r2"]
    metrics = {"generator": "baseline", "name": "diabetes", "n_synthetic": 442, "n_real": 442, "seed": 0,
               "detector": {"roc_auc": 0.9, "roc_auc_ci": [0.8, 1.0], "p_value": 0.01, "precision": 0.5,
                            "recall": 0.5, "column_importance": {"bmi": 1.0}},
               "timings_s": {"total": 1.0}, **{k: extras[k] for k in ("fidelity", "privacy", "utility")}}
    assert "TSTR R² " in summary(metrics)


def test_extras_bound_a_free_text_column_and_skip_passthrough_columns():
    from advsynth.metrics.evaluate import evaluate_extras
    from advsynth.schema import infer_schema

    rng = np.random.default_rng(0)
    n = 8000  # 1,200 titles: more than MAX_LEVELS, yet too many rows each for a group key
    real = pd.DataFrame({"title": [f"t{i}" for i in rng.integers(0, 1200, n)], "x": rng.normal(size=n),
                         "const": 1, "empty": np.nan, "g": rng.choice(["a", "b"], n)})
    synthetic = real.sample(frac=1.0, random_state=1).reset_index(drop=True).assign(
        title=[f"s{i}" for i in range(n)])  # invented titles
    schema = infer_schema(real)
    extras = evaluate_extras(real, synthetic, schema, "g", 0)
    marg = extras["fidelity"]["marginals"]
    assert "const" not in marg and "empty" not in marg
    # invented titles all land in OTHER, so the distance is exactly the real share of the kept levels
    assert marg["title"]["value"] == pytest.approx(1 - schema["title"].tail_share)
