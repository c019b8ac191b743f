import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from advsynth import detect
from advsynth.detection import (MAX_ONEHOT_LEVELS, DetectorFeatures, null_on_real, split_rows,
                                train_detector)
from advsynth.errors import ConfigError, InputError
from advsynth.protocol import DetectorConfig
from advsynth.schema import infer_schema
from advsynth.stats import auc_p_value, roc_auc_delong, standard_error_of

FAST = DetectorConfig(rounds=100, max_depth=4, early_stopping_rounds=30)


def test_delong_matches_sklearn_and_its_interval_covers_the_truth():
    rng = np.random.default_rng(0)
    # Two normal score distributions one sd apart: true AUC = Phi(1/sqrt(2)) = 0.7602
    covered = 0
    for rep in range(40):
        y = np.r_[np.zeros(300), np.ones(300)]
        s = np.r_[rng.normal(0, 1, 300), rng.normal(1, 1, 300)]
        auc, (lo, hi) = roc_auc_delong(y, s)
        assert auc == pytest.approx(roc_auc_score(y, s))
        covered += lo <= 0.7602 <= hi
    assert covered >= 34  # 95 % nominal coverage; 34/40 is far in the tail if coverage were poor


def test_p_value_is_small_for_separated_scores_and_not_for_noise():
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(500), np.ones(500)]
    assert auc_p_value(y, np.r_[rng.normal(0, 1, 500), rng.normal(0.5, 1, 500)]) < 1e-6
    p_null = [auc_p_value(y, rng.normal(0, 1, 1000)) for _ in range(200)]
    assert 0.35 < np.mean(p_null) < 0.65  # uniform under H0
    assert np.mean(np.array(p_null) < 0.05) < 0.1


def _frame(rng, n, shift=0.0):
    return pd.DataFrame({
        "a": rng.normal(shift, 1, n),
        "b": rng.normal(0, 1, n),
        "c": rng.choice(["x", "y", "z"], n),
    })


def test_detector_finds_a_shift_and_names_the_column():
    rng = np.random.default_rng(2)
    result = detect(_frame(rng, 1500), _frame(rng, 1500, shift=1.0), FAST)
    assert result.roc_auc > 0.7 and result.roc_auc_ci[0] > 0.65 and result.p_value < 1e-6
    assert result.top_columns(1)[0][0] == "a"
    assert sum(result.column_importance.values()) == pytest.approx(1.0)
    assert abs(result.null_roc_auc - 0.5) < 0.06
    assert "generator-seed" in result.roc_auc_ci_covers


def test_detector_cannot_tell_samples_of_one_distribution():
    rng = np.random.default_rng(3)
    result = detect(_frame(rng, 1500), _frame(rng, 1500), FAST)
    assert result.roc_auc_ci[0] < 0.5 + 0.03 and abs(result.roc_auc - 0.5) < 0.06
    assert result.p_value > 0.001


def test_detect_is_deterministic_and_balances_classes():
    rng = np.random.default_rng(4)
    real, synth = _frame(rng, 800), _frame(rng, 1200, shift=0.5)
    a, b = detect(real, synth, FAST), detect(real, synth, FAST)
    assert a == b
    assert a.n_train + a.n_validation + a.n_test == 1600
    assert a.best_rounds <= FAST.rounds


def test_missingness_that_co_occurs_only_in_real_rows_is_detected():
    """Real: b is missing exactly when a is; synthetic: each missing independently at the same
    rates. Marginals agree, so only the joint missingness pattern gives the fakes away."""
    rng = np.random.default_rng(5)
    n = 3000

    def table(joint):
        miss_a = rng.random(n) < 0.3
        miss_b = miss_a if joint else rng.random(n) < 0.3
        return pd.DataFrame({
            "a": np.where(miss_a, None, rng.choice(["p", "q", "r"], n)),
            "b": np.where(miss_b, None, rng.choice(["u", "v"], n)),
            "x": rng.normal(0, 1, n),
        })

    result = detect(table(True), table(False), FAST, null=False)
    assert result.roc_auc > 0.6 and result.roc_auc_ci[0] > 0.55


def test_features_make_missingness_visible_and_keep_unseen_levels_apart():
    real = pd.DataFrame({"n": [1.0, np.nan, 3.0] * 10, "c": ["x", None, "y"] * 10})
    schema = infer_schema(real)
    feats = DetectorFeatures.fit(schema, real, pd.DataFrame({"n": [2.0] * 30, "c": ["y", "x", "zzz"] * 10}))
    assert feats.names == ["n", "n#missing", "c=__other__", "c=x", "c=y", "c#missing"]
    X = feats.transform(pd.DataFrame({"n": [np.nan, 5.0], "c": [None, "never-seen"]}))
    assert X.dtype == np.float32
    # a missing value is flagged, not merely "no level"; levels a row lacks and flags that are off are absent (NaN)
    assert np.isnan(X[0, 0]) and X[0, 1] == 1 and X[0, 5] == 1 and np.isnan(X[0, 2:5]).all()
    # an unseen level is OTHER_LEVEL; offset = fitted minimum
    assert np.array_equal(X[1], [4.0, np.nan, 1.0, np.nan, np.nan, np.nan], equal_nan=True)
    sparse = feats.transform_sparse(schema.model_frame(pd.DataFrame({"n": [np.nan, 5.0], "c": [None, "never-seen"]})))
    assert sparse.nnz == 4 and np.array_equal(sparse.toarray(), np.nan_to_num(X), equal_nan=True)
    again = DetectorFeatures.from_json(feats.to_json())
    assert again == feats and np.array_equal(again.transform(real), feats.transform(real), equal_nan=True)


def test_high_cardinality_columns_get_a_bounded_encoding(monkeypatch):
    # the typing layer keeps at most columns.MAX_LEVELS (50) levels; raise it so the detector's own bound is exercised
    from advsynth import columns

    monkeypatch.setattr(columns.categorical, "MAX_LEVELS", 500)
    rng = np.random.default_rng(6)
    n = 5000
    # 900 levels: many, but each over ~6 rows (not a group key, which is never modelled)
    real = pd.DataFrame({"id_ish": [f"L{i}" for i in rng.integers(0, 900, n)], "x": rng.normal(0, 1, n)})
    schema = infer_schema(real)
    feats = DetectorFeatures.fit(schema, real)
    assert len(feats.names) == 1 + MAX_ONEHOT_LEVELS + 2
    assert feats.names[-2:] == ["id_ish#frequency", "id_ish#index"]
    X = feats.transform(real)
    assert X.shape == (n, len(feats.names)) and not np.isnan(X[:, -2:]).any()


def test_early_stopping_uses_training_rows_only():
    y = np.r_[np.zeros(500), np.ones(500)]
    split = split_rows(y, FAST, seed=0)
    assert not set(split.validation) & set(split.test) and not set(split.train) & set(split.test)
    assert not set(split.train) & set(split.validation)
    assert len(split.train) + len(split.validation) + len(split.test) == 1000
    assert len(split.test) == 300 and len(split.validation) == round(700 * FAST.validation_size)
    none = split_rows(y, FAST.replace(early_stopping_rounds=0), seed=0)
    assert len(none.validation) == 0 and np.array_equal(none.test, split.test)


def test_training_stops_early_on_validation_and_keeps_the_best_round():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(1000, 3)).astype(np.float32)
    y = (rng.random(1000) < 0.5).astype(float)  # pure noise: the validation AUC peaks at once
    cfg = DetectorConfig(rounds=500, early_stopping_rounds=5)
    booster = train_detector(X[:800], y[:800], cfg, X_val=X[800:], y_val=y[800:])
    assert booster.num_boosted_rounds() < 50


def test_cross_validation_reports_folds():
    rng = np.random.default_rng(8)
    result = detect(_frame(rng, 600), _frame(rng, 600, shift=0.8), FAST.replace(cv=3), null=False)
    cv = result.cv
    assert cv["k"] == 3 and len(cv["folds"]) == 3
    assert cv["mean"] == pytest.approx(np.mean(cv["folds"])) and cv["sd"] == pytest.approx(np.std(cv["folds"], ddof=1))
    assert 0.6 < cv["mean"] < 1
    json.dumps(result.to_dict())


def test_giveaways_list_synthetic_rows_and_over_represented_levels():
    rng = np.random.default_rng(9)
    real = _frame(rng, 1000)
    synth = _frame(rng, 1000)
    synth["c"] = rng.choice(["x", "y", "z"], 1000, p=[0.8, 0.1, 0.1])
    result = detect(real, synth, FAST, null=False)
    rows = result.giveaways["rows"]
    assert 0 < len(rows) <= 20 and rows[0]["score"] >= rows[-1]["score"]
    assert set(rows[0]["row"]) == {"a", "b", "c"}
    levels = result.giveaways["levels"]["c"]
    assert levels[0]["level"] == "x" and levels[0]["difference"] > 0.3


def test_null_on_real_is_near_half():
    rng = np.random.default_rng(10)
    auc, ci, (y, s) = null_on_real(_frame(rng, 2000), FAST, seed=1)
    assert abs(auc - 0.5) < 0.06 and ci[0] < 0.5 < ci[1] and len(y) == len(s)


def test_mismatched_columns_are_refused():
    with pytest.raises(InputError, match="different columns"):
        detect(pd.DataFrame({"a": range(30)}), pd.DataFrame({"b": range(30)}))


def test_config_refuses_bad_values():
    with pytest.raises(ConfigError, match="cv"):
        DetectorConfig(cv=1)
    with pytest.raises(ConfigError, match="max_depth"):
        DetectorConfig.from_dict({"params": {"max_depth": 3}})
    assert DetectorConfig.coerce({"rounds": 5}).rounds == 5
    assert DetectorConfig.coerce(None) == DetectorConfig()


def test_config_params_add_to_the_default_params():
    cfg = DetectorConfig.from_dict({"params": {"min_child_weight": 5}})
    assert cfg.params == {**DetectorConfig().params, "min_child_weight": 5}
    assert DetectorConfig.from_dict({"colsample_bytree": 1.0}).xgb_params()["colsample_bytree"] == 1.0


def test_max_bin_in_params_reaches_the_binned_matrices():
    """``max_bin`` is fixed when XGBoost bins the matrix: passing it only to ``xgb.train`` failed."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1200, 2)).astype(np.float32)
    y = (X[:, 0] + rng.normal(scale=0.5, size=1200) > 0).astype(float)
    kw = dict(X_val=X[1000:], y_val=y[1000:])
    coarse = train_detector(X[:1000], y[:1000], FAST.replace(params={"max_bin": 4}), **kw)
    fine = train_detector(X[:1000], y[:1000], FAST, **kw)
    # four bins leave at most three distinct thresholds per feature
    thresholds = coarse.trees_to_dataframe().query("Feature != 'Leaf'").groupby("Feature")["Split"].nunique()
    assert thresholds.max() <= 3
    assert fine.trees_to_dataframe().query("Feature != 'Leaf'").groupby("Feature")["Split"].nunique().max() > 3


def test_infinite_values_reach_the_detector_as_extremes():
    rng = np.random.default_rng(11)
    real = pd.DataFrame({"v": rng.normal(0, 1, 400), "w": rng.normal(0, 1, 400)})
    synth = real.copy()
    synth.loc[:99, "v"] = np.inf
    synth.loc[100:149, "v"] = -np.inf
    result = detect(real, synth, FAST, null=False)
    assert result.roc_auc > 0.6 and result.top_columns(1)[0][0] == "v"


def _wide_table(rng, n):
    """Many-level categoricals (one-hot heavy), numbers with zeros and missing values."""
    return pd.DataFrame({
        "city": [f"c{i}" for i in rng.integers(0, 60, n)],
        "product": [f"p{i}" for i in rng.integers(0, 40, n)],
        "spend": np.where(rng.random(n) < 0.4, 0.0, rng.gamma(2.0, 10.0, n)),
        "rare": np.where(rng.random(n) < 0.3, np.nan, rng.normal(0, 1, n)),
    })


def test_detector_features_are_sparse_and_keep_numeric_zeros():
    """The detector's matrix stores only what a row has (a one-hot 1, a flag that is on, every
    present number): a fraction of the dense one-hot matrix that made the baseline's run on the
    100,000 x 30 stress table peak at 2.25 GB. A numeric zero is a stored value, never "missing"."""
    from advsynth.detection import stacked_features

    rng = np.random.default_rng(11)
    real, synth = _wide_table(rng, 2000), _wide_table(rng, 2000)
    schema = infer_schema(real)
    mf_r, mf_s = schema.model_frame(real), schema.model_frame(synth)
    feats = DetectorFeatures.fit_model_frames(schema, mf_r, mf_s)
    X, y = stacked_features(feats, mf_r, mf_s)
    assert X.format == "csr" and X.dtype == np.float32 and X.shape == (4000, len(feats.names))
    stored = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    assert stored < 0.2 * X.shape[0] * X.shape[1] * 4  # the dense float32 matrix it replaces
    spend = feats.names.index("spend")
    zeros = (np.r_[real["spend"], synth["spend"]] == 0)
    column = X[:, spend].tocoo()
    assert set(column.row) == set(range(4000)) and (column.data == 0).sum() == zeros.sum()  # zeros stored
    # the dense view (NaN where nothing is stored) is the same matrix
    dense = np.vstack([feats.transform_model_frame(mf_r), feats.transform_model_frame(mf_s)])
    assert np.array_equal(dense, np.where(np.isnan(dense), np.nan, X.toarray()), equal_nan=True)
    assert np.isnan(dense).sum() == X.shape[0] * X.shape[1] - X.nnz


def test_sparse_and_dense_views_train_the_same_detector():
    """XGBoost reads an absent entry and a NaN alike: the pipeline's dense CSV and the run's
    sparse matrix give the same trees, hence the same scores."""
    from advsynth.detection import predict, stacked_features

    rng = np.random.default_rng(12)
    real, synth = _wide_table(rng, 1500), _wide_table(rng, 1500)
    synth["spend"] = synth["spend"] * (1 + 0.3 * (synth["city"] == "c1"))  # something to find
    schema = infer_schema(real)
    mf_r, mf_s = schema.model_frame(real), schema.model_frame(synth)
    feats = DetectorFeatures.fit_model_frames(schema, mf_r, mf_s)
    X, y = stacked_features(feats, mf_r, mf_s)
    dense = np.vstack([feats.transform_model_frame(mf_r), feats.transform_model_frame(mf_s)])
    split = split_rows(y, FAST, seed=0)
    args = dict(seed=0, y_val=y[split.validation])
    sparse_b = train_detector(X[split.train], y[split.train], FAST, X_val=X[split.validation], **args)
    dense_b = train_detector(dense[split.train], y[split.train], FAST, X_val=dense[split.validation], **args)
    assert sparse_b.num_boosted_rounds() == dense_b.num_boosted_rounds()
    np.testing.assert_array_equal(predict(sparse_b, X[split.test]), predict(dense_b, dense[split.test]))


def test_prediction_split_over_threads_gives_the_same_scores():
    """``predict(threads=…)`` splits the rows among threads: the scores must be bit for bit those of
    one call (the density-ratio sampler relies on it for the same rows on any machine)."""
    import xgboost as xgb

    from advsynth.detection import PREDICT_CHUNK_ROWS, predict, train_detector

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=2000) > 0).astype(int)
    booster = train_detector(X, y, DetectorConfig(rounds=30, null=False), seed=0)
    assert isinstance(booster, xgb.Booster)
    pool = rng.normal(size=(3 * PREDICT_CHUNK_ROWS + 7, 6)).astype(np.float32)
    one = predict(booster, pool)
    assert np.array_equal(one, predict(booster, pool, threads=3)) and np.array_equal(one, predict(booster, pool, threads=8))
    assert one.std() > 0  # a booster that learned something, so equal scores are a real check


def test_the_standard_error_behind_an_auc_interval_does_not_depend_on_its_level():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(2000), np.ones(2000)]
    scores = rng.normal(size=4000) + 0.3 * y
    se = {level: standard_error_of(roc_auc_delong(y, scores, level)[1], level) for level in (0.5, 0.95, 0.99)}
    assert 0.005 < se[0.95] < 0.02  # an AUC on 2,000 rows of each class
    assert se[0.5] == pytest.approx(se[0.95], rel=1e-9) and se[0.99] == pytest.approx(se[0.95], rel=1e-9)
