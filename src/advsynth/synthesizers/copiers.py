"""Generators that copy their training rows: what the privacy adversary must always catch.

They are plug-ins like any user's (``advsynth run --generator advsynth.synthesizers.copiers:OneCellCopier``),
so a user can check on their own table that a copier is flagged, and the test suite and
``benchmarks/privacy.py`` do so on real tables. None of them learns anything: each output row
is a training row, disguised or not.

* ``ExactCopier``: training rows drawn with replacement.
* ``JitterCopier``: training rows with every numeric value multiplied by 1 + N(0, ``scale``²)
  (then typed like the column, so an integer column often rounds back to the copy).
* ``OneCellCopier``: training rows with one random cell replaced by the value of another random
  training row; with ``jitter`` > 0 also one numeric cell jittered (the near-copier that a
  detector rates better than a real generator).
* ``MixCopier``: a share ``copies`` of exact training rows among the rows of advsynth's default GMM.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class _Copier:
    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def fit(self, df: pd.DataFrame) -> "_Copier":
        self.rows_ = df.reset_index(drop=True)
        return self

    def _rng(self, random_state) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([int(self.random_state if random_state is None
                                                                 else random_state), 29]))

    def _copies(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return self.rows_.iloc[rng.integers(0, len(self.rows_), n)].reset_index(drop=True)

    def _numeric(self) -> list[str]:
        """Numeric columns to jitter (not 0/1 flags, which are booleans to the typing layer)."""
        return [c for c in self.rows_.columns if pd.api.types.is_numeric_dtype(self.rows_[c])
                and not pd.api.types.is_bool_dtype(self.rows_[c]) and self.rows_[c].nunique() > 2]


class ExactCopier(_Copier):
    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        return self._copies(n, self._rng(random_state))


class JitterCopier(_Copier):
    def __init__(self, scale: float = 0.01, random_state: int = 0):
        super().__init__(random_state)
        self.scale = scale

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        rng = self._rng(random_state)
        out = self._copies(n, rng)
        for col in self._numeric():
            values = out[col].to_numpy(dtype=float, na_value=np.nan)
            out[col] = values * (1 + self.scale * rng.standard_normal(n))
        return out


class OneCellCopier(_Copier):
    def __init__(self, jitter: float = 0.0, random_state: int = 0):
        super().__init__(random_state)
        self.jitter = jitter

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        rng = self._rng(random_state)
        out = self._copies(n, rng).astype(object)
        numeric = self._numeric()
        # the re-drawn cell: a categorical one when jittering a numeric one too, else any
        pool = [c for c in out.columns if c not in numeric] if self.jitter and len(numeric) < out.shape[1] else list(out.columns)
        which = rng.integers(0, len(pool), n)
        donors = rng.integers(0, len(self.rows_), n)
        for j, col in enumerate(pool):
            rows = np.flatnonzero(which == j)
            out.loc[rows, col] = self.rows_[col].iloc[donors[rows]].to_numpy(dtype=object)
        if self.jitter and numeric:
            which = rng.integers(0, len(numeric), n)
            for j, col in enumerate(numeric):
                rows = np.flatnonzero(which == j)
                values = pd.to_numeric(out.loc[rows, col], errors="coerce").to_numpy(dtype=float)
                out.loc[rows, col] = values * (1 + self.jitter * rng.standard_normal(len(rows)))
        return out.infer_objects()


class MixCopier(_Copier):
    def __init__(self, copies: float = 0.1, random_state: int = 0):
        super().__init__(random_state)
        self.copies = copies

    def fit(self, df: pd.DataFrame) -> "MixCopier":
        from .gmm import GMMSynthesizer

        super().fit(df)
        self.generator_ = GMMSynthesizer(random_state=self.random_state).fit(df)
        return self

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        rng = self._rng(random_state)
        out = self.generator_.sample(n, random_state=int(rng.integers(0, 2**31)))
        rows = np.flatnonzero(rng.random(n) < float(self.copies))
        out.iloc[rows] = self._copies(len(rows), rng).to_numpy(dtype=object)
        return out
