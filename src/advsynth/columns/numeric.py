"""Numbers: continuous floats (at the real precision, heaps and discrete values kept) and integers."""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..errors import InputError
from .base import ColumnTransformer, MAX_SNAP_VALUES, _cast, float_decimals, float_values, round_decimals
from .parsing import _is_text



class NumericTransformer(ColumnTransformer):
    """Continuous floats (and discrete numbers): float64 model values, back at the real precision.

    ±inf are kept as point masses beyond the finite range (model values ``maximum + span``
    and ``minimum - span``); a column with few distinct repeated values (diabetes ``sex``)
    snaps every output to the nearest real value, so no value appears that no real row has.
    """

    def fit(self, series):
        s = self.spec
        values = float_values(series)
        present = values[~np.isnan(values)]
        finite = present[np.isfinite(present)]
        s.posinf, s.neginf = bool(np.any(present == np.inf)), bool(np.any(present == -np.inf))
        if finite.size == 0:
            raise InputError(f"column '{s.name}' holds only infinite values")
        s.minimum, s.maximum = float(finite.min()), float(finite.max())
        if s.decimals is None and not s.full_precision:
            s.decimals = float_decimals(finite)
            s.full_precision = s.decimals is None
        uniques = np.unique(finite)
        if len(uniques) <= MAX_SNAP_VALUES and len(uniques) <= max(2, len(finite) // 5):
            s.values = uniques.tolist()
        return self

    @property
    def _span(self) -> float:
        return max(self.spec.maximum - self.spec.minimum, 1.0)

    def _numbers(self, series: pd.Series) -> np.ndarray:
        if _is_text(series):
            text = series.astype(object).where(series.notna(), None)
            text = text.map(lambda v: v if v is None else str(v).strip())
            tokens = set(self.spec.tokens or [])
            text = text.where(~text.isin(tokens), None)
            if self.spec.decimal and self.spec.decimal != ".":
                text = text.map(lambda v: v if v is None else v.replace(".", "").replace(self.spec.decimal, "."))
            return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if pd.api.types.is_datetime64_any_dtype(series):
            return np.full(len(series), np.nan)
        return float_values(series)

    def transform(self, series):
        values = self._numbers(series)
        values = np.where(values == np.inf, self.spec.maximum + self._span, values)
        return np.where(values == -np.inf, self.spec.minimum - self._span, values)

    def parse_failures(self, series):
        return int(np.isnan(self._numbers(series)).sum() - series.isna().sum())

    def _finish(self, values: np.ndarray) -> np.ndarray:
        s = self.spec
        missing = np.isnan(values)
        out = values.copy()
        posinf = s.posinf & (values > s.maximum + self._span / 2)
        neginf = s.neginf & (values < s.minimum - self._span / 2)
        out = np.clip(out, s.minimum, s.maximum)
        if s.values:
            grid = np.asarray(s.values, dtype=float)
            idx = np.clip(np.searchsorted(grid, out), 1, len(grid) - 1) if len(grid) > 1 else np.zeros(len(out), int)
            if len(grid) > 1:
                left, right = grid[idx - 1], grid[idx]
                out = np.where(np.abs(out - left) <= np.abs(right - out), left, right)
            else:
                out = np.full(len(out), grid[0])
        elif s.decimals is not None:
            out = round_decimals(out, s.decimals)
        out = out + 0.0  # no "-0.0"
        out[posinf] = np.inf
        out[neginf] = -np.inf
        out[missing] = np.nan
        return out

    def reverse_transform(self, values, rng, first_row=0):
        return _cast(self._finish(np.asarray(values, dtype=float)), self.spec.dtype or "float64")

    def to_text(self, series):
        """Numbers as the real column's text wrote them: its fixed count of decimals ("1.50")
        when it had one, else the shortest text that reads back as the same float (full
        precision is never rounded), with the file's decimal mark; missing stays missing."""
        s = self.spec
        if not pd.api.types.is_float_dtype(series) or not (s.text_decimals or (s.decimal and s.decimal != ".")):
            return series
        values = series.to_numpy(dtype=float, na_value=np.nan)
        text = np.char.mod(f"%.{s.text_decimals}f", values) if s.text_decimals else values.astype(str)
        if s.decimal and s.decimal != ".":
            text = np.char.replace(text, ".", s.decimal)
        out = text.astype(object)
        out[np.isnan(values)] = None
        return pd.Series(out, index=series.index, dtype=object)


class IntegerTransformer(NumericTransformer):
    """Whole numbers (int64, nullable Int64, or whole floats): back as whole numbers of the same dtype."""

    def fit(self, series):
        self.spec.decimals = 0
        return super().fit(series)

    def reverse_transform(self, values, rng, first_row=0):
        out = self._finish(np.asarray(values, dtype=float))
        return _cast(np.round(out), self.spec.dtype or "int64", np.isnan(out))
