"""Sequential CART synthesis, as R's synthpop does it by default: the reference to beat.

The first column is drawn from its training values; every later column from a tree fitted
on the training rows to predict it from the columns before it (``trees.LeafModel``), taking
the value of a random training row of the leaf the new row falls into (synthpop's ``cart``
method without smoothing, leaves of at least ``min_samples_leaf`` = 5 rows, its
``minbucket``). Statisticians have used it for twenty years, it is fast, and it reproduces
deterministic relations between columns, because a leaf whose rows share a value hands out
that value.

It is a reference, not advsynth's generator: its values are training values, and when the
leaves of consecutive columns keep returning rows of the same few training records it
rebuilds them (on Adult a few percent of its rows are exact training rows, many times the
rate of unseen real rows). advsynth's privacy adversary is there to say so.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .base import Synthesizer
from .trees import LeafModel, as_predictor, column_values, model_levels


class CARTSynthesizer(Synthesizer):
    """synthpop-style sequential CART.

    Parameters
    ----------
    min_samples_leaf : the fewest training rows of a leaf (synthpop's ``minbucket``).
    max_depth : the trees' depth limit (None: grown until the leaves are that small or pure).
    fit_rows : training rows the trees are fitted on (None: all); bounds the fit's cost.
    random_state : seeds the trees' tie-breaking, the row subsample and sampling.
    """

    name = "cart"
    _parameter_constraints = {
        **Synthesizer._parameter_constraints,
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "fit_rows": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, min_samples_leaf: int = 5, max_depth: int | None = None, fit_rows: int | None = None,
                 random_state: int = 0):
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.fit_rows = fit_rows
        self.random_state = random_state

    def _fit(self, df: pd.DataFrame, groups=None) -> None:
        if self.fit_rows is not None and len(df) > int(self.fit_rows):
            keep = np.random.default_rng([int(self.random_state), 3]).choice(len(df), int(self.fit_rows), replace=False)
            df = df.iloc[np.sort(keep)]
        self.columns_ = [c.name for c in self.schema_.modelled]
        values = [column_values(df, self.schema_, c) for c in self.columns_]
        X = np.column_stack([as_predictor(v) for v in values]).astype(np.float32)
        self.first_ = values[0]
        self.models_ = [LeafModel(categorical=not self.schema_[c].is_numeric, min_samples_leaf=int(self.min_samples_leaf),
                                  max_depth=self.max_depth, random_state=int(self.random_state)).fit(X[:, :j], values[j])
                        for j, c in enumerate(self.columns_) if j > 0]

    def _sample_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        drawn = [self.first_[rng.integers(0, len(self.first_), n)]]
        X = np.empty((n, len(self.columns_)), dtype=np.float32)
        X[:, 0] = as_predictor(drawn[0])
        for j, model in enumerate(self.models_, start=1):
            drawn.append(model.sample(X[:, :j], rng))
            X[:, j] = as_predictor(drawn[-1])
        out = {}
        for name, values in zip(self.columns_, drawn):
            out[name] = values if self.schema_[name].is_numeric else pd.Categorical.from_codes(
                values, categories=model_levels(self.schema_, name))
        return pd.DataFrame(out)
