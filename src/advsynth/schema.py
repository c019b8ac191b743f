"""The schema: every column's kind and fitted facts, composed from the typing layer.

Each ``ColumnSpec`` is the JSON-able state of one reversible transformer
(``advsynth.columns``); ``Schema`` composes them for a whole table: ``model_frame`` gives
the values every model reads, ``reverse`` turns generated model values back into a table
typed exactly like the input, ``text_frame`` writes it in the input's text formats,
``passthrough`` and ``parse_problems`` say what was not modelled or not readable.
schema.json (``to_json`` / ``from_dict``) carries it to the SageMaker containers.
"""

from __future__ import annotations

import json
import logging
import zlib
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd

from .columns import CSV_DIALECT, CSV_SEP, OTHER_LEVEL, TEXT_FACTS, fit_column, transformer_for  # noqa: F401 (OTHER_LEVEL: the schema names it)
from .columns.base import _UNIT_NS
from .columns.identifiers import constant_within_groups, group_starts
from .errors import ConfigError, InputError

log = logging.getLogger(__name__)

KINDS = ("numeric", "integer", "categorical", "boolean", "datetime")
MIN_ROWS = 20


@dataclass
class ColumnSpec:
    """One column's kind and the facts its transformer needs (``advsynth.columns``); JSON-able."""

    name: str
    kind: str
    missing_rate: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None  # numeric: decimals the real values use; None with full_precision: not rounded
    categories: list = field(default_factory=list)  # categorical/boolean: the kept levels (at most MAX_LEVELS)
    id_like: bool = False
    unit: str | None = None  # datetime columns: the finest unit their values use (D, s, ms, us, ns)
    dtype: str | None = None  # the input column's pandas dtype; the output gets the same
    full_precision: bool = False  # numeric: every value needs all of float64's digits (never rounded)
    values: list = field(default_factory=list)  # numeric with few distinct values: outputs snap to them
    posinf: bool = False  # numeric: +inf occurs (a point mass beyond the finite range)
    neginf: bool = False
    tokens: list | None = None  # numeric read from text: non-numeric tokens read as missing
    decimal: str | None = None
    ordered: bool = False  # pandas categorical: ordered flag and every declared category
    dtype_categories: list | None = None
    tail: list = field(default_factory=list)  # a sample of the values outside ``categories`` (high cardinality)
    tail_share: float = 0.0  # share of present values outside ``categories``
    tz: str | None = None  # datetime: time zone (IANA name, "UTC" or "+02:00")
    text_format: str | None = None  # datetime read from text: its strftime format, zone and fraction digits
    zone: str | None = None
    step: int | None = None  # datetime: every value lies on minimum + k * step (in ``unit``s)
    fraction: int = 0
    passthrough: str | None = None  # "constant" or "missing": not modelled, written back as such
    id_format: dict | None = None  # ID-like text: the identifiers' format (columns.fit_id_format)
    text_decimals: int | None = None  # numeric read from text written with a fixed count of decimals ("1.50")
    text: dict | None = None  # ID-like free text: word counts and frequencies (columns.fit_text)
    group: dict | None = None  # group key: group sizes and the columns constant within groups (columns.fit_groups)
    constant: object = None

    @property
    def is_numeric(self) -> bool:
        """Modelled as a number: numeric, integer, and datetime (as a count of ``unit``)."""
        return self.kind in ("numeric", "integer", "datetime")

    @property
    def is_modelled(self) -> bool:
        return not self.id_like and self.passthrough is None

    @property
    def transformer(self):
        return transformer_for(self)


@dataclass
class Schema:
    columns: list[ColumnSpec]
    # the real CSV's delimiter and decimal mark ({"sep": ";", "decimal": ","}): synthetic CSV is written alike
    dialect: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def modelled(self) -> list[ColumnSpec]:
        """Columns a generator learns: not ID-like (nothing may memorise them), not constant or empty."""
        return [c for c in self.columns if c.is_modelled]

    @property
    def passthrough(self) -> dict[str, str]:
        """Columns written back without a model: ``{name: "constant" | "missing"}`` (for metrics.json)."""
        return {c.name: c.passthrough for c in self.columns if c.passthrough}

    def __getitem__(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {"columns": [asdict(c) for c in self.columns], "dialect": dict(self.dialect)}

    @classmethod
    def from_dict(cls, data: dict) -> "Schema":
        known = {f.name for f in fields(ColumnSpec)}
        return cls([ColumnSpec(**{k: v for k, v in c.items() if k in known}) for c in data["columns"]],
                   dialect=dict(data.get("dialect") or {}))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_json_default)

    def model_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """The modelled columns in the one representation every model reads (generator
        encoders, detector features, privacy, utility).

        Numeric, integer and datetime columns become float64 (datetimes as counts of their
        unit), NaN where missing (±inf as point masses just beyond the finite range).
        Categorical and boolean columns become a pandas ``Categorical`` whose categories are
        the schema's kept levels as strings plus ``OTHER_LEVEL`` last; a value outside the
        levels (the tail of a high-cardinality column, or a synthetic table's invention)
        becomes ``OTHER_LEVEL``, and missing stays missing. Text columns (a synthetic table
        read from CSV) are parsed the same way as the real ones; values that fail to parse
        become NaN and are counted by ``parse_problems``.
        """
        out = {}
        for c in self.modelled:
            values = c.transformer.transform(df[c.name])
            out[c.name] = values if isinstance(values, pd.Categorical) else np.asarray(values, dtype=float)
        return pd.DataFrame(out, index=df.index)

    def parse_problems(self, df: pd.DataFrame) -> dict[str, int]:
        """Per modelled column, present values that cannot be read as the column's kind (text in a
        numeric or datetime column); only columns with at least one such value."""
        counts = {c.name: c.transformer.parse_failures(df[c.name]) for c in self.modelled if c.name in df.columns}
        return {k: v for k, v in counts.items() if v}

    def reverse(self, raw: pd.DataFrame, rng: np.random.Generator | None = None, first_row: int = 0,
                columns: list[str] | None = None) -> pd.DataFrame:
        """Model values of the modelled columns → the table typed exactly like the input.

        ``raw`` holds floats (numeric-like) or level strings (categorical-like, ``OTHER_LEVEL``
        allowed), NaN/None where a value should be missing. Passthrough and ID-like columns are
        written from their facts; ``first_row`` is the place of ``raw``'s first row in the whole
        table (identifiers are numbered by it, so blocks of one table never repeat one).
        ``columns``: only these columns, in the schema's order (a sampler that keeps some of its
        draws types the modelled columns first and numbers the identifiers of the kept rows).
        """
        rng = rng if rng is not None else np.random.default_rng(0)
        nothing = np.full(len(raw), np.nan)
        out = {}
        wanted = self.columns if columns is None else [c for c in self.columns if c.name in set(columns)]
        for c in wanted:
            t = c.transformer
            # categorical-like columns go as the series (factorized without a slow object copy);
            # a column nothing was learnt from gets as many NaN (nothing was generated)
            values = (raw[c.name] if not c.is_numeric else raw[c.name].to_numpy()) if c.is_modelled else nothing
            out[c.name] = t.reverse_transform(values, rng, first_row).reset_index(drop=True)
        return pd.DataFrame(out, columns=[c.name for c in wanted])

    def split_groups(self, df: pd.DataFrame) -> np.ndarray | None:
        """Row labels for the holdout split: the groups of the coarsest group key (the one with
        fewest groups; a row whose key is missing is a group of its own), or None when no key
        groups rows.

        Why: the rows of a case share its attributes (a crash's date, weight and vehicle). Split
        row by row, a holdout row would have its case-mates among the training rows, so the
        privacy adversary would read a copier's training cases as the holdout's too, and the
        holdout-only detector would judge against rows the generator half saw. Whole groups on
        one side keep the holdout unseen.
        """
        keys = [c.name for c in self.columns if c.group and c.name in df.columns]
        labels = None
        for name in keys:
            codes, uniques = pd.factorize(df[name])
            if len(uniques) == int((codes >= 0).sum()):  # every value once: it groups nothing
                continue
            missing = np.flatnonzero(codes < 0)
            codes[missing] = len(uniques) + np.arange(len(missing))
            if labels is None or codes.max() < labels.max():
                labels = codes
        return labels

    def group_consistent(self, df: pd.DataFrame, first_row: int = 0) -> pd.DataFrame:
        """``df`` (typed rows ``first_row ..`` of a synthetic table, drawn independently) made into
        groups of each group key whose rows agree on its group attributes (``ColumnSpec.group
        ["constant"]``: the lines of an order share its region, as the real ones do).

        The rows are sorted by the group attributes (the one with fewest values first) and poured
        into the key's groups taken in a shuffled order, so a group receives rows that already
        agree or, for a number or a date, nearly agree; the group's first row then gives its
        values to the others. Reordering independent draws leaves their distribution as it is,
        and only the rows of a group that straddles two values are changed. Identifiers and keys
        stay where they are: they are functions of the row's place.
        """
        for spec in self.columns:
            constant = [c for c in ((spec.group or {}).get("constant") or []) if c in df.columns]
            if not constant or spec.name not in df.columns or len(df) < 2:
                continue
            n = len(df)
            starts = group_starts(spec, first_row, n)[0]
            _, first, size = np.unique(starts, return_index=True, return_counts=True)
            shuffled = np.random.default_rng([zlib.crc32(spec.name.encode()), int(first_row)]).permutation(len(first))
            counts = size[shuffled]
            place = np.repeat(first[shuffled], counts) + np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
            codes = [pd.factorize(df[c], sort=True)[0] for c in constant]
            order = np.lexsort(sorted(codes, key=lambda k: -k.max()))  # lexsort: the last key is the primary one
            source = np.empty(n, dtype=np.int64)
            source[place] = order
            movable = [c.name for c in self.columns if c.name in df.columns and not c.id_like]
            df[movable] = df[movable].iloc[source].reset_index(drop=True).set_axis(df.index)
            leader = starts - int(first_row)
            leader = np.where(leader < 0, 0, leader)
            for name in constant:
                df[name] = df[name].iloc[leader].reset_index(drop=True).set_axis(df.index)
        return df

    def text_frame(self, df: pd.DataFrame, fmt: str = "csv") -> pd.DataFrame:
        """``df`` as it is written: datetimes read from text in their original text format; for
        CSV (``fmt``) also numbers in the real text's fixed decimals and decimal mark, and the
        frame's ``attrs[CSV_SEP]`` naming the real file's delimiter (``io.csv_text`` writes
        with it), so the synthetic CSV reads back exactly as the real one does. Parquet stays typed."""
        out = df.copy(deep=False)
        for c in self.columns:
            if c.name not in out.columns or c.id_like or c.passthrough:
                continue
            if (c.kind == "datetime" and c.text_format) or (fmt == "csv" and c.kind == "numeric"):
                out[c.name] = c.transformer.to_text(out[c.name])
        if fmt == "csv" and self.dialect.get("sep"):
            out.attrs[CSV_SEP] = self.dialect["sep"]
        return out

    def numbers_from_text(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with the text of numeric columns written with a decimal comma ("1,5") read as
        floats, as their transformers read them; other columns untouched."""
        out = df.copy(deep=False)
        for c in self.modelled:
            if c.kind == "numeric" and c.decimal not in (None, ".") and c.name in out.columns \
                    and not pd.api.types.is_numeric_dtype(out[c.name]):
                out[c.name] = np.asarray(c.transformer.transform(out[c.name]), dtype=float)
        return out

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
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def datetime_to_count(series: pd.Series, unit: str) -> pd.Series:
    """Datetimes as float counts of ``unit`` since 1970-01-01 UTC (NaT becomes NaN)."""
    values = pd.to_datetime(series, errors="coerce")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = values.to_numpy(dtype="datetime64[ns]")
    ns = arr.astype(np.int64).astype(float)
    ns[np.isnat(arr)] = np.nan
    return pd.Series(ns / _UNIT_NS[unit], index=series.index)


def infer_schema(df: pd.DataFrame, types: dict[str, str] | None = None) -> Schema:
    """Infer each column's kind and fit its transformer; ``types`` overrides the inference per column.

    Constant and all-missing columns pass through (one warning each, ``Schema.passthrough``);
    ID-like columns are left out of modelling. Raises InputError for tables a generator
    cannot learn from (too few rows, nothing left to model) and ConfigError/InputError for
    overrides the data contradicts (text typed numeric, numbers typed datetime).
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
    facts = df.attrs.get(TEXT_FACTS, {})
    specs = []
    for name in df.columns:
        spec = ColumnSpec(name=str(name), kind="categorical")
        fit_column(spec, df[name], types.get(name), facts.get(name))
        specs.append(spec)
    modelled = [c.name for c in specs if c.is_modelled]
    for spec in specs:
        if spec.group:
            spec.group["constant"] = constant_within_groups(df, spec.name, modelled)
    schema = Schema(specs, dialect=dict(df.attrs.get(CSV_DIALECT) or {}))
    if not schema.modelled:
        raise InputError("no column left to model: every column is an identifier, constant or empty")
    return schema


def type_output(raw: pd.DataFrame, schema: Schema, rng: np.random.Generator | None = None,
                first_row: int = 0) -> pd.DataFrame:
    """Model values → the typed table (``Schema.reverse``; kept for callers of the old name)."""
    return schema.reverse(raw, rng, first_row)
