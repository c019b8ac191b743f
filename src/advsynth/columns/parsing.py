"""What a column of text read from a file is (numbers, integers, dates, codes, text), and what
the text itself says (decimals written, date format and zone, stray tokens)."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from .base import TEXT_FACTS, _SAFE_INT, _cast
from .zones import _offset_name, _tz, _zone_of

log = logging.getLogger(__name__)

MAX_STRAY_TOKENS = 5  # distinct non-numeric tokens a numeric text column may hold (read as missing)
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?inf(inity)?$", re.IGNORECASE)
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:(?P<sep>[T ])(?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<frac>\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)
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
            named = {"UTC" if o == "Z" else _offset_name(o) for o in unique}
            if len(named) == 1:  # one offset, spelled two ways ("Z" and "+00:00", "+0100" and "+01:00")
                tz = named.pop()
            elif len(unique) > 1:  # a local time (+01:00 in winter, +02:00 in summer): its zone, else UTC
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
