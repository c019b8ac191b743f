"""The GMM's layer on top of the typing layer: model values (``Schema.model_frame``) to a
continuous matrix, and back.

A Gaussian mixture can only model real vectors, so each column is mapped to one or more
real features whose inverse gives a valid model value again (the schema's transformers
then type it):

* numeric and integer columns go through a quantile transform to normal scores, which
  lets a handful of Gaussians fit skewed and multi-modal marginals;
* a value that holds a large share of a numeric column (the zeros of ``capital-gain``)
  becomes its own 0/1 feature, so the point mass is not smeared into fractional values;
* missing values become a 0/1 feature, so missingness is modelled jointly with the rest
  (in Adult ``workclass`` and ``occupation`` go missing together);
* categorical and boolean columns are one-hot encoded (missing is one more level) and
  decoded by the largest coordinate; so are integer columns with few distinct values
  (``education-num``), which are categories written as numbers. A high-cardinality column
  (more than ``max_onehot_levels`` kept levels) keeps only its most frequent levels and
  one "rest" feature decoded by drawing from the real frequencies of the rest, so the
  width, and with it PCA's and EM's cost, stays bounded whatever the column holds.

One-hot blocks matter beyond decoding: where one column is a function of another
(``education`` and ``education-num``), their blocks are linearly tied, every principal
direction keeps that tie, and whatever is sampled in PCA space decodes consistently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.preprocessing import QuantileTransformer

from .columns import round_decimals
from .errors import ConfigError
from .schema import ColumnSpec, Schema

MISSING = "__missing__"
REST = "__rest__"
SEQUENCE_SHARE = 0.9  # distinct dates / rows from which a date column is decoded without rank matching


@dataclass
class _NumericBlock:
    spec: ColumnSpec
    transformer: QuantileTransformer | None
    fill: float
    point_mass: float | None
    has_missing: bool
    missing_rate: float = 0.0
    offset: float = 0.0  # values enter the quantile transform as (x - offset) / scale
    scale: float = 1.0
    quantiles: "RankMarginal | None" = None  # the real values' marginal, for ``match_marginals``

    @property
    def width(self) -> int:
        return 1 + (self.point_mass is not None) + self.has_missing


@dataclass
class _CategoricalBlock:
    spec: ColumnSpec
    levels: list
    rest_levels: list = field(default_factory=list)  # levels merged into REST (high-cardinality columns)
    rest_probs: np.ndarray | None = None
    shares: np.ndarray | None = None  # each level's share of the real rows, for ``match_marginals``
    bias: np.ndarray | None = None  # per-level offsets that give the shares (``TableEncoder.calibrate``)

    @property
    def width(self) -> int:
        return len(self.levels)


class TableEncoder:
    """Fit on a model frame (``Schema.model_frame``), ``transform`` it to floats, ``inverse_transform`` back.

    The inverse gives model values again (floats; level strings incl. ``OTHER_LEVEL``; NaN
    for missing); the schema's transformers type them.

    Parameters
    ----------
    point_mass_share : a numeric value holding at least this share of a column's non-missing
        values is modelled as a separate 0/1 feature (zero inflation).
    max_discrete_levels : integer/datetime columns (and numeric columns whose outputs snap to
        a few real values) with at most this many distinct values are one-hot encoded.
    max_onehot_levels : a categorical column with more levels than this (a high-cardinality
        column with a sampled tail) keeps its ``tail_onehot_levels`` most frequent levels as
        one-hot features and one "rest" feature, decoded by drawing from the real
        frequencies of the rest: the width, hence PCA's and the mixture's cost, stays bounded.
    n_quantiles : resolution of the quantile transform (bounded, so fitting is O(rows)).
    match_marginals : decode a continuous column by rank: the k-th smallest generated value
        (outside its point mass and missing rows) becomes the real values' quantile at that rank.
        The mixture's dependence (the order of rows) is kept while the marginal, heaps at round
        values included (``age``, ``hours-per-week``), comes out as in the real table; a monotone
        map of each column never copies a real row. One-hot blocks take the argmax of their
        coordinates plus per-level biases that give the real level shares (``calibrate``).
    marginal_values : which values rank matching outputs (see ``RankMarginal``): "smooth" (default)
        keeps heaped values exact and interpolates between neighbouring training values elsewhere,
        never reproducing a training value seen fewer than ``heap_min_count`` times; "exact" outputs
        training values only; "grid" interpolates a grid of ``n_quantiles`` quantiles.
    heap_min_count : with "smooth", a value held by at least this many training rows is a heap.
    """

    def __init__(self, point_mass_share: float = 0.2, max_discrete_levels: int = 20, n_quantiles: int = 1000,
                 max_onehot_levels: int = 50, tail_onehot_levels: int = 10, match_marginals: bool = False,
                 marginal_values: str = "smooth", heap_min_count: int = 3, random_state: int = 0):
        self.point_mass_share = point_mass_share
        self.max_discrete_levels = max_discrete_levels
        self.n_quantiles = n_quantiles
        self.max_onehot_levels = max_onehot_levels
        self.tail_onehot_levels = tail_onehot_levels
        self.match_marginals = match_marginals
        self.marginal_values = marginal_values
        self.heap_min_count = heap_min_count
        self.random_state = random_state

    def fit(self, df: pd.DataFrame, schema: Schema) -> "TableEncoder":
        self.schema_ = schema
        self.blocks_ = []
        for spec in schema.modelled:
            col = df[spec.name]
            if spec.is_numeric:
                values = col.to_numpy(dtype=float)
                levels = np.unique(values[~np.isnan(values)])
                discrete = spec.kind in ("integer", "datetime") or bool(spec.values)
                if discrete and len(levels) <= self.max_discrete_levels:
                    missing = [MISSING] if np.isnan(values).any() else []
                    self.blocks_.append(_CategoricalBlock(spec, levels.tolist() + missing))
                else:
                    self.blocks_.append(self._fit_numeric(spec, values))
            else:
                self.blocks_.append(self._fit_categorical(spec, col))
        for block in self.blocks_:
            if isinstance(block, _CategoricalBlock):
                codes = _level_codes(block, df[block.spec.name])
                block.shares = np.bincount(codes[codes >= 0], minlength=block.width) / max(len(codes), 1)
        self.implied_missing_ = _implied_missing(df, [b.spec.name for b in self.blocks_])
        self.n_features_ = sum(b.width for b in self.blocks_)
        self.feature_columns_ = [b.spec.name for b in self.blocks_ for _ in range(b.width)]
        return self

    def _fit_categorical(self, spec: ColumnSpec, col: pd.Series) -> "_CategoricalBlock":
        counts = pd.Series(col).value_counts(sort=False)
        present = [lvl for lvl in col.cat.categories if counts.get(lvl, 0) > 0]
        missing = [MISSING] if col.isna().any() else []
        if len(present) <= self.max_onehot_levels:
            return _CategoricalBlock(spec, present + missing)
        top = counts[present].sort_values(ascending=False, kind="stable")
        kept = top.index[: self.tail_onehot_levels].tolist()
        rest = top.iloc[self.tail_onehot_levels :]
        block = _CategoricalBlock(spec, kept + [REST] + missing)
        block.rest_levels = rest.index.tolist()
        block.rest_probs = (rest / rest.sum()).to_numpy(dtype=float)
        return block

    def _fit_numeric(self, spec: ColumnSpec, col: np.ndarray) -> _NumericBlock:
        has_missing = bool(np.isnan(col).any())
        values = col[~np.isnan(col)]
        uniques, counts = np.unique(values, return_counts=True)
        top = int(np.argmax(counts))
        point_mass = None
        if counts[top] / len(values) >= self.point_mass_share and len(uniques) > 2:
            point_mass = float(uniques[top])
            values = values[values != point_mass]
        # Standardise first: QuantileTransformer treats values within 1e-7 of its bounds as the bounds,
        # which would send a column of values around 1e-9 to a single value.
        offset, scale = _offset_scale(values)
        transformer = QuantileTransformer(
            n_quantiles=max(2, min(self.n_quantiles, len(values))),
            output_distribution="normal",
            subsample=100_000,
            random_state=self.random_state,
        ).fit(((values - offset) / scale).reshape(-1, 1))
        # No rank matching for a date column whose values are (nearly) all distinct (a date per row,
        # snapped back onto its grid by the typing layer): an exact copy of its marginal makes every synthetic row the twin of a real one, and a
        # detector split across twins scores below chance (statsmodels' co2: 0.39 with, 0.51 without)
        # -- a figure that flatters the generator instead of measuring it.
        sequence_like = spec.kind == "datetime" and len(uniques) >= SEQUENCE_SHARE * len(col[~np.isnan(col)])
        grid = None if sequence_like else RankMarginal.fit(values, self.marginal_values, spec, self.heap_min_count,
                                                             self.n_quantiles)
        return _NumericBlock(spec, transformer, 0.0, point_mass, has_missing, float(np.isnan(col).mean()),
                             offset, scale, grid)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(df), self.n_features_))
        j = 0
        for block in self.blocks_:
            col = df[block.spec.name]
            if isinstance(block, _NumericBlock):
                values = col.to_numpy(dtype=float)
                missing = np.isnan(values)
                special = missing.copy()
                if block.point_mass is not None:
                    at_mass = values == block.point_mass
                    special |= at_mass
                    out[:, j + 1] = at_mass
                scores = np.full(len(values), block.fill)
                if (~special).any():
                    scaled = (values[~special] - block.offset) / block.scale
                    scores[~special] = block.transformer.transform(scaled.reshape(-1, 1)).ravel()
                out[:, j] = scores
                if block.has_missing:
                    out[:, j + block.width - 1] = missing
            else:
                codes = _level_codes(block, col)
                known = codes >= 0
                out[np.flatnonzero(known), j + codes[known]] = 1.0
            j += block.width
        return out

    def calibrate(self, X: np.ndarray, columns: list[str] | None = None) -> "TableEncoder":
        """Tune each one-hot block's level biases (``_share_bias``) once, on rows ``X`` drawn from
        the model that will be decoded, so ``inverse_transform`` takes one argmax per block.

        Why once: tuning on every decoded batch cost two-thirds of sampling (0.25 of 0.67 CPU-s
        per 100,000 Adult rows), and fixed biases decode every batch alike, whatever its size
        (a batch of 50 rows gets the same shares as one of a million). Without ``match_marginals``
        there is nothing to tune. Without a call, each batch of >= 100 rows is tuned on itself.
        ``columns``: as in ``inverse_transform``.
        """
        for block, j in self._blocks_in(columns):
            if isinstance(block, _CategoricalBlock):
                block.bias = (_share_bias(X[:, j: j + block.width], block.shares, calibration_rows=len(X))
                              if self.match_marginals and block.shares is not None and len(X) else None)
        return self

    def _blocks_in(self, columns: list[str] | None):
        """``(block, first feature)`` of each block of ``columns`` (None: every column), for a
        matrix that holds those blocks' features alone, in the blocks' order."""
        j = 0
        for block in self.blocks_:
            if columns is None or block.spec.name in columns:
                yield block, j
                j += block.width

    def feature_index(self, columns: list[str] | None) -> np.ndarray:
        """Positions in the full feature vector of ``columns``' blocks (see ``_blocks_in``)."""
        starts = np.cumsum([0] + [b.width for b in self.blocks_])
        return np.concatenate([np.arange(starts[i], starts[i + 1]) for i, b in enumerate(self.blocks_)
                               if columns is None or b.spec.name in columns] or [np.empty(0, int)]).astype(int)

    def inverse_transform(self, X: np.ndarray, rng: np.random.Generator | None = None,
                          columns: list[str] | None = None) -> pd.DataFrame:
        """Decode a float matrix to model values (typing and bounds are applied by the schema).

        A numeric column's missing flag is decoded at the real missing rate (the rows with
        the largest flags are missing), so a 1 % or 99 % missing column keeps its rate even
        when PCA shrinks the flag towards its mean; "rest" draws from the rest's real frequencies.
        ``columns``: decode only these (None: all); ``X`` then holds only their blocks' features
        (``feature_index``), so a caller that draws some columns another way never computes theirs.
        """
        rng = rng if rng is not None else np.random.default_rng(self.random_state)
        decoded = {}
        for block, j in self._blocks_in(columns):
            part = X[:, j : j + block.width]
            if isinstance(block, _NumericBlock):
                at_mass = part[:, 1] > 0.5 if block.point_mass is not None else np.zeros(len(part), bool)
                missing = _top_share(part[:, -1], block.missing_rate) if block.has_missing else np.zeros(len(part), bool)
                plain = ~at_mass & ~missing
                if self.match_marginals and block.quantiles is not None:  # every plain value comes from its rank
                    values = np.empty(len(part))
                    values[plain] = _by_rank(part[plain, 0], block.quantiles)
                else:
                    values = block.transformer.inverse_transform(part[:, :1]).ravel() * block.scale + block.offset
                if block.point_mass is not None:
                    values[at_mass] = block.point_mass
                values[missing] = np.nan
                decoded[block.spec.name] = values
            else:
                bias = block.bias
                if bias is None and self.match_marginals and block.shares is not None and len(part) >= 100:
                    bias = _share_bias(part, block.shares)  # not calibrated: tuned on these rows
                index = np.argmax(part if bias is None else part + bias, axis=1)
                if block.spec.is_numeric:  # MISSING decodes to NaN
                    categorical = np.array([np.nan if v == MISSING else v for v in block.levels], dtype=float)[index]
                else:
                    # a Categorical (codes into the levels, MISSING as code -1): no Python string
                    # per row, and the typing layer reads its codes instead of hashing strings
                    names = [v for v in block.levels if v not in (MISSING, REST)]
                    to_code = np.array([names.index(v) if v in names else -1 for v in block.levels], dtype=np.int64)
                    codes = to_code[index]
                    if block.rest_levels:
                        rest = index == block.levels.index(REST)
                        codes[rest] = len(names) + rng.choice(len(block.rest_levels), size=int(rest.sum()),
                                                              p=block.rest_probs)
                    categorical = pd.Categorical.from_codes(codes, categories=pd.Index(names + list(block.rest_levels),
                                                                                   dtype=object))
                decoded[block.spec.name] = categorical
        out = pd.DataFrame(decoded)
        return enforce_implied_missing(out, [(a, b) for a, b in getattr(self, "implied_missing_", [])
                                             if a in decoded and b in decoded])


def _implied_missing(df: pd.DataFrame, columns: list[str], share: float = 0.99) -> list[tuple[str, str]]:
    """Pairs (a, b) where a missing ``a`` means a missing ``b`` in ≥ ``share`` of the real rows
    (Adult: workclass missing → occupation missing, 1,836 of 1,836)."""
    missing = {c: df[c].isna().to_numpy() for c in columns if df[c].isna().any()}
    return [(a, b) for a in missing for b in missing
            if a != b and missing[b][missing[a]].mean() >= share and missing[a].sum() >= 10]


def enforce_implied_missing(out: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Make generated rows keep the real table's missingness implications (see ``_implied_missing``):
    a row missing ``a`` that kept ``b`` is the giveaway a detector with missing flags finds first."""
    for a, b in pairs:
        gone = out[a].isna().to_numpy()
        if gone.any():
            out[b] = out[b].mask(gone)  # NaN in floats, missing in a Categorical or text
    return out


def _level_codes(block: "_CategoricalBlock", col: pd.Series) -> np.ndarray:
    """Each value's position in ``block.levels`` (missing → MISSING, the tail → REST; -1: unknown).

    A model-frame column (a Categorical, or floats) is mapped per distinct value, not per row.
    """
    missing_code = block.levels.index(MISSING) if MISSING in block.levels else -1
    if isinstance(col.dtype, pd.CategoricalDtype) and not block.spec.is_numeric:
        per_category = _level_codes(block, pd.Series(np.asarray(col.cat.categories, dtype=object)))
        codes = col.cat.codes.to_numpy()
        return np.where(codes >= 0, per_category[codes], missing_code)
    if block.spec.is_numeric and not isinstance(col.dtype, pd.CategoricalDtype):
        values = np.asarray(col, dtype=float)
        positions = np.array([i for i, v in enumerate(block.levels) if not isinstance(v, str)], dtype=np.intp)
        found = pd.Index(np.asarray(block.levels, dtype=object)[positions].astype(float)).get_indexer(values)
        return np.where(np.isnan(values), missing_code, np.append(positions, -1)[found])
    if block.spec.is_numeric:
        keys = pd.Series(col.to_numpy(dtype=float)).astype(object)
    else:
        keys = pd.Series(np.asarray(col, dtype=object))
        if block.rest_levels:
            keys = keys.where(~keys.isin(block.rest_levels), REST)
    keys = keys.where(keys.notna(), MISSING)
    return pd.Index(block.levels, dtype=object).get_indexer(keys)


def _share_bias(part: np.ndarray, target: np.ndarray, rounds: int = 30,
                calibration_rows: int = 20_000) -> np.ndarray:
    """Per-level biases such that the levels' shares in ``argmax(part + bias)`` approach ``target``.

    The plain argmax of a PCA-decoded one-hot block swells the majority level (each row takes its
    locally most likely level); shifting the thresholds keeps which rows lean to which level (the
    dependence on the other columns) while the shares come out as in the real table.
    """
    bias = np.zeros(part.shape[1])
    target = np.maximum(target, 1e-6)
    tune = part[:calibration_rows]  # rows come in random order: the biases are tuned on a prefix, O(1) in n
    step = 0.5 * float(np.std(tune)) or 0.5
    # the sums below are float64 (bias is) whatever part's dtype: one contiguous float64 copy up front
    # gives the same sums as adding to the strided slice every round, at half the cost
    tune = np.ascontiguousarray(tune, dtype=np.float64)
    for _ in range(rounds):
        share = np.bincount(np.argmax(tune + bias, axis=1), minlength=part.shape[1]) / len(tune)
        bias += step * np.clip(np.log(target) - np.log(np.maximum(share, 1e-6)), -1, 1)
        step *= 0.9
    return bias


def _offset_scale(values: np.ndarray) -> tuple[float, float]:
    """A centre and a spread that bring any column to order 1 (1e-9 and 1e300 alike), without overflow."""
    if values.size == 0:
        return 0.0, 1.0
    offset = float(np.median(values))
    spread = float(np.max(np.abs(values - offset)))
    return offset, spread if np.isfinite(spread) and spread > 0 else (abs(offset) or 1.0)


MARGINAL_VALUES = ("smooth", "exact", "grid")
MAX_REFERENCE = 100_000  # order statistics a RankMarginal keeps: bounded memory whatever the rows


@dataclass
class RankMarginal:
    """A numeric column's real marginal for rank matching, and which values decoding may output.

    Why three modes: copying the marginal exactly hides it from the detector, but in a column of
    (nearly) distinct values an exact copy makes each synthetic value a training value, the twin
    of one real row. The detector's real rows include the training rows, split across its train
    and test sets, so twins can make synthetic rows look real for the wrong reason (statsmodels'
    co2 scored below chance). The modes:

    * ``"exact"``: the training value at each rank (every output is a training value);
    * ``"smooth"``: heaped values (held by >= ``heap_min_count`` training rows: ages, round
      hours, capital-gain's amounts) stay exact; between them the quantile function interpolates
      neighbouring order statistics, rounded to the column's precision, and an output that would
      equal a rarer training value moves to the nearest free value at that precision (at most
      ``MAX_NUDGE`` steps away, so the guarantee holds where the precision leaves room; beyond
      ``MAX_REFERENCE`` rows the reference is a subset and the guarantee covers that subset);
    * ``"grid"``: interpolation on ``n_quantiles`` quantiles (the first decoder; for comparison).
    """

    mode: str
    reference: np.ndarray  # sorted order statistics (an evenly spaced subset beyond MAX_REFERENCE)
    heaps: np.ndarray  # sorted heaped values ("smooth")
    rare: np.ndarray  # sorted training values below the heap count, which "smooth" never outputs
    decimals: int | None  # the column's precision (None: full precision)

    MAX_NUDGE = 8

    @classmethod
    def fit(cls, values: np.ndarray, mode: str, spec: ColumnSpec, heap_min_count: int = 3,
            n_quantiles: int = 1000) -> "RankMarginal":
        if mode not in MARGINAL_VALUES:
            raise ConfigError(f"marginal_values must be one of {', '.join(MARGINAL_VALUES)}, got {mode!r}")
        values = np.sort(np.asarray(values, dtype=float))
        if mode == "grid":
            grid = np.quantile(values, np.linspace(0, 1, max(2, min(n_quantiles, len(values)))))
            return cls(mode, grid, np.empty(0), np.empty(0), None)
        uniques, counts = np.unique(values, return_counts=True)
        heavy = counts >= max(int(heap_min_count), 2)
        heaps, rare = uniques[heavy], uniques[~heavy]
        if len(values) > MAX_REFERENCE:  # bounded: the reference and its heaps and rare values, not every row
            values = values[np.linspace(0, len(values) - 1, MAX_REFERENCE).round().astype(int)]
            heaps, rare = heaps[_member(heaps, values)], rare[_member(rare, values)]
        decimals = 0 if spec.kind in ("integer", "datetime") else spec.decimals
        return cls(mode, values, heaps, rare, None if decimals is None else int(decimals))

    def at_ranks(self, ranks: np.ndarray) -> np.ndarray:
        """The output at each rank in (0, 1)."""
        ref, n = self.reference, len(self.reference)
        if self.mode == "grid":
            return np.interp(ranks, np.linspace(0, 1, n), ref)
        if self.mode == "exact":
            return ref[np.minimum((ranks * n).astype(int), n - 1)]
        pos = np.clip(ranks * n - 0.5, 0, n - 1)  # order statistic i sits at rank (i + 0.5) / n
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        frac = pos - lo
        out = ref[lo] + frac * (ref[hi] - ref[lo])
        # a heap owns the half step on each side of its order statistics: its value, not a fraction beside it
        heap_at = self._heap_at()
        lo_heap, hi_heap = heap_at[lo], heap_at[hi]
        to_lo, to_hi = lo_heap & (frac < 0.5), hi_heap & (frac >= 0.5)
        to_lo |= lo_heap & hi_heap & ~to_hi
        to_hi |= lo_heap & hi_heap & ~to_lo
        out[to_lo], out[to_hi] = ref[lo][to_lo], ref[hi][to_hi]
        if self.decimals is not None:  # as the typing layer rounds (round_decimals, not x / step * step)
            out = round_decimals(out, self.decimals)
        return self._avoid_rare(out, ~(to_lo | to_hi))

    def _heap_at(self) -> np.ndarray:
        """Whether each reference value is a heap (computed once: a lookup per row instead of a search)."""
        cached = self.__dict__.get("_heap_at_cache")
        if cached is None:
            cached = self.__dict__["_heap_at_cache"] = _member(self.reference, self.heaps)
        return cached

    def _avoid_rare(self, out: np.ndarray, free: np.ndarray) -> np.ndarray:
        """Move outputs (where ``free``) equal to a rare training value to the nearest value at the
        column's precision, inside the real range (the typing layer clips to it), that is none (full
        precision: half-way to the next reference value)."""
        hit = free & _member(out, self.rare)
        if not hit.any():
            return out
        values = out[hit]
        if self.decimals is None:
            ref = np.unique(self.reference)
            above = np.minimum(np.searchsorted(ref, values, side="right"), len(ref) - 1)
            below = np.maximum(np.searchsorted(ref, values, side="left") - 1, 0)
            neighbour = np.where(ref[above] > values, ref[above], ref[below])
            out[hit] = values + 0.5 * (neighbour - values)
            return out
        moved = values.copy()
        pending = np.ones(len(values), bool)
        for k in range(1, self.MAX_NUDGE + 1):
            for sign in (1, -1):
                candidate = round_decimals(values + sign * k * 10.0 ** -self.decimals, self.decimals)
                inside = (candidate >= self.reference[0]) & (candidate <= self.reference[-1])  # bounds clip
                ok = pending & inside & ~_member(candidate, self.rare)
                moved[ok], pending[ok] = candidate[ok], False
            if not pending.any():
                break
        out[hit] = moved
        return out


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which ``values`` are in the sorted array ``sorted_set`` (O(n log m))."""
    if sorted_set.size == 0:
        return np.zeros(len(values), bool)
    where = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[where] == values


def _by_rank(scores: np.ndarray, marginal: RankMarginal) -> np.ndarray:
    """The marginal's output at each score's rank (ties broken by order): the real marginal, with
    the mixture's order of rows (its dependence on the other columns) kept."""
    if scores.size == 0:
        return scores
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores, kind="stable")] = (np.arange(len(scores)) + 0.5) / len(scores)
    return marginal.at_ranks(ranks)


def _top_share(flags: np.ndarray, share: float) -> np.ndarray:
    """The ``share`` of rows with the largest ``flags`` (ties broken by row order)."""
    k = int(round(share * len(flags)))
    out = np.zeros(len(flags), bool)
    if k > 0:
        out[np.argsort(-flags, kind="stable")[:k]] = True
    return out


# ---------------------------------------------------------------------------------------------
# Latent-class decoding: categorical levels drawn from each mixture component's own frequencies
# ---------------------------------------------------------------------------------------------

def discrete_columns(encoder: TableEncoder) -> list[str]:
    """The columns the encoder one-hot encodes (categorical, boolean, few-valued integers)."""
    return [b.spec.name for b in encoder.blocks_ if isinstance(b, _CategoricalBlock)]


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a model-frame column with missing as a value of its own, and the values."""
    values = col.astype(object) if isinstance(col.dtype, pd.CategoricalDtype) else col
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _conditional_entropy(a: np.ndarray, b: np.ndarray) -> float:
    """H(b | a) from two code arrays (natural log).

    The joint counts come from one ``bincount`` of the pair codes (a crosstab's counts, plus
    all-zero rows and columns for unseen codes, which add nothing to the sum).
    """
    width = int(b.max()) + 1 if len(b) else 1
    joint = np.bincount(a * width + b, minlength=(int(a.max()) + 1 if len(a) else 1) * width)
    joint = joint.reshape(-1, width).astype(float)
    total = joint.sum()
    return float(sum(row.sum() / total * _entropy(row) for row in joint if row.any()))


def tied_groups(df: pd.DataFrame, columns: list[str], tie: float = 0.05, max_cells: int = 2000) -> list[list[str]]:
    """Group columns that must be drawn together, so a level drawn for one never contradicts another.

    Two columns are tied when either is (nearly) a function of the other, H(b|a) ≤ ``tie``·H(b)
    (``education`` → ``education-num``), or when they go missing together (the rows missing in one
    are ≥ 90 % those missing in the other: ``workclass`` and ``occupation`` in Adult). Groups are
    merged transitively while their observed combinations stay ≤ ``max_cells``.
    """
    codes = {c: _codes(df[c])[0] for c in columns}
    missing = {c: df[c].isna().to_numpy() for c in columns}
    parent = {c: c for c in columns}

    def root(c):
        while parent[c] != c:
            c = parent[c]
        return c

    def cells(group_cols):
        return len(pd.DataFrame({c: codes[c] for c in group_cols}).drop_duplicates())

    for i, a in enumerate(columns):
        for b in columns[i + 1:]:
            ha, hb = _entropy(np.bincount(codes[a])), _entropy(np.bincount(codes[b]))
            functional = (hb > 0 and _conditional_entropy(codes[a], codes[b]) <= tie * hb) or (
                ha > 0 and _conditional_entropy(codes[b], codes[a]) <= tie * ha)
            both, either = (missing[a] & missing[b]).sum(), (missing[a] | missing[b]).sum()
            co_missing = either > 0 and both >= 0.9 * either
            ra, rb = root(a), root(b)
            if (functional or co_missing) and ra != rb:
                merged = [c for c in columns if root(c) in (ra, rb)]
                if cells(merged) <= max_cells:
                    parent[rb] = ra
    groups: dict[str, list[str]] = {}
    for c in columns:
        groups.setdefault(root(c), []).append(c)
    return list(groups.values())


@dataclass
class _LatentGroup:
    columns: list[str]
    values: list[np.ndarray]  # per column, the value of each observed combination
    probs: np.ndarray         # (components, combinations): each component's frequencies


class LatentCategoricals:
    """Per-component frequencies of discrete columns (a latent-class model riding on the mixture).

    Why: decoding a one-hot block by its largest coordinate after PCA gives every row the
    component's locally most likely level, so majority levels swell and rare ones vanish
    (Adult's ``native-country``: 97 % United-States vs 91 % real, 7 of 41 levels). Drawing the
    level from the frequencies of the training rows the component is responsible for keeps
    each component's mix, rare levels included. Tied columns (``tied_groups``) are drawn as
    one combination, so ``education`` and ``education-num`` agree and ``occupation`` goes
    missing with ``workclass``. Frequencies are responsibility-weighted counts shrunk towards
    the overall frequencies by ``prior`` pseudo-rows, so a small component invents no level
    the table lacks and never zeroes one it has.
    """

    def __init__(self, groups: list[list[str]], prior: float = 1.0):
        self.groups = groups
        self.prior = prior

    def fit(self, df: pd.DataFrame, responsibilities: np.ndarray) -> "LatentCategoricals":
        R = np.asarray(responsibilities, dtype=np.float64)
        self.groups_ = []
        for group in self.groups:
            per_col = [_codes(df[c]) for c in group]
            keys = pd.DataFrame({c: codes for c, (codes, _) in zip(group, per_col)})
            combo, combos = pd.factorize(pd.MultiIndex.from_frame(keys)) if len(group) > 1 else (keys[group[0]].to_numpy(), None)
            if combos is None:
                n_combos = len(per_col[0][1])
                values = [per_col[0][1]]
            else:
                n_combos = len(combos)
                values = [uniques[np.asarray(combos.get_level_values(i), dtype=np.int64)]
                          for i, (_, uniques) in enumerate(per_col)]
            onehot_counts = np.zeros((R.shape[1], n_combos))
            for k in range(R.shape[1]):  # k ≤ max_components: a short loop of O(rows) bincounts
                onehot_counts[k] = np.bincount(combo, weights=R[:, k], minlength=n_combos)
            overall = np.bincount(combo, minlength=n_combos) / len(combo)
            probs = onehot_counts + self.prior * overall
            self.groups_.append(_LatentGroup(group, values, probs / probs.sum(axis=1, keepdims=True)))
        return self

    def sample(self, components: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Values of every grouped column for rows drawn from ``components`` (one label per row)."""
        out = {}
        order = np.argsort(components, kind="stable")
        bounds = np.searchsorted(components[order], np.arange(self.groups_[0].probs.shape[0] + 1)) if self.groups_ else []
        for g in self.groups_:
            picks = np.empty(len(components), dtype=np.int64)
            # inverse-CDF per component: one uniform per row, vectorised within each component
            cdf = np.cumsum(g.probs, axis=1)
            u = rng.random(len(components))
            for k in range(g.probs.shape[0]):
                rows = order[bounds[k]:bounds[k + 1]]
                if len(rows):
                    picks[rows] = np.minimum(np.searchsorted(cdf[k], u[rows] * cdf[k, -1], side="right"),
                                             g.probs.shape[1] - 1)
            for c, vals in zip(g.columns, g.values):
                out[c] = vals[picks]
        return out
