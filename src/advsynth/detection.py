"""The adversarial detector: can a gradient-boosted classifier tell real rows (0) from synthetic rows (1)?

Protocol (every setting lives in ``advsynth.protocol.DetectorConfig``)
---------------------------------------------------------------------
A classifier two-sample test. Both classes are balanced (the larger table is subsampled),
stacked, and split stratified: ``test_size`` of the rows are held out and only ever scored.
From the remaining training rows a stratified ``validation_size`` slice is carved for early
stopping; XGBoost trains on the rest for at most ``rounds`` rounds and stops when the
validation AUC has not improved for ``early_stopping_rounds`` rounds, keeping the best
round. The reported ROC-AUC is computed on the held-out test rows, which neither training
nor early stopping ever touched.

What the detector sees
----------------------
Features are built from ``Schema.model_frame`` (the representation every model reads), fitted
on real ∪ synthetic, float32. In-process they are a sparse CSR matrix (``transform_sparse``):
an absent entry is *missing* to XGBoost, so one-hot zeros and flags that are off are simply
not stored (for a 0/1 column, "1 vs missing" splits the rows exactly as "1 vs 0" does: the
same information at a tenth of the dense matrix's memory on wide tables). The dense view
(``transform``) has NaN where the sparse matrix has no entry; it travels as built-in-XGBoost
CSV (NaN as an empty field) and trains the same trees:

* numeric, integer and datetime columns: the value (minus the fitted minimum, so float32
  keeps its resolution on large magnitudes such as epoch seconds), NaN where missing, plus a
  0/1 *missing flag* when the column has missing values. The flag makes missingness a feature
  the trees can combine with others (on Adult, "workclass missing ⇒ occupation missing" holds
  in every real row but not in the GMM's output). Numeric zeros are stored, never absent.
* categorical and boolean columns: one-hot over the levels present in either table (including
  ``OTHER_LEVEL``, a synthetic value outside the real levels) and a missing flag; a missing
  value is not just "no level", which would hide it. A column with more than
  ``MAX_ONEHOT_LEVELS`` levels keeps one-hot columns for its most frequent levels only and adds
  two codes covering every level: its frequency in the fitted rows and its index among the
  sorted levels. The width is therefore bounded (≤ MAX_ONEHOT_LEVELS + 3 per column) whatever
  the cardinality.
* ID-like columns (``ColumnSpec.id_like``: identifiers, group keys, and free text with one distinct
  value per row) are left out: fresh identifiers and text drawn apart from the other columns say nothing
  about the rows' realism. metrics.json lists them (``excluded_columns``) and the summary says so.

Why it is strong enough
-----------------------
A detector that is too weak flatters every generator, so the default is checked against a panel.
``benchmarks/detector_panel.py`` runs it beside independently tuned detectors (XGBoost over a
depth x column-sampling grid chosen on validation AUC, LightGBM, CatBoost with native
categoricals, scikit-learn's HistGradientBoosting with native categoricals; all early-stopped
on a validation slice of the training rows) on the same held-out rows; its figures are in
that script's output and README's "The detector". Why this shape: depth 8 lets a tree combine several columns, half
the columns per tree keeps one dominant column from crowding out the weaker giveaways, and
early stopping trains until the validation AUC stops improving instead of a fixed count.

What the interval covers
------------------------
The DeLong 95 % interval is the split noise of *this* synthetic draw scored on *this* test
split, conditional on the trained detector. It does not cover the generator's seed-to-seed
variation (on Adult the AUC's SD across generator seeds is about twice its standard error) nor
the detector's training noise; ``cv = K`` adds a K-fold estimate (mean, SD, per-fold AUCs),
and ``advsynth bench`` reports the spread across seeds.

The pieces (features, split, training, scoring) are separate functions because the SageMaker
pipeline runs them in different steps; ``detect`` composes them in-process.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import xgboost as xgb
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from .errors import InputError
from .experiment.seeds import rng_of, seed_of
from .experiment.trace import stage
from .protocol import DetectorConfig
from .schema import Schema, infer_schema
from .stats import auc_p_value, roc_auc_delong

log = logging.getLogger(__name__)

MAX_ONEHOT_LEVELS = 64   # one-hot columns per categorical; more levels add a frequency and an index code
GIVEAWAY_ROWS = 20       # synthetic held-out rows listed as the most obviously fake
GIVEAWAY_COLUMNS = 3     # top columns whose over/under-represented levels are listed
GIVEAWAY_LEVELS = 5      # levels or value ranges listed per column
INTERVAL_COVERS = ("split noise of this synthetic draw on this train/test split; "
                   "not generator-seed variation (see cv and advsynth bench)")
MIN_ROWS_PER_CLASS = 10
_BIG = float(np.finfo(np.float32).max)


# ----------------------------------------------------------------------------- features
@dataclass
class DetectorFeatures:
    """The detector's float32 matrix from a mixed table (see the module docstring).

    ``numeric``: column -> {"offset": float, "missing_flag": bool};
    ``categorical``: column -> {"onehot": [levels], "missing_flag": bool, "codes": {level: [freq, index]} or None}.
    ``schema`` is the schema's dict, so the features travel as one JSON document.
    """

    schema: dict
    numeric: dict = field(default_factory=dict)
    categorical: dict = field(default_factory=dict)

    @classmethod
    @stage("detector.features")
    def fit(cls, schema: Schema, *frames: pd.DataFrame) -> "DetectorFeatures":
        return cls.fit_model_frames(schema, *(schema.model_frame(f) for f in frames))

    @classmethod
    @stage("detector.features")
    def fit_model_frames(cls, schema: Schema, *mfs: pd.DataFrame) -> "DetectorFeatures":
        """``fit`` on frames already passed through ``schema.model_frame`` (saves a conversion)."""
        feats = cls(schema=schema.to_dict())
        for spec in schema.modelled:
            cols = [mf[spec.name] for mf in mfs]
            has_missing = bool(any(c.isna().any() for c in cols))
            if spec.is_numeric:
                finite = [v[np.isfinite(v)] for v in (c.to_numpy(dtype=float) for c in cols)]
                mins = [v.min() for v in finite if len(v)]
                maxs = [v.max() for v in finite if len(v)]
                info = {"offset": float(min(mins)) if mins else 0.0, "missing_flag": has_missing}
                with np.errstate(over="ignore"):
                    span = float(max(maxs)) - info["offset"] if maxs else 0.0
                if not span < _BIG:  # beyond float32 (values near ±1e300): see _signed_log
                    info = {"offset": 0.0, "missing_flag": has_missing, "signed_log": True}
                feats.numeric[spec.name] = info
                continue
            counts = pd.Series(sum(np.bincount(c.cat.codes.to_numpy()[c.cat.codes.to_numpy() >= 0],
                                               minlength=len(c.cat.categories)) for c in cols),
                               index=[str(v) for v in cols[0].cat.categories])
            counts = counts[counts > 0]
            # most frequent first, ties by level, so the one-hot set is deterministic
            order = sorted(counts.index, key=lambda lvl: (-counts[lvl], str(lvl)))
            codes = None
            if len(order) > MAX_ONEHOT_LEVELS:
                total = float(counts.sum())
                codes = {str(lvl): [float(counts[lvl]) / total, i] for i, lvl in enumerate(sorted(map(str, order)))}
                order = order[:MAX_ONEHOT_LEVELS]
            feats.categorical[spec.name] = {"onehot": [str(v) for v in sorted(map(str, order))],
                                            "missing_flag": has_missing, "codes": codes}
        return feats

    @property
    def names(self) -> list[str]:
        """One name per feature column."""
        out = []
        for name, info in self.numeric.items():
            out += [name] + ([f"{name}#missing"] if info["missing_flag"] else [])
        for name, info in self.categorical.items():
            out += [f"{name}={lvl}" for lvl in info["onehot"]]
            out += [f"{name}#missing"] if info["missing_flag"] else []
            out += [f"{name}#frequency", f"{name}#index"] if info["codes"] else []
        return out

    @property
    def columns(self) -> list[str]:
        """The original column of each feature (for column importance)."""
        out = []
        for name, info in self.numeric.items():
            out += [name] * (1 + info["missing_flag"])
        for name, info in self.categorical.items():
            out += [name] * (len(info["onehot"]) + info["missing_flag"] + 2 * bool(info["codes"]))
        return out

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """The dense float32 view of ``transform_sparse`` (NaN where an entry is absent)."""
        needed = list(self.numeric) + list(self.categorical)
        missing = [c for c in needed if c not in df.columns]
        if missing:
            raise InputError(f"table lacks column(s) the detector needs: {', '.join(missing)}")
        return self.transform_model_frame(Schema.from_dict(self.schema).model_frame(df))

    def transform_model_frame(self, mf: pd.DataFrame, out: np.ndarray | None = None) -> np.ndarray:
        """``transform`` of a frame already passed through ``schema.model_frame``: the dense view
        of ``transform_sparse``, NaN where the sparse matrix has no entry (XGBoost reads a NaN and
        an absent entry alike, so both views train the same trees).

        ``out``: a float32 block of shape (rows, features) to fill in place (overwritten).
        """
        shape = (len(mf), len(self.columns))
        X = np.empty(shape, dtype=np.float32) if out is None else out
        if X.shape != shape or X.dtype != np.float32:
            raise ValueError(f"out must be float32 of shape {shape}, got {X.dtype} {X.shape}")
        X.fill(np.nan)
        coo = self.transform_sparse(mf).tocoo()
        X[coo.row, coo.col] = coo.data
        return X

    def transform_sparse(self, mf: pd.DataFrame) -> sp.csr_matrix:
        """The features of a ``schema.model_frame`` as a float32 CSR matrix; an absent entry is
        *missing* to XGBoost.

        Stored: every non-missing numeric value (zeros included, kept as explicit entries), each
        row's one-hot 1, a missing flag's 1, the frequency and index codes. Absent: a missing
        value, one-hot levels a row does not have, flags that are off. For a 0/1 column "1 vs
        absent" is the same partition of the rows as "1 vs 0", so the trees see the same
        information as in a dense one-hot matrix, at ~10 % of its memory on a wide table (the
        dense float32 matrix and XGBoost's dense copy were most of a run's memory).
        Built column by column (CSC) and converted once.
        """
        n = len(mf)
        indices, data, lengths = [], [], []

        def put(rows: np.ndarray, values) -> None:
            indices.append(rows.astype(np.int32, copy=False))
            data.append(np.broadcast_to(np.asarray(values, dtype=np.float32), rows.shape))
            lengths.append(len(rows))

        for name, info in self.numeric.items():
            values = mf[name].to_numpy(dtype=float)
            present = np.flatnonzero(~np.isnan(values))
            shown = _signed_log(values[present]) if info.get("signed_log") else values[present] - info["offset"]
            # ±inf (which XGBoost refuses) become the extremes of float32: still beyond every finite value
            put(present, np.nan_to_num(shown, posinf=_BIG, neginf=-_BIG))
            if info["missing_flag"]:
                put(np.flatnonzero(np.isnan(values)), 1.0)
        for name, info in self.categorical.items():
            col = mf[name]  # a Categorical over the schema's levels + OTHER_LEVEL
            codes = col.cat.codes.to_numpy()
            position = pd.Index(info["onehot"]).get_indexer([str(c) for c in col.cat.categories])
            pos = np.where(codes >= 0, position[codes], -1)
            rows = np.flatnonzero(pos >= 0)
            order = np.argsort(pos[rows], kind="stable")  # grouped by one-hot column, rows ascending
            per_level = np.bincount(pos[rows], minlength=len(info["onehot"]))
            for chunk in np.split(rows[order], np.cumsum(per_level)[:-1]) if len(info["onehot"]) else []:
                put(chunk, 1.0)
            if info["missing_flag"]:
                put(np.flatnonzero(codes < 0), 1.0)
            if info["codes"]:
                lookup = [info["codes"].get(str(c), [0.0, np.nan]) for c in col.cat.categories]
                freq = np.array([f for f, _ in lookup] + [np.nan], dtype=float)[codes]
                index = np.array([i for _, i in lookup] + [np.nan], dtype=float)[codes]  # code -1 picks the NaN
                for values in (freq, index):
                    present = np.flatnonzero(~np.isnan(values))
                    put(present, values[present])
        indptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        csc = sp.csc_matrix((np.concatenate(data) if data else np.zeros(0, np.float32),
                             np.concatenate(indices) if indices else np.zeros(0, np.int32), indptr),
                            shape=(n, len(lengths)))
        return csc.tocsr()

    def to_json(self) -> str:
        return json.dumps({"schema": self.schema, "numeric": self.numeric, "categorical": self.categorical},
                          indent=1, default=_json_default)

    @classmethod
    def from_json(cls, text: str) -> "DetectorFeatures":
        data = json.loads(text)
        return cls(schema=data["schema"], numeric=data["numeric"], categorical=data["categorical"])


def _signed_log(values: np.ndarray) -> np.ndarray:
    """sign(x)·log(1 + |x|): for a column whose range exceeds float32 (values near ±1e300, which
    would become inf, and XGBoost refuses inf). Trees split on order only, and this keeps the
    order of every value (all finite values map into ±710), so the detector still sees the
    column; only values within a relative 1e-4 of each other may share a float32."""
    with np.errstate(over="ignore"):
        return np.sign(values) * np.log1p(np.abs(values))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# ----------------------------------------------------------------------------- split and train
@dataclass
class Split:
    """Row indices into the stacked [real; synthetic] matrix: train, validation (early stopping
    only, carved from the training rows) and test (scored only)."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def stack(X_real: np.ndarray, X_synth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real rows (label 0) above synthetic rows (label 1)."""
    return np.vstack([X_real, X_synth]), np.concatenate([np.zeros(len(X_real)), np.ones(len(X_synth))])


def stacked_features(features: "DetectorFeatures", mf_real: pd.DataFrame,
                     mf_synth: pd.DataFrame) -> tuple[sp.csr_matrix, np.ndarray]:
    """``stack`` of the two tables' features as one sparse matrix (``transform_sparse``): real
    rows (label 0) above synthetic rows (label 1)."""
    X = sp.vstack([features.transform_sparse(mf_real), features.transform_sparse(mf_synth)], format="csr")
    return X, np.concatenate([np.zeros(len(mf_real)), np.ones(len(mf_synth))])


def as_sparse(X, block_rows: int = 10_000) -> sp.csr_matrix:
    """``X`` as a float32 CSR matrix holding every non-NaN cell (zeros as explicit entries), so
    XGBoost sees the same values and the same missing cells as in the dense array. Converted in
    blocks of rows: the temporary index arrays stay small whatever the table."""
    if sp.issparse(X):
        return X.tocsr()
    X = np.asarray(X, dtype=np.float32)
    blocks = []
    for start in range(0, max(len(X), 1), block_rows):
        part = X[start: start + block_rows]
        rows, cols = np.nonzero(~np.isnan(part))
        blocks.append(sp.csr_matrix((part[rows, cols], (rows, cols)), shape=part.shape, dtype=np.float32))
    return sp.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]


@stage("detector.split")
def split_rows(y: np.ndarray, config: DetectorConfig, seed: int) -> Split:
    """Stratified test split, then a stratified validation slice of the training rows when
    early stopping is on (empty otherwise). The test rows never reach training."""
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=config.test_size, stratify=y, random_state=seed)
    train, validation = _carve_validation(train, y, config, seed)
    return Split(train=train, validation=validation, test=np.sort(test))


def _carve_validation(train: np.ndarray, y: np.ndarray, config: DetectorConfig, seed: int):
    if config.early_stopping_rounds <= 0:
        return np.sort(train), np.array([], dtype=int)
    fit, val = train_test_split(train, test_size=config.validation_size, stratify=y[train], random_state=seed_of(seed, "validation"))
    return np.sort(fit), np.sort(val)


@stage("detector.fit")
def train_detector(X: np.ndarray, y: np.ndarray, config: DetectorConfig, *, seed: int = 0,
                   X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
                   nthread: int | None = None, verbose_eval: bool | int = False) -> xgb.Booster:
    """Train the XGBoost detector; with validation rows and ``early_stopping_rounds`` it stops
    when the validation metric stalls (the AUC, unless ``config.params`` names another
    ``eval_metric``) and returns only the trees up to the best round (the same
    call the detector container makes)."""
    params = config.xgb_params(seed=seed, nthread=nthread, rows=X.shape[0])
    # QuantileDMatrix holds the hist method's bin indices instead of a second float copy of X;
    # same bins, same trees as a DMatrix with tree_method "hist". Built from a sparse matrix: from
    # a dense one XGBoost's index takes several bytes per cell, missing or not (626 MB for the
    # stress table's 126,000 x 379 training rows, 85 MB from the same rows as CSR)
    # ``max_bin`` (a ``params`` key) is fixed when the bins are built, so the matrix takes it too
    bins = {"max_bin": int(params["max_bin"])} if "max_bin" in params else {}
    dtrain = xgb.QuantileDMatrix(as_sparse(X), label=y, nthread=params["nthread"], **bins)
    # the training AUC is only logged (the container's log format); computing it every round
    # would cost as much as the boosting itself
    watch = [(dtrain, "train")] if verbose_eval else []
    early = None
    if X_val is not None and X_val.shape[0]:
        # a plain DMatrix: XGBoost scores a QuantileDMatrix built with ``ref`` about eight times
        # slower (24 vs 3 ms a round on 35,000 rows), and predictions, AUC and best round are the same
        watch.append((xgb.DMatrix(as_sparse(X_val), label=y_val, nthread=params["nthread"]), "validation"))
        early = config.early_stopping_rounds or None
    booster = xgb.train(params, dtrain, num_boost_round=config.rounds, evals=watch,
                        early_stopping_rounds=early, verbose_eval=verbose_eval)
    if early:
        booster = booster[: booster.best_iteration + 1]
    return booster


def _edge(value: float) -> str:
    """A bin edge as a reader writes it: whole numbers in full (1484705, not 1.48470e+06), others
    with 6 significant digits, never in e-notation."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return np.format_float_positional(float(value), precision=6, fractional=False, trim="-")


PREDICT_CHUNK_ROWS = 20_000  # the fewest rows a prediction thread gets


def predict(booster: xgb.Booster, X: np.ndarray, threads: int = 1) -> np.ndarray:
    """Probabilities of "synthetic"; predicted in place on the array (no DMatrix copy).

    ``threads`` > 1 splits the rows among that many Python threads, each predicting with the
    booster's own thread count (one for a detector trained on a small table): XGBoost's
    prediction is thread-safe and row by row, so the scores are the same, and threads that do
    not spin-wait share a busy machine better than OpenMP's would.
    """
    parts = min(int(threads), X.shape[0] // PREDICT_CHUNK_ROWS)
    if parts < 2:
        return booster.inplace_predict(X)
    bounds = np.linspace(0, X.shape[0], parts + 1).astype(int)
    with ThreadPoolExecutor(max_workers=parts) as pool:
        chunks = pool.map(lambda ab: booster.inplace_predict(X[ab[0]:ab[1]]), zip(bounds[:-1], bounds[1:]))
        return np.concatenate(list(chunks))


def column_importance(booster: xgb.Booster, feature_columns: list[str]) -> dict[str, float]:
    """Total gain per original column (one-hot levels, flags and codes summed), as shares summing to 1."""
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


def cross_validate(X: np.ndarray, y: np.ndarray, config: DetectorConfig, seed: int,
                   nthread: int | None = None) -> dict:
    """K-fold AUCs (K = ``config.cv``): each fold trains on the other folds (minus their own
    early-stopping slice) and is scored once. The spread is the detector's split-to-split
    noise on this one synthetic draw, still not generator-seed variation."""
    folds = []
    for train, test in StratifiedKFold(config.cv, shuffle=True, random_state=seed).split(X, y):
        fit, val = _carve_validation(train, y, config, seed)
        booster = train_detector(X[fit], y[fit], config, seed=seed, X_val=X[val], y_val=y[val], nthread=nthread)
        folds.append(float(roc_auc_delong(y[test], predict(booster, X[test]))[0]))
    return {"k": int(config.cv), "mean": float(np.mean(folds)), "sd": float(np.std(folds, ddof=1)),
            "folds": folds}


# ----------------------------------------------------------------------------- result
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
    n_validation: int = 0
    best_rounds: int | None = None          # rounds kept after early stopping
    n_features: int | None = None
    config: dict = field(default_factory=dict)   # the DetectorConfig that produced it
    roc_auc_ci_covers: str = INTERVAL_COVERS
    cv: dict | None = None
    giveaways: dict | None = None
    # rows of each class the detector used (after balancing and ``max_rows_per_class``) and the
    # rows each table had: the interval above is computed on the test share of the rows used
    rows_per_class: int | None = None
    rows_available: dict | None = None
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


@stage("detector.score")
def result_from_scores(booster: xgb.Booster, features: DetectorFeatures, split: Split, y: np.ndarray,
                       scores: np.ndarray, config: DetectorConfig, seed: int) -> DetectionResult:
    """A DetectionResult from a trained booster and its held-out scores (what the evaluate step builds)."""
    y_te = y[split.test]
    return DetectionResult(
        **score_stats(y_te, scores),
        null_roc_auc=None,
        null_roc_auc_ci=None,
        column_importance=column_importance(booster, features.columns),
        n_train=int(len(split.train)),
        n_test=int(len(split.test)),
        test_size=float(config.test_size),
        rounds=int(config.rounds),
        params=config.xgb_params(seed=seed, rows=len(split.train)),
        n_validation=int(len(split.validation)),
        best_rounds=int(booster.num_boosted_rounds()),
        n_features=int(len(features.columns)),
        config=config.to_dict(),
        scores={"detector": (y_te, scores)},
    )


# ----------------------------------------------------------------------------- giveaways
def giveaway_rows(synthetic: pd.DataFrame, row_index: np.ndarray, scores: np.ndarray,
                  k: int = GIVEAWAY_ROWS) -> list[dict]:
    """The ``k`` held-out synthetic rows the detector is surest are fake (never real rows)."""
    top = np.argsort(-scores, kind="stable")[:k]
    rows = synthetic.iloc[row_index[top]]
    out = []
    for (_, row), s in zip(rows.iterrows(), scores[top]):
        out.append({"score": float(s), "row": {str(c): _plain(v) for c, v in row.items()}})
    return out


def _plain(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value if isinstance(value, (int, float, str, bool)) else str(value)


@stage("detector.giveaways")
def giveaway_levels(schema: Schema, real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str],
                    k: int = GIVEAWAY_LEVELS, *, model_frames: bool = False) -> dict:
    """Per column, the levels (categorical) or real-decile ranges (numeric) whose synthetic share
    differs most from the real share, plus the missing share when it differs.

    ``{column: [{"level" or "range", "real_share", "synthetic_share", "difference"}, ...]}``,
    largest |difference| first. ``model_frames``: the tables are already ``schema.model_frame`` output.
    """
    mf_real, mf_syn = (real, synthetic) if model_frames else (schema.model_frame(real), schema.model_frame(synthetic))
    out = {}
    for name in columns:
        if name not in mf_real.columns:
            continue
        r, s = mf_real[name], mf_syn[name]
        if isinstance(r.dtype, pd.CategoricalDtype):
            keys = lambda col: col.astype(object).where(col.notna(), "(missing)")  # noqa: E731
            real_share = keys(r).value_counts(normalize=True)
            syn_share = keys(s).value_counts(normalize=True)
            label = "level"
        else:
            values = r.dropna().to_numpy()
            edges = np.unique(np.quantile(values, np.linspace(0, 1, 11))) if len(values) else np.array([])

            def bins(col, edges=edges):
                v = col.to_numpy(dtype=float)
                key = np.full(len(v), "(missing)", dtype=object)
                ok = ~np.isnan(v)
                if len(edges) >= 2:
                    b = np.clip(np.searchsorted(edges, v[ok], side="right") - 1, 0, len(edges) - 2)
                    labels = np.array([f"[{_edge(edges[i])}, {_edge(edges[i + 1])}{']' if i == len(edges) - 2 else ')'}"
                                       for i in range(len(edges) - 1)], dtype=object)
                    key[ok] = labels[b]
                else:
                    key[ok] = "(all values)"
                below, above = ok & (v < (edges[0] if len(edges) else np.inf)), ok & (v > (edges[-1] if len(edges) else -np.inf))
                key[below], key[above] = "(below real minimum)", "(above real maximum)"
                return pd.Series(key)

            real_share = bins(r).value_counts(normalize=True)
            syn_share = bins(s).value_counts(normalize=True)
            label = "range"
        both = pd.concat([real_share.rename("real"), syn_share.rename("syn")], axis=1).fillna(0.0)
        both["diff"] = both["syn"] - both["real"]
        both = both.loc[both["diff"].abs().sort_values(ascending=False, kind="stable").index[:k]]
        out[name] = [{label: str(idx), "real_share": float(rw["real"]), "synthetic_share": float(rw["syn"]),
                      "difference": float(rw["diff"])} for idx, rw in both.iterrows()]
    return out


# ----------------------------------------------------------------------------- compositions
def balance_indices(n_real: int, n_synthetic: int, random_state: int = 0,
                    max_rows: int | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The rows ``balance`` keeps of each table (sorted), None for "all of them".

    Split out so a run that streams a large synthetic table to disk can keep in memory only
    the synthetic rows the detector will use, and still get exactly ``balance``'s choice.
    """
    n = min(n_real, n_synthetic, max_rows or n_real)
    rng = np.random.default_rng(random_state)
    pick = lambda size: None if size == n else np.sort(rng.choice(size, n, replace=False))  # noqa: E731
    return pick(n_real), pick(n_synthetic)  # real first: the order of draws is part of the contract


def balance(real: pd.DataFrame, synthetic: pd.DataFrame, random_state: int = 0,
            max_rows: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subsample the larger table so both classes have the same size (AUC and precision stay
    comparable), and both to ``max_rows`` (``DetectorConfig.max_rows_per_class``) when given."""
    rows = balance_indices(len(real), len(synthetic), random_state, max_rows)
    return tuple((df if idx is None else df.iloc[idx]).reset_index(drop=True) for df, idx in zip((real, synthetic), rows))


def _fit_and_score(X: np.ndarray, y: np.ndarray, config: DetectorConfig, seed: int, nthread: int | None):
    split = split_rows(y, config, seed)
    booster = train_detector(X[split.train], y[split.train], config, seed=seed, X_val=X[split.validation],
                             y_val=y[split.validation], nthread=nthread)
    return split, booster, predict(booster, X[split.test])


@stage("detector.null")
def null_on_real(real: pd.DataFrame, config: DetectorConfig | None = None, *, schema: Schema | None = None,
                 seed: int = 0, nthread: int | None = None) -> tuple[float, list[float], tuple[np.ndarray, np.ndarray]]:
    """The null: the same protocol on two random halves of the real table. Returns the AUC, its
    CI and the held-out (y, score).

    It does not depend on the synthetic table (features from the real rows alone), so a run
    computes it while the generator fits, and a benchmark once per dataset and seed.
    """
    config = config or DetectorConfig()
    schema = schema or infer_schema(real)
    order = rng_of(seed, "null").permutation(len(real))
    half = min(len(real) // 2, config.max_rows_per_class)  # the same cap as the detector's classes
    # features fitted on every real row, or on the rows used when capped (bounded memory)
    mf = schema.model_frame(real.iloc[order if half == len(real) // 2 else order[: 2 * half]])
    features = DetectorFeatures.fit_model_frames(schema, mf)
    X, y = stacked_features(features, mf.iloc[:half], mf.iloc[half: 2 * half])
    del mf
    split, _, scores = _fit_and_score(X, y, config, seed, nthread)
    auc, ci = roc_auc_delong(y[split.test], scores)
    return auc, list(ci), (y[split.test], scores)


def detect(real: pd.DataFrame, synthetic: pd.DataFrame, config: DetectorConfig | None = None, *,
           schema: Schema | None = None, seed: int = 0, null: bool | None = None,
           nthread: int | None = None) -> DetectionResult:
    """Run the classifier two-sample test of ``synthetic`` against ``real`` (see the module docstring).

    ``schema`` types the columns (inferred from ``real`` when omitted; its ID-like columns are
    left out). ``null`` overrides ``config.null``. With ``config.cv`` ≥ 2 the result also holds
    a K-fold estimate under ``cv``; the headline AUC stays the held-out one.
    """
    config = config or DetectorConfig()
    if list(real.columns) != list(synthetic.columns):
        raise InputError(
            f"real and synthetic tables have different columns: {list(real.columns)} vs {list(synthetic.columns)}"
        )
    real_b, synth_b = balance(real, synthetic, seed, config.max_rows_per_class)
    if len(real_b) < MIN_ROWS_PER_CLASS:
        raise InputError(f"need at least {MIN_ROWS_PER_CLASS} rows of each class to detect, got {len(real_b)}")
    schema = schema or infer_schema(real)
    mf_real, mf_syn = schema.model_frame(real_b), schema.model_frame(synth_b)
    features = DetectorFeatures.fit_model_frames(schema, mf_real, mf_syn)
    X, y = stacked_features(features, mf_real, mf_syn)
    split, booster, scores = _fit_and_score(X, y, config, seed, nthread)
    result = result_from_scores(booster, features, split, y, scores, config, seed)
    result.rows_per_class = int(len(real_b))
    result.rows_available = {"real": int(len(real)), "synthetic": int(len(synthetic))}
    if config.cv >= 2:
        result.cv = cross_validate(X, y, config, seed, nthread)
    synth_test = split.test >= len(real_b)
    result.giveaways = {
        "rows": giveaway_rows(synth_b, split.test[synth_test] - len(real_b), scores[synth_test]),
        "levels": giveaway_levels(schema, mf_real, mf_syn, [c for c, v in result.top_columns(GIVEAWAY_COLUMNS) if v > 0],
                                  model_frames=True),
    }
    if config.null if null is None else null:
        result.with_null(*null_on_real(real, config, schema=schema, seed=seed, nthread=nthread))
    return result
