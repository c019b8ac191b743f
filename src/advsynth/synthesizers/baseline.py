"""The naive reference: every column drawn on its own.

Numeric columns from one Gaussian (mean, std), categorical columns from their empirical
frequencies, missing values at the real rate, no dependence between columns. Any detector
worth the name must catch it; a generator that does not beat it clearly has learnt nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import Synthesizer


class BaselineSynthesizer(Synthesizer):
    name = "baseline"

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def _fit(self, df: pd.DataFrame, groups=None) -> None:
        self.marginals_ = {}
        for spec in self.schema_.modelled:
            col = df[spec.name]
            if spec.is_numeric:
                values = col.to_numpy(dtype=float)
                values = values[~np.isnan(values)]
                scale = float(np.max(np.abs(values))) or 1.0  # values near 1e300 overflow when squared
                self.marginals_[spec.name] = ("gaussian", float((values / scale).mean() * scale),
                                              float((values / scale).std() * scale),
                                              float(np.isnan(col.to_numpy(dtype=float)).mean()))
            else:
                freq = col.astype(object).where(col.notna(), None).value_counts(dropna=False, normalize=True)
                self.marginals_[spec.name] = ("frequencies", list(freq.index), freq.to_numpy(dtype=float))

    def _sample_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        out = {}
        for name, params in self.marginals_.items():
            if params[0] == "gaussian":
                _, mean, std, missing_rate = params
                with np.errstate(over="ignore", invalid="ignore"):  # near ±1e300: ±inf, clipped to the real range
                    values = mean + std * rng.standard_normal(n)
                values[rng.random(n) < missing_rate] = np.nan
            else:
                _, levels, probs = params
                levels_arr = np.empty(len(levels), dtype=object)
                levels_arr[:] = [None if pd.isna(v) else v for v in levels]
                values = levels_arr[rng.choice(len(levels), size=n, p=probs / probs.sum())]
            out[name] = values
        return pd.DataFrame(out)
