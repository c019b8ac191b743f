"""Which transformer a column gets: its kind inferred or declared, its facts fitted."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from .base import ColumnTransformer, _BOOL_TEXT, _SAFE_INT, _plain, float_values
from .categorical import BooleanTransformer, CategoricalTransformer
from .dates import DatetimeTransformer
from .identifiers import IdTransformer, fit_groups, fit_id_format, is_group_key
from .numeric import IntegerTransformer, NumericTransformer
from .passthrough import ConstantTransformer, MissingTransformer
from .text import TextTransformer, fit_text, is_free_text
from .zones import _tz_name

log = logging.getLogger(__name__)


def transformer_for(spec) -> ColumnTransformer:
    """The transformer a spec's facts rebuild (no refit)."""
    if spec.passthrough == "constant":
        return ConstantTransformer(spec)
    if spec.passthrough == "missing":
        return MissingTransformer(spec)
    if spec.id_like:
        return TextTransformer(spec) if spec.text else IdTransformer(spec)
    return {"numeric": NumericTransformer, "integer": IntegerTransformer, "categorical": CategoricalTransformer,
            "boolean": BooleanTransformer, "datetime": DatetimeTransformer}[spec.kind](spec)


# --------------------------------------------------------------------------- inference


def infer_kind(series: pd.Series) -> str:
    """The modelled kind of a column with at least two distinct values."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        values = float_values(series)
        present = values[~np.isnan(values)]
        if len(np.unique(present)) <= 2 and set(np.unique(present)) <= {0.0, 1.0}:
            return "boolean"
        finite = present[np.isfinite(present)]
        if pd.api.types.is_integer_dtype(series) or (
                len(finite) == len(present) and np.all(np.abs(finite) < _SAFE_INT) and np.all(np.mod(finite, 1) == 0)):
            return "integer"
        return "numeric"
    # the distinct values first: lower-casing a million strings to find two took a second
    if set(pd.Series(series.dropna().unique(), dtype=object).astype(str).str.lower()) <= _BOOL_TEXT:
        return "boolean"
    return "categorical"


def fit_column(spec, series: pd.Series, declared: str | None, text_fact: dict | None) -> ColumnTransformer:
    """Fill ``spec`` (name already set) from ``series`` and return its fitted transformer."""
    spec.dtype = str(series.dtype)
    spec.missing_rate = float(series.isna().mean())
    text_fact = text_fact or {}
    spec.tokens = text_fact.get("tokens")
    present = series.dropna()
    if present.empty:
        spec.kind, spec.passthrough = declared or "categorical", "missing"
        log.warning("column '%s' is entirely missing: not modelled, written back missing", spec.name)
        return MissingTransformer(spec)
    if isinstance(series.dtype, pd.CategoricalDtype):
        spec.ordered = bool(series.dtype.ordered)
        spec.dtype_categories = [_plain(v) for v in series.dtype.categories]
    if pd.api.types.is_datetime64_any_dtype(series) and getattr(series.dt, "tz", None) is not None:
        spec.tz = _tz_name(series.dt.tz)
    distinct = present.nunique()
    if distinct == 1 and declared is None:
        spec.kind, spec.passthrough = infer_kind(series), "constant"
        log.warning("column '%s' is constant (%r): not modelled, written back as the constant", spec.name,
                    present.iloc[0])
        return ConstantTransformer(spec).fit(series)
    spec.kind = declared or infer_kind(series)
    if spec.kind == "datetime":
        spec.text_format, spec.fraction, spec.zone = text_fact.get("format"), text_fact.get("fraction", 0), \
            text_fact.get("zone")
    elif spec.kind in ("numeric", "integer"):
        if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_bool_dtype(series):
            raise ConfigError(f"column '{spec.name}' is typed {spec.kind} but holds {series.dtype} values")
        numbers = pd.to_numeric(present.astype(object), errors="coerce")
        if numbers.isna().any():
            raise InputError(f"column '{spec.name}' is declared {spec.kind} but holds {present[numbers.isna()].iloc[0]!r}")
        if spec.kind == "integer":
            finite = numbers.to_numpy(dtype=float)
            finite = finite[np.isfinite(finite)]
            if not np.all(np.mod(finite, 1) == 0):
                raise InputError(f"column '{spec.name}' is declared integer but holds fractional values")
        if "decimals" in text_fact and spec.kind == "numeric":
            spec.decimals = text_fact["decimals"]
            spec.full_precision = spec.decimals is None
            spec.text_decimals = text_fact.get("text_decimals")
        spec.decimal = text_fact.get("decimal")
    if spec.kind in ("categorical", "integer") and declared is None and distinct == len(series) \
            and not isinstance(series.dtype, pd.CategoricalDtype):
        spec.id_like = True
        if spec.kind == "categorical" and is_free_text(present):
            spec.text = fit_text(present)
            log.warning("column '%s' is free text with one distinct value per row: excluded from the generator "
                        "and the detector; synthetic rows get new text drawn from its words (%d kept) and lengths",
                        spec.name, len(spec.text["words"]))
            return TextTransformer(spec)
        if spec.kind == "categorical":
            spec.id_format = fit_id_format(present)
        log.warning("column '%s' has one distinct value per row (an ID?): excluded from the generator "
                    "and the detector; synthetic rows get fresh identifiers%s", spec.name,
                    " in the same format" if spec.id_format else "")
        return IdTransformer(spec)
    key_format = fit_id_format(present.drop_duplicates()) \
        if spec.kind == "categorical" and declared is None and not isinstance(series.dtype, pd.CategoricalDtype) \
        and is_group_key(present) and not is_free_text(present) else None
    if key_format:  # codes in a regular format (many-level names and words stay categorical)
        spec.id_like, spec.id_format, spec.group = True, key_format, fit_groups(present)
        log.warning("column '%s' is a group key (%d values, each shared by %.1f rows on average): excluded from "
                    "the generator and the detector; synthetic rows get fresh keys in the same format with the "
                    "real group sizes", spec.name, present.nunique(), len(present) / present.nunique())
        return IdTransformer(spec)
    return transformer_for(spec).fit(series)
