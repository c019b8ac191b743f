"""The typing layer: one reversible transformer per column kind (in the spirit of RDT).

Three steps, each in one place:

* ``parse_text_frame`` decides what a column of text read from a file is (numbers, integers,
  dates, codes, text) and records what the text itself says (decimals written, date
  format, stray non-numeric tokens) in ``df.attrs[TEXT_FACTS]`` so the schema can give the
  output the same precision and the same text format.
* ``fit_column`` learns a column's facts into a ``ColumnSpec`` (plain JSON-able fields:
  schema.json travels to the containers) and ``transformer_for(spec)`` rebuilds its
  transformer from them.
* A transformer's ``transform`` gives the model values every model reads (float64 with NaN,
  or category strings with ``OTHER_LEVEL``); ``reverse_transform`` gives back a series typed
  exactly like the input column: the same dtype, the same decimals, the same discrete
  values, the same levels, the same time zone.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import timedelta, timezone

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError

log = logging.getLogger(__name__)

OTHER_LEVEL = "__other__"  # a categorical value outside the kept levels (see Schema.model_frame)
TEXT_FACTS = "advsynth.text_facts"  # df.attrs key: per column, what its text said (decimals, format, tokens)
CSV_DIALECT = "advsynth.csv_dialect"  # df.attrs key: the delimiter and decimal mark a CSV was read with
CSV_SEP = "advsynth.csv_sep"  # df.attrs key: the delimiter Schema.text_frame asks io.csv_text to write with
MAX_LEVELS = 1000  # levels kept per categorical column (the detector sees each of them); the rest is one bucket sampled from the empirical tail
TAIL_SAMPLE = 1000  # values of that tail kept (bounded schema.json)
MAX_SNAP_VALUES = 5000  # a numeric column with at most this many distinct values, each seen 5 times on average, comes back as them
MAX_STRAY_TOKENS = 5  # distinct non-numeric tokens a numeric text column may hold (read as missing)
_SAFE_INT = 2.0**53  # beyond this a float is not an exact integer (1e300 is a float, not an ID)
_UNIT_NS = {"D": 86_400 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_BOOL_TEXT = {"true", "false"}

# --------------------------------------------------------------------------- reading text

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?inf(inity)?$", re.IGNORECASE)
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:(?P<sep>[T ])(?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<frac>\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)
# Common non-ISO formats, tried in this order; a day > 12 settles day-first vs month-first.
_OTHER_DATE_FORMATS = [d + t for d in ("%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%d %b %Y", "%b %d %Y")
                       for t in ("", " %H:%M", " %H:%M:%S")]
_DATEISH = re.compile(r"^\d{1,4}[-/. ]\w{1,3}[-/. ]\d{1,4}( \d{2}:\d{2}(:\d{2})?)?$|^\w{3} \d{1,2} \d{4}$")


def _is_text(col: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
                or pd.api.types.is_datetime64_any_dtype(col) or isinstance(col.dtype, pd.CategoricalDtype))


def parse_text_frame(df: pd.DataFrame, *, decimal: str = ".") -> pd.DataFrame:
    """Type a frame of text columns (as read from a file, missing markers already NaN).

    Per column: numbers become float64 (int64, or nullable Int64 with missing values, when
    every number is a whole number), with the decimals actually written recorded; a few
    distinct non-numeric tokens in an otherwise numeric column ("n/a", "-") are read as
    missing, with one warning naming them; numbers with leading zeros ("02134") are codes
    and stay text; dates in ISO 8601 (``T`` or space, ``Z`` or an offset) or a common
    non-ISO format become datetimes, their text format recorded so the output is written
    the same way; everything else stays text. What was learnt from the text is in
    ``out.attrs[TEXT_FACTS]``.
    """
    out = df.copy()
    facts: dict[str, dict] = {}
    for name in out.columns:
        col = out[name]
        if not _is_text(col):
            continue
        if col.isna().all():
            continue
        parsed = _parse_numbers(name, col, decimal)
        if parsed is not None:
            out[name], facts[name] = parsed
            continue
        parsed = _parse_dates(col, col.dropna().astype(str).str.strip())
        if parsed is not None:
            out[name], facts[name] = parsed
    out.attrs[TEXT_FACTS] = facts
    return out


def _parse_numbers(name, col: pd.Series, decimal: str):
    """Numbers (as float64/int64/Int64) and what their text said, or None if the column is not numeric.

    Works on the distinct values (a column of 30,000 rows usually holds a few hundred), so
    reading stays about as fast as pandas' own number parsing.
    """
    codes, raw = pd.factorize(col.astype(object), use_na_sentinel=True)
    uniques = pd.Series(raw, dtype=object).astype(str).str.strip()
    if decimal != ".":
        uniques = uniques.str.replace(".", "", regex=False).str.replace(decimal, ".", regex=False)
    is_number = uniques.str.match(_NUMBER).to_numpy(dtype=bool)
    if not is_number.any():
        return None
    tokens = sorted(set(uniques[~is_number]))
    if tokens:
        # a few distinct tokens among many numbers are missing markers; more is a text column
        token_rows = np.isin(codes, np.flatnonzero(~is_number)).sum()
        if len(tokens) > MAX_STRAY_TOKENS or is_number.sum() < 3 * len(tokens) or token_rows > 0.5 * (codes >= 0).sum():
            return None
    good = uniques[is_number]
    if good.str.match(_LEADING_ZERO).any():
        return None  # codes such as zip codes: "02134" must keep its zero
    if tokens:
        log.warning("column '%s': non-numeric value(s) %s read as missing", name, ", ".join(repr(t) for t in tokens))
    unique_numbers = np.where(is_number, pd.to_numeric(uniques.where(is_number), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan), np.nan)
    values = np.where(codes >= 0, unique_numbers[np.maximum(codes, 0)], np.nan)
    written = good[~good.str.contains(r"[eEnN]", regex=True)]
    frac = written.str.extract(r"\.(\d*)$", expand=False).str.len()
    decimals = int(frac.max()) if frac.notna().any() else 0
    fact = {"decimals": decimals if len(written) == len(good) else None}
    # every number written with the same count of decimals ("1.50", "2.25"): the output is written so too
    if len(written) == len(good) and frac.notna().all() and frac.nunique() == 1 and decimals > 0:
        fact["text_decimals"] = decimals
    if decimal != ".":
        fact["decimal"] = decimal
    if tokens:
        fact["tokens"] = tokens
    finite = unique_numbers[np.isfinite(unique_numbers)]
    whole = not good.str.contains(r"[.eEnN]", regex=True).any() and np.all(np.abs(finite) < _SAFE_INT)
    if whole and len(finite) == len(good):
        series = _cast(values, "Int64" if np.isnan(values).any() else "int64", np.isnan(values))
        return series.set_axis(col.index), fact
    return pd.Series(values, index=col.index, dtype=float), fact


def _parse_dates(col: pd.Series, text: pd.Series):
    first = text.iloc[0]
    match = _ISO.match(first)
    if match:
        zone = match["zone"]
        fmt = "%Y-%m-%d"
        if match["time"]:
            fmt += match["sep"] + ("%H:%M:%S" if match["time"].count(":") == 2 else "%H:%M")
        if not text.str.match(_ISO).all():
            return None
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=zone is not None)
        if parsed.isna().any():
            return None
        fact = {"format": fmt, "fraction": len(match["frac"]) - 1 if match["frac"] else 0}
        if zone is not None:
            offsets = text.str.extract(r"(Z|[+-]\d{2}:?\d{2})$", expand=False)
            unique = offsets.unique()
            if len(unique) > 1:  # a local time (+01:00 in winter, +02:00 in summer): its zone, else UTC
                tz = _zone_of(parsed, offsets) or "UTC"
            else:
                tz = "UTC" if unique[0] == "Z" else _offset_name(unique[0])
            fact["zone"] = "Z" if unique[0] == "Z" and len(unique) == 1 else tz
            parsed = parsed.dt.tz_convert(_tz(tz))
        return parsed.reindex(col.index), fact
    if not _DATEISH.match(first):
        return None
    for fmt in _OTHER_DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            return parsed.reindex(col.index), {"format": fmt, "fraction": 0}
    return None


# regions searched first for the zone of a local-time column: an Atlantic or African zone with the
# same rules as a European one (Africa/Ceuta, Europe/Berlin) gives the same offsets; the name should be the familiar one
_REGIONS = ("Europe/", "America/", "Asia/", "Australia/", "Africa/", "Pacific/", "Atlantic/", "Indian/", "Antarctica/")
_ZONE_SAMPLE = 400  # (instant, offset) pairs every candidate zone is tried on before all pairs are checked


def _zone_of(parsed_utc: pd.Series, offsets: pd.Series) -> str | None:
    """The IANA zone whose UTC offset at every instant is the offset the text gave it (a European
    local time writes +01:00 in winter and +02:00 in summer), or None when no zone fits."""
    import zoneinfo

    sign = np.where(offsets.str.startswith("-"), -1, 1)
    digits = offsets.str.replace(r"[^0-9]", "", regex=True).where(offsets != "Z", "0000")
    minutes = sign * (digits.str[:2].astype(int) * 60 + digits.str[2:4].replace("", "0").astype(int))
    pairs = pd.DataFrame({"t": parsed_utc.to_numpy(), "m": minutes.to_numpy()}).drop_duplicates()
    if pairs["t"].duplicated().any():  # one instant written with two offsets: no single zone
        return None
    # every distinct offset, then an even spread of instants
    probe = pd.concat([pairs.drop_duplicates("m"), pairs.sort_values("t").iloc[
        np.linspace(0, len(pairs) - 1, min(len(pairs), _ZONE_SAMPLE)).astype(int)]]).drop_duplicates()
    try:
        names = zoneinfo.available_timezones()
    except Exception:  # no time-zone database: keep UTC
        return None
    ordered = sorted((n for n in names if n.startswith(_REGIONS)),
                     key=lambda n: (next(i for i, r in enumerate(_REGIONS) if n.startswith(r)), n))

    def fits(name: str, rows: pd.DataFrame) -> bool:
        instants = pd.DatetimeIndex(rows["t"])
        local = instants.tz_convert(name).tz_localize(None)
        shift = (local - instants.tz_localize(None)).total_seconds() // 60
        return bool(np.array_equal(shift.to_numpy(dtype=np.int64), rows["m"].to_numpy(dtype=np.int64)))

    for name in ordered:
        if fits(name, probe) and fits(name, pairs):
            return name
    return None


def _offset_name(offset: str) -> str:
    offset = offset if ":" in offset else offset[:3] + ":" + offset[3:]
    return "UTC" if offset in ("+00:00", "-00:00") else offset


def _tz(name: str | None):
    """A tz pandas accepts from its stored name: an IANA name, "UTC", or a fixed offset "+02:00"."""
    if name is None:
        return None
    m = re.fullmatch(r"(?:UTC)?([+-])(\d{2}):(\d{2})", name)
    if m:
        minutes = int(m[2]) * 60 + int(m[3])
        return timezone(timedelta(minutes=minutes if m[1] == "+" else -minutes))
    return name


def _tz_name(tz) -> str:
    name = str(tz)
    m = re.fullmatch(r"UTC([+-]\d{2}:\d{2})", name)
    return m[1] if m else name


# --------------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------------- transformers


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

    def reverse_transform(self, values, rng: np.random.Generator) -> pd.Series:
        raise NotImplementedError

    def to_text(self, series: pd.Series) -> pd.Series:
        """The column as it is written to a text file (datetimes in their original format)."""
        return series


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

    def reverse_transform(self, values, rng):
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

    def reverse_transform(self, values, rng):
        out = self._finish(np.asarray(values, dtype=float))
        return _cast(np.round(out), self.spec.dtype or "int64", np.isnan(out))


class CategoricalTransformer(ColumnTransformer):
    """Levels (text, codes, numbers typed categorical, pandas categories incl. ordered).

    Bounded: at most ``MAX_LEVELS`` levels are kept (the most frequent); the rest is one
    ``OTHER_LEVEL`` bucket whose values come back drawn from a sample of the real tail, so
    free text or a near-identifier costs a few dozen model features, never thousands.
    """

    def fit(self, series):
        s = self.spec
        present = series.dropna()
        counts = present.astype(object).value_counts(sort=True)
        kept = counts.index[:MAX_LEVELS].tolist()
        if isinstance(series.dtype, pd.CategoricalDtype):
            s.ordered = bool(series.dtype.ordered)
            s.dtype_categories = [_plain(v) for v in series.dtype.categories]
            order = {v: i for i, v in enumerate(series.dtype.categories)}
            kept = sorted(kept, key=lambda v: order[v])
        else:
            kept = sorted(kept, key=lambda v: (str(type(v)), v))
        s.categories = [_plain(v) for v in kept]
        if len(counts) > MAX_LEVELS:
            tail_mask = ~present.isin(kept)
            tail = present[tail_mask.to_numpy()]
            s.tail_share = float(tail_mask.mean())
            pick = np.random.default_rng(0).choice(len(tail), size=min(TAIL_SAMPLE, len(tail)), replace=False)
            s.tail = [_plain(v) for v in tail.iloc[np.sort(pick)]]
            log.warning(
                "column '%s' has %d distinct values (free text or nearly an identifier): modelled as its %d most "
                "frequent values plus a tail drawn from the real values", s.name, len(counts), MAX_LEVELS)
        return self

    @property
    def levels(self) -> list[str]:
        return [str(v) for v in self.spec.categories]

    def transform(self, series):
        codes, keys = _level_codes(series)
        # per distinct value: its level's position, or OTHER_LEVEL's (last) when not a kept level
        position = pd.Index(self.levels, dtype=object).get_indexer(np.array(keys, dtype=object))
        position[position < 0] = len(self.levels)
        return pd.Categorical.from_codes(np.append(position, -1)[codes], categories=self.levels + [OTHER_LEVEL])

    def reverse_transform(self, values, rng):
        s = self.spec
        # factorize once (C speed, also on Arrow-backed strings), then match the few distinct
        # values to the levels exactly (as ``isin`` would: 1 is not "1") and index by code
        codes, uniques = pd.factorize(values if isinstance(values, pd.Series) else np.asarray(values, dtype=object))
        level = pd.Index(self.levels, dtype=object).get_indexer(np.asarray(uniques, dtype=object))
        missing = codes < 0
        code = np.append(level, -1)[codes]  # codes -1 (missing) pick the appended -1
        known = code >= 0
        table = np.empty(len(s.categories) + 1, dtype=object)
        table[:-1] = s.categories
        out = table[code]  # code -1 picks the trailing None
        other = ~known & ~missing
        if s.tail and other.any():
            # a column with a tail of rare values: a value outside the kept levels other than the
            # OTHER_LEVEL marker is one of them (a plug-in's output, a copy), written as it is
            verbatim = np.asarray(uniques, dtype=object) != OTHER_LEVEL
            keep = other & np.append(verbatim, False)[codes]
            out[keep] = np.asarray(uniques, dtype=object)[codes[keep]]
            other &= ~keep
        if other.any():
            pool = s.tail or s.categories  # OTHER without a real tail: a generator's invention; draw real levels
            out[other] = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), other.sum())]
        out[missing] = None
        if s.dtype == "category":
            cats = s.dtype_categories if s.dtype_categories is not None else s.categories
            return pd.Series(pd.Categorical(out, categories=cats, ordered=s.ordered))
        return _cast(out, s.dtype, missing)


class BooleanTransformer(CategoricalTransformer):
    """bool, nullable boolean, 0/1 numbers, "true"/"false" text: two levels, back in the input's dtype and spelling."""


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

    def reverse_transform(self, values, rng):
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


class ConstantTransformer(ColumnTransformer):
    """A column with one value: not modelled, written back as that value (missing at the real rate)."""

    modelled = False

    def fit(self, series):
        present = series.dropna()
        self.spec.constant = _plain(present.iloc[0])
        return self

    def reverse_transform(self, n, rng, first_row=0):
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

    def reverse_transform(self, n, rng, first_row=0):
        s = self.spec
        if s.dtype and s.dtype.startswith("datetime64"):
            return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
        if s.dtype == "category":
            return pd.Series(pd.Categorical([None] * n, categories=s.dtype_categories or []))
        return _cast(np.full(n, np.nan, dtype=object), s.dtype if s.dtype != "bool" else "boolean", np.ones(n, bool))


class IdTransformer(ColumnTransformer):
    """One distinct value per row: not modelled (nothing may memorise it); fresh identifiers in the output.

    Fresh identifiers keep the real ones' format when it is regular (``fit_id_format``): the
    same length, the characters that never change ("r00…", "case-"), each other position from
    the same character class (digits, hex, letters), so "A-10293" comes back as "A-57120", not
    "synthetic-1". A drawn identifier may coincide with a real one (as integer IDs 1..n do).

    The identifier is a function of the row's place in the whole table (``first_row`` is the
    place of this batch's first row), so a table drawn in blocks, or in shards on several
    instances, has distinct identifiers throughout, as one draw would.
    """

    modelled = False

    def reverse_transform(self, n, rng, first_row=0):
        rows = np.arange(int(first_row), int(first_row) + n, dtype=np.int64)
        if self.spec.kind == "integer":
            return _cast(rows + 1, self.spec.dtype or "int64", np.zeros(n, bool))
        values = draw_ids(self.spec.id_format, rows, rng)
        if values is None:
            values = np.char.add("synthetic-", (rows + 1).astype(str)).astype(object)
        return _cast(values, self.spec.dtype, np.zeros(n, bool))


# character classes an identifier position may draw from, smallest first
_ID_ALPHABETS = {
    "digit": "0123456789", "hex": "0123456789abcdef", "HEX": "0123456789ABCDEF",
    "lower": "abcdefghijklmnopqrstuvwxyz", "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "alnum": "0123456789abcdefghijklmnopqrstuvwxyz", "ALNUM": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "mixed": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
}
ID_FORMAT_SAMPLE = 5000  # identifiers read to learn their format
_ID_STRIDE = 2_147_483_647  # a prime: coprime with any product of the alphabets' sizes


def fit_id_format(values: pd.Series) -> dict | None:
    """The format of text identifiers, or None when it is irregular (then ``synthetic-N``).

    ``{"template": [char or class name, ...]}`` when every identifier has the same length:
    a position that holds one character in every sampled value is that literal, any other
    the smallest class holding its characters. ``{"prefix": p}`` when the identifiers are a
    common prefix followed by a number of varying width ("case-7", "case-1204").
    """
    text = values.astype(str)
    sample = text.iloc[np.sort(np.random.default_rng(0).choice(len(text), min(len(text), ID_FORMAT_SAMPLE),
                                                                replace=False))]
    lengths = text.str.len()
    if lengths.nunique() == 1:
        grid = np.array([list(v) for v in sample], dtype="<U1")
        template = []
        for column in grid.T:
            chars = set(column.tolist())
            if len(chars) == 1:
                template.append(str(column[0]))
                continue
            cls = next((name for name, alphabet in _ID_ALPHABETS.items() if chars <= set(alphabet)), None)
            if cls is None:
                return None
            template.append({"class": cls})
        return {"template": template}
    prefix = str(pd.Series(sample).str.extract(r"^(\D*)", expand=False).mode().iloc[0])
    rest = text.str.slice(len(prefix))
    if text.str.startswith(prefix).all() and rest.str.fullmatch(r"[1-9]\d*|0").all():
        return {"prefix": prefix}
    return None


def draw_ids(fmt: dict | None, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """Identifiers in format ``fmt`` (``fit_id_format``) for the table's rows ``rows`` (their places
    in the whole table), distinct for distinct rows; None if the format cannot hold them.

    A prefix is followed by the row's number. A template's varying positions spell the number
    ``row * stride`` (mod the template's capacity, mixed radix), so the identifiers are distinct
    and scattered; past 2**62 combinations (UUID-like) each position is drawn independently (a
    repeat among 10 million draws has probability below 1e-5).
    """
    if not fmt:
        return None
    rows = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    if "prefix" in fmt:
        return np.char.add(fmt["prefix"], (rows + 1).astype(str)).astype(object)
    template = fmt["template"]
    slots = [i for i, t in enumerate(template) if isinstance(t, dict)]
    bases = [len(_ID_ALPHABETS[template[i]["class"]]) for i in slots]
    capacity = math.prod(bases)  # exact (a float product loses digits past 2**53)
    if capacity <= (int(rows.max()) if n else 0):
        return None
    chars = np.empty((n, len(template)), dtype="<U1")
    for i, t in enumerate(template):
        if not isinstance(t, dict):
            chars[:, i] = t
    if capacity > 2**62:
        for i, base in zip(slots, bases):
            chars[:, i] = np.array(list(_ID_ALPHABETS[template[i]["class"]]))[rng.integers(0, base, n)]
    else:
        # row * stride (mod capacity): distinct for rows < capacity as the stride, a prime above
        # every alphabet's size, shares no factor with the capacity; scattered, not consecutive
        size = capacity
        number = rows * _ID_STRIDE % size  # int64: exact below 4 billion rows
        for i, base in zip(reversed(slots), reversed(bases)):
            chars[:, i] = np.array(list(_ID_ALPHABETS[template[i]["class"]]))[number % base]
            number //= base
    return np.array(["".join(row) for row in chars], dtype=object)


class TextTransformer(ColumnTransformer):
    """Free text with one distinct value per row (titles, comments): not modelled jointly with
    the other columns; each output row is new text drawn word by word.

    ``fit_text`` keeps the distribution of the number of words and the frequencies of at most
    ``MAX_VOCABULARY`` words (only words found in at least two values: a word one row alone
    holds is not copied out), so the output reads like the column without being any real row,
    in bounded memory whatever the table. Drawn with the run's generator: same seed, same text.
    """

    modelled = False

    def reverse_transform(self, n, rng, first_row=0):
        t = self.spec.text
        lengths = np.asarray(t["lengths"], dtype=np.int64)
        p = lengths[:, 1] / lengths[:, 1].sum()
        words_per_row = lengths[rng.choice(len(lengths), size=n, p=p), 0]
        weights = np.asarray(t["counts"], dtype=float)
        words = np.asarray(t["words"], dtype=object)[rng.choice(len(weights), size=int(words_per_row.sum()),
                                                                p=weights / weights.sum())]
        ends = np.cumsum(words_per_row)
        out = np.array([" ".join(words[e - k: e]) for e, k in zip(ends, words_per_row)], dtype=object)
        return _cast(out, self.spec.dtype, np.zeros(n, bool))


MAX_VOCABULARY = 2000   # words kept per free-text column
TEXT_FIT_ROWS = 20_000  # values read to learn a free-text column (bounded time and memory)
MAX_TEXT_WORDS = 200    # longest text drawn, in words


def is_free_text(values: pd.Series) -> bool:
    """Words with spaces, of varying length (titles, comments), as opposed to codes
    ("A-10293", UUIDs): most values hold a space and their lengths differ."""
    text = values.astype(str).str.strip()
    sample = text.iloc[:ID_FORMAT_SAMPLE]
    return bool(sample.str.contains(r"\s", regex=True).mean() >= 0.5 and sample.str.len().nunique() > 1)


def fit_text(values: pd.Series) -> dict:
    """Word-count distribution and word frequencies of a free-text column (see ``TextTransformer``)."""
    text = values.astype(str)
    if len(text) > TEXT_FIT_ROWS:
        text = text.iloc[np.sort(np.random.default_rng(0).choice(len(text), TEXT_FIT_ROWS, replace=False))]
    words = text.str.split()
    lengths = np.clip(words.str.len().to_numpy(), 1, MAX_TEXT_WORDS)
    counts = words.explode().dropna().value_counts(sort=True)
    shared = counts[counts >= 2]
    kept = (shared if len(shared) else counts).iloc[:MAX_VOCABULARY]
    kept = kept.sort_index(kind="stable").sort_values(ascending=False, kind="stable")  # ties by word: deterministic
    histogram = np.bincount(lengths)
    return {"words": [str(w) for w in kept.index], "counts": [int(c) for c in kept.to_numpy()],
            "lengths": [[int(k), int(c)] for k, c in enumerate(histogram) if c]}


def _plain(value):
    """A JSON-able Python scalar for a pandas/numpy value."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


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
    return transformer_for(spec).fit(series)
