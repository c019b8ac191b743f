"""Columns nothing is learnt from: a constant, and a column with no value at all."""

from __future__ import annotations


import numpy as np
import pandas as pd

from .base import ColumnTransformer, _cast, _plain
from .zones import _tz



class ConstantTransformer(ColumnTransformer):
    """A column with one value: not modelled, written back as that value (missing at the real rate)."""

    modelled = False

    def fit(self, series):
        present = series.dropna()
        self.spec.constant = _plain(present.iloc[0])
        return self

    def reverse_transform(self, values, rng, first_row=0):
        n = len(values)
        s = self.spec
        missing = rng.random(n) < s.missing_rate if s.missing_rate else np.zeros(n, bool)
        if s.dtype and s.dtype.startswith("datetime64"):
            out = pd.Series(pd.to_datetime(np.full(n, s.constant))).mask(missing)
            return out if s.tz is None else out.dt.tz_localize("UTC").dt.tz_convert(_tz(s.tz))
        values = np.full(n, s.constant, dtype=object)
        if s.dtype == "category":
            values[missing] = None
            return pd.Series(pd.Categorical(values, categories=s.dtype_categories, ordered=s.ordered))
        return _cast(values, s.dtype, missing)


class MissingTransformer(ColumnTransformer):
    """A column with no value at all: not modelled, written back all missing."""

    modelled = False

    def reverse_transform(self, values, rng, first_row=0):
        n = len(values)
        s = self.spec
        if s.dtype and s.dtype.startswith("datetime64"):
            return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
        if s.dtype == "category":
            return pd.Series(pd.Categorical([None] * n, categories=s.dtype_categories or []))
        return _cast(np.full(n, np.nan, dtype=object), s.dtype if s.dtype != "bool" else "boolean", np.ones(n, bool))
