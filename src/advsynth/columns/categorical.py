"""Levels: categoricals (bounded to ``MAX_LEVELS`` plus an empirical tail) and booleans."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .base import OTHER_LEVEL, ColumnTransformer, _cast, _level_codes, _plain

log = logging.getLogger(__name__)

MAX_LEVELS = 1000  # levels kept per categorical column (the detector sees each of them); the rest is one bucket sampled from the empirical tail
TAIL_SAMPLE = 1000  # values of that tail kept (bounded schema.json)


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

    def reverse_transform(self, values, rng, first_row=0):
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
