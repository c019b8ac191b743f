"""The second adversary: are the synthetic rows copies of the generator's training rows?

The detector asks whether fakes can be told from real rows; a generator that copies its
training rows passes that test perfectly. This module asks the other question, with the
generator's training rows (*members*) and real rows it never saw (the holdout,
*non-members*) as the two classes. Every statistic has a reference value that fresh real
rows reach exactly by exchangeability (a table of real rows nobody trained on is, to the
statistics, a holdout), so a figure is read against what "no memorisation" looks like for
this table rather than against a universal threshold:

* **Copies.** ``exact`` : synthetic rows equal to a training row that is unique in the
  training table (a copy of a row shared by many is no disclosure), against the holdout's own
  rate of such matches; ``near`` : rows equal to a unique training row in all columns but one
  (one cell re-drawn or jittered does not hide a copy). Exact matching uses 64-bit hashes of
  the canonical values (O(rows)). ``exact_match_rate``, a match with any training row, is kept
  beside them as the crude figure.
* **DCR share.** For each synthetic row, is its closest real row a training row or a holdout
  row? Every training row is searched (no sample that would miss a copy's source), so the
  share expected of a generator that does not memorise is n_train / (n_train + n_holdout), not
  50 %; ``share_equal_size`` restates the observed odds for reference sets of equal size
  (50 % expected, mostlyai-qa's DCR share).
* **Membership attacks.** Equal-size member and non-member sets are scored by what an
  attacker holding the synthetic table can compute: the distance to the closest synthetic row
  (``distance``), and a density ratio in the spirit of DOMIAS (``density_ratio``: synthetic
  density over real density at the row, both as k-nearest-neighbour densities; the real
  reference rows are holdout rows outside the non-member set). Each attack's ROC-AUC has its
  DeLong interval and a one-sided p-value exactly as the detector's; 0.5 means nothing leaks.
* **Identifier values.** A categorical column whose values each cover a handful of rows (a
  case number, an account) identifies rows: synthetic rows carrying a real value of it are
  counted against the holdout's own rate.

Distances are Euclidean on ``DistanceEncoder``'s encoding: a numeric value becomes its rank
among the training values (0..1), so every numeric column weighs the same whatever its
unit or outliers, and a categorical mismatch costs exactly 1.

The verdict (``flag_rule``): a statistic fires when it departs from its reference both
significantly (p below ``ALPHA``, after nothing more than the reference's own noise) and by
more than an effect size that fresh real rows never reach and a generator that merely
learned from its rows does not either (``THRESHOLDS``). ``flagged`` is true when any fires.
It is evidence of memorisation of the kinds tested here, not a proof of privacy: no
differential-privacy or attribute-inference claim is made.

Cost is bounded whatever the table's size: at most ``MAX_REFERENCE_ROWS`` training rows,
``MAX_HOLDOUT_ROWS`` holdout rows and ``MAX_SYNTHETIC_ROWS`` synthetic rows are searched,
``DCR_QUERIES`` synthetic rows are queried for the DCR share and ``ATTACK_ROWS`` rows of each
class are attacked (all uniform, seeded samples). Nearest neighbours are brute force in
float32 blocks (a matrix product per block), O(queries × reference rows), never O(rows²).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from ..columns.identifiers import is_group_key
from ..experiment.seeds import rng_of
from ..stats import auc_p_value, roc_auc_delong
from .fidelity import MISSING_LEVEL, MetricInputError, _as_float, _category_keys, _validate

log = logging.getLogger(__name__)

MAX_REFERENCE_ROWS = 50_000  # training rows searched (a copy of a row beyond them is missed: documented)
MAX_HOLDOUT_ROWS = 20_000
MAX_SYNTHETIC_ROWS = 50_000
DCR_QUERIES = 3_000         # synthetic rows whose closest real row is looked up
ATTACK_ROWS = 2_500         # members and non-members attacked (each)
ALPHA = 1e-3                # a test fires only below this p-value ...
# ... and beyond these effect sizes (what each is, in ``flag_rule``)
THRESHOLDS = {
    "exact_copies": 0.01,      # excess share of synthetic rows that copy a unique training row
    "near_copies": 0.05,       # the same for copies in all columns but one
    "dcr_share": 0.60,         # share of closest-real-row hits on training rows, for equal-size sets
    "membership_distance": 0.55,  # attack ROC-AUC
    "membership_density": 0.55,
    "identifier_values": 0.10,  # excess share of synthetic rows carrying a real identifier value
}
_BLOCK = 1024                     # query rows per distance block


# --------------------------------------------------------------------------- canonical values


def _canonical(frames: Sequence[pd.DataFrame], column: str, numeric: bool, is_datetime: bool) -> list[np.ndarray]:
    """One column of several frames as comparable arrays: float64 (one NaN, no negative zero) for
    numbers and dates, joint integer codes for anything else (missing is a level: -1)."""
    if numeric:
        return [_as_float(f[column], is_datetime) + 0.0 for f in frames]
    keys = [_category_keys(f[column]) for f in frames]
    codes, _ = pd.factorize(np.concatenate(keys))
    bounds = np.cumsum([0] + [len(k) for k in keys])
    return [codes[bounds[i]:bounds[i + 1]].astype(np.int64) for i in range(len(frames))]


def _column_hashes(values: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(values, categorize=False).astype(np.uint64)


def exact_match_rate(train: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[str] | None = None) -> float:
    """Share of synthetic rows that are an exact copy of some training row.

    Rows are compared through a 64-bit hash of their values (O(rows); a false match needs a hash
    collision, probability ~rows²/2⁶⁴). Missing equals missing, ``39`` equals ``39.0``.
    ``columns`` defaults to all training columns; pass the modelled columns to ignore
    identifiers the generator regenerates.
    """
    columns = list(train.columns if columns is None else columns)
    _validate({"train": train, "synthetic": synthetic}, columns)
    if not columns:
        raise MetricInputError("exact_match_rate needs at least one column")
    hashes = _RowHashes.of([train, synthetic], columns, numeric=_numeric_columns([train, synthetic], columns))
    return float(np.isin(hashes.full[1], hashes.full[0]).mean())


def _numeric_columns(frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> set:
    """Columns numeric in every frame (compared as numbers); the others compare by their text."""
    return {c for c in columns if all(pd.api.types.is_numeric_dtype(f[c]) or pd.api.types.is_datetime64_any_dtype(f[c])
                                      for f in frames)}


@dataclass
class _RowHashes:
    """Per frame, a hash of every row and of every row with one column left out.

    A row's hash is a sum of its columns' hashes times fixed odd multipliers (mod 2⁶⁴), so the
    hash without column c is the total minus c's term: all ``columns + 1`` projections in
    O(rows × columns).
    """

    full: list[np.ndarray]
    without: list[list[np.ndarray]]  # [frame][column]

    @classmethod
    def of(cls, frames: Sequence[pd.DataFrame], columns: Sequence[str], numeric: set, datetime: set = frozenset(),
           leave_one_out: bool = False) -> "_RowHashes":
        multipliers = np.random.default_rng(20240601).integers(1, 2**63, size=len(columns), dtype=np.uint64) * 2 + 1
        terms = [[] for _ in frames]
        for c, mult in zip(columns, multipliers):
            for i, values in enumerate(_canonical(frames, c, c in numeric or c in datetime, c in datetime)):
                terms[i].append(_column_hashes(values) * mult)
        with np.errstate(over="ignore"):
            full = [np.sum(np.vstack(t), axis=0, dtype=np.uint64) for t in terms]
            without = [[f - t for t in ts] for f, ts in zip(full, terms)] if leave_one_out else []
        return cls(full, without)


def _equal_rows(queries: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (query position, reference position) of equal hashes."""
    order = np.argsort(reference, kind="stable")
    sorted_ref = reference[order]
    lo, hi = np.searchsorted(sorted_ref, queries, "left"), np.searchsorted(sorted_ref, queries, "right")
    counts = hi - lo
    rows = np.repeat(np.arange(len(queries)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, order[np.repeat(lo, counts) + offsets]


def holdout_overlap(real: pd.DataFrame, holdout: pd.DataFrame, columns: Sequence[str], numeric: set,
                    datetime: set = frozenset()) -> dict:
    """How many holdout rows equal a row of the real table, against what duplicates alone explain.

    ``expected`` is the share of real rows equal to another real row: a fresh row of the same
    population matches the real table about that often (discrete tables hold many duplicates).
    ``overlaps`` is True when the holdout's share exceeds it by more than 1 % of the rows and
    five standard errors: the holdout then holds rows of the real table itself, and every
    privacy figure would compare the generator's training rows with themselves.
    """
    hashes = _RowHashes.of([real, holdout], list(columns), numeric, datetime)
    values, counts = np.unique(hashes.full[0], return_counts=True)
    expected = float((counts[counts > 1]).sum() / max(len(hashes.full[0]), 1))
    shared = np.isin(hashes.full[1], values)
    rate = float(shared.mean()) if len(shared) else 0.0
    se = np.sqrt(max(expected * (1 - expected), 1.0 / max(len(shared), 1)) / max(len(shared), 1))
    return {"shared": int(shared.sum()), "n_holdout": int(len(shared)), "rate": rate, "expected": expected,
            "overlaps": bool(rate - expected > max(0.01, 5 * se))}


# --------------------------------------------------------------------------- distances


class DistanceEncoder:
    """Rows → float32 vectors whose Euclidean distance is a mixed-type distance.

    * numeric and datetime: the value's mid-rank among the training values, in 0..1 (a unit
      that ignores the column's scale and outliers; 0.01 apart means "1 % of the training rows
      lie between them"); missing sits at 0.5 with an indicator 0.866, so missing vs present
      costs 0.75-1 and missing vs missing 0;
    * categorical: one-hot scaled by 1/√2, so two different levels are exactly 1 apart; missing
      is a level; the levels are those of every table fitted on (a level of a table not fitted
      on, ``transform`` maps to one shared extra slot).

    Dense when narrow, sparse CSR beyond ``DENSE_FEATURES`` (many-level columns).
    """

    DENSE_FEATURES = 512

    def __init__(self, numeric: Sequence[str], categorical: Sequence[str], datetime: Sequence[str] = ()):
        self.numeric, self.categorical, self.datetime = list(numeric), list(categorical), list(datetime)

    def fit(self, train: pd.DataFrame, frames: Sequence[pd.DataFrame] = ()) -> "DistanceEncoder":
        self.sorted_, self.indicator_, self.levels_ = {}, {}, {}
        for col in [*self.numeric, *self.datetime]:
            values = _as_float(train[col], col in self.datetime)
            self.sorted_[col] = np.sort(values[~np.isnan(values)])
            # the missing indicator: where any table has a missing value (a column of the ones to be
            # encoded, ``frames``, the training rows' included)
            self.indicator_[col] = bool(np.isnan(values).any()) or any(f[col].isna().any() for f in frames)
        for col in self.categorical:
            # every table's levels: a level only the holdout and the synthetic rows hold must not
            # become one shared "unseen" level that pulls them together
            levels = pd.unique(np.concatenate([_category_keys(f[col]) for f in (train, *frames)]))
            self.levels_[col] = {level: i for i, level in enumerate(levels)}
        return self

    @property
    def n_features(self) -> int:
        return len(self.sorted_) + sum(self.indicator_.values()) + sum(len(v) + 1 for v in self.levels_.values())

    def _rank(self, col: str, values: np.ndarray) -> np.ndarray:
        ref = self.sorted_[col]
        if not len(ref):
            return np.full(len(values), 0.5)
        lo = np.searchsorted(ref, values, side="left")
        hi = np.searchsorted(ref, values, side="right")
        return (lo + hi) / (2.0 * len(ref))

    def transform(self, frame: pd.DataFrame):
        n = len(frame)
        dense = []
        for col in [*self.numeric, *self.datetime]:
            values = _as_float(frame[col], col in self.datetime)
            missing = np.isnan(values)
            rank = self._rank(col, np.where(missing, 0.0, values))
            dense.append(np.where(missing, 0.5, rank))
            if self.indicator_[col]:
                dense.append(missing * np.sqrt(0.75))
        numeric = np.column_stack(dense).astype(np.float32) if dense else np.zeros((n, 0), np.float32)
        if not self.categorical:
            return numeric
        rows, cols, offset = [], [], 0
        for col in self.categorical:
            levels = self.levels_[col]
            codes = pd.Series(_category_keys(frame[col])).map(levels).fillna(len(levels)).to_numpy(dtype=np.int64)
            rows.append(np.arange(n))
            cols.append(codes + offset)
            offset += len(levels) + 1
        onehot = sparse.csr_matrix((np.full(n * len(self.categorical), 1 / np.sqrt(2), dtype=np.float32),
                                    (np.concatenate(rows), np.concatenate(cols))), shape=(n, offset))
        if numeric.shape[1] + offset <= self.DENSE_FEATURES:
            return np.hstack([numeric, onehot.toarray()])
        return sparse.hstack([sparse.csr_matrix(numeric), onehot], format="csr")


MAX_TIE_CANDIDATES = 256  # rows within float32 noise of a query's nearest distance that are checked exactly


@dataclass
class Nearest:
    """Each query row's nearest reference row: its exact distance, its index (the lowest of tied
    rows), and how many reference rows are at exactly that distance (-1: more than
    ``MAX_TIE_CANDIDATES`` lie within float32 noise of it, not counted). ``tied_rows`` /
    ``tied_refs``: every (query, reference) pair at a query's nearest distance (counted queries only)."""

    distance: np.ndarray
    index: np.ndarray
    ties: np.ndarray
    tied_rows: np.ndarray
    tied_refs: np.ndarray


def nearest(queries, reference) -> Nearest:
    """The nearest reference row of every query row (see ``Nearest``).

    Brute force in blocks of query rows: a float32 matrix product per block gives each row's
    smallest squared distance up to float32 noise; the reference rows within that noise of it
    are then measured exactly in float64, so equal distances are equal (ties are read as ties,
    and a copy is at distance 0, not at 1e-3 of float32 noise). Memory O(block × reference rows).
    """
    ref_sq = _row_norms(reference)
    ref_sq32 = ref_sq.astype(np.float32)
    n = queries.shape[0]
    distance, index, ties = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    tied_rows, tied_refs = [], []
    for start in range(0, n, _BLOCK):
        q = queries[start:start + _BLOCK]
        q_sq = _row_norms(q)
        d2 = q @ reference.T  # becomes |r|² - 2 q·r: |q|² is the same for every reference row of a query
        d2 = d2.toarray() if sparse.issparse(d2) else np.asarray(d2, dtype=np.float32)
        d2 *= -2.0
        d2 += ref_sq32[None, :]
        lowest = d2.argmin(axis=1)
        low = d2[np.arange(len(d2)), lowest]
        noise = 64 * np.finfo(np.float32).eps * (q_sq + ref_sq.max() + 1.0)
        near = d2 <= (low + noise)[:, None].astype(np.float32)
        crowd = near.sum(axis=1)
        # rows with one candidate, or too many to count (their float32 nearest row stands for them)
        single = (crowd == 1) | (crowd > MAX_TIE_CANDIDATES)
        several = np.flatnonzero(~single)
        rows_s, cols_s = np.nonzero(near[several])
        rows = np.concatenate([np.flatnonzero(single), several[rows_s]])
        cols = np.concatenate([lowest[single], cols_s])
        exact = _pair_sq_distances(q, reference, rows, cols)
        best = np.full(q.shape[0], np.inf)
        np.minimum.at(best, rows, exact)
        at_best = exact <= best[rows] * (1 + 1e-12) + 1e-15
        first = np.full(q.shape[0], -1, dtype=np.int64)
        hit = np.flatnonzero(at_best)
        first[rows[hit][::-1]] = cols[hit][::-1]  # the lowest index among the tied rows
        count = np.bincount(rows[at_best], minlength=q.shape[0])
        crowded = crowd > MAX_TIE_CANDIDATES
        count[crowded] = -1
        keep = at_best & ~crowded[rows]
        tied_rows.append(rows[keep] + start)
        tied_refs.append(cols[keep])
        block = slice(start, start + q.shape[0])
        distance[block], index[block], ties[block] = np.sqrt(np.maximum(best, 0.0)), first, count
    return Nearest(distance, index, ties, np.concatenate(tied_rows) if tied_rows else np.zeros(0, np.int64),
                   np.concatenate(tied_refs) if tied_refs else np.zeros(0, np.int64))


def nearest_distances(queries, reference) -> np.ndarray:
    """The distance from each query row to its nearest reference row (``nearest``)."""
    return nearest(queries, reference).distance


def _pair_sq_distances(q, reference, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Squared float64 distances of the pairs (``q[rows[i]]``, ``reference[cols[i]]``)."""
    if sparse.issparse(q) or sparse.issparse(reference):
        diff = (sparse.csr_matrix(q)[rows] - sparse.csr_matrix(reference)[cols]).astype(np.float64)
        return np.asarray(diff.multiply(diff).sum(axis=1)).ravel()
    out = np.empty(len(rows))
    for lo in range(0, len(rows), 1 << 16):  # bounded memory when a block has many tied candidates
        part = slice(lo, lo + (1 << 16))
        diff = np.asarray(q, dtype=np.float64)[rows[part]] - np.asarray(reference, dtype=np.float64)[cols[part]]
        out[part] = np.einsum("ij,ij->i", diff, diff)
    return out


def _row_norms(X) -> np.ndarray:
    if sparse.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel().astype(np.float64)
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


# --------------------------------------------------------------------------- statistics


def _sample(frame: pd.DataFrame, size: int, seed) -> pd.DataFrame:
    if len(frame) <= size:
        return frame
    idx = np.sort(np.random.default_rng(seed).choice(len(frame), size=size, replace=False))
    return frame.iloc[idx]


def label_test(weights: np.ndarray, in_train: np.ndarray) -> dict:
    """How much of ``weights`` (a non-negative amount per real row) falls on training rows, against
    what a shuffle of the real rows' train/holdout labels gives.

    Why this null: without memorisation the synthetic rows carry no information on which real
    rows were training rows, and the training rows are a uniform random subset of the real ones
    (``split_real``), so every way of labelling them is equally likely. The statistic
    ``Σ weights[train]`` then has the moments of a simple random sample of n_train of the N rows;
    the z-test uses its exact finite-population variance, which counts one real row that many
    synthetic rows sit on as one row (a generator whose draws crowd near a few real rows is not
    memorising, and a binomial count over the synthetic rows would call it significant).
    """
    weights = np.asarray(weights, dtype=float)
    n = len(weights)
    n_t = int(np.count_nonzero(in_train))
    total, hits_t = float(weights.sum()), float(weights[in_train].sum())
    expected = n_t / n if n else 0.0
    var = n_t * (n - n_t) / (n * (n - 1)) * float(((weights - weights.mean()) ** 2).sum()) if n > 1 else 0.0
    z = (hits_t - expected * total) / np.sqrt(var) if var > 0 else 0.0
    return {"hits_train": hits_t, "hits_holdout": total - hits_t, "expected": expected,
            "p_value": float(stats.norm.sf(z)) if var > 0 else 1.0}


def _copy_test(matched: np.ndarray, in_train: np.ndarray, n_synthetic: int) -> dict:
    """``matched``: for each synthetic row, the real row it copies (its index in train + holdout), or -1."""
    weights = np.bincount(matched[matched >= 0], minlength=len(in_train)).astype(float)
    test = label_test(weights, in_train)
    n_t = int(np.count_nonzero(in_train))
    n_h = len(in_train) - n_t
    rate = test["hits_train"] / max(n_synthetic, 1)
    # the copies of holdout rows, scaled to the training rows' number: what chance explains
    chance = test["hits_holdout"] * n_t / max(n_h, 1) / max(n_synthetic, 1)
    return {"rate": rate, "chance_rate": chance, "excess": rate - chance, "p_value": test["p_value"],
            "n_synthetic": int(n_synthetic)}


def _unique_positions(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hashes that occur once, sorted, and each one's position in ``hashes``."""
    values, first, counts = np.unique(hashes, return_index=True, return_counts=True)
    return values[counts == 1], first[counts == 1]


def _lookup(keys: np.ndarray, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Each key's position among sorted ``values`` mapped to ``positions`` (-1 when absent)."""
    if not len(values):
        return np.full(len(keys), -1, dtype=np.int64)
    where = np.minimum(np.searchsorted(values, keys), len(values) - 1)
    return np.where(values[where] == keys, positions[where], -1)


def copy_rates(hashes: "_RowHashes", in_train: np.ndarray) -> dict:
    """Exact and near copies (see the module docstring): synthetic rows equal to a row that is unique
    among the real rows (a copy of a row many real rows share discloses nothing), in every column
    (``exact``) or in every column but one (``near``), tested with ``label_test``.

    ``hashes``: of the real rows (the training rows followed by the holdout rows; ``in_train`` marks the
    former) and of the synthetic rows, with their leave-one-out projections. ``rate``: the share of
    synthetic rows copying a training row; ``chance_rate``: the share copying a holdout row, scaled to
    the training rows' number (what a generator that never saw either scores); ``excess``: the
    difference, the share of synthetic rows that are copies beyond chance.
    """
    real, synthetic = hashes.full
    exact = _lookup(synthetic, *_unique_positions(real))
    near = exact.copy()
    for real_j, synthetic_j in zip(*hashes.without) if hashes.without else ():
        free = near < 0
        near[free] = _lookup(synthetic_j[free], *_unique_positions(real_j))
    n_syn = len(synthetic)
    train_hashes, holdout_hashes = real[in_train], real[~in_train]
    return {
        "exact_match_rate": float(np.isin(synthetic, train_hashes).mean()),
        "holdout_exact_match_rate": float(np.isin(holdout_hashes, train_hashes).mean()) if len(holdout_hashes) else 0.0,
        "exact": {**_copy_test(exact, in_train, n_syn), "is": "equal to a real row no other real row equals"},
        "near": {**_copy_test(near, in_train, n_syn),
                 "is": "equal, in every column but at most one, to a real row no other real row equals there"},
    }


def dcr_share(to_real: Nearest, in_train: np.ndarray, duplicates: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Share of synthetic rows whose closest real row is a training row (see the module docstring).

    ``to_real``: the synthetic query rows' nearest rows among the training rows followed by the
    holdout rows (``in_train`` marks the former). A query's unit of weight is split over every real
    row at its nearest distance (duplicated rows are common in discrete tables: counting a tie as a
    training hit, or dropping it, biases the share); ``duplicates`` (for each query, the positions
    of the real rows equal to it, as ``(query, row)`` pairs) splits it for queries with more tied
    rows than ``nearest`` counts. Without memorisation the share is ``expected`` = n_train /
    (n_train + n_holdout); ``label_test`` gives its p-value. ``share_equal_size`` restates the
    observed odds for reference sets of equal size (50 % expected).
    """
    n_real = len(in_train)
    weights = np.zeros(n_real)
    counted = to_real.ties > 0
    np.add.at(weights, to_real.tied_refs, 1.0 / to_real.ties[to_real.tied_rows])
    crowded = ~counted
    if duplicates is not None and crowded.any():
        rows, refs = duplicates
        pick = crowded[rows] & (to_real.distance[rows] == 0)
        size = np.bincount(rows[pick], minlength=len(counted))
        np.add.at(weights, refs[pick], 1.0 / size[rows[pick]])
        counted |= size > 0
    n = int(counted.sum())
    test = label_test(weights, in_train)
    expected = test["expected"]
    share = test["hits_train"] / n if n else expected
    odds = (share / max(1 - share, 1e-12)) / (expected / max(1 - expected, 1e-12))
    return {
        "share": float(share), "expected": float(expected), "share_equal_size": float(odds / (1 + odds)),
        "p_value": test["p_value"], "tie_share": float(np.mean(to_real.ties != 1)) if len(counted) else 0.0,
        "n_queries": int(len(counted)), "n_counted": n, "n_train": int(np.count_nonzero(in_train)),
        "n_holdout": int(n_real - np.count_nonzero(in_train)),
    }


def _median_ratio(synthetic_to_train: Nearest, holdout_to_train: Nearest) -> dict:
    """The median distance to the closest training row of synthetic rows and of holdout rows, and
    their ratio: about 1 for a generator that does not memorise, 0 for copies (None when the
    holdout's median is 0: its rows duplicate training rows)."""
    syn, hold = float(np.median(synthetic_to_train.distance)), float(np.median(holdout_to_train.distance))
    return {"synthetic_median": syn, "holdout_median": hold, "ratio_median": syn / hold if hold > 0 else None}


def _attack(scores_members: np.ndarray, scores_non_members: np.ndarray) -> dict:
    y = np.concatenate([np.ones(len(scores_members)), np.zeros(len(scores_non_members))])
    s = np.concatenate([scores_members, scores_non_members])
    if min(len(scores_members), len(scores_non_members)) < 2:
        return {"roc_auc": None, "roc_auc_ci": None, "p_value": None}
    auc, ci = roc_auc_delong(y, s)
    return {"roc_auc": auc, "roc_auc_ci": list(ci), "p_value": auc_p_value(y, s)}


def membership_attacks(members_x, non_members_x, reference_x, synthetic_x) -> dict:
    """Each attack's ROC-AUC for telling members from non-members (see the module docstring).

    The density ratio uses each set's nearest-neighbour distance (k = 1: the k-NN density estimate
    whose synthetic side sees a copy as a point of infinite density; larger k smooths a copy away:
    on Adult's one-cell copier the attack's AUC was 0.72 with k = 1 and 0.55 with k = 5)."""
    to_syn = [nearest_distances(x, synthetic_x) for x in (members_x, non_members_x)]
    out = {"distance": {**_attack(-to_syn[0], -to_syn[1]),
                        "is": "closer to a synthetic row = more likely a training row"}}
    if reference_x is not None and reference_x.shape[0] >= 1:
        to_ref = [nearest_distances(x, reference_x) for x in (members_x, non_members_x)]
        # log of the nearest-neighbour density ratio up to a constant: the dimension multiplies both logs alike
        score = [np.log(r + 1e-6) - np.log(d + 1e-6) for r, d in zip(to_ref, to_syn)]
        out["density_ratio"] = {**_attack(*score), "n_reference": int(reference_x.shape[0]),
                                "is": "synthetic density over real density at the row (nearest-neighbour "
                                      "estimates; the real reference is holdout rows outside the non-members)"}
    out["n_members"], out["n_non_members"] = int(members_x.shape[0]), int(non_members_x.shape[0])
    return out


def identifier_columns(train: pd.DataFrame, categorical: Sequence[str]) -> list[str]:
    """Categorical columns whose values each cover a handful of rows (case numbers, accounts): the
    rule by which the typing layer regenerates group keys (``columns.identifiers.is_group_key``)."""
    return [col for col in categorical if is_group_key(train[col].dropna())]


def identifier_values(train, holdout, synthetic, columns: Sequence[str]) -> dict:
    """Per identifier column: synthetic rows carrying a real value of it.

    A synthetic row with value v counts as one unit of weight spread over the real rows holding v
    (a case number shared by a training and a holdout row says nothing of which one was trained
    on), tested with ``label_test`` like the copies: ``rate`` is the share of synthetic rows whose
    value comes from training rows, ``chance_rate`` the same for holdout rows scaled to the training
    rows' number, ``excess`` their difference. Also: the share carrying any real value, the most
    any one real value is repeated in the synthetic rows, and the largest group of real rows
    sharing a value (the generator should not exceed it by much).
    """
    n_t = len(train)
    in_train = np.arange(n_t + len(holdout)) < n_t
    out = {}
    for col in columns:
        real_keys = np.concatenate([_category_keys(train[col]), _category_keys(holdout[col])])
        syn_keys = _category_keys(synthetic[col])
        codes, uniques = pd.factorize(np.concatenate([real_keys, syn_keys]))
        real_codes, syn_codes = codes[:len(real_keys)], codes[len(real_keys):]
        group = np.bincount(real_codes, minlength=len(uniques))
        missing = np.flatnonzero(np.asarray(uniques, dtype=object) == MISSING_LEVEL)
        if len(missing):
            group[missing] = 0  # a missing value is nobody's identifier
        carried = np.bincount(syn_codes, minlength=len(uniques)) * (group > 0)
        weights = np.where(group[real_codes] > 0, carried[real_codes] / np.maximum(group[real_codes], 1), 0.0)
        test = label_test(weights, in_train)
        n_syn, n_h = max(len(syn_keys), 1), max(len(holdout), 1)
        rate = test["hits_train"] / n_syn
        chance = test["hits_holdout"] * n_t / n_h / n_syn
        out[col] = {"rate": rate, "chance_rate": chance, "excess": rate - chance, "p_value": test["p_value"],
                    "real_value_share": float(carried.sum() / n_syn),
                    "distinct_real_values": int((group > 0).sum()),
                    "most_repeated_real_value": int(carried.max()) if len(carried) else 0,
                    "largest_real_group": int(group.max()) if len(group) else 0}
    return out


# --------------------------------------------------------------------------- verdict


def flag_rule() -> str:
    """The verdict's rule in words (what metrics.json's ``privacy.rule`` says)."""
    t = THRESHOLDS
    return (f"a test fires when p < {ALPHA:g} and its effect passes its threshold: exact copies of unique training "
            f"rows exceed the holdout's rate by {t['exact_copies']:.0%} of the rows, near copies (all columns but one) "
            f"by {t['near_copies']:.0%}, the DCR share for equal-size sets is {t['dcr_share']:.0%} or more, a "
            f"membership attack's ROC-AUC is {t['membership_distance']:.2f} or more, or identifier values "
            f"exceed the holdout's rate by {t['identifier_values']:.0%}; flagged when any test fires")


def flags_of(report: dict, alpha: float = ALPHA) -> list[dict]:
    """Every test of ``report`` that fires, with its effect, threshold and p-value: the verdict's rule
    (``alpha`` = ``ALPHA``), or with a larger ``alpha`` the stricter one of a generator's own check
    (``advsynth.synthesizers.guard``), which must leave the verdict little to find."""
    found = []

    def check(test: str, effect, p, what: str, **extra) -> None:
        if effect is None or p is None:
            return
        if p < alpha and effect >= THRESHOLDS[test]:
            found.append({"test": test, "effect": float(effect), "threshold": THRESHOLDS[test], "p_value": float(p),
                          "message": what, **extra})

    copies = report["copies"]
    check("exact_copies", copies["exact"]["excess"], copies["exact"]["p_value"],
          f"{copies['exact']['rate']:.2%} of synthetic rows copy a unique training row "
          f"(chance, from copies of holdout rows: {copies['exact']['chance_rate']:.2%})")
    check("near_copies", copies["near"]["excess"], copies["near"]["p_value"],
          f"{copies['near']['rate']:.2%} of synthetic rows equal a unique training row in all columns but one "
          f"(chance: {copies['near']['chance_rate']:.2%})")
    dcr = report.get("dcr")
    if dcr:
        check("dcr_share", dcr["share_equal_size"], dcr["p_value"],
              f"DCR share {dcr['share_equal_size']:.1%} for equal-size sets (50% expected)")
    for name, attack in (report.get("membership") or {}).get("attacks", {}).items():
        test = "membership_distance" if name == "distance" else "membership_density"
        check(test, attack.get("roc_auc"), attack.get("p_value"),
              f"membership attack ({name}) ROC-AUC {attack.get('roc_auc') or 0:.3f} (0.5 expected)")
    for col, info in (report.get("identifiers") or {}).items():
        check("identifier_values", info["excess"], info["p_value"],
              f"{info['real_value_share']:.1%} of synthetic rows carry a real value of identifier column '{col}', "
              f"{info['rate']:.1%} a training row's (chance {info['chance_rate']:.1%}); one value repeated "
              f"{info['most_repeated_real_value']} times, the largest real group has {info['largest_real_group']} rows",
              column=col)
    return found


def verdict_line(report: dict) -> str:
    """The privacy adversary's verdict in one line (the run summary's, the report's headline)."""
    attacks = (report.get("membership") or {}).get("attacks") or {}
    auc = lambda name: f"{attacks[name]['roc_auc']:.3f}" if attacks.get(name, {}).get("roc_auc") is not None else "n/a"  # noqa: E731
    dcr, exact = report.get("dcr") or {}, (report.get("copies") or {}).get("exact") or {}
    figures = (f"membership attacks ROC-AUC {auc('distance')} (distance) / {auc('density_ratio')} (density ratio), "
               f"0.5 = nothing leaks; DCR share {dcr.get('share_equal_size', float('nan')):.1%} (50% expected); "
               f"copies of unique training rows {exact.get('rate', float('nan')):.2%} "
               f"(chance {exact.get('chance_rate', float('nan')):.2%})")
    if report.get("flagged"):
        return "privacy: FLAGGED (the synthetic rows copy training rows): " + "; ".join(
            f["message"] for f in report["flags"]) + f" [{figures}]"
    return f"privacy: not flagged; {figures}"


# --------------------------------------------------------------------------- the report


def privacy_report(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    random_state: int = 0,
    datetime: Sequence[str] | None = None,
    identifiers: Sequence[str] | None = None,
) -> dict:
    """The privacy adversary's verdict and every statistic behind it (``metrics.json``'s ``privacy``).

    ``train``: the rows the generator was fitted on (members); ``holdout``: real rows it never
    saw (non-members); ``synthetic``: its output. ``numeric`` / ``categorical`` / ``datetime``
    name the columns compared (the modelled columns: identifiers a generator regenerates fresh
    say nothing here). ``identifiers``: categorical columns to check for real identifier values
    (default: ``identifier_columns``). Deterministic for a ``random_state``.
    """
    datetime = list(datetime or [])
    numeric, categorical = list(numeric), list(categorical)
    _validate({"train": train, "holdout": holdout, "synthetic": synthetic}, numeric, categorical, datetime)
    columns = [*numeric, *categorical, *datetime]
    if not columns:
        raise MetricInputError("privacy_report needs at least one column")
    seeds = rng_of(random_state, "privacy").integers(0, 2**32, size=6)
    train = _sample(train, MAX_REFERENCE_ROWS, seeds[0])
    holdout = _sample(holdout, MAX_HOLDOUT_ROWS, seeds[1])
    synthetic = _sample(synthetic, MAX_SYNTHETIC_ROWS, seeds[2])

    real = pd.concat([train, holdout], ignore_index=True)  # training rows first: ``in_train`` marks them
    in_train = np.arange(len(real)) < len(train)
    loo = len(columns) > 1
    hashes = _RowHashes.of([real, synthetic], columns, set(numeric), set(datetime), leave_one_out=loo)
    copies = copy_rates(hashes, in_train)
    encoder = DistanceEncoder(numeric, categorical, datetime).fit(train, (holdout, synthetic))
    train_x, synthetic_x, holdout_x = encoder.transform(train), encoder.transform(synthetic), encoder.transform(holdout)
    real_x = sparse.vstack([train_x, holdout_x], format="csr") if sparse.issparse(train_x) else np.vstack([train_x, holdout_x])
    # the holdout split in two: non-members to attack, and the density attack's real reference
    order = np.random.default_rng(seeds[3]).permutation(len(holdout))
    n_attack = min(ATTACK_ROWS, len(holdout) // 2, len(train))
    non_members_x = holdout_x[np.sort(order[:n_attack])]
    reference_x = holdout_x[np.sort(order[n_attack:])]
    members = np.sort(np.random.default_rng(seeds[4]).choice(len(train), n_attack, replace=False))
    queries = np.sort(np.random.default_rng(seeds[5]).choice(len(synthetic), min(DCR_QUERIES, len(synthetic)),
                                                             replace=False))
    holdout_queries = np.sort(order[:min(DCR_QUERIES, len(holdout))])
    synthetic_q = synthetic_x[queries]
    report = {
        "exact_match_rate": copies["exact_match_rate"],
        "holdout_exact_match_rate": copies["holdout_exact_match_rate"],
        "copies": {"exact": copies["exact"], "near": copies["near"]},
        "dcr": {**dcr_share(nearest(synthetic_q, real_x), in_train,
                            _equal_rows(hashes.full[1][queries], hashes.full[0])),
                **_median_ratio(nearest(synthetic_q, train_x), nearest(holdout_x[holdout_queries], train_x)),
                "distance": "euclidean on ranks (numeric) and one-hot / sqrt(2) (categorical): one differing "
                            "level costs 1"},
        "membership": {"attacks": {}, "n_members": 0, "n_non_members": 0},
        "identifiers": None,
        "sizes": {"train": int(len(train)), "holdout": int(len(holdout)), "synthetic": int(len(synthetic)),
                  "n_features": int(encoder.n_features)},
    }
    if n_attack >= 2:
        attacks = membership_attacks(train_x[members], non_members_x, reference_x, synthetic_x)
        report["membership"] = {"attacks": {k: attacks[k] for k in ("distance", "density_ratio") if k in attacks},
                                "n_members": attacks["n_members"], "n_non_members": attacks["n_non_members"]}
    ids = identifier_columns(train, categorical) if identifiers is None else list(identifiers)
    if ids:
        report["identifiers"] = identifier_values(train, holdout, synthetic, ids)
    flags = flags_of(report)
    report.update({"flagged": bool(flags), "flags": flags, "rule": flag_rule(),
                   "is": "members (the generator's training rows) vs non-members (the holdout) given the synthetic "
                         "rows; evidence of memorisation, not a proof of privacy"})
    return report
