"""Generators from outside advsynth, named by import path: ``mypkg.models:MySynth``.

Any class with scikit-learn style ``fit(df)`` / ``sample(n)`` can be judged by advsynth.
``PluginSynthesizer`` wraps it in advsynth's ``Synthesizer`` contract so that ``advsynth
run`` and ``advsynth bench`` treat it like the built-in generators: it is fitted on the
same training rows (the holdout stays unseen), its output is checked against the real
table's columns and typed by the same schema (integers, bounds, levels, ID columns), and
the same seed reaches it when its constructor takes ``random_state``.

The foreign class sees the modelled columns of the real table as advsynth read them (no
ID-like columns: nothing may memorise identifiers) and must return those columns; extra,
missing, non-numeric or unknown-level output is one clear line naming the column, never a
silently repaired table: a plug-in's mistakes must not flatter or hurt its score unseen.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..schema import Schema, datetime_to_count, infer_schema, type_output
from .base import Synthesizer

log = logging.getLogger(__name__)

# module.path:Attr (Attr may be nested: Outer.Inner); "sdv:Model" is the SDV adapter's form
_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_warned_unseeded: set[str] = set()


def is_plugin(name: str) -> bool:
    """True for a generator given by import path (``pkg.mod:Class``) or as ``sdv:Model``."""
    return isinstance(name, str) and ":" in name


def check_import_path(key: str, value: str) -> str:
    """Refuse a generator name that is neither a plain name nor ``module:Class`` (one line)."""
    if not _IMPORT_PATH.match(value):
        raise ConfigError(f"{key}: {value!r} is not an import path of the form 'package.module:ClassName'")
    return value


def load_class(path: str) -> type:
    """The class named by ``package.module:ClassName``; every way this fails is one ConfigError."""
    check_import_path("generator", path)
    module_name, _, attr_path = path.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        missing = err.name or module_name
        raise ConfigError(f"generator {path!r}: module {missing!r} not found (is it installed or on PYTHONPATH?)") from None
    except Exception as err:  # the plug-in's module itself fails on import
        raise ConfigError(f"generator {path!r}: importing {module_name!r} failed: {type(err).__name__}: {err}") from None
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"generator {path!r}: {module_name!r} has no attribute {attr_path!r}")
        obj = getattr(obj, part)
    if not inspect.isclass(obj):
        raise ConfigError(f"generator {path!r} is a {type(obj).__name__}, not a class with fit(df) and sample(n)")
    lacking = [m for m in ("fit", "sample") if not callable(getattr(obj, m, None))]
    if lacking:
        raise ConfigError(f"generator {path!r} is not a generator: the class has no {' or '.join(lacking)} method "
                          "(advsynth needs fit(df) and sample(n))")
    return obj


def _accepts(func, name: str) -> bool:
    """Does ``func`` take a parameter called ``name`` (explicitly, not through **kwargs)?"""
    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins / C extensions without a signature
        return False


def check_params(path: str, cls: type, params: dict, *, skip: tuple[str, ...] = ()) -> None:
    """Unknown constructor parameters are a ConfigError naming the valid ones, not a TypeError later."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    valid = [n for n, p in sig.parameters.items() if n not in skip and p.kind is not p.VAR_POSITIONAL]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ConfigError(f"generator {path!r} has no parameter(s) {', '.join(unknown)}; "
                          f"it takes {', '.join(valid) or 'none'}")


class PluginSynthesizer(Synthesizer):
    """A foreign ``fit(df)`` / ``sample(n)`` class behind advsynth's ``Synthesizer`` contract.

    ``target`` is the import path, ``params`` the class's constructor arguments. The seed is
    passed as ``random_state`` to the constructor (and to ``sample`` when it takes one); a
    class that takes none is warned about once: its determinism is its own.
    """

    _parameter_constraints = {**Synthesizer._parameter_constraints, "target": [str], "params": [dict, None]}

    name = "plugin"

    def __init__(self, target: str = "", params: dict | None = None, random_state: int = 0):
        self.target = target
        self.params = params
        self.random_state = random_state

    # -- the foreign model: built, fitted, drawn from (SDV's adapter overrides these four) ------

    def _resolve(self) -> type:
        cls = load_class(self.target)
        check_params(self.target, cls, dict(self.params or {}))
        return cls

    def _build(self, cls: type, schema: Schema):
        kwargs = dict(self.params or {})
        if _accepts(cls, "random_state"):
            kwargs["random_state"] = self.random_state
        elif self.target not in _warned_unseeded:
            _warned_unseeded.add(self.target)
            log.warning("generator %s takes no random_state: advsynth cannot seed it, so its output is only as "
                        "deterministic as the class makes itself", self.target)
        try:
            return cls(**kwargs)
        except Exception as err:  # the class refuses its parameters: the config's to fix (--debug shows why)
            raise ConfigError(f"generator {self.target!r} refused its parameters {sorted(kwargs)}: "
                              f"{type(err).__name__}: {' '.join(str(err).split())}") from err

    def _fit_model(self, frame: pd.DataFrame) -> None:
        self.model_.fit(frame)

    def _draw(self, n: int, seed) -> object:
        if _accepts(self.model_.sample, "random_state"):
            return self.model_.sample(n, random_state=seed)
        return self.model_.sample(n)

    # -- the Synthesizer contract ------------------------------------------------------------

    def fit(self, df: pd.DataFrame, schema: Schema | None = None) -> "PluginSynthesizer":
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"expected a pandas DataFrame, got {type(df).__name__}")
        self.schema_ = schema or infer_schema(df)
        self.schema_.validate_frame(df)
        self.model_ = self._build(self._resolve(), self.schema_)
        self._fit_model(self._training_frame(df))
        return self

    def sample(self, n: int, random_state: int | None = None, first_row: int = 0) -> pd.DataFrame:
        if not hasattr(self, "model_"):
            raise InputError(f"{type(self).__name__} is not fitted: call fit() first")
        if int(n) < 1:
            raise InputError(f"number of rows to sample must be positive, got {n}")
        seed = self.random_state if random_state is None else random_state
        out = self._draw(int(n), seed)
        typed = type_output(self._raw_values(out, int(n)), self.schema_, first_row=first_row)
        return self.schema_.group_consistent(typed, first_row)

    def _training_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """What the foreign class learns from: the modelled columns as read, fresh index."""
        return df[[c.name for c in self.schema_.modelled]].reset_index(drop=True)

    def _raw_values(self, out, n: int) -> pd.DataFrame:
        """The plug-in's output as ``type_output`` reads it, or one line saying what is wrong."""
        who = f"generator {self.target!r}"
        if not isinstance(out, pd.DataFrame):
            raise InputError(f"{who}: sample({n}) returned a {type(out).__name__}, not a pandas DataFrame")
        if len(out) != n:
            raise InputError(f"{who}: sample({n}) returned {len(out)} rows")
        if out.columns.duplicated().any():
            raise InputError(f"{who} returned duplicate columns {sorted(set(out.columns[out.columns.duplicated()]))}")
        expected = [c.name for c in self.schema_.modelled]
        ids = [c.name for c in self.schema_.columns if c.id_like]
        missing = [c for c in expected if c not in out.columns]
        extra = [c for c in out.columns if c not in expected and c not in ids]
        if missing or extra:
            raise InputError(f"{who} returned the wrong columns: missing {missing}, unexpected {extra}")
        out = out.reset_index(drop=True)
        raw = {}
        for spec in self.schema_.modelled:
            col = out[spec.name]
            if spec.kind == "datetime":
                values = datetime_to_count(col, spec.unit)
            elif spec.is_numeric:
                values = pd.to_numeric(col.astype(object), errors="coerce").astype(float)
            else:
                values = _level_text(col.astype(object).where(col.notna(), None), spec)
                if values is None:
                    bad = [v for v in pd.unique(col[col.notna()].astype(object)) if v not in set(spec.categories)]
                    raise InputError(f"{who} returned values outside the real levels of column '{spec.name}': "
                                     f"{[str(v) for v in bad[:3]]}")
            if spec.is_numeric:
                broken = values.isna() & col.notna().to_numpy()
                if broken.any():
                    raise InputError(f"{who} returned values that are not {spec.kind} in column '{spec.name}': "
                                     f"{[str(v) for v in col[broken.to_numpy()].unique()[:3]]}")
                values = values.to_numpy(dtype=float)
                if np.isinf(values).any():
                    raise InputError(f"{who} returned infinite values in column '{spec.name}'")
            raw[spec.name] = values
        return pd.DataFrame(raw)


def _level_text(values: pd.Series, spec) -> pd.Series | None:
    """A categorical column's values as the level text the typing layer reads (``1`` and ``1.0`` are
    the level ``1``, ``True`` is ``True``), or None when a value is no real level. A column with a
    tail of rare values (``spec.tail``) keeps a value outside its kept levels as its own text: it is
    one of those rare real values."""
    categories = pd.Index(spec.categories, dtype=object)
    position = categories.get_indexer(values.to_numpy(dtype=object))
    text = np.array([str(v) for v in spec.categories] + [None], dtype=object)[position]
    unknown = (position < 0) & values.notna().to_numpy()
    if unknown.any():
        if not spec.tail:
            return None
        text[unknown] = [str(v) for v in values[unknown]]
    return pd.Series(text, index=values.index, dtype=object)
