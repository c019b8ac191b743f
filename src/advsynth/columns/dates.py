"""Datetimes, naive or zoned, from values or text: counts of their finest unit, back in their own format."""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from .base import ColumnTransformer, _UNIT_NS
from .zones import _tz, _tz_name



class DatetimeTransformer(ColumnTransformer):
    """Datetimes (naive or time-zone aware, from values or text): model values are counts of their
    finest unit since 1970 (UTC), written back in the input's dtype, zone and text format."""

    def fit(self, series):
        s = self.spec
        if not pd.api.types.is_datetime64_any_dtype(series):
            present = series.dropna()
            if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
                raise ConfigError(
                    f"column '{s.name}' is typed datetime but holds numbers (e.g. {present.iloc[0]!r}); "
                    "type it integer or numeric, or give dates")
            parsed = pd.to_datetime(present.astype(str), errors="coerce", format="mixed")
            if parsed.isna().any():
                raise InputError(f"column '{s.name}' is declared datetime but holds {present[parsed.isna()].iloc[0]!r}")
            series = parsed
        tz = getattr(series.dt, "tz", None)
        if tz is not None:
            s.tz = _tz_name(tz)
        ns = self._ns(series)
        ns = ns[~np.isnan(ns)].astype(np.int64)
        s.unit = next(u for u in _UNIT_NS if np.all(ns % _UNIT_NS[u] == 0))
        counts = ns // _UNIT_NS[s.unit]
        s.minimum, s.maximum, s.decimals = float(counts.min()), float(counts.max()), 0
        # a regular grid (weekly readings: every value 7 days from the first) is kept: outputs snap to it
        step = int(np.gcd.reduce(counts - counts.min())) if len(counts) > 1 else 0
        s.step = step if step > 1 else None
        return self

    @staticmethod
    def _ns(series: pd.Series) -> np.ndarray:
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        arr = series.to_numpy(dtype="datetime64[ns]")
        out = arr.astype(np.int64).astype(float)
        out[np.isnat(arr)] = np.nan
        return out

    def _parse(self, series: pd.Series) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(series):
            return series
        s = self.spec
        text = series.astype(object).where(series.notna(), None)
        if s.text_format:
            parsed = pd.to_datetime(text, format="ISO8601" if s.text_format.startswith("%Y-%m-%d") else s.text_format,
                                    errors="coerce", utc=s.tz is not None)
            if parsed.isna().sum() > series.isna().sum() and s.text_format.startswith("%Y-%m-%d"):
                parsed = pd.to_datetime(text, format="mixed", errors="coerce", utc=s.tz is not None)
        else:
            parsed = pd.to_datetime(text, format="mixed", errors="coerce", utc=s.tz is not None)
        return parsed

    def transform(self, series):
        return self._ns(self._parse(series)) / _UNIT_NS[self.spec.unit]

    def parse_failures(self, series):
        return int(self._parse(series).isna().sum() - series.isna().sum())

    def reverse_transform(self, values, rng, first_row=0):
        s = self.spec
        counts = np.clip(np.round(np.asarray(values, dtype=float)), s.minimum, s.maximum)
        if s.step:
            counts = s.minimum + np.clip(np.round((counts - s.minimum) / s.step) * s.step, 0, s.maximum - s.minimum)
        missing = np.isnan(counts)
        ns = np.where(missing, 0, counts).astype(np.int64) * _UNIT_NS[s.unit]
        arr = ns.astype("datetime64[ns]")
        arr[missing] = np.datetime64("NaT")
        out = pd.Series(arr)
        if s.tz is not None:
            out = out.dt.tz_localize("UTC").dt.tz_convert(_tz(s.tz))
        if s.dtype and s.dtype.startswith("datetime64"):
            try:
                out = out.astype(s.dtype)
            except (TypeError, ValueError):
                pass
        return out

    def to_text(self, series):
        s = self.spec
        if not s.text_format or not pd.api.types.is_datetime64_any_dtype(series):
            return series
        text = series.dt.strftime(s.text_format + (".%f" if s.fraction else ""))
        if s.fraction:
            text = text.str.slice(0, -(6 - s.fraction)) if s.fraction < 6 else text
        if s.zone in ("Z", "UTC") or (s.zone or "x")[0] in "+-":
            text = text + ("Z" if s.zone == "Z" else ("+00:00" if s.zone == "UTC" else s.zone))
        elif s.zone:  # a local time's zone: each value with its own offset there
            offset = series.dt.strftime("%z")
            text = text + offset.str.slice(0, 3) + ":" + offset.str.slice(3, 5)
        return text.where(series.notna(), None)
