"""The adversarial detector: can XGBoost tell real rows (0) from synthetic rows (1)?

The protocol is a classifier two-sample test: balance the classes, split 70/30 stratified,
train on 70 %, score the held-out 30 %, and report the held-out ROC-AUC with DeLong's 95 %
interval and the Mann–Whitney p-value (see ``advsynth.stats``). The same protocol on two
halves of the real table gives the null AUC, the figure the detector reaches when there
is nothing to find; it should sit at 0.5, and an AUC near it means the fakes pass.

The pieces (features, split, training, scoring) are separate functions because the
SageMaker pipeline runs them in different steps; ``detect`` composes them in-process.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import train_test_split

from .errors import InputError
from .schema import datetime_to_count
from .stats import auc_p_value, roc_auc_delong

log = logging.getLogger(__name__)

DEFAULT_PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "max_depth": 6,
    "eta": 0.1,
    "tree_method": "hist",
    "nthread": 2,
}
DEFAULT_ROUNDS = 200


def _as_number(col: pd.Series) -> pd.Series:
    """Numbers for the trees: dates as fractional days since the epoch, anything else parsed."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return datetime_to_count(col, "D")
    return pd.to_numeric(col, errors="coerce")


@dataclass
class DetectorFeatures:
    """Numeric features from a mixed table, fitted on real ∪ synthetic.

    Numeric columns pass through (XGBoost routes NaN itself); categorical columns are
    one-hot encoded over the levels seen in either table, so the detector never meets an
    unseen level, and a value outside them (new data) encodes as all zeros. The matrix is
    what SageMaker's built-in XGBoost reads from CSV, so the pipeline and the in-process
    run see the same features. ``columns[i]`` names the original column of feature i.
    """

    numeric: list[str] = field(default_factory=list)
    categorical: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, *frames: pd.DataFrame, exclude: tuple[str, ...] = ()) -> "DetectorFeatures":
        first = frames[0]
        feats = cls()
        for name in first.columns:
            if name in exclude:
                continue
            cols = [f[name] for f in frames]
            if all((pd.api.types.is_numeric_dtype(c) and not pd.api.types.is_bool_dtype(c))
                   or pd.api.types.is_datetime64_any_dtype(c) for c in cols):
                feats.numeric.append(name)
            else:
                levels = set()
                for c in cols:
                    levels.update(c.dropna().astype(str).unique().tolist())
                feats.categorical[name] = sorted(levels)
        return feats

    @property
    def columns(self) -> list[str]:
        return self.numeric + [name for name, levels in self.categorical.items() for _ in levels]

    @property
    def names(self) -> list[str]:
        return self.numeric + [f"{name}={lvl}" for name, levels in self.categorical.items() for lvl in levels]

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.numeric + list(self.categorical) if c not in df.columns]
        if missing:
            raise InputError(f"table lacks column(s) the detector needs: {', '.join(missing)}")
        blocks = [pd.DataFrame({c: _as_number(df[c]) for c in self.numeric}, index=df.index).to_numpy(dtype=np.float32)]
        for name, levels in self.categorical.items():
            col = df[name]
            codes = pd.Index(levels).get_indexer(col.astype(str).where(col.notna(), None))
            onehot = np.zeros((len(df), len(levels)), dtype=np.float32)
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            blocks.append(onehot)
        return np.hstack(blocks)

    def to_json(self) -> str:
        return json.dumps({"numeric": self.numeric, "categorical": self.categorical}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "DetectorFeatures":
        data = json.loads(text)
        return cls(numeric=data["numeric"], categorical=data["categorical"])


@dataclass
class DetectionResult:
    """Held-out detection statistics; ``to_dict`` is what metrics.json stores under ``detector``."""

    roc_auc: float
    roc_auc_ci: list[float]
    precision: float
    recall: float
    p_value: float
    null_roc_auc: float | None
    null_roc_auc_ci: list[float] | None
    column_importance: dict[str, float]
    n_train: int
    n_test: int
    test_size: float
    rounds: int
    params: dict
    # held-out (y, score) pairs for ROC curves, keyed "detector" and "real_vs_real" (the null); not in metrics.json
    scores: dict = field(default_factory=dict, repr=False, compare=False)

    def with_null(self, auc: float, ci: list[float], scores: tuple[np.ndarray, np.ndarray]) -> "DetectionResult":
        """This result with a null computed elsewhere (``null_on_real``)."""
        self.null_roc_auc, self.null_roc_auc_ci = auc, list(ci)
        self.scores["real_vs_real"] = scores
        return self

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("scores")
        return out

    def scores_frame(self) -> pd.DataFrame:
        """The held-out scores as a long table (model, y, score): what ``scores.csv`` holds."""
        return pd.concat(
            [pd.DataFrame({"model": name, "y": y.astype(int), "score": s}) for name, (y, s) in self.scores.items()],
            ignore_index=True,
        )

    def top_columns(self, k: int = 3) -> list[tuple[str, float]]:
        return sorted(self.column_importance.items(), key=lambda kv: -kv[1])[:k]


def balance(real: pd.DataFrame, synthetic: pd.DataFrame, random_state: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subsample the larger table so both classes have the same size (AUC and precision stay comparable)."""
    n = min(len(real), len(synthetic))
    rng = np.random.default_rng(random_state)
    pick = lambda df: df if len(df) == n else df.iloc[np.sort(rng.choice(len(df), n, replace=False))]
    return pick(real).reset_index(drop=True), pick(synthetic).reset_index(drop=True)


def labelled_split(X_real: np.ndarray, X_synth: np.ndarray, test_size: float, random_state: int):
    """Stack real (0) and synthetic (1) rows and split them stratified; returns X_tr, X_te, y_tr, y_te."""
    X = np.vstack([X_real, X_synth])
    y = np.concatenate([np.zeros(len(X_real)), np.ones(len(X_synth))])
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=random_state)


def train_detector(X: np.ndarray, y: np.ndarray, *, rounds: int = DEFAULT_ROUNDS, params: dict | None = None,
                   seed: int = 0, evals=None, verbose_eval: bool | int = False) -> xgb.Booster:
    """Train the XGBoost detector (the same call the detector container makes)."""
    merged = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
    dtrain = xgb.DMatrix(X, label=y)
    watch = [(dtrain, "train")] + [(xgb.DMatrix(Xe, label=ye), name) for name, (Xe, ye) in (evals or {}).items()]
    return xgb.train(merged, dtrain, num_boost_round=rounds, evals=watch, verbose_eval=verbose_eval)


def column_importance(booster: xgb.Booster, feature_columns: list[str]) -> dict[str, float]:
    """Total gain per original column (one-hot levels summed), as shares summing to 1."""
    totals = dict.fromkeys(dict.fromkeys(feature_columns), 0.0)
    for feature, gain in booster.get_score(importance_type="total_gain").items():
        totals[feature_columns[int(feature.lstrip("f"))]] += gain
    total = sum(totals.values())
    if total <= 0:  # no split at all: nothing gives the fakes away, so no column does
        return {c: 0.0 for c in totals}
    return {c: v / total for c, v in totals.items()}


def score_stats(y_true: np.ndarray, scores: np.ndarray) -> dict:
    """AUC with CI, p-value, precision and recall (threshold 0.5) of held-out scores."""
    auc, ci = roc_auc_delong(y_true, scores)
    predicted = (scores >= 0.5).astype(int)
    return {
        "roc_auc": auc,
        "roc_auc_ci": list(ci),
        "p_value": auc_p_value(y_true, scores),
        "precision": float(precision_score(y_true, predicted, zero_division=0)),
        "recall": float(recall_score(y_true, predicted, zero_division=0)),
    }


def null_auc(real: pd.DataFrame, features: DetectorFeatures, *, test_size: float = 0.3, rounds: int = DEFAULT_ROUNDS,
             params: dict | None = None, seed: int = 0,
             return_scores: bool = False) -> tuple[float, list[float]] | tuple[float, list[float], tuple]:
    """The detector's AUC on real vs real: two random halves of the real table, same protocol.

    With ``return_scores`` the held-out (y, score) pair comes third, for the null ROC curve.
    """
    rng = np.random.default_rng(seed + 1)
    order = rng.permutation(len(real))
    half = len(real) // 2
    X = features.transform(real)
    X_tr, X_te, y_tr, y_te = labelled_split(X[order[:half]], X[order[half : 2 * half]], test_size, seed)
    booster = train_detector(X_tr, y_tr, rounds=rounds, params=params, seed=seed)
    scores = booster.predict(xgb.DMatrix(X_te))
    auc, ci = roc_auc_delong(y_te, scores)
    return (auc, list(ci), (y_te, scores)) if return_scores else (auc, list(ci))


def null_on_real(real: pd.DataFrame, *, exclude: tuple[str, ...] = (), test_size: float = 0.3,
                 rounds: int = DEFAULT_ROUNDS, params: dict | None = None,
                 seed: int = 0) -> tuple[float, list[float], tuple[np.ndarray, np.ndarray]]:
    """The null AUC, its CI and held-out (y, score), from the real table alone.

    It does not depend on the synthetic table (features from the real levels; levels only a
    generator produces would be all-zero columns for real rows and never split on), so a
    run computes it while the generator fits, and a benchmark once per dataset and seed.
    """
    features = DetectorFeatures.fit(real, exclude=exclude)
    return null_auc(real, features, test_size=test_size, rounds=rounds, params=params, seed=seed, return_scores=True)


def detect(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    test_size: float = 0.3,
    rounds: int = DEFAULT_ROUNDS,
    params: dict | None = None,
    random_state: int = 0,
    null: bool = True,
    exclude: tuple[str, ...] = (),
) -> DetectionResult:
    """Run the classifier two-sample test of ``synthetic`` against ``real``.

    ``exclude`` names columns to leave out (identifiers, which say nothing about realism).
    """
    if list(real.columns) != list(synthetic.columns):
        raise InputError(
            f"real and synthetic tables have different columns: {list(real.columns)} vs {list(synthetic.columns)}"
        )
    if not 0 < test_size < 1:
        raise InputError(f"test_size must be between 0 and 1, got {test_size}")
    real_b, synth_b = balance(real, synthetic, random_state)
    if len(real_b) < 10:
        raise InputError(f"need at least 10 rows of each class to detect, got {len(real_b)}")
    features = DetectorFeatures.fit(real_b, synth_b, exclude=exclude)
    X_tr, X_te, y_tr, y_te = labelled_split(features.transform(real_b), features.transform(synth_b), test_size, random_state)
    booster = train_detector(X_tr, y_tr, rounds=rounds, params=params, seed=random_state)
    scores = {"detector": (y_te, booster.predict(xgb.DMatrix(X_te)))}
    stats = score_stats(*scores["detector"])
    null_auc_value = null_ci = None
    if null:
        null_auc_value, null_ci, scores["real_vs_real"] = null_on_real(
            real, exclude=exclude, test_size=test_size, rounds=rounds, params=params, seed=random_state)
    return DetectionResult(
        **stats,
        null_roc_auc=null_auc_value,
        null_roc_auc_ci=null_ci,
        column_importance=column_importance(booster, features.columns),
        n_train=int(len(y_tr)),
        n_test=int(len(y_te)),
        test_size=float(test_size),
        rounds=int(rounds),
        params={**DEFAULT_PARAMS, **(params or {})},
        scores=scores,
    )
