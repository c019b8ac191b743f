"""What every generator shares: input validation, schema, typed output, persistence."""

from __future__ import annotations

import logging

from numbers import Integral

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import InvalidParameterError, Interval, validate_parameter_constraints
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..errors import ConfigError, InputError
from ..schema import Schema, infer_schema

log = logging.getLogger(__name__)


class Synthesizer(BaseEstimator):
    """scikit-learn style generator: ``fit(df)`` learns, ``sample(n)`` returns a typed DataFrame.

    Subclasses implement ``_fit(df, groups)`` on the schema's model frame (``Schema.model_frame``:
    float64 numbers, categorical level strings) and ``_sample_raw(n, rng)`` returning the
    same columns (floats, level strings, NaN/None for missing); the schema's transformers
    type the output (``Schema.reverse``) once for all generators.
    """

    name = "base"
    # Every constructor parameter's allowed values, scikit-learn style (``Interval``, ``StrOptions``,
    # "boolean", None, a type): ``check_params`` validates them at ``make_generator`` (before any data
    # is read) and at ``fit``; a test checks every generator declares every parameter.
    _parameter_constraints: dict = {"random_state": [Interval(Integral, 0, None, closed="left")]}

    _pipeline_parameters: tuple = ()  # see GMMSynthesizer: what the SageMaker pipeline carries
    _job_parameters: tuple = ()

    @classmethod
    def parameter_kind(cls, name: str) -> tuple[type, bool]:
        """(int, float, bool or str; None allowed) of a parameter as text transports carry it, read
        off its declared constraints: a list parameter travels as JSON text."""
        allowed = cls._parameter_constraints[name]
        kinds = [c.type for c in allowed if isinstance(c, Interval)]
        kind = bool if "boolean" in allowed else int if Integral in kinds else float if kinds else str
        return kind, None in allowed

    def check_params(self) -> None:
        """Validate the constructor parameters against ``_parameter_constraints``: one ConfigError line."""
        params = self.get_params(deep=False)
        for key, value in params.items():
            allowed = self._parameter_constraints.get(key, [])
            # bool is an int subclass, so Interval(Integral) would take ``true`` for 1
            if isinstance(value, (bool, np.bool_)) and "boolean" not in allowed and bool not in allowed:
                raise ConfigError(f"The {key!r} parameter of {type(self).__name__} must not be a boolean. "
                                  f"Got {value!r} instead.")
        try:
            validate_parameter_constraints(self._parameter_constraints, params, caller_name=type(self).__name__)
        except InvalidParameterError as err:
            raise ConfigError(str(err)) from None

    def fit(self, df: pd.DataFrame, schema: Schema | None = None) -> "Synthesizer":
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"expected a pandas DataFrame, got {type(df).__name__}")
        self.check_params()
        self.schema_ = schema or infer_schema(df)
        self.schema_.validate_frame(df)
        self._fit(self.schema_.model_frame(df), self.schema_.split_groups(df))
        return self

    def sample(self, n: int, random_state: int | None = None, first_row: int = 0) -> pd.DataFrame:
        """Draw ``n`` rows; the same ``random_state`` (default: the constructor's) gives the same rows.
        ``first_row``: where these rows start in a table drawn in blocks (numbers the identifiers)."""
        try:
            check_is_fitted(self, "schema_")
        except NotFittedError:  # as advsynth's one-line error
            raise InputError(f"{type(self).__name__} is not fitted: call fit() first") from None
        if int(n) < 1:
            raise InputError(f"number of rows to sample must be positive, got {n}")
        seed = self.random_state if random_state is None else random_state
        rng = np.random.default_rng(seed)
        return self.schema_.group_consistent(self._sample_typed(int(n), rng, first_row), first_row)

    def _sample_typed(self, n: int, rng: np.random.Generator, first_row: int) -> pd.DataFrame:
        """``n`` typed rows: the model values of ``_sample_raw``, typed by the schema."""
        return self.schema_.reverse(self._sample_raw(n, rng), rng, first_row)

    def save(self, path) -> None:
        joblib.dump(self, path)

    @staticmethod
    def load(path) -> "Synthesizer":
        model = joblib.load(path)
        if not isinstance(model, Synthesizer):
            raise InputError(f"{path} does not hold an advsynth generator")
        return model

    def _fit(self, df: pd.DataFrame, groups: np.ndarray | None = None) -> None:  # pragma: no cover - abstract
        """``groups``: the rows' groups of a group key (``Schema.split_groups``), for a generator that
        splits its own rows and must keep groups whole (the GMM's privacy guard)."""
        raise NotImplementedError

    def _sample_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:  # pragma: no cover
        raise NotImplementedError
