"""Privacy: does the generator reproduce its training rows instead of the distribution?

Two complementary checks:

* ``exact_match_rate``: the crudest leak, synthetic rows that are verbatim training rows.
  On discrete tables a fresh real row can equal a training row by chance, so compare it
  with the same rate for a real holdout (``privacy_report`` does).
* ``distance_to_closest_record`` (DCR): a generator that memorises puts synthetic rows
  much closer to training rows than genuinely new real rows (the holdout) are, even when
  it adds a little noise so no row matches exactly. Comparing against the holdout makes
  the number self-calibrating: a ratio near 1 is what a perfect generator achieves, not 0.

Neither proves privacy (that needs a formal guarantee such as differential privacy);
both detect the common failure of overfitting.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

from .fidelity import MetricInputError, _as_float, _category_keys, _validate

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_SIZE = 2000
DEFAULT_TRAIN_SAMPLE_SIZE = 20000


# --------------------------------------------------------------------------- exact matches


def _canonical_column(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The same column of two frames in one comparable representation.

    Numbers become float64 with one NaN and no negative zero (so 39 == 39.0 and NaN ==
    NaN); anything else becomes its string level (``MISSING_LEVEL`` for missing), so a
    column that is numeric in one frame and text in the other still compares by value.
    """
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        return (
            pd.Series(_as_float(a) + 0.0, name=a.name),  # + 0.0 turns -0.0 into 0.0
            pd.Series(_as_float(b) + 0.0, name=b.name),
        )
    if pd.api.types.is_datetime64_any_dtype(a) and pd.api.types.is_datetime64_any_dtype(b):
        return pd.Series(_as_float(a, True), name=a.name), pd.Series(_as_float(b, True), name=b.name)
    return pd.Series(_category_keys(a), name=a.name), pd.Series(_category_keys(b), name=b.name)


def _row_hashes(train: pd.DataFrame, other: pd.DataFrame, columns: list) -> tuple[np.ndarray, np.ndarray]:
    pairs = [_canonical_column(train[c], other[c]) for c in columns]
    left = pd.DataFrame({i: p[0] for i, p in enumerate(pairs)})
    right = pd.DataFrame({i: p[1] for i, p in enumerate(pairs)})
    return (
        pd.util.hash_pandas_object(left, index=False).to_numpy(),
        pd.util.hash_pandas_object(right, index=False).to_numpy(),
    )


def exact_match_rate(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: Sequence[str] | None = None,
) -> float:
    """Share of synthetic rows that are an exact copy of some training row.

    Rows are compared through a 64-bit hash of their values (O(rows); a false match needs
    a hash collision, probability ~rows²/2⁶⁴). Missing equals missing, ``39`` equals
    ``39.0``. ``columns`` defaults to all training columns; pass the modelled columns to
    ignore identifiers the generator regenerates.
    """
    columns = list(train.columns if columns is None else columns)
    _validate({"train": train, "synthetic": synthetic}, columns)
    if not columns:
        raise MetricInputError("exact_match_rate needs at least one column")
    train_hashes, synthetic_hashes = _row_hashes(train, synthetic, columns)
    return float(np.isin(synthetic_hashes, train_hashes).mean())


# --------------------------------------------------------------------------- DCR


def _robust_scale(values: np.ndarray) -> float:
    """IQR, else standard deviation, else 1: one outlier must not set the unit of distance."""
    observed = values[~np.isnan(values)]
    if observed.size:
        q25, q75 = np.percentile(observed, [25, 75])
        if q75 - q25 > 0:
            return float(q75 - q25)
        std = float(observed.std())
        if std > 0:
            return std
    return 1.0


class _RowEncoder:
    """Rows → vectors whose Euclidean distance is a mixed-type distance.

    * numeric: (value − train median) / train robust scale; a missing value sits at the
      median and sets a 0/1 indicator (one unit of distance from any present value);
    * categorical: one-hot scaled by 1/√2, so two different levels are exactly distance 1
      apart; missing is a level, and a level never seen in training maps to one shared
      "other" slot (still distance 1 from every training level).
    """

    def __init__(self, numeric: list, categorical: list, datetime: list):
        self.numeric, self.categorical, self.datetime = numeric, categorical, datetime

    def fit(self, train: pd.DataFrame, frames: Sequence[pd.DataFrame]) -> "_RowEncoder":
        self.center_, self.scale_, self.indicator_ = {}, {}, {}
        for col in [*self.numeric, *self.datetime]:
            values = _as_float(train[col], col in self.datetime)
            observed = values[~np.isnan(values)]
            self.center_[col] = float(np.median(observed)) if observed.size else 0.0
            self.scale_[col] = _robust_scale(values)
            self.indicator_[col] = any(f[col].isna().any() for f in (train, *frames))
        self.levels_ = {}
        for col in self.categorical:
            levels = pd.unique(_category_keys(train[col]))
            self.levels_[col] = {level: i for i, level in enumerate(levels)}
        return self

    @property
    def n_features(self) -> int:
        numeric = len(self.center_) + sum(self.indicator_.values())
        return numeric + sum(len(levels) + 1 for levels in self.levels_.values())

    def transform(self, frame: pd.DataFrame):
        """The rows as a matrix: dense when every column is numeric, else sparse CSR.

        Why sparse: a categorical's one-hot block has one entry per row, however many levels
        it has; dense, 20,000 rows of a table with a few thousand-level columns would take
        gigabytes. The distances are the same either way.
        """
        blocks = []
        for col in [*self.numeric, *self.datetime]:
            values = (_as_float(frame[col], col in self.datetime) - self.center_[col]) / self.scale_[col]
            missing = np.isnan(values)
            blocks.append(np.where(missing, 0.0, values)[:, None])
            if self.indicator_[col]:
                blocks.append(missing.astype("float64")[:, None])
        if not self.categorical:
            return np.hstack(blocks) if blocks else np.zeros((len(frame), 0))
        blocks = [sparse.csr_matrix(block) for block in blocks]
        rows = np.arange(len(frame))
        for col in self.categorical:
            levels = self.levels_[col]
            other = len(levels)
            codes = pd.Series(_category_keys(frame[col])).map(levels).fillna(other).to_numpy(dtype=np.int64)
            blocks.append(sparse.csr_matrix((np.full(len(frame), 1.0 / np.sqrt(2.0)), (rows, codes)),
                                            shape=(len(frame), other + 1)))
        return sparse.hstack(blocks, format="csr")


def _sample(frame: pd.DataFrame, size: int, seed: np.random.SeedSequence) -> pd.DataFrame:
    if len(frame) <= size:
        return frame
    idx = np.sort(np.random.default_rng(seed).choice(len(frame), size=size, replace=False))
    return frame.iloc[idx]


def distance_to_closest_record(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    random_state: int = 0,
    train_sample_size: int = DEFAULT_TRAIN_SAMPLE_SIZE,
    datetime: Sequence[str] | None = None,
) -> dict:
    """Distance from synthetic rows, and from real holdout rows, to their nearest training row.

    The holdout distances are the baseline: they are what "a new row from the same
    population" looks like. ``ratio_median`` (synthetic median / holdout median) near 1
    is healthy, well below 1 means the generator sits on its training rows (0 for a copy);
    ``share_synthetic_closer_than_holdout_p05`` is about 0.05 for a healthy generator and
    approaches 1 for a copy. Distances are Euclidean on the ``_RowEncoder`` encoding
    (numeric in robust-scale units, a categorical mismatch = 1). The encoding is fitted on
    the full training set.

    Cost: a brute-force search is O(queries × train rows × features), so at most
    ``sample_size`` synthetic and ``sample_size`` holdout rows are queried against at most
    ``train_sample_size`` training rows (defaults 2,000 and 20,000: 8·10⁷ distances, a few
    seconds, independent of table size). Medians and 5 % quantiles of 2,000 values are
    precise to a few percent. Subsampling train makes every distance a bit larger but
    affects synthetic and holdout rows alike, so the ratio stays fair. Samples are drawn
    without replacement with independent streams from ``random_state``, so the result is
    deterministic. ``ratio_median`` is ``None`` when the holdout median is 0 (holdout
    rows duplicate training rows: compare ``exact_match_rate`` instead).
    """
    datetime = list(datetime or [])
    numeric, categorical = list(numeric), list(categorical)
    _validate({"train": train, "holdout": holdout, "synthetic": synthetic}, numeric, categorical, datetime)
    if not (numeric or categorical or datetime):
        raise MetricInputError("distance_to_closest_record needs at least one column")
    if sample_size < 1 or train_sample_size < 1:
        raise MetricInputError("sample_size and train_sample_size must be positive")
    train_seed, holdout_seed, synthetic_seed = np.random.SeedSequence(random_state).spawn(3)
    train_s = _sample(train, train_sample_size, train_seed)
    holdout_s = _sample(holdout, sample_size, holdout_seed)
    synthetic_s = _sample(synthetic, sample_size, synthetic_seed)
    if len(train_s) < len(train):
        log.info("DCR: searching a sample of %d of %d training rows", len(train_s), len(train))

    encoder = _RowEncoder(numeric, categorical, datetime).fit(train, (holdout, synthetic))
    index = NearestNeighbors(n_neighbors=1, algorithm="brute", metric="euclidean")
    index.fit(encoder.transform(train_s))
    synthetic_d = index.kneighbors(encoder.transform(synthetic_s), return_distance=True)[0][:, 0]
    holdout_d = index.kneighbors(encoder.transform(holdout_s), return_distance=True)[0][:, 0]

    synthetic_median, holdout_median = float(np.median(synthetic_d)), float(np.median(holdout_d))
    holdout_p05 = float(np.quantile(holdout_d, 0.05))
    if holdout_median > 0:
        ratio = synthetic_median / holdout_median
    else:
        ratio = None
        log.warning("DCR: median holdout distance is 0 (holdout rows duplicate training rows); ratio undefined")
    return {
        "synthetic_median": synthetic_median,
        "synthetic_p05": float(np.quantile(synthetic_d, 0.05)),
        "holdout_median": holdout_median,
        "holdout_p05": holdout_p05,
        "ratio_median": None if ratio is None else float(ratio),
        "share_synthetic_closer_than_holdout_p05": float(np.mean(synthetic_d < holdout_p05)),
        "sample_size": int(sample_size),
        "synthetic_sample_size": int(len(synthetic_s)),
        "holdout_sample_size": int(len(holdout_s)),
        "train_sample_size": int(len(train_s)),
        "n_features": int(encoder.n_features),
        "metric": "euclidean",
    }


def privacy_report(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    random_state: int = 0,
    train_sample_size: int = DEFAULT_TRAIN_SAMPLE_SIZE,
    datetime: Sequence[str] | None = None,
) -> dict:
    """Exact-copy rates and DCR in one dict.

    ``holdout_exact_match_rate`` is the chance level for ``exact_match_rate``: real rows
    the generator never saw that still equal a training row. Only the excess over it is
    evidence of copying. Both use the listed columns only.
    """
    columns = [*numeric, *categorical, *(datetime or [])]
    return {
        "exact_match_rate": exact_match_rate(train, synthetic, columns),
        "holdout_exact_match_rate": exact_match_rate(train, holdout, columns),
        "dcr": distance_to_closest_record(
            train,
            holdout,
            synthetic,
            numeric,
            categorical,
            sample_size=sample_size,
            random_state=random_state,
            train_sample_size=train_sample_size,
            datetime=datetime,
        ),
    }
