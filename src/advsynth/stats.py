"""Statistics of a classifier two-sample test on held-out scores.

The detector is trained on one part of the rows and scored on the rest; conditional on
the trained detector, the held-out AUC is a Mann–Whitney statistic. Under H0 (real and
synthetic rows come from the same distribution) the held-out scores of both classes are
exchangeable, which gives an exact-in-the-limit p-value without retraining; DeLong's
variance gives the confidence interval. Both are O(n log n) (sorting for ranks).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def roc_auc_delong(y_true: np.ndarray, scores: np.ndarray, level: float = 0.95) -> tuple[float, tuple[float, float]]:
    """ROC-AUC with DeLong's confidence interval (Sun & Xu's O(n log n) midrank algorithm)."""
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
    pos, neg = scores[y_true], scores[~y_true]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        raise ValueError("need at least two scores of each class for an AUC interval")
    rank_pos = stats.rankdata(pos)
    rank_neg = stats.rankdata(neg)
    rank_all = stats.rankdata(np.concatenate([pos, neg]))
    auc = (rank_all[:m].sum() - m * (m + 1) / 2) / (m * n)
    v_pos = (rank_all[:m] - rank_pos) / n
    v_neg = 1.0 - (rank_all[m:] - rank_neg) / m
    variance = v_pos.var(ddof=1) / m + v_neg.var(ddof=1) / n
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(max(variance, 0.0))
    return float(auc), (float(max(0.0, auc - half)), float(min(1.0, auc + half)))


def standard_error_of(ci: tuple[float, float], level: float = 0.95) -> float:
    """The standard error behind a normal interval at ``level`` (``roc_auc_delong``'s): its
    half-width over the normal quantile (an interval clipped at 0 or 1 gives a lower bound)."""
    lo, hi = ci
    return (float(hi) - float(lo)) / (2 * stats.norm.ppf(0.5 + level / 2))


def auc_p_value(y_true: np.ndarray, scores: np.ndarray) -> float:
    """One-sided p-value of H0 "the detector cannot tell the classes apart" (Mann–Whitney U)."""
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
    result = stats.mannwhitneyu(scores[y_true], scores[~y_true], alternative="greater", method="asymptotic")
    return float(result.pvalue)


def mean_interval(values, level: float = 0.95) -> tuple[float, float | None]:
    """Mean and the half-width of its Student-t interval (None for fewer than 2 values)."""
    arr = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], float)
    if arr.size == 0:
        return float("nan"), None
    if arr.size < 2:
        return float(arr.mean()), None
    half = stats.t.ppf(0.5 + level / 2, arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size)
    return float(arr.mean()), float(half)
