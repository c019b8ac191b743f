"""Column types and the facts needed to give synthetic output the real table's shape.

A generator works in a continuous space; the schema is what turns its draws back into
a table that looks like the input: integers as integers, categories from the real set,
values inside the real bounds, missing values at the real rate.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError

log = logging.getLogger(__name__)

KINDS = ("numeric", "integer", "categorical", "boolean", "datetime")
# A datetime column is modelled as an integer count of its finest unit since the epoch.
_UNITS = ("D", "s", "ms", "us", "ns")
_UNIT_NS = {"D": 86_400 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_BOOL_STRINGS = {"true", "false"}
MIN_ROWS = 20
OTHER_LEVEL = "__other__"  # a categorical value outside the real levels (see Schema.model_frame)


@dataclass
class ColumnSpec:
    name: str
    kind: str
    missing_rate: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    categories: list = field(default_factory=list)
    id_like: bool = False
    unit: str | None = None  # datetime columns: the finest unit their values use (D, s, ms, us, ns)

    @property
    def is_numeric(self) -> bool:
        """Modelled as a number: numeric, integer, and datetime (as a count of ``unit``)."""
        return self.kind in ("numeric", "integer", "datetime")


@dataclass
class Schema:
    columns: list[ColumnSpec]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def modelled(self) -> list[ColumnSpec]:
        """Columns a generator learns; ID-like columns are left out so nothing memorises them."""
        return [c for c in self.columns if not c.id_like]

    def __getitem__(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {"columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, data: dict) -> "Schema":
        return cls([ColumnSpec(**c) for c in data["columns"]])

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_json_default)

    def to_model_values(self, df: pd.DataFrame) -> pd.DataFrame:
        """The table with datetime columns as float counts of their unit (what generators model)."""
        out = df.copy(deep=False)
        for c in self.columns:
            if c.kind == "datetime" and c.name in out.columns:
                out[c.name] = datetime_to_count(out[c.name], c.unit)
        return out

    def model_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """The modelled columns in the one representation every model reads (generator
        encoders, detector features, privacy, utility).

        Numeric, integer and datetime columns become float64 (datetimes as counts of their
        unit), NaN where missing. Categorical and boolean columns become a pandas
        ``Categorical`` whose categories are the schema's levels as strings plus
        ``OTHER_LEVEL`` last; a value outside the levels (a synthetic table's invention)
        becomes ``OTHER_LEVEL``, so a detector sees it, and missing stays missing.
        """
        out = {}
        for c in self.modelled:
            col = df[c.name]
            if c.kind == "datetime":
                out[c.name] = datetime_to_count(col, c.unit).to_numpy(dtype=float)
            elif c.is_numeric:
                out[c.name] = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            else:
                levels = [str(v) for v in c.categories]
                text = col.astype(object).where(col.notna(), None).map(lambda v: None if v is None else str(v))
                text = text.where(text.isna() | text.isin(levels), OTHER_LEVEL)
                out[c.name] = pd.Categorical(text, categories=levels + [OTHER_LEVEL])
        return pd.DataFrame(out, index=df.index)

    def validate_frame(self, df: pd.DataFrame, what: str = "table") -> None:
        """Refuse a frame whose columns differ from the schema: silently reordering hides bugs."""
        if list(df.columns) != self.names:
            missing = [c for c in self.names if c not in df.columns]
            extra = [c for c in df.columns if c not in self.names]
            raise InputError(
                f"{what} does not match the schema: missing columns {missing}, unexpected columns {extra}"
                if missing or extra
                else f"{what} has the schema's columns in another order"
            )


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _decimals(values: np.ndarray, max_decimals: int = 6) -> int:
    """Smallest number of decimals that represents every value exactly (up to ``max_decimals``)."""
    for d in range(max_decimals + 1):
        if np.allclose(np.round(values, d), values, rtol=0, atol=10.0 ** -(max_decimals + 2)):
            return d
    return max_decimals


def datetime_to_count(series: pd.Series, unit: str) -> pd.Series:
    """Datetimes as float counts of ``unit`` since 1970-01-01 (NaT becomes NaN)."""
    values = pd.to_datetime(series, errors="coerce")
    ns = values.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(float)
    ns[values.isna().to_numpy()] = np.nan
    return pd.Series(ns / _UNIT_NS[unit], index=series.index)


def count_to_datetime(counts: np.ndarray, unit: str) -> np.ndarray:
    """Inverse of ``datetime_to_count`` for whole counts (NaN becomes NaT)."""
    missing = np.isnan(counts)
    ns = np.where(missing, 0, counts).astype(np.int64) * _UNIT_NS[unit]
    out = ns.astype("datetime64[ns]")
    out[missing] = np.datetime64("NaT")
    return out


def _datetime_unit(values: pd.Series) -> str:
    """The coarsest unit that represents every value exactly."""
    ns = values.dropna().to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return next(u for u in _UNITS if np.all(ns % _UNIT_NS[u] == 0))


def _infer_kind(series: pd.Series) -> str:
    non_null = series.dropna()
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        values = non_null.to_numpy(dtype=float)
        if non_null.nunique() <= 2 and set(np.unique(values)) <= {0.0, 1.0}:
            return "boolean"
        if np.all(np.mod(values, 1) == 0):
            return "integer"
        return "numeric"
    if set(non_null.astype(str).str.lower().unique()) <= _BOOL_STRINGS:
        return "boolean"
    return "categorical"


def infer_schema(df: pd.DataFrame, types: dict[str, str] | None = None) -> Schema:
    """Infer each column's kind and typing facts; ``types`` overrides the inference per column.

    Raises InputError for tables a generator cannot learn from (too few rows, constant or
    all-missing columns) and for numeric overrides on non-numeric data.
    """
    types = dict(types or {})
    unknown = [c for c in types if c not in df.columns]
    if unknown:
        raise ConfigError(f"config names column(s) not in the data: {', '.join(map(str, unknown))}")
    bad = {c: k for c, k in types.items() if k not in KINDS}
    if bad:
        raise ConfigError(f"unknown column type(s) {bad}; use one of {', '.join(KINDS)}")
    if len(df.columns) == 0:
        raise InputError("the table has no columns")
    if len(df) == 0:
        raise InputError("the table has a header but no rows")
    if len(df) < MIN_ROWS:
        raise InputError(f"the table has {len(df)} rows; at least {MIN_ROWS} are needed to fit and test a generator")

    specs = []
    for name in df.columns:
        series = df[name]
        non_null = series.dropna()
        if non_null.empty:
            raise InputError(f"column '{name}' is entirely missing; drop it or fill it")
        if non_null.nunique() == 1:
            raise InputError(f"column '{name}' is constant (every value is {non_null.iloc[0]!r}); drop it")
        kind = types.get(name) or _infer_kind(series)
        spec = ColumnSpec(name=str(name), kind=kind, missing_rate=float(series.isna().mean()))
        if kind == "datetime":
            parsed = pd.to_datetime(non_null, errors="coerce")
            if parsed.isna().any():
                example = non_null[parsed.isna()].iloc[0]
                raise InputError(f"column '{name}' is declared datetime but holds {example!r}")
            spec.unit = _datetime_unit(parsed)
            counts = datetime_to_count(parsed, spec.unit)
            spec.minimum, spec.maximum, spec.decimals = float(counts.min()), float(counts.max()), 0
        elif kind in ("numeric", "integer"):
            values = pd.to_numeric(non_null, errors="coerce")
            if values.isna().any():
                example = non_null[values.isna()].iloc[0]
                raise InputError(f"column '{name}' is declared {kind} but holds {example!r}")
            arr = values.to_numpy(dtype=float)
            spec.minimum, spec.maximum = float(arr.min()), float(arr.max())
            spec.decimals = 0 if kind == "integer" else _decimals(arr)
            if kind == "integer" and not np.all(np.mod(arr, 1) == 0):
                raise InputError(f"column '{name}' is declared integer but holds fractional values")
        unique_per_row = non_null.nunique() == len(df)
        if unique_per_row and kind in ("categorical", "integer") and name not in types:
            spec.id_like = True
            log.warning(
                "column '%s' has one distinct value per row (an ID?): excluded from the generator "
                "and the detector; synthetic rows get fresh identifiers",
                name,
            )
        elif not spec.is_numeric:
            spec.categories = sorted(non_null.unique().tolist(), key=lambda v: (str(type(v)), v))
        specs.append(spec)
    schema = Schema(specs)
    if not schema.modelled:
        raise InputError("every column looks like an identifier; nothing left to model")
    return schema


def type_output(raw: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Give generated values the real table's shape: every column in order, typed and bounded.

    ``raw`` holds the modelled columns as floats (numeric) or objects (categorical), with
    NaN/None where a value should be missing. Numeric values are clipped to the real
    bounds and rounded to the real precision; integer columns become ``int64`` (``Int64``
    when some values are missing); ID-like columns get fresh identifiers.
    """
    n = len(raw)
    out = {}
    for spec in schema.columns:
        if spec.id_like:
            out[spec.name] = (
                np.arange(1, n + 1, dtype=np.int64)
                if spec.kind == "integer"
                else np.array([f"synthetic-{i}" for i in range(1, n + 1)], dtype=object)
            )
            continue
        values = raw[spec.name]
        if spec.is_numeric:
            arr = np.clip(values.to_numpy(dtype=float), spec.minimum, spec.maximum)
            arr = np.round(arr, spec.decimals or 0)
            if spec.kind == "datetime":
                out[spec.name] = count_to_datetime(arr, spec.unit)
            elif spec.kind == "integer":
                missing = np.isnan(arr)
                out[spec.name] = (
                    pd.array(np.where(missing, 0, arr).astype(np.int64), dtype="Int64").where(~missing, pd.NA)
                    if missing.any()
                    else arr.astype(np.int64)
                )
            else:
                out[spec.name] = arr
        else:
            arr = values.to_numpy(dtype=object)
            known = set(spec.categories)
            bad = [v for v in pd.unique(arr[pd.notna(arr)]) if v not in known]
            if bad:  # a generator bug, not a user error: fail loudly
                raise AssertionError(f"generated values {bad[:3]} outside the categories of '{spec.name}'")
            out[spec.name] = arr
    return pd.DataFrame(out, columns=schema.names)
