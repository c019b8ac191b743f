"""The generator contract, checked: what every advsynth generator (built in or plug-in) must do.

In the spirit of scikit-learn's ``check_estimator``: ``check_generator(make, df)`` runs each
check on a fresh generator from ``make(**params)`` and a small real table, and raises
AssertionError naming the first broken rule. The rules are what the rest of advsynth relies
on: parameters declared once and validated before data is read, scikit-learn's parameter
conventions (``get_params``/``set_params``/``clone``, learned state only in ``_`` attributes
set by ``fit``), the input left untouched, typed output with the input's columns and dtypes,
determinism by seed, a one-line error before ``fit``, and persistence.
"""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd
from sklearn.base import clone

from ..errors import ConfigError, InputError
from ..schema import infer_schema
from .base import Synthesizer

WRONG = object()  # a value no constraint admits


def check_generator(make: Callable[..., Synthesizer], df: pd.DataFrame, *, n: int = 200) -> list[str]:
    """Run every check; returns the names of the checks that ran (all pass, or AssertionError)."""
    checks = [check_parameters_declared, check_parameters_validated, check_constructor_stores_parameters,
              check_not_fitted_error, check_fit_leaves_input_and_learns, check_sample_typed_like_input,
              check_deterministic, check_clone_and_persistence]
    for check in checks:
        check(make, df, n)
    return [c.__name__ for c in checks]


def check_parameters_declared(make, df, n) -> None:
    gen = make()
    names = set(inspect.signature(type(gen).__init__).parameters) - {"self"}
    missing = sorted(names - set(gen._parameter_constraints))
    assert not missing, f"{type(gen).__name__}: parameters without a declared constraint: {missing}"
    assert set(gen.get_params(deep=False)) == names, f"{type(gen).__name__}: get_params does not list its parameters"


def check_parameters_validated(make, df, n) -> None:
    """Every declared parameter refuses a value no constraint admits, as one ConfigError, before fit."""
    gen = make()
    for name in gen.get_params(deep=False):
        bad = clone(gen).set_params(**{name: WRONG})
        try:
            bad.check_params()
        except ConfigError as err:
            assert "\n" not in str(err) and name in str(err), f"{name}: the error is not one line naming it: {err}"
        else:
            raise AssertionError(f"{type(gen).__name__}: parameter {name!r} accepted {WRONG!r}")


def check_constructor_stores_parameters(make, df, n) -> None:
    gen = make()
    for name, value in gen.get_params(deep=False).items():
        assert getattr(gen, name) is value, f"{type(gen).__name__}.__init__ changed parameter {name!r}"
    assert not [a for a in vars(gen) if a.endswith("_") and not a.startswith("__")], \
        f"{type(gen).__name__}: the constructor set learned (``_``) attributes"


def check_not_fitted_error(make, df, n) -> None:
    try:
        make().sample(5)
    except InputError as err:
        assert "not fitted" in str(err)
    else:
        raise AssertionError("sample() before fit() did not raise InputError")


def check_fit_leaves_input_and_learns(make, df, n) -> None:
    before = df.copy(deep=True)
    gen = make()
    assert gen.fit(df, infer_schema(df)) is gen, "fit() does not return the generator"
    pd.testing.assert_frame_equal(df, before, obj="the input after fit()")
    assert getattr(gen, "schema_", None) is not None, "fit() left no schema_"


def check_sample_typed_like_input(make, df, n) -> None:
    out = make().fit(df, infer_schema(df)).sample(n)
    assert isinstance(out, pd.DataFrame) and len(out) == n, "sample(n) is not a frame of n rows"
    assert list(out.columns) == list(df.columns), "sample() changed the columns"
    for column in df.columns:
        assert out[column].dtype == df[column].dtype, f"column {column!r}: {out[column].dtype} vs {df[column].dtype}"


def check_deterministic(make, df, n) -> None:
    a = make(random_state=3).fit(df, infer_schema(df))
    b = make(random_state=3).fit(df, infer_schema(df))
    pd.testing.assert_frame_equal(a.sample(n), b.sample(n), obj="two fits with one seed")
    pd.testing.assert_frame_equal(a.sample(n, random_state=5), a.sample(n, random_state=5), obj="one seed, two draws")


def check_clone_and_persistence(make, df, n) -> None:
    gen = make().fit(df, infer_schema(df))
    fresh = clone(gen)
    assert fresh.get_params(deep=False) == gen.get_params(deep=False) and not hasattr(fresh, "schema_")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generator.joblib"
        gen.save(path)
        pd.testing.assert_frame_equal(Synthesizer.load(path).sample(n, random_state=1), gen.sample(n, random_state=1),
                                      obj="a saved and loaded generator")
