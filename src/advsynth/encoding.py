"""Reversible encoding of a mixed-type table into a continuous matrix, and back.

A Gaussian mixture can only model real vectors, so each column is mapped to one or more
real features whose inverse gives a valid value again:

* numeric and integer columns go through a quantile transform to normal scores, which
  lets a handful of Gaussians fit skewed and multi-modal marginals;
* a value that holds a large share of a numeric column (the zeros of ``capital-gain``)
  becomes its own 0/1 feature, so the point mass is not smeared into fractional values;
* missing values become a 0/1 feature, so missingness is modelled jointly with the rest
  (in Adult ``workclass`` and ``occupation`` go missing together);
* categorical and boolean columns are one-hot encoded (missing is one more level) and
  decoded by the largest coordinate; so are integer columns with few distinct values
  (``education-num``), which are categories written as numbers.

One-hot blocks matter beyond decoding: where one column is a function of another
(``education`` and ``education-num``), their blocks are linearly tied, every principal
direction keeps that tie, and whatever is sampled in PCA space decodes consistently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import QuantileTransformer

from .schema import ColumnSpec, Schema

MISSING = "__missing__"


@dataclass
class _NumericBlock:
    spec: ColumnSpec
    transformer: QuantileTransformer | None
    fill: float
    point_mass: float | None
    has_missing: bool

    @property
    def width(self) -> int:
        return 1 + (self.point_mass is not None) + self.has_missing


@dataclass
class _CategoricalBlock:
    spec: ColumnSpec
    levels: list

    @property
    def width(self) -> int:
        return len(self.levels)


class TableEncoder:
    """Fit on a real table, ``transform`` it to floats, ``inverse_transform`` floats to a typed table.

    Parameters
    ----------
    point_mass_share : a numeric value holding at least this share of a column's non-missing
        values is modelled as a separate 0/1 feature (zero inflation).
    n_quantiles : resolution of the quantile transform (bounded, so fitting is O(rows)).
    """

    def __init__(self, point_mass_share: float = 0.2, max_discrete_levels: int = 20, n_quantiles: int = 1000,
                 random_state: int = 0):
        self.point_mass_share = point_mass_share
        self.max_discrete_levels = max_discrete_levels
        self.n_quantiles = n_quantiles
        self.random_state = random_state

    def fit(self, df: pd.DataFrame, schema: Schema) -> "TableEncoder":
        self.schema_ = schema
        self.blocks_ = []
        for spec in schema.modelled:
            col = df[spec.name]
            if spec.is_numeric:
                values = pd.to_numeric(col)
                levels = np.unique(values.dropna().to_numpy(dtype=float))
                if spec.kind in ("integer", "datetime") and len(levels) <= self.max_discrete_levels:
                    self.blocks_.append(_CategoricalBlock(spec, levels.tolist() + ([MISSING] if col.isna().any() else [])))
                else:
                    self.blocks_.append(self._fit_numeric(spec, values))
            else:
                levels = list(spec.categories) + ([MISSING] if col.isna().any() else [])
                self.blocks_.append(_CategoricalBlock(spec, levels))
        self.n_features_ = sum(b.width for b in self.blocks_)
        self.feature_columns_ = [b.spec.name for b in self.blocks_ for _ in range(b.width)]
        return self

    def _fit_numeric(self, spec: ColumnSpec, col: pd.Series) -> _NumericBlock:
        values = col.dropna().to_numpy(dtype=float)
        uniques, counts = np.unique(values, return_counts=True)
        top = int(np.argmax(counts))
        point_mass = None
        if counts[top] / len(values) >= self.point_mass_share and len(uniques) > 2:
            point_mass = float(uniques[top])
            values = values[values != point_mass]
        transformer = QuantileTransformer(
            n_quantiles=max(2, min(self.n_quantiles, len(values))),
            output_distribution="normal",
            subsample=100_000,
            random_state=self.random_state,
        ).fit(values.reshape(-1, 1))
        return _NumericBlock(spec, transformer, 0.0, point_mass, bool(col.isna().any()))

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(df), self.n_features_))
        j = 0
        for block in self.blocks_:
            col = df[block.spec.name]
            if isinstance(block, _NumericBlock):
                values = pd.to_numeric(col).to_numpy(dtype=float)
                missing = np.isnan(values)
                special = missing.copy()
                if block.point_mass is not None:
                    at_mass = values == block.point_mass
                    special |= at_mass
                    out[:, j + 1] = at_mass
                scores = np.full(len(values), block.fill)
                if (~special).any():
                    scores[~special] = block.transformer.transform(values[~special].reshape(-1, 1)).ravel()
                out[:, j] = scores
                if block.has_missing:
                    out[:, j + block.width - 1] = missing
            else:
                if block.spec.is_numeric:
                    col = pd.to_numeric(col).astype(float)
                keys = col.astype(object).where(col.notna(), MISSING)
                codes = pd.Index(block.levels, dtype=object).get_indexer(keys)
                known = codes >= 0
                out[np.flatnonzero(known), j + codes[known]] = 1.0
            j += block.width
        return out

    def inverse_transform(self, X: np.ndarray) -> pd.DataFrame:
        """Decode a float matrix to raw column values (typing and bounds are applied by the schema)."""
        columns = {}
        j = 0
        for block in self.blocks_:
            part = X[:, j : j + block.width]
            if isinstance(block, _NumericBlock):
                values = block.transformer.inverse_transform(part[:, :1]).ravel()
                if block.point_mass is not None:
                    values = np.where(part[:, 1] > 0.5, block.point_mass, values)
                if block.has_missing:
                    values = np.where(part[:, -1] > 0.5, np.nan, values)
                columns[block.spec.name] = values
            else:
                index = np.argmax(part, axis=1)
                missing = index == block.levels.index(MISSING) if MISSING in block.levels else np.zeros(len(X), bool)
                if block.spec.is_numeric:
                    decoded = np.array([np.nan if v == MISSING else v for v in block.levels], dtype=float)[index]
                else:
                    decoded = np.array(block.levels, dtype=object)[index]
                    decoded[missing] = None
                columns[block.spec.name] = decoded
            j += block.width
        return pd.DataFrame(columns)
