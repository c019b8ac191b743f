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

import inspect
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
    """SDV's single-table metadata (as a dict) for the schema's modelled columns."""
    columns = {}
    for spec in schema.modelled:
        entry = {"sdtype": _SDTYPES[spec.kind]}
        if spec.kind == "integer":
            entry["computer_representation"] = "Int64"
        elif spec.kind == "numeric":
            entry["computer_representation"] = "Float"
        columns[spec.name] = entry
    return {"columns": columns}


def _import_sdv(model: str):
    """The SDV class for ``model``; a missing extra or an unknown model is one line."""
    if model not in MODELS:
        raise ConfigError(f"unknown SDV model {model!r}; choose one of {', '.join('sdv:' + m for m in MODELS)}")
    try:
        import sdv.single_table as single_table
    except ImportError:
        raise ConfigError(f"generator 'sdv:{model}' needs SDV, which is not installed: {INSTALL_HINT}") from None
    return getattr(single_table, MODELS[model])


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

    name = "sdv"

    def __init__(self, model: str = "GaussianCopula", params: dict | None = None, random_state: int = 0):
        self.model = model
        self.params = params
        self.random_state = random_state

    @property
    def target(self) -> str:
        return f"sdv:{self.model}"

    def _resolve(self) -> type:
        cls = _import_sdv(self.model)
        check_params(self.target, cls, dict(self.params or {}), skip=("self", "metadata"))
        return cls

    def _build(self, cls: type, schema: Schema):
        metadata = _build_metadata(metadata_dict(schema))
        try:
            return cls(metadata, **dict(self.params or {}))
        except (TypeError, ValueError) as err:
            raise ConfigError(f"generator {self.target!r} cannot be built with {sorted(self.params or {})}: {err}") from None

    def fit(self, df: pd.DataFrame, schema: Schema | None = None) -> "SDVSynthesizer":
        seed_everything(self.random_state)
        return super().fit(df, schema)

    def _draw(self, n: int, seed) -> pd.DataFrame:
        seed_everything(seed)
        if hasattr(self.model_, "reset_sampling"):
            self.model_.reset_sampling()  # SDV otherwise continues its own sampling stream
        kwargs = {"num_rows": n}
        if "batch_size" in inspect.signature(self.model_.sample).parameters:
            kwargs["batch_size"] = n  # one batch: no progress bar loop, same rows for a given seed
        return self.model_.sample(**kwargs)
