import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from advsynth import detect
from advsynth.detection import DetectorFeatures
from advsynth.errors import InputError
from advsynth.stats import auc_p_value, roc_auc_delong


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
    result = detect(_frame(rng, 1500), _frame(rng, 1500, shift=1.0), rounds=50)
    assert result.roc_auc > 0.7 and result.roc_auc_ci[0] > 0.65 and result.p_value < 1e-6
    assert result.top_columns(1)[0][0] == "a"
    assert sum(result.column_importance.values()) == pytest.approx(1.0)
    assert abs(result.null_roc_auc - 0.5) < 0.06


def test_detector_cannot_tell_samples_of_one_distribution():
    rng = np.random.default_rng(3)
    result = detect(_frame(rng, 1500), _frame(rng, 1500), rounds=50)
    assert result.roc_auc_ci[0] < 0.5 + 0.03 and abs(result.roc_auc - 0.5) < 0.06
    assert result.p_value > 0.001


def test_detect_is_deterministic_and_balances_classes():
    rng = np.random.default_rng(4)
    real, synth = _frame(rng, 800), _frame(rng, 1200, shift=0.5)
    a, b = detect(real, synth, rounds=30), detect(real, synth, rounds=30)
    assert a == b
    assert a.n_train + a.n_test == 1600


def test_features_tolerate_unseen_levels_and_missing():
    real = pd.DataFrame({"n": [1.0, np.nan], "c": ["x", None]})
    feats = DetectorFeatures.fit(real, pd.DataFrame({"n": [2.0, 3.0], "c": ["y", "x"]}))
    assert feats.columns == ["n", "c", "c"]
    X = feats.transform(pd.DataFrame({"n": [5.0], "c": ["never-seen"]}))
    assert X.tolist() == [[5.0, 0.0, 0.0]]


def test_mismatched_columns_are_refused():
    with pytest.raises(InputError, match="different columns"):
        detect(pd.DataFrame({"a": range(30)}), pd.DataFrame({"b": range(30)}))
