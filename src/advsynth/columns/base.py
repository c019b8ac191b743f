"""What every column transformer shares: the constants of the typing layer, the one
missing-value convention, typed casts, and the ``ColumnTransformer`` base."""

from __future__ import annotations


import numpy as np
import pandas as pd




OTHER_LEVEL = "__other__"  # a categorical value outside the kept levels (see Schema.model_frame)
TEXT_FACTS = "advsynth.text_facts"  # df.attrs key: per column, what its text said (decimals, format, tokens)
CSV_DIALECT = "advsynth.csv_dialect"  # df.attrs key: the delimiter and decimal mark a CSV was read with
CSV_SEP = "advsynth.csv_sep"  # df.attrs key: the delimiter Schema.text_frame asks io.csv_text to write with
MAX_SNAP_VALUES = 5000  # a numeric column with at most this many distinct values, each seen 5 times on average, comes back as them
_SAFE_INT = 2.0**53  # beyond this a float is not an exact integer (1e300 is a float, not an ID)
_UNIT_NS = {"D": 86_400 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_BOOL_TEXT = {"true", "false"}

# --------------------------------------------------------------------------- reading text

# Common non-ISO formats, tried in this order; a day > 12 settles day-first vs month-first.


def float_values(series: pd.Series) -> np.ndarray:
    """float64 with NaN for missing, whatever the dtype (Int64, boolean, object numbers)."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        if isinstance(series.dtype, np.dtype):
            return series.to_numpy(dtype=float)
        return series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)  # Int64, boolean, Float64
    return pd.to_numeric(series.astype(object), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def round_decimals(values: np.ndarray, decimals: int) -> np.ndarray:
    """``np.round(values, decimals)`` where it is exact. np.round scales by 10**decimals; beyond
    2**52 that product loses digits and the "rounded" value is another float (923.9959999993443
    at 16 decimals came back as 923.996), so such values, already at float precision, stay."""
    with np.errstate(over="ignore", invalid="ignore"):
        exact = np.abs(values) * 10.0 ** decimals < 2.0**52
    return np.where(exact, np.round(values, decimals), values)


def float_decimals(values: np.ndarray) -> int | None:
    """Smallest number of decimals that represents every value exactly; None: full precision."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0
    sample = np.unique(values)
    for d in range(0, 16):
        if np.array_equal(np.round(sample, d), sample):
            return d
    return None


def _level_codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's code into the distinct values' keys (-1 where missing), and those keys: every
    value's level as a string (the key of Schema.model_frame). str() runs once per distinct
    value; the series is factorized in its own dtype (Arrow strings in C++), never copied to
    one Python object per row."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, [str(u) for u in uniques]


def _cast(values: np.ndarray, dtype: str | None, missing: np.ndarray | None = None) -> pd.Series:
    """An object/float array as a series of the input's dtype (nullable where values are missing)."""
    if missing is None:
        missing = pd.isna(values)
    has_missing = bool(np.any(missing))
    if dtype in (None, "object"):
        out = np.asarray(values, dtype=object).copy()
        out[missing] = None
        return pd.Series(out, dtype=object)
    if dtype in ("str", "string"):
        out = np.asarray(values, dtype=object).copy()
        out[missing] = None
        return pd.Series(out, dtype=object).astype(dtype)
    if dtype == "bool":
        if has_missing:
            return pd.Series(pd.array(np.where(missing, False, values).astype(bool), dtype="boolean")).where(
                ~missing, pd.NA)
        return pd.Series(np.asarray(values).astype(bool))
    if dtype == "boolean":
        return pd.Series(pd.array(np.where(missing, False, values).astype(bool), dtype="boolean")).mask(missing)
    if dtype.startswith(("int", "uint")) and has_missing:  # int64 with missing values: nullable Int64
        dtype = "UInt" + dtype[4:] if dtype.startswith("uint") else "Int" + dtype[3:]
    if dtype.startswith(("Int", "UInt")):
        ints = np.where(missing, 0, np.asarray(values, dtype=float)).astype(np.int64)
        return pd.Series(pd.array(ints, dtype=dtype)).mask(missing)
    return pd.Series(np.where(missing, np.nan, np.asarray(values, dtype=float)).astype(dtype))


def _plain(value):
    """A JSON-able Python scalar for a pandas/numpy value."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


class ColumnTransformer:
    """Base: ``fit`` learns into the spec, ``transform`` → model values, ``reverse_transform`` → typed column.

    The spec (``advsynth.schema.ColumnSpec``) is the transformer's whole state, so a schema
    read from schema.json rebuilds every transformer exactly.
    """

    modelled = True

    def __init__(self, spec):
        self.spec = spec

    def fit(self, series: pd.Series) -> "ColumnTransformer":
        return self

    def transform(self, series: pd.Series):
        raise NotImplementedError

    def parse_failures(self, series: pd.Series) -> int:
        """Values present in ``series`` that this column cannot read (text in a numeric column)."""
        return 0

    def reverse_transform(self, values, rng: np.random.Generator, first_row: int = 0) -> pd.Series:
        """``values``: a generator's model values for this column (for a column nothing is learnt
        from, as many NaN as rows wanted); ``first_row``: where they start in the whole table
        (identifiers are numbered by it). Returns the column typed like the input."""
        raise NotImplementedError

    def to_text(self, series: pd.Series) -> pd.Series:
        """The column as it is written to a text file (datetimes in their original format)."""
        return series
