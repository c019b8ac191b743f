"""A decision tree's leaves as the conditional distribution of one column given others.

Sequential CART synthesis (R's synthpop) and the hybrid generator's redraws both need
"draw column c given these other values". A tree fitted on real rows to predict c from the
other columns splits the rows into leaves of similar rows; a new row is dropped down the
tree and gets the value of a random training row of its leaf. The leaf keeps whatever the
predictors say about c, deterministic relations included (a leaf whose rows all share one
value of c reproduces it exactly), which a Gaussian mixture in PCA space never does.

What a leaf hands out is the caller's choice: CART takes the training value itself (its
reference behaviour, memorisation included); the hybrid takes the training row's rank and
smooths it, so that no value held by one or two training rows is ever copied.

``LeafModel`` works on plain arrays: predictors as a float matrix (NaN where missing:
scikit-learn's trees route missing values), the target as float values (numeric, NaN where
missing) or integer codes (categorical, -1 where missing). ``predictor_matrix`` builds the
matrix from model frames (``Schema.model_frame`` or a generator's raw output).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from ..schema import OTHER_LEVEL, Schema

MAX_CLASSES = 50  # a categorical target's most frequent levels the tree separates; the rest share a class


def model_levels(schema: Schema, name: str) -> list[str]:
    """The categories of a categorical column's model values: its kept levels, then ``OTHER_LEVEL``."""
    return schema[name].transformer.levels + [OTHER_LEVEL]


def level_codes(values, levels: list[str]) -> np.ndarray:
    """Integer codes of a categorical column's values in ``levels`` (-1 where missing)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical):
        if list(values.categories) == levels:
            return np.asarray(values.codes, dtype=np.int64)
        return np.asarray(values.set_categories(levels).codes, dtype=np.int64)
    codes = pd.Index(levels, dtype=object).get_indexer(np.asarray(values, dtype=object))
    return codes.astype(np.int64)


def column_values(frame: pd.DataFrame, schema: Schema, name: str) -> np.ndarray:
    """A model-frame column as a plain array: float64 (NaN missing) or int64 codes (-1 missing)."""
    if schema[name].is_numeric:
        return np.asarray(frame[name], dtype=np.float64)
    return level_codes(frame[name], model_levels(schema, name))


_F32 = float(np.finfo(np.float32).max)


def as_predictor(values: np.ndarray) -> np.ndarray:
    """A column's plain values as a tree predictor: numbers unchanged, codes as floats, NaN where missing.

    The trees read float32: numbers beyond its range (near ±1e300) are clipped to its extremes, so
    they stay the largest and smallest values (never inf, which scikit-learn refuses); the values a
    leaf outputs are the training rows' own, unclipped."""
    if values.dtype.kind == "f":
        return np.clip(values, -_F32, _F32)
    out = values.astype(np.float64)
    out[values < 0] = np.nan
    return out


def predictor_matrix(frame: pd.DataFrame, schema: Schema, columns: list[str]) -> np.ndarray:
    """The columns as one float32 matrix for trees (see ``as_predictor``)."""
    out = np.empty((len(frame), len(columns)), dtype=np.float32)
    for j, name in enumerate(columns):
        out[:, j] = as_predictor(column_values(frame, schema, name))
    return out


class LeafModel:
    """One column given predictor columns: a tree fitted on real rows, and each leaf's training rows.

    ``categorical``: the target is integer codes (-1 missing, a class of its own); else float
    values (NaN missing), which the tree fits by rank (robust to outliers; missing rows form
    their own region). ``min_samples_leaf`` bounds how few training rows a leaf holds, so a
    drawn value always comes from a group of at least that many rows.
    """

    def __init__(self, categorical: bool, min_samples_leaf: int = 5, max_depth: int | None = None,
                 random_state: int = 0):
        self.categorical = categorical
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> "LeafModel":
        if self.categorical:
            target = class_target(y)
            tree = DecisionTreeClassifier(min_samples_leaf=self.min_samples_leaf, max_depth=self.max_depth,
                                          random_state=self.random_state)
        else:
            target = rank_target(y)
            tree = DecisionTreeRegressor(min_samples_leaf=self.min_samples_leaf, max_depth=self.max_depth,
                                         random_state=self.random_state)
        # scikit-learn sums X to look for NaN; predictors at float32's extremes (values near ±1e300)
        # overflow that sum, which it handles: its warning is noise
        with np.errstate(over="ignore", invalid="ignore"):
            self.tree_ = tree.fit(X, target) if X.shape[1] else None
            leaves = self.tree_.apply(X) if self.tree_ is not None else np.zeros(len(y), dtype=np.int64)
        self.order_ = np.argsort(leaves, kind="stable")  # training rows grouped by leaf
        self.leaf_ids_, self.starts_, self.counts_ = np.unique(leaves[self.order_], return_index=True,
                                                               return_counts=True)
        self.values_ = y[self.order_]
        return self

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """Each row's leaf, as a position in ``leaf_ids_``."""
        if self.tree_ is None:
            return np.zeros(len(X), dtype=np.int64)
        with np.errstate(over="ignore", invalid="ignore"):  # as in fit
            return np.searchsorted(self.leaf_ids_, self.tree_.apply(X))

    def draw(self, X: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``X``: the position (in ``values_``) of a uniformly drawn training row of
        its leaf, and the leaf (a position in ``leaf_ids_``)."""
        leaf = self.leaves(X)
        pos = self.starts_[leaf] + np.minimum((rng.random(len(leaf)) * self.counts_[leaf]).astype(np.int64),
                                              self.counts_[leaf] - 1)
        return pos, leaf

    def sample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A training value of each row's leaf (the CART draw)."""
        return self.values_[self.draw(X, rng)[0]]

    def leaf_bandwidth(self, ranks: np.ndarray) -> np.ndarray:
        """Per leaf, Silverman's kernel bandwidth of ``ranks`` (one per training row, in ``values_``'s
        order; NaN for missing rows): how far a smoothed draw may move from the training row's rank."""
        out = np.zeros(len(self.leaf_ids_))
        for i, (start, count) in enumerate(zip(self.starts_, self.counts_)):
            r = ranks[start:start + count]
            r = r[~np.isnan(r)]
            if len(r) >= 2:
                spread = min(float(np.std(r, ddof=1)), float(stats.iqr(r)) / 1.34 or np.inf)
                out[i] = 0.9 * spread * len(r) ** -0.2
        return out


def class_target(codes: np.ndarray) -> np.ndarray:
    """Classes for the tree: the ``MAX_CLASSES`` most frequent codes, one class for the rest, one for missing."""
    present = codes[codes >= 0]
    if not len(present):
        return np.zeros(len(codes), dtype=np.int64)
    counts = np.bincount(present)
    top = np.argsort(-counts, kind="stable")[:MAX_CLASSES]
    mapping = np.full(len(counts), MAX_CLASSES, dtype=np.int64)
    mapping[top] = np.arange(len(top))
    return np.where(codes >= 0, mapping[np.maximum(codes, 0)], MAX_CLASSES + 1)


def rank_target(values: np.ndarray) -> np.ndarray:
    """Ranks in (0, 1) for the tree's squared error (outliers do not steer the splits); missing at -1."""
    out = np.full(len(values), -1.0)
    present = ~np.isnan(values)
    if present.any():
        out[present] = stats.rankdata(values[present]) / (present.sum() + 1)
    return out
