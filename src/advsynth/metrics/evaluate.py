"""One call for the fidelity, privacy and utility figures of a run (``metrics.json``'s extras).

The real table is split once into the rows the generator may see and a holdout it never
sees; privacy and utility are only honest against that holdout.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..config import DEFAULT_HOLDOUT
from ..errors import InputError
from .fidelity import fidelity_report
from .privacy import privacy_report
from .utility import tstr


def split_real(real: pd.DataFrame, seed: int, holdout: float = DEFAULT_HOLDOUT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded random split of the real table into (train, holdout)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    order = rng.permutation(len(real))
    n_hold = max(1, int(round(len(real) * holdout)))
    return real.iloc[np.sort(order[n_hold:])], real.iloc[np.sort(order[:n_hold])]


def evaluate_extras(real: pd.DataFrame, synthetic: pd.DataFrame, schema, target: str | None, seed: int, *,
                    split: tuple[pd.DataFrame, pd.DataFrame] | None = None, holdout: float = DEFAULT_HOLDOUT,
                    dcr_sample: int = 1000, dcr_train_sample: int = 10000, max_fidelity_rows: int = 50000,
                    max_utility_rows: int = 10000, n_jobs: int = 1) -> dict:
    """Fidelity, privacy and utility of one synthetic table: ``{"fidelity", "privacy", "utility", "timings_s"}``.

    Columns come from the schema (``advsynth.schema.Schema``): numeric/integer columns are
    numeric, categorical/boolean columns are categorical, ID-like columns are left out.
    The real table is split into train/holdout (``split_real``, seeded; or pass ``split``,
    the (train, holdout) pair the generator was actually fitted on, as ``advsynth run``
    does). Privacy compares the
    synthetic rows' distance to train with the holdout's (DCR on at most ``dcr_sample``
    queries against ``dcr_train_sample`` train rows); utility is TSTR/TRTR on ``target``
    (``None`` without a target), trained on at most ``max_utility_rows`` real-train and
    synthetic rows each (same size for both models, so the comparison stays fair; tested
    on the whole holdout). ``n_jobs`` is XGBoost's thread count for TSTR: 1 by default,
    because on a busy 2-core machine 2 OpenMP threads spin-wait (Adult: 0.8 s with 1
    thread, 9-29 s with 2; identical results). Fit the generator on ``split[0]`` only: a
    generator that saw the holdout rows makes DCR under-detect copying and TSTR optimistic.
    """
    modelled = schema.modelled  # ID-like, constant and all-missing columns say nothing here
    dates = [c.name for c in modelled if c.kind == "datetime"]
    numeric = [c.name for c in modelled if c.is_numeric]  # dates included: counts of their unit
    categorical = [c.name for c in modelled if not c.is_numeric]
    if target is not None and target not in numeric + categorical:
        raise InputError(f"target column '{target}' is not a modelled column of the schema")
    train, hold = split if split is not None else split_real(real, seed, holdout)
    # Every metric reads the typing layer's model values (Schema.model_frame): numbers as float64,
    # levels as bounded categoricals, so a free-text column costs 51 levels, not one per row.
    timings = {}
    t = time.perf_counter()
    fid_real = real if len(real) <= max_fidelity_rows else real.sample(max_fidelity_rows, random_state=seed)
    fid_syn = synthetic if len(synthetic) <= max_fidelity_rows else synthetic.sample(max_fidelity_rows, random_state=seed)
    fid_target = target if target in categorical else None
    # dates are compared as counts of their unit (KS depends on order only, so this is exact)
    fidelity = fidelity_report(schema.model_frame(fid_real), schema.model_frame(fid_syn), numeric, categorical,
                               target=fid_target)
    for name in dates:
        fidelity.get("marginals", {}).get(name, {})["kind"] = "datetime"
    timings["fidelity"] = round(time.perf_counter() - t, 3)
    train, hold, synthetic = (schema.model_frame(df) for df in (train, hold, synthetic))
    t = time.perf_counter()
    privacy = privacy_report(train, hold, synthetic, numeric, categorical, sample_size=dcr_sample,
                             random_state=seed, train_sample_size=dcr_train_sample)
    timings["privacy"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    # utility_report's content (TSTR), with the thread count exposed
    cap = lambda df: df if len(df) <= max_utility_rows else df.sample(max_utility_rows, random_state=seed)  # noqa: E731
    utility = ({"tstr": tstr(cap(train), hold, cap(synthetic), target, numeric, categorical, random_state=seed,
                             n_jobs=n_jobs)} if target else None)
    timings["utility"] = round(time.perf_counter() - t, 3)
    return {"fidelity": fidelity, "privacy": privacy, "utility": utility, "timings_s": timings}
