"""Columns redrawn given all the others, from trees fitted on the training rows.

A Gaussian mixture in PCA space gets the broad shape of a table right and its exact relations
wrong: a length that is a function of a weight, a code that fixes another code, a timestamp
assembled from year, month, day and hour columns all come out slightly inconsistent in every
row, and a detector reads that at once. A tree fitted to predict one column from all the
others reproduces such relations: its leaves group training rows that agree on the
predictors, and a leaf whose rows share a value hands out that value.

``ConditionalRedraw`` is a Gibbs-style sweep over the mixture's rows: each chosen column in
turn is redrawn given the row's current other values, from the leaf the row falls into. What
a leaf hands out is chosen so that no rare value is ever copied from a training row:

* a categorical column takes the level of a random training row of the leaf (levels are
  shared by many rows; a leaf holds at least ``min_samples_leaf`` rows);
* a numeric column takes that row's rank in the column, moved by a Gaussian step of the
  leaf's own bandwidth (Silverman's rule on the leaf's ranks: zero where the leaf's rows
  agree, so exact relations stay exact), and decodes it with the column's
  ``RankMarginal`` in "smooth" mode, which keeps heaped values exact and never outputs a
  training value held by fewer than ``heap_min_count`` rows.

The sweep starts from the mixture's draws, not from training rows, and every step changes
one column, so the rows stay the mixture's rows with their inconsistencies repaired; the
privacy adversary checks that they did not become copies.

``predictable_columns`` picks the columns worth redrawing without a detector: those the other
columns largely determine (a weight and its lengths, a temperature and its dew point, totals and
their parts, a marital status and the household relation). Each column's tree is fitted on three
quarters of the rows and scored on the last quarter: the share of the rank variance it explains
(numbers), or of the majority class's errors it removes (categoricals). A near-function scores
close to 1; a column the mixture already draws as well as a tree would (noise given the others)
scores near or below 0, and redrawing it would only replace the mixture's joint draw by a copy
of a leaf's rows. The cut, ``AUTO_SCORE``, is half: a column the others explain that well is
drawn better from its leaf, given the row, than from the mixture's smooth components (chosen
with ``benchmarks/hybrid.py`` against both adversaries; README gives the figures).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..encoding import RankMarginal
from ..schema import Schema
from .trees import LeafModel, as_predictor, class_target, column_values, model_levels, rank_target

AUTO_SCORE = 0.5  # the held-out share of a column's variation its tree must explain for redraw "auto"
# "auto" redraws nothing on a table of fewer rows than this many leaves' worth: a tree of a few
# dozen leaves is a coarser conditional than the mixture itself (on tables of a few hundred rows
# it picked most columns and made the rows easier to detect: benchmarks/real_tables.py)
AUTO_MIN_LEAVES = 100


class ConditionalRedraw:
    """The fitted conditional models of ``columns`` given every other modelled column.

    Parameters
    ----------
    columns : the columns redrawn, in sweep order.
    predictors : the columns they are redrawn given (None: every modelled column); each
        redrawn column is one of them and is left out of its own tree.
    min_samples_leaf : the fewest training rows of a leaf.
    heap_min_count : numeric values held by at least this many training rows may be output as they are.
    random_state : seeds the trees' tie-breaking.
    """

    def __init__(self, columns: list[str], predictors: list[str] | None = None, min_samples_leaf: int = 10,
                 heap_min_count: int = 3, random_state: int = 0):
        self.columns = list(columns)
        self.predictors = None if predictors is None else list(predictors)
        self.min_samples_leaf = int(min_samples_leaf)
        self.heap_min_count = int(heap_min_count)
        self.random_state = int(random_state)

    def fit(self, df: pd.DataFrame, schema: Schema) -> "ConditionalRedraw":
        """``df``: the training rows' model frame (``Schema.model_frame``)."""
        self.schema_ = schema
        self.all_ = self.predictors or [c.name for c in schema.modelled]
        values = {c: column_values(df, schema, c) for c in self.all_}
        X = np.column_stack([as_predictor(values[c]) for c in self.all_]).astype(np.float32)
        self.models_ = {}
        self.ranks_ = {}
        self.bandwidth_ = {}
        self.marginals_ = {}
        for name in self.columns:
            j = self.all_.index(name)
            spec = schema[name]
            model = LeafModel(categorical=not spec.is_numeric, min_samples_leaf=self.min_samples_leaf,
                              random_state=self.random_state).fit(np.delete(X, j, axis=1), values[name])
            self.models_[name] = model
            if spec.is_numeric:
                present = values[name][~np.isnan(values[name])]
                if len(present) < 2:
                    continue
                ranks = _mid_ranks(model.values_)
                self.ranks_[name] = ranks
                self.bandwidth_[name] = model.leaf_bandwidth(ranks)
                self.marginals_[name] = RankMarginal.fit(present, "smooth", spec, heap_min_count=self.heap_min_count)
        return self

    def transform(self, raw: pd.DataFrame, rng: np.random.Generator, sweeps: int = 1) -> pd.DataFrame:
        """``raw``: a generator's raw output (the model frame's columns); returns it with the columns redrawn."""
        out = raw.copy()
        X = np.column_stack([as_predictor(column_values(out, self.schema_, c)) for c in self.all_]).astype(np.float32)
        for _ in range(int(sweeps)):
            for name in self.columns:
                j = self.all_.index(name)
                model = self.models_[name]
                pos, leaf = model.draw(np.delete(X, j, axis=1), rng)
                drawn = model.values_[pos]
                if self.schema_[name].is_numeric:
                    if name in self.marginals_:
                        drawn = self._smooth(name, pos, leaf, drawn, rng)
                    out[name] = drawn
                    X[:, j] = as_predictor(drawn)
                else:
                    out[name] = pd.Categorical.from_codes(drawn, categories=model_levels(self.schema_, name))
                    X[:, j] = as_predictor(drawn)
        return out

    def _smooth(self, name: str, pos: np.ndarray, leaf: np.ndarray, drawn: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        """The leaf row's rank moved by the leaf's bandwidth, decoded by the column's smooth marginal."""
        ranks = self.ranks_[name][pos]
        step = rng.standard_normal(len(pos)) * self.bandwidth_[name][leaf]
        present = ~np.isnan(ranks)
        out = np.full(len(pos), np.nan)
        r = np.clip(ranks[present] + step[present], 1e-9, 1 - 1e-9)
        out[present] = self.marginals_[name].at_ranks(r)
        return out


def _mid_ranks(values: np.ndarray) -> np.ndarray:
    """Each value's mid-rank in (0, 1) among the present values (ties share one), NaN where missing."""
    out = np.full(len(values), np.nan)
    present = ~np.isnan(values)
    if present.any():
        out[present] = (stats.rankdata(values[present]) - 0.5) / present.sum()
    return out


def predictable_columns(df: pd.DataFrame, schema: Schema, columns: list[str], min_samples_leaf: int = 10,
                        threshold: float = AUTO_SCORE, random_state: int = 0) -> tuple[list[str], dict]:
    """The ``columns`` whose tree given the other ``columns`` explains at least ``threshold`` of their
    held-out variation, and every column's score (see the module docstring); none, and no score,
    on fewer than ``AUTO_MIN_LEAVES`` leaves' worth of rows."""
    n = len(df)
    if len(columns) < 2 or n < AUTO_MIN_LEAVES * min_samples_leaf:
        return [], {}
    values = {c: column_values(df, schema, c) for c in columns}
    X = np.column_stack([as_predictor(values[c]) for c in columns]).astype(np.float32)
    test = np.zeros(n, dtype=bool)
    test[np.random.default_rng([random_state, 23]).permutation(n)[: n // 4]] = True
    scores = {}
    for j, name in enumerate(columns):
        categorical = not schema[name].is_numeric
        target = class_target(values[name]) if categorical else rank_target(values[name])
        model = LeafModel(categorical=categorical, min_samples_leaf=min_samples_leaf,
                          random_state=random_state).fit(np.delete(X[~test], j, axis=1), values[name][~test])
        with np.errstate(over="ignore", invalid="ignore"):
            predicted = model.tree_.predict(np.delete(X[test], j, axis=1))
        if categorical:
            base = 1.0 - np.bincount(target[~test]).max() / (~test).sum()
            score = 1.0 - np.mean(predicted != target[test]) / base if base > 0 else 0.0
        else:
            spread = float(np.var(target[test]))
            score = 1.0 - float(np.mean((predicted - target[test]) ** 2)) / spread if spread > 0 else 0.0
        scores[name] = round(float(score), 4)
    return [c for c in columns if scores[c] >= threshold], scores
