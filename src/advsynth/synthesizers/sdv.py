"""SDV's single-table synthesizers as advsynth generators: ``sdv:GaussianCopula``, ``sdv:CTGAN``, …

Adapters only: SDV is never a core dependency (it pulls torch and, in SDV 2.0, pins
pandas<3); it comes with the optional extra ``advsynth[sdv]`` and is imported only when a
run asks for it. The adapter is a ``PluginSynthesizer`` whose model is built with SDV
metadata instead of plain keyword arguments.

Metadata comes from advsynth's schema, not from SDV's own detection: advsynth has already
typed every column (the config's ``data.types`` included), and the detector judges the
output against that schema, so SDV must model the same kinds: numeric and integer columns
as ``numerical``, categorical and boolean columns as ``categorical`` (any level, exactly
reproduced), datetimes as ``datetime``. ID-like columns are not modelled by any advsynth
generator, so SDV never sees them either.

Seeding: SDV draws from numpy's and torch's global generators; the adapter seeds both (and
``random``) from the run's seed before fitting and before sampling, so the same config and
seed give the same rows on the same machine and library versions.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..schema import Schema
from .plugins import PluginSynthesizer, check_params

# advsynth's name → SDV's class in sdv.single_table
MODELS = {
    "GaussianCopula": "GaussianCopulaSynthesizer",
    "CTGAN": "CTGANSynthesizer",
    "TVAE": "TVAESynthesizer",
    "CopulaGAN": "CopulaGANSynthesizer",
}
INSTALL_HINT = "pip install 'advsynth[sdv]'"
_SDTYPES = {"numeric": "numerical", "integer": "numerical", "categorical": "categorical",
            "boolean": "categorical", "datetime": "datetime"}
TABLE = "table"


def metadata_dict(schema: Schema) -> dict:
    """SDV's single-table metadata (as a dict) for the schema's modelled columns.

    Only ``sdtype`` is given: the other column keys changed between SDV 1.x and 2.x
    (``computer_representation`` is refused by 2.0), and advsynth's own typing rounds and
    bounds the output afterwards in any case.
    """
    return {"columns": {spec.name: {"sdtype": _SDTYPES[spec.kind]} for spec in schema.modelled}}


def _import_sdv(model: str) -> tuple[type, bool]:
    """The SDV class for ``model`` and whether it takes and returns tables by name (SDV ≥ 2:
    ``fit({name: df})``, ``sample(n) → {name: df}``; SDV 1.x: plain DataFrames).
    A missing extra or an unknown model is one line."""
    if model not in MODELS:
        raise ConfigError(f"unknown SDV model {model!r}; choose one of {', '.join('sdv:' + m for m in MODELS)}")
    try:
        import sdv
        import sdv.single_table as single_table
    except ImportError:
        raise ConfigError(f"generator 'sdv:{model}' needs SDV, which is not installed: {INSTALL_HINT}") from None
    return getattr(single_table, MODELS[model]), int(sdv.__version__.split(".")[0]) >= 2


def _build_metadata(meta: dict):
    """SDV metadata from the dict: the 1.x/2.x ``Metadata`` API when present, else ``SingleTableMetadata``."""
    import sdv.metadata as sdv_metadata

    if hasattr(sdv_metadata, "Metadata"):
        return sdv_metadata.Metadata.load_from_dict({"tables": {TABLE: meta}})
    return sdv_metadata.SingleTableMetadata.load_from_dict(meta)  # pragma: no cover - SDV < 1.16


def seed_everything(seed: int) -> None:
    """Seed the global generators SDV and its models draw from (numpy, random, torch)."""
    seed = int(seed) % 2**32
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # GaussianCopula needs no torch
        return
    torch.manual_seed(seed)


class SDVSynthesizer(PluginSynthesizer):
    """An SDV single-table synthesizer (``model``: GaussianCopula, CTGAN, TVAE, CopulaGAN) with
    ``params`` passed to its constructor (e.g. ``epochs`` for CTGAN)."""

    _parameter_constraints = {**PluginSynthesizer._parameter_constraints, "model": [str]}

    name = "sdv"

    def __init__(self, model: str = "GaussianCopula", params: dict | None = None, random_state: int = 0):
        self.model = model
        self.params = params
        self.random_state = random_state

    @property
    def target(self) -> str:
        return f"sdv:{self.model}"

    def _resolve(self) -> type:
        """The SDV class, its parameters checked (at construction too: no learned state set here)."""
        cls, _ = _import_sdv(self.model)
        check_params(self.target, cls, dict(self.params or {}), skip=("self", "metadata"))
        return cls

    def _build(self, cls: type, schema: Schema):
        self.tables_api_ = _import_sdv(self.model)[1]  # SDV 2's multi-table style fit/sample
        metadata = _build_metadata(metadata_dict(schema))
        try:
            return cls(metadata, **dict(self.params or {}))
        except Exception as err:  # SDV's own parameter checks (SynthesizerInputError, ...): the config's fault
            message = " ".join(str(err).split())
            raise ConfigError(f"generator {self.target!r} refused its parameters: {message}") from err

    def fit(self, df: pd.DataFrame, schema: Schema | None = None) -> "SDVSynthesizer":
        seed_everything(self.random_state)
        return super().fit(df, schema)

    def _fit_model(self, frame: pd.DataFrame) -> None:
        self.model_.fit({TABLE: frame} if self.tables_api_ else frame)

    def _draw(self, n: int, seed) -> pd.DataFrame:
        seed_everything(seed)
        if hasattr(self.model_, "reset_sampling"):
            self.model_.reset_sampling()  # SDV otherwise continues its sampling stream from the last draw
        if hasattr(self.model_, "_set_random_state"):
            # SDV samples from its own generators, seeded with a fixed constant unless told otherwise;
            # this (SDV 1.x/2.x) is the only way to give it the run's seed
            self.model_._set_random_state(int(seed) % 2**32)
        out = self.model_.sample(num_rows=n)
        return out[TABLE] if self.tables_api_ and isinstance(out, dict) else out
