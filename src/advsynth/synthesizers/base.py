"""What every generator shares: input validation, schema, typed output, persistence."""

from __future__ import annotations

import logging

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..errors import InputError
from ..schema import Schema, infer_schema

log = logging.getLogger(__name__)


class Synthesizer(BaseEstimator):
    """scikit-learn style generator: ``fit(df)`` learns, ``sample(n)`` returns a typed DataFrame.

    Subclasses implement ``_fit(df)`` on the schema's model frame (``Schema.model_frame``:
    float64 numbers, categorical level strings) and ``_sample_raw(n, rng)`` returning the
    same columns (floats, level strings, NaN/None for missing); the schema's transformers
    type the output (``Schema.reverse``) once for all generators.
    """

    name = "base"

    def fit(self, df: pd.DataFrame, schema: Schema | None = None) -> "Synthesizer":
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"expected a pandas DataFrame, got {type(df).__name__}")
        self.schema_ = schema or infer_schema(df)
        self.schema_.validate_frame(df)
        self._fit(self.schema_.model_frame(df))
        return self

    def sample(self, n: int, random_state: int | None = None, first_row: int = 0) -> pd.DataFrame:
        """Draw ``n`` rows; the same ``random_state`` (default: the constructor's) gives the same rows.
        ``first_row``: where these rows start in a table drawn in blocks (numbers the identifiers)."""
        if not hasattr(self, "schema_"):
            raise InputError(f"{type(self).__name__} is not fitted: call fit() first")
        if int(n) < 1:
            raise InputError(f"number of rows to sample must be positive, got {n}")
        seed = self.random_state if random_state is None else random_state
        rng = np.random.default_rng(seed)
        return self.schema_.reverse(self._sample_raw(int(n), rng), rng, first_row)

    def save(self, path) -> None:
        joblib.dump(self, path)

    @staticmethod
    def load(path) -> "Synthesizer":
        model = joblib.load(path)
        if not isinstance(model, Synthesizer):
            raise InputError(f"{path} does not hold an advsynth generator")
        return model

    def _fit(self, df: pd.DataFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:  # pragma: no cover
        raise NotImplementedError
