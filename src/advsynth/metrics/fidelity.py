"""Statistical fidelity: how closely synthetic data reproduces the real table's distributions.

A detector (the adversarial half of the harness) says *whether* synthetic rows can be told
apart; these metrics say *where* they differ, one interpretable number per column, pair of
columns or target level, so a failing generator can be diagnosed rather than just scored.

Conventions shared by every function here:

* ``real`` and ``synthetic`` are DataFrames with (at least) the listed columns;
  ``numeric`` names numeric/integer columns, ``categorical`` names categorical/boolean
  columns, and the optional ``datetime`` names date/time columns.
* Numeric values are compared on their non-missing values; how often values are missing
  is reported separately (``missing_rate_real`` / ``missing_rate_synthetic``), because a
  generator can get either one right and the other wrong.
* Categorical missing values are one more level (``MISSING_LEVEL``), since "unknown" is
  information a generator has to reproduce. Levels are compared by their string form, so
  ``1``, ``1.0`` and ``"1"`` are the same level: a CSV round trip or a generator that
  emits floats must not count as a fidelity loss.
* Date/time columns are compared as numbers: their int64 nanoseconds since the epoch
  (time-zone-aware values are converted to UTC first). KS only depends on order, so this
  is exact for marginals; Spearman correlations use the same ordering.
* Results are plain ``dict``/``list``/``float``/``int``/``str``/``None`` (JSON-ready);
  a value that is undefined (e.g. the correlation of a constant column) is ``None``.
* Cost is O(rows) or O(rows log rows) per column and O(rows) per column pair.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError

log = logging.getLogger(__name__)

MISSING_LEVEL = "__missing__"
DEFAULT_MAX_LEVELS = 50


class MetricInputError(InputError, ValueError):
    """Inputs a metric cannot be computed on.

    A ``ValueError`` for library callers and an ``AdvsynthError`` so the CLI and the
    containers report it as one line.
    """


# --------------------------------------------------------------------------- helpers


def _validate(frames: dict[str, pd.DataFrame], *column_lists: Sequence[str] | None) -> None:
    """Fail early with the column names: a KeyError deep in a metric helps nobody."""
    columns: list[str] = []
    for cols in column_lists:
        columns.extend(cols or [])
    duplicated = sorted({c for c in columns if columns.count(c) > 1}, key=str)
    if duplicated:
        raise MetricInputError(f"column(s) listed under more than one type: {duplicated}")
    for name, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise MetricInputError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
        if len(frame) == 0:
            raise MetricInputError(f"{name} has no rows")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise MetricInputError(f"{name} lacks column(s) {missing}")


def _values_and_mask(series: pd.Series, is_datetime: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Numbers to compare and a missing mask (values under the mask are meaningless).

    Date/times become int64 nanoseconds so that ordering is exact; everything else float64.
    Non-numeric strings in a numeric column become missing, with a warning, rather than
    an exception halfway through a report.
    """
    if is_datetime:
        values = pd.to_datetime(series, errors="coerce")
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        arr = values.to_numpy(dtype="datetime64[ns]")
        mask = np.isnat(arr)
        return arr.view("int64"), mask
    original_missing = series.isna().to_numpy()
    numbers = pd.to_numeric(series, errors="coerce")
    arr = numbers.to_numpy(dtype="float64", na_value=np.nan)
    mask = np.isnan(arr)
    coerced = int(mask.sum() - original_missing.sum())
    if coerced > 0:
        log.warning("column '%s': %d non-numeric value(s) treated as missing", series.name, coerced)
    return arr, mask


def _as_float(series: pd.Series, is_datetime: bool = False) -> np.ndarray:
    """Float64 with NaN for missing (datetimes as nanoseconds; ~256 ns resolution in float64)."""
    values, mask = _values_and_mask(series, is_datetime)
    out = values.astype("float64")
    out[mask] = np.nan
    return out


def _level_key(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _category_keys(series: pd.Series) -> np.ndarray:
    """String level of every row, ``MISSING_LEVEL`` for missing.

    Factorising first keeps the Python-level work proportional to the number of levels,
    not rows.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    keys = np.array([_level_key(u) for u in uniques] + [MISSING_LEVEL], dtype=object)
    return keys[codes]  # code -1 (missing) picks the last entry


def _ks(a: np.ndarray, b: np.ndarray) -> float | None:
    """Two-sample KS statistic; ``None`` when one side has no values (nothing to compare).

    ``method="asymp"`` because only the statistic is used and the exact p-value is
    O(n·m) for small samples.
    """
    if len(a) == 0 or len(b) == 0:
        return None
    return float(stats.ks_2samp(a, b, method="asymp").statistic)


def _tvd(a: np.ndarray, b: np.ndarray) -> float | None:
    """Total-variation distance between the level frequencies of two key arrays."""
    if len(a) == 0 or len(b) == 0:
        return None
    p = pd.Series(a).value_counts(normalize=True)
    q = pd.Series(b).value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(0.5 * np.abs(p.to_numpy() - q.to_numpy()).sum())


def _mean(values) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _matrix(values: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in values]


def _upper_mean(abs_diff: np.ndarray) -> float | None:
    if abs_diff.shape[0] < 2:
        return None
    upper = abs_diff[np.triu_indices(abs_diff.shape[0], k=1)]
    upper = upper[np.isfinite(upper)]
    return float(upper.mean()) if upper.size else None


# --------------------------------------------------------------------------- marginals


def marginals(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    datetime: Sequence[str] | None = None,
) -> dict[str, dict]:
    """Per-column distance between the real and synthetic marginal distributions.

    KS for numeric and date/time columns because it is scale-free and needs no binning,
    so skewed columns (``capital-gain``) and integer columns are judged alike; TVD for
    categorical columns because it is the largest difference in probability any set of
    levels can show, the categorical analogue of KS. Both lie in [0, 1], 0 meaning
    identical.

    Returns ``{column: {"kind", "statistic", "value", "missing_rate_real",
    "missing_rate_synthetic"}}``; ``value`` is ``None`` for a numeric column that is
    entirely missing on one side (the missing rates then tell the story).
    """
    datetime = list(datetime or [])
    _validate({"real": real, "synthetic": synthetic}, numeric, categorical, datetime)
    out: dict[str, dict] = {}
    for col in [*numeric, *datetime]:
        is_dt = col in datetime
        rv, rm = _values_and_mask(real[col], is_dt)
        sv, sm = _values_and_mask(synthetic[col], is_dt)
        out[col] = {
            "kind": "datetime" if is_dt else "numeric",
            "statistic": "ks",
            "value": _ks(rv[~rm], sv[~sm]),
            "missing_rate_real": float(rm.mean()),
            "missing_rate_synthetic": float(sm.mean()),
        }
    for col in categorical:
        rk, sk = _category_keys(real[col]), _category_keys(synthetic[col])
        out[col] = {
            "kind": "categorical",
            "statistic": "tvd",
            "value": _tvd(rk, sk),
            "missing_rate_real": float(np.mean(rk == MISSING_LEVEL)),
            "missing_rate_synthetic": float(np.mean(sk == MISSING_LEVEL)),
        }
    return out


# --------------------------------------------------------------------------- correlations


def _spearman(frame: pd.DataFrame, columns: list[str], datetime: list[str]) -> np.ndarray:
    data = pd.DataFrame({c: _as_float(frame[c], c in datetime) for c in columns})
    return data.corr(method="spearman", min_periods=3).to_numpy(dtype="float64")


def correlation_difference(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    numeric: Sequence[str],
    datetime: Sequence[str] | None = None,
) -> dict:
    """Spearman rank correlations of the numeric columns, real vs synthetic.

    Spearman rather than Pearson: real tables have heavy tails and point masses (most of
    ``capital-gain`` is 0), where Pearson is dominated by a few extreme rows and changes
    under monotone transforms that leave the dependence untouched; rank correlation
    measures the monotone dependence a generator should reproduce and is invariant to
    the per-column transforms generators apply. Each pair uses the rows where both
    values are present (pairwise-complete, at least 3); undefined entries (a constant
    column) are ``None`` and left out of ``mean_abs_diff``, which averages the upper
    triangle (each pair once, no diagonal).
    """
    datetime = list(datetime or [])
    _validate({"real": real, "synthetic": synthetic}, numeric, datetime)
    columns = [*numeric, *datetime]
    if not columns:
        return {"columns": [], "real": [], "synthetic": [], "abs_diff": [], "mean_abs_diff": None}
    r = _spearman(real, columns, datetime)
    s = _spearman(synthetic, columns, datetime)
    diff = np.abs(r - s)
    return {
        "method": "spearman",
        "columns": [str(c) for c in columns],
        "real": _matrix(r),
        "synthetic": _matrix(s),
        "abs_diff": _matrix(diff),
        "mean_abs_diff": _upper_mean(diff),
    }


# --------------------------------------------------------------------------- associations


def _compact(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Renumber non-negative codes to 0..L-1 over the levels present (O(n), unlike np.unique)."""
    present = np.bincount(codes) > 0
    remap = np.cumsum(present) - 1
    return remap[codes], int(present.sum())


def _cramers_v_codes(x: np.ndarray, y: np.ndarray) -> float | None:
    """Bias-corrected Cramér's V of two integer-coded arrays (Bergsma 2013)."""
    n = len(x)
    if n < 2:
        return None
    xi, r = _compact(x)
    yi, k = _compact(y)
    if r < 2 or k < 2:
        return None  # a constant column is associated with nothing; V is 0/0
    table = np.bincount(xi * k + yi, minlength=r * k).reshape(r, k).astype("float64")
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    phi2 = chi2 / n
    phi2_corr = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_corr = r - (r - 1) ** 2 / (n - 1)
    k_corr = k - (k - 1) ** 2 / (n - 1)
    denom = min(k_corr - 1, r_corr - 1)
    if denom <= 0:
        return None
    return float(min(1.0, math.sqrt(phi2_corr / denom)))


def cramers_v(x: pd.Series, y: pd.Series) -> float | None:
    """Bias-corrected Cramér's V between two categorical series (missing is a level).

    The bias correction matters because plain V is inflated for many-level columns on
    small samples, which would make a synthetic table of a different size look less
    faithful than it is. 0 = independent, 1 = one determines the other; ``None`` when a
    column has a single level.
    """
    if len(x) != len(y):
        raise MetricInputError("cramers_v needs two series of the same length")
    return _cramers_v_codes(pd.factorize(_category_keys(x))[0], pd.factorize(_category_keys(y))[0])


def _association_matrix(codes: dict[str, np.ndarray], columns: list[str], skip: set[str]) -> np.ndarray:
    m = np.full((len(columns), len(columns)), np.nan)
    for i, a in enumerate(columns):
        if a in skip:
            continue
        for j in range(i, len(columns)):
            b = columns[j]
            if b in skip:
                continue
            v = _cramers_v_codes(codes[a], codes[b])
            m[i, j] = m[j, i] = np.nan if v is None else v
    return m


def association_difference(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    categorical: Sequence[str],
    max_levels: int = DEFAULT_MAX_LEVELS,
) -> dict:
    """Bias-corrected Cramér's V for each pair of categorical columns, real vs synthetic.

    Categorical dependence (``relationship`` vs ``marital-status``) is what independent
    per-column generators lose and marginals cannot show. Columns with more than
    ``max_levels`` levels (in either table, missing counting as a level) are skipped, with
    the reason logged and listed under ``skipped``: their contingency tables are mostly
    empty cells, V is noisy there, and the table size grows with the product of levels.
    Same shape as ``correlation_difference``; entries involving a skipped or
    single-level column are ``None``.
    """
    _validate({"real": real, "synthetic": synthetic}, categorical)
    columns = list(categorical)
    real_codes = {c: pd.factorize(_category_keys(real[c]))[0] for c in columns}
    syn_codes = {c: pd.factorize(_category_keys(synthetic[c]))[0] for c in columns}
    skipped = []
    for c in columns:
        levels = max(int(real_codes[c].max()) + 1, int(syn_codes[c].max()) + 1)
        if levels > max_levels:
            reason = f"{levels} levels > max_levels={max_levels}"
            log.info("association: skipping column '%s' (%s)", c, reason)
            skipped.append({"column": str(c), "levels": levels, "reason": reason})
    skip = {s["column"] for s in skipped}
    r = _association_matrix(real_codes, columns, skip)
    s = _association_matrix(syn_codes, columns, skip)
    diff = np.abs(r - s)
    return {
        "method": "cramers_v_bias_corrected",
        "columns": [str(c) for c in columns],
        "real": _matrix(r),
        "synthetic": _matrix(s),
        "abs_diff": _matrix(diff),
        "mean_abs_diff": _upper_mean(diff),
        "max_levels": int(max_levels),
        "skipped": skipped,
    }


# --------------------------------------------------------------------------- conditionals


def conditional_difference(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    target: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    datetime: Sequence[str] | None = None,
) -> dict[str, dict]:
    """Distance between each column's distribution given each level of a categorical target.

    Marginals can match while the relation to the target (the thing a downstream model
    learns) is lost; comparing ``P(column | target = level)`` per level shows that. Uses
    KS / TVD exactly as ``marginals``. Levels are those of the real target (missing is a
    level); a level the synthetic table never produces gets distance 1.0 (the largest
    possible: that conditional distribution is absent). ``weighted_mean`` weights levels by
    their share of real rows, so rare levels do not dominate.

    Returns ``{column: {"statistic": "ks"|"tvd", "by_level": {level: distance|None},
    "weighted_mean": float|None}}`` for every column except the target.
    """
    datetime = list(datetime or [])
    _validate({"real": real, "synthetic": synthetic}, numeric, categorical, datetime)
    if target not in categorical:
        raise MetricInputError(
            f"target '{target}' must be one of the categorical columns to condition on its levels"
        )
    real_target = _category_keys(real[target])
    real_groups = pd.Series(real_target).groupby(real_target).indices
    syn_target = _category_keys(synthetic[target])
    syn_groups = pd.Series(syn_target).groupby(syn_target).indices
    n_real = len(real)
    weights = {level: len(idx) / n_real for level, idx in real_groups.items()}
    absent = [level for level in real_groups if level not in syn_groups]
    if absent:
        log.info("conditional: target level(s) %s absent from synthetic data; distance 1.0", absent)

    out: dict[str, dict] = {}
    for col in [*numeric, *datetime, *categorical]:
        if col == target:
            continue
        if col in categorical:
            statistic, distance = "tvd", _tvd
            rv, sv = _category_keys(real[col]), _category_keys(synthetic[col])
        else:
            statistic, distance = "ks", _ks
            rv, rm = _values_and_mask(real[col], col in datetime)
            sv, sm = _values_and_mask(synthetic[col], col in datetime)
        by_level: dict[str, float | None] = {}
        for level, ridx in real_groups.items():
            sidx = syn_groups.get(level)
            if sidx is None:
                by_level[str(level)] = 1.0
            elif statistic == "tvd":
                by_level[str(level)] = distance(rv[ridx], sv[sidx])
            else:
                by_level[str(level)] = distance(rv[ridx][~rm[ridx]], sv[sidx][~sm[sidx]])
        defined = {lvl: d for lvl, d in by_level.items() if d is not None}
        total = sum(weights[lvl] for lvl in defined)
        weighted = float(sum(weights[lvl] * d for lvl, d in defined.items()) / total) if total > 0 else None
        out[col] = {"statistic": statistic, "by_level": by_level, "weighted_mean": weighted}
    return out


# --------------------------------------------------------------------------- report


def fidelity_report(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    target: str | None = None,
    datetime: Sequence[str] | None = None,
    max_levels: int = DEFAULT_MAX_LEVELS,
) -> dict:
    """All fidelity metrics plus a few summary numbers to track across runs.

    The summary averages each family separately (KS and TVD are not on comparable
    scales in practice, so they are not blended into one score). ``mean_ks`` covers
    numeric and date/time columns. ``max_missing_rate_diff`` surfaces missingness a
    generator got wrong, which the KS/TVD of non-missing values cannot show for numeric
    columns.
    """
    datetime = list(datetime or [])
    _validate({"real": real, "synthetic": synthetic}, numeric, categorical, datetime)
    marg = marginals(real, synthetic, numeric, categorical, datetime)
    corr = correlation_difference(real, synthetic, numeric, datetime)
    assoc = association_difference(real, synthetic, categorical, max_levels=max_levels)
    cond = (
        conditional_difference(real, synthetic, target, numeric, categorical, datetime)
        if target is not None
        else None
    )
    summary = {
        "n_rows_real": int(len(real)),
        "n_rows_synthetic": int(len(synthetic)),
        "mean_ks": _mean(m["value"] for m in marg.values() if m["statistic"] == "ks"),
        "mean_tvd": _mean(m["value"] for m in marg.values() if m["statistic"] == "tvd"),
        "max_missing_rate_diff": (
            float(max(abs(m["missing_rate_real"] - m["missing_rate_synthetic"]) for m in marg.values()))
            if marg
            else None
        ),
        "mean_abs_corr_diff": corr["mean_abs_diff"],
        "mean_abs_cramers_v_diff": assoc["mean_abs_diff"],
        "mean_conditional_distance": (
            _mean(c["weighted_mean"] for c in cond.values()) if cond is not None else None
        ),
    }
    return {
        "summary": summary,
        "marginals": marg,
        "correlation": corr,
        "association": assoc,
        "conditional": cond,
        "target": target,
    }


# --------------------------------------------------------------------------- report figures
# What the HTML report draws, computed once here so the report only renders (it never re-reads
# the real table). Everything is O(rows) per column or per column pair, on bounded samples, and
# rounded so metrics.json stays small.

POINT_MASS_SHARE = 0.05   # a single value holding this share of the real rows gets a bar of its own
MAX_POINT_MASSES = 6
MAX_DISCRETE_VALUES = 30  # an integer column with at most this many distinct values: one bar per value
MIN_BINS, MAX_BINS = 10, 40
TOP_LEVELS = 12           # a categorical chart shows this many levels, then "other"
OTHER_CHART_LEVEL = "(other)"
MISSING_CHART_LEVEL = "(missing)"
MAX_ASSOCIATION_COLUMNS = 60
MAX_ASSOCIATION_ROWS = 10000


def _r(value: float | None, digits: int = 5) -> float | None:
    """Rounded for storage (None stays None): charts need 4-5 digits, not 17."""
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def _shares(counts: np.ndarray, n: int) -> list[float]:
    return [_r(c / n) if n else 0.0 for c in counts]


def _bin_edges(values: np.ndarray, integer: bool) -> np.ndarray:
    """Shared bin edges from the real values: Freedman–Diaconis width over the central 99 % (so one
    outlier does not squash every bar into one), 10–40 bins; integer columns get whole-number widths
    so bins never alias the integer grid (alternate empty and double bins)."""
    lo, hi = np.quantile(values, [0.005, 0.995])
    if hi <= lo:
        lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.array([lo - 0.5, lo + 0.5])
    q25, q75 = np.quantile(values, [0.25, 0.75])
    width = 2 * (q75 - q25) * len(values) ** (-1 / 3)
    bins = int(np.ceil((hi - lo) / width)) if width > 0 else int(np.ceil(np.sqrt(len(values))))
    bins = int(np.clip(bins, MIN_BINS, MAX_BINS))
    if integer:
        width = max(1.0, float(np.ceil((hi - lo + 1) / bins)))
        lo = np.floor(lo) - 0.5
        bins = max(1, int(np.ceil((np.floor(hi) + 0.5 - lo) / width)))
        return lo + width * np.arange(bins + 1)
    return np.linspace(lo, hi, bins + 1)


def numeric_chart(real: np.ndarray, synthetic: np.ndarray, integer: bool = False) -> dict:
    """Real vs synthetic shares of one numeric column on shared bins (float arrays, NaN = missing).

    Every share is of all rows of its side, so point masses, bins and missing add up to 1:
    a zero-inflated column (``capital-gain``: 92 % zeros) shows its zero as a bar of its own
    (``points``) and its positive values on bins of their own range instead of one towering bin;
    a heaped value (``hours-per-week`` = 40) likewise. An integer column with few distinct
    values gets one bar per value. Values beyond the central 99 % fall in the end bins;
    ``synthetic_outside_real_range`` is the synthetic share beyond the real minimum/maximum.
    """
    r_ok, s_ok = ~np.isnan(real), ~np.isnan(synthetic)
    rv, sv = real[r_ok], synthetic[s_ok]
    n_r, n_s = len(real), len(synthetic)
    out: dict = {"missing": {"real": _r(1 - r_ok.mean()) if n_r else 0.0, "synthetic": _r(1 - s_ok.mean()) if n_s else 0.0},
                 "points": [], "edges": [], "real": [], "synthetic": []}
    if rv.size == 0:
        return out
    values, counts = np.unique(rv, return_counts=True)  # O(n log n), once per column
    if integer and len(values) <= MAX_DISCRETE_VALUES:
        masses = values
    else:
        heavy = np.flatnonzero(counts >= POINT_MASS_SHARE * n_r)
        masses = values[heavy[np.argsort(-counts[heavy], kind="stable")][:MAX_POINT_MASSES]]
        masses = np.sort(masses)
    s_counts = {v: c for v, c in zip(*np.unique(sv, return_counts=True))} if sv.size else {}
    r_counts = dict(zip(values, counts))
    out["points"] = [{"value": _r(v, 10), "real": _r(r_counts.get(v, 0) / n_r), "synthetic": _r(s_counts.get(v, 0) / n_s)
                      if n_s else 0.0} for v in masses]
    rest_r, rest_s = rv[~np.isin(rv, masses)], sv[~np.isin(sv, masses)]
    if rest_r.size:
        edges = _bin_edges(rest_r, integer)
        inner = edges[1:-1]
        out["edges"] = [_r(e, 10) for e in edges]
        out["real"] = _shares(np.bincount(np.searchsorted(inner, rest_r, side="right"), minlength=len(edges) - 1), n_r)
        out["synthetic"] = _shares(np.bincount(np.searchsorted(inner, rest_s, side="right"), minlength=len(edges) - 1), n_s)
    out["synthetic_outside_real_range"] = _r(float(np.mean((sv < rv.min()) | (sv > rv.max()))) * s_ok.mean()) \
        if sv.size else 0.0
    return out


def categorical_chart(real_keys: np.ndarray, synthetic_keys: np.ndarray, top: int = TOP_LEVELS) -> dict:
    """Real vs synthetic shares of a categorical column's ``top`` most common real levels, then
    "(other)" for every other level (synthetic inventions included) and "(missing)"."""
    rs = pd.Series(real_keys).value_counts(normalize=True, sort=True)
    ss = pd.Series(synthetic_keys).value_counts(normalize=True)
    present = [lvl for lvl in rs.index if lvl not in (MISSING_LEVEL, "__other__")]
    shown = present[:top]
    levels, real_sh, syn_sh = [], [], []
    for lvl in shown:
        levels.append(str(lvl))
        real_sh.append(_r(float(rs.get(lvl, 0.0))))
        syn_sh.append(_r(float(ss.get(lvl, 0.0))))
    miss_r, miss_s = float(rs.get(MISSING_LEVEL, 0.0)), float(ss.get(MISSING_LEVEL, 0.0))
    other_r = 1.0 - sum(float(rs.get(l, 0.0)) for l in shown) - miss_r
    other_s = 1.0 - sum(float(ss.get(l, 0.0)) for l in shown) - miss_s
    for name, a, b in ((OTHER_CHART_LEVEL, other_r, other_s), (MISSING_CHART_LEVEL, miss_r, miss_s)):
        if a > 1e-9 or b > 1e-9:
            levels.append(name)
            real_sh.append(_r(max(0.0, a)))
            syn_sh.append(_r(max(0.0, b)))
    return {"levels": levels, "real": real_sh, "synthetic": syn_sh, "n_levels_real": int(len(present))}


def column_charts(real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict[str, str]) -> dict[str, dict]:
    """Chart data of every column in ``kinds`` ({column: numeric | integer | datetime | categorical |
    boolean}), from model values (numbers as float64, levels as strings; see ``numeric_chart``)."""
    out = {}
    for col, kind in kinds.items():
        if kind in ("numeric", "integer", "datetime"):
            chart = numeric_chart(_as_float(real[col]), _as_float(synthetic[col]), integer=kind != "numeric")
        else:
            chart = categorical_chart(_category_keys(real[col]), _category_keys(synthetic[col]))
        out[col] = {"kind": kind, **chart}
    return out


def _eta(values: np.ndarray, codes: np.ndarray) -> float | None:
    """Correlation ratio η of a numeric array on a categorical one (rows with a number): the share of
    the numeric variance the categories explain, square-rooted to sit on the scale of |ρ| and V."""
    ok = ~np.isnan(values)
    x, c = values[ok], codes[ok]
    if x.size < 3:
        return None
    c, k = _compact(c)
    if k < 2:
        return None
    scale = float(np.abs(x).max())
    if scale > 1e150:  # η is scale-free; values near ±1e300 would overflow when squared
        x = x / scale
    total = float(((x - x.mean()) ** 2).sum())
    if total <= 0:
        return None
    sums, counts = np.bincount(c, weights=x, minlength=k), np.bincount(c, minlength=k)
    between = float((sums ** 2 / np.maximum(counts, 1)).sum() - x.sum() ** 2 / x.size)
    return float(math.sqrt(min(1.0, max(0.0, between / total))))


def association_matrix(frame: pd.DataFrame, columns: list[str], numeric: set[str]) -> np.ndarray:
    """One association for every pair of columns, whatever their types, each in [0, 1] except
    Spearman's ρ in [-1, 1]: numeric–numeric Spearman (pairwise-complete), categorical–categorical
    bias-corrected Cramér's V (missing is a level), numeric–categorical correlation ratio η."""
    p = len(columns)
    m = np.full((p, p), np.nan)
    nums = [c for c in columns if c in numeric]
    if nums:
        ranks = pd.DataFrame({c: _as_float(frame[c]) for c in nums}).rank()
        rho = ranks.corr(method="pearson", min_periods=3).to_numpy(dtype="float64")
        pos = [columns.index(c) for c in nums]
        m[np.ix_(pos, pos)] = rho
    values = {c: _as_float(frame[c]) for c in nums}
    codes = {c: pd.factorize(_category_keys(frame[c]))[0] for c in columns if c not in numeric}
    for i, a in enumerate(columns):
        for j in range(i + 1, p):
            b = columns[j]
            if a in numeric and b in numeric:
                continue
            if a in numeric or b in numeric:
                num, cat = (a, b) if a in numeric else (b, a)
                v = _eta(values[num], codes[cat])
            else:
                v = _cramers_v_codes(codes[a], codes[b])
            m[i, j] = m[j, i] = np.nan if v is None else v
        if a not in numeric:  # a column is fully associated with itself, unless it is constant here
            m[i, i] = 1.0 if codes[a].size and _compact(codes[a])[1] > 1 else np.nan
    return m


def _rounded(matrix: np.ndarray) -> list[list[float | None]]:
    return [[_r(v, 4) for v in row] for row in matrix]


def associations(real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict[str, str],
                 reference: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None, seed: int = 0,
                 max_columns: int = MAX_ASSOCIATION_COLUMNS, max_rows: int = MAX_ASSOCIATION_ROWS) -> dict:
    """All-type association matrices (``association_matrix``) of the real and the synthetic table,
    on at most ``max_rows`` seeded rows each and the first ``max_columns`` columns (p² pairs of
    O(rows) each: bounded cost), with the mean absolute difference over the pairs.

    ``reference`` = (training rows, holdout, a synthetic sample of the holdout's size): the mean
    difference between the first two is the real-vs-real reference, and between the first and the
    third the synthetic figure measured at the same sample sizes (``matched_mean_abs_diff``)."""
    columns = list(kinds)[:max_columns]
    numeric = {c for c, k in kinds.items() if k in ("numeric", "integer", "datetime")}
    cap = lambda df: df if len(df) <= max_rows else df.sample(max_rows, random_state=seed)  # noqa: E731
    r = association_matrix(cap(real), columns, numeric)
    s = association_matrix(cap(synthetic), columns, numeric)
    out = {"columns": [str(c) for c in columns], "kinds": [kinds[c] for c in columns],
           "methods": {"numeric-numeric": "spearman", "categorical-categorical": "cramers_v_bias_corrected",
                       "numeric-categorical": "correlation_ratio"},
           "real": _rounded(r), "synthetic": _rounded(s), "mean_abs_diff": _r(_upper_mean(np.abs(r - s)), 4),
           "reference_mean_abs_diff": None, "matched_mean_abs_diff": None, "n_rows": min(len(real), max_rows),
           "truncated_columns": max(0, len(kinds) - len(columns))}
    if reference is not None:
        a, b, m = (association_matrix(cap(df), columns, numeric) for df in reference)
        out["reference_mean_abs_diff"] = _r(_upper_mean(np.abs(a - b)), 4)
        out["matched_mean_abs_diff"] = _r(_upper_mean(np.abs(a - m)), 4)
    return out
