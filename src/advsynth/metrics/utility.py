"""Machine-learning utility: can a model trained on synthetic data replace one trained on real data?

Train-Synthetic-Test-Real (TSTR) fits a model on the synthetic table and scores it on
held-out real rows; Train-Real-Test-Real (TRTR) fits the same model on the real training
rows the generator saw. The gap between the two is the utility lost by sharing synthetic
instead of real data, the question data consumers actually ask. Fidelity metrics cannot
answer it: a table can match every marginal and still lose the feature/target relation.

The model is gradient-boosted trees (XGBoost, ``hist``), a strong default on tabular data
that needs no scaling and handles categories and missing values natively, so the gap
reflects the data, not preprocessing choices.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score
from xgboost import XGBClassifier, XGBRegressor

from .fidelity import MISSING_LEVEL, MetricInputError, _as_float, _category_keys, _validate

log = logging.getLogger(__name__)

DEFAULT_N_ESTIMATORS = 100


def _feature_frames(
    frames: dict[str, pd.DataFrame], numeric: list, categorical: list, datetime: list
) -> dict[str, pd.DataFrame]:
    """Model inputs for every frame, categorical dtypes sharing one category list.

    Categories are the union over all frames, so a level that appears only in the test
    rows (or only in the synthetic rows) is a known, if unlearned, category instead of an
    error at prediction time. Missing is a level of its own, as in the fidelity metrics.
    """
    keys = {name: {c: _category_keys(f[c]) for c in categorical} for name, f in frames.items()}
    categories = {c: sorted(set().union(*(set(keys[n][c]) for n in frames))) for c in categorical}
    out = {}
    for name, frame in frames.items():
        data = {}
        for c in [*numeric, *datetime]:
            data[c] = _as_float(frame[c], c in datetime)
        for c in categorical:
            data[c] = pd.Categorical(keys[name][c], categories=categories[c])
        out[name] = pd.DataFrame(data, index=frame.index)
    return out


def _labels(frame: pd.DataFrame, target: str, is_numeric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Target values and the mask of usable rows (a missing target is an unknown outcome)."""
    if is_numeric:
        y = _as_float(frame[target])
        return y, ~np.isnan(y)
    y = _category_keys(frame[target])
    return y, y != MISSING_LEVEL


def _classification_scores(model: XGBClassifier, classes: np.ndarray, x: pd.DataFrame, y: np.ndarray) -> dict:
    proba = model.predict_proba(x)
    accuracy = float(accuracy_score(y, classes[np.argmax(proba, axis=1)]))
    present = sorted(set(y))
    column = {c: i for i, c in enumerate(classes)}

    def score(c):  # a class the model never saw scores 0 everywhere (AUC 0.5)
        return proba[:, column[c]] if c in column else np.zeros(len(y))

    if len(present) < 2:
        auc = None
        log.warning("TSTR: the real test rows hold a single target level; AUC undefined")
    elif len(present) == 2:
        auc = float(roc_auc_score(y == present[1], score(present[1])))
    else:
        auc = float(np.mean([roc_auc_score(y == c, score(c)) for c in present]))
    return {"auc": auc, "accuracy": accuracy}


def _fit_classifier(x: pd.DataFrame, y: np.ndarray, random_state: int, n_estimators: int, n_jobs: int):
    classes = np.array(sorted(set(y)), dtype=object)
    codes = np.searchsorted(classes.astype(str), y.astype(str))
    model = XGBClassifier(
        tree_method="hist",
        n_estimators=n_estimators,
        n_jobs=n_jobs,
        enable_categorical=True,
        random_state=random_state,
    )
    model.fit(x, codes)
    return model, classes


def _regression_scores(model: XGBRegressor, x: pd.DataFrame, y: np.ndarray) -> dict:
    pred = model.predict(x)
    r2 = float(r2_score(y, pred)) if len(y) > 1 else None
    return {"r2": r2, "mae": float(mean_absolute_error(y, pred))}


def _fit_regressor(x: pd.DataFrame, y: np.ndarray, random_state: int, n_estimators: int, n_jobs: int):
    model = XGBRegressor(
        tree_method="hist",
        n_estimators=n_estimators,
        n_jobs=n_jobs,
        enable_categorical=True,
        random_state=random_state,
    )
    model.fit(x, y)
    return model


def _gap(trtr: float | None, tstr: float | None) -> float | None:
    return None if trtr is None or tstr is None else float(trtr - tstr)


def tstr(
    real_train: pd.DataFrame,
    real_test: pd.DataFrame,
    synthetic: pd.DataFrame,
    target: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    random_state: int = 0,
    datetime: Sequence[str] | None = None,
    n_estimators: int = DEFAULT_N_ESTIMATORS,
    n_jobs: int = 2,
) -> dict:
    """TSTR vs TRTR on ``target``, with the same model and hyper-parameters for both.

    A categorical ``target`` is a classification: ROC-AUC (binary; macro one-vs-rest over
    the levels present in the test rows for multiclass) and accuracy, and ``auc_gap =
    trtr AUC - tstr AUC`` (positive = utility lost). A numeric ``target`` is a regression:
    R², MAE, ``r2_gap = trtr R² - tstr R²`` and ``mae_gap = tstr MAE - trtr MAE`` (both
    positive = utility lost). Rows with a missing target are dropped from every frame
    (counted in ``n_*``). Date/time features enter as nanoseconds.

    Errors vs results: a caller mistake (target absent from a frame or not listed as a
    column, real training target with a single level, nothing left to test on) raises
    ``MetricInputError`` (a ``ValueError``). A synthetic table whose target has a single
    level (or no values) is a legitimate, bad, generator outcome, so it does not raise:
    ``tstr`` is ``None``, ``tstr_skipped_reason`` says why, the gaps are ``None``, and
    the TRTR baseline is still reported so the run's report is complete.
    """
    datetime = list(datetime or [])
    numeric, categorical = list(numeric), list(categorical)
    frames = {"real_train": real_train, "real_test": real_test, "synthetic": synthetic}
    for name, frame in frames.items():
        if target not in frame.columns:
            raise MetricInputError(f"target '{target}' is not a column of {name}")
    if target not in numeric and target not in categorical:
        raise MetricInputError(f"target '{target}' must be listed in numeric or categorical")
    _validate(frames, numeric, categorical, datetime)
    is_numeric = target in numeric
    features_num = [c for c in numeric if c != target]
    features_cat = [c for c in categorical if c != target]
    if not (features_num or features_cat or datetime):
        raise MetricInputError("tstr needs at least one feature besides the target")

    labelled = {}
    for name, frame in frames.items():
        y, keep = _labels(frame, target, is_numeric)
        if not keep.all():
            log.info("TSTR: dropping %d row(s) of %s with a missing target", int((~keep).sum()), name)
        labelled[name] = (frame.loc[keep], y[keep])
    x = _feature_frames({n: f for n, (f, _) in labelled.items()}, features_num, features_cat, datetime)
    y = {n: labels for n, (_, labels) in labelled.items()}
    if len(y["real_test"]) == 0:
        raise MetricInputError("real_test has no rows with a target value")

    result = {
        "task": "regression" if is_numeric else "classification",
        "target": str(target),
        "model": f"xgboost(hist, n_estimators={n_estimators})",
        "n_train_real": int(len(y["real_train"])),
        "n_train_synthetic": int(len(y["synthetic"])),
        "n_test": int(len(y["real_test"])),
    }
    fit_args = {"random_state": random_state, "n_estimators": n_estimators, "n_jobs": n_jobs}

    if is_numeric:
        if len(y["real_train"]) < 2:
            raise MetricInputError("real_train has fewer than 2 rows with a target value")
        trtr_model = _fit_regressor(x["real_train"], y["real_train"], **fit_args)
        trtr_scores = _regression_scores(trtr_model, x["real_test"], y["real_test"])
        reason = (
            "the synthetic data has fewer than 2 rows with a target value" if len(y["synthetic"]) < 2 else None
        )
        tstr_scores = None
        if reason is None:
            tstr_model = _fit_regressor(x["synthetic"], y["synthetic"], **fit_args)
            tstr_scores = _regression_scores(tstr_model, x["real_test"], y["real_test"])
        result.update(
            trtr=trtr_scores,
            tstr=tstr_scores,
            tstr_skipped_reason=reason,
            r2_gap=_gap(trtr_scores["r2"], None if tstr_scores is None else tstr_scores["r2"]),
            mae_gap=None if tstr_scores is None else float(tstr_scores["mae"] - trtr_scores["mae"]),
        )
    else:
        train_levels = set(y["real_train"])
        if len(train_levels) < 2:
            raise MetricInputError(
                f"the real training target '{target}' has {len(train_levels)} level(s); a classifier needs 2"
            )
        trtr_model, trtr_classes = _fit_classifier(x["real_train"], y["real_train"], **fit_args)
        trtr_scores = _classification_scores(trtr_model, trtr_classes, x["real_test"], y["real_test"])
        synthetic_levels = set(y["synthetic"])
        reason = None
        if len(synthetic_levels) < 2:
            reason = f"the synthetic target has {len(synthetic_levels)} level(s); a classifier needs 2"
        tstr_scores = None
        if reason is None:
            tstr_model, tstr_classes = _fit_classifier(x["synthetic"], y["synthetic"], **fit_args)
            tstr_scores = _classification_scores(tstr_model, tstr_classes, x["real_test"], y["real_test"])
        result.update(
            classes=sorted(train_levels | synthetic_levels | set(y["real_test"])),
            trtr=trtr_scores,
            tstr=tstr_scores,
            tstr_skipped_reason=reason,
            auc_gap=_gap(trtr_scores["auc"], None if tstr_scores is None else tstr_scores["auc"]),
            accuracy_gap=_gap(trtr_scores["accuracy"], None if tstr_scores is None else tstr_scores["accuracy"]),
        )
    if reason is not None:
        log.warning("TSTR skipped: %s", reason)
    return result


def tstr_summary(result: dict) -> str:
    """One line for a TSTR result, classification (AUC) or regression (R²), skipped or not."""
    metric = "r2" if result.get("task") == "regression" else "auc"
    label = "R²" if metric == "r2" else "AUC"
    fmt = lambda part: "n/a" if not part or part.get(metric) is None else f"{part[metric]:.3f}"  # noqa: E731
    return f"TSTR {label} {fmt(result.get('tstr'))} vs TRTR {fmt(result.get('trtr'))}"


def utility_report(
    real_train: pd.DataFrame,
    real_test: pd.DataFrame,
    synthetic: pd.DataFrame,
    target: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    random_state: int = 0,
    datetime: Sequence[str] | None = None,
) -> dict:
    """Utility metrics in one dict (today TSTR only), mirroring the other ``*_report`` functions."""
    return {"tstr": tstr(real_train, real_test, synthetic, target, numeric, categorical, random_state, datetime)}
