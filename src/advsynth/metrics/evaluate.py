"""One call for the fidelity, privacy and utility figures of a run (``metrics.json``'s extras).

The real table is split once into the rows the generator may see and a holdout it never
sees; privacy and utility are only honest against that holdout.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..config import DEFAULT_HOLDOUT
from ..experiment.splits import split_real
from ..experiment.trace import stage
from ..errors import InputError
from .fidelity import associations, column_charts, fidelity_report, marginals
from .privacy import identifier_columns, privacy_report
from .utility import tstr


@stage("privacy")
def privacy_of(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema, seed: int) -> dict:
    """The privacy adversary (``privacy_report``) on the schema's modelled columns, read as model values:
    ``train`` the rows the generator was fitted on, ``holdout`` real rows it never saw."""
    numeric, categorical, dates = modelled_kinds(schema)
    frames = [_privacy_frame(df, schema) for df in (train, holdout, synthetic)]
    # group keys are regenerated, not modelled, but a generator (anyone's) could still copy them
    keys = [c.name for c in schema.columns if c.group and all(c.name in df.columns for df in frames)]
    return privacy_report(*frames, numeric, categorical, random_state=seed, datetime=dates,
                          identifiers=identifier_columns(frames[0], categorical) + keys)


def modelled_kinds(schema) -> tuple[list[str], list[str], list[str]]:
    """The modelled columns as the privacy adversary compares them: (numeric, categorical, datetime)."""
    modelled = schema.modelled
    return ([c.name for c in modelled if c.is_numeric and c.kind != "datetime"],
            [c.name for c in modelled if not c.is_numeric],
            [c.name for c in modelled if c.kind == "datetime"])


def _privacy_frame(df: pd.DataFrame, schema) -> pd.DataFrame:
    """Model values for numbers and dates; categorical columns and group keys as their own values,
    because model values merge the rare tail of a many-level column into one level (two different
    case numbers would be one value, and a real one indistinguishable from an invented one)."""
    out = schema.model_frame(df)
    for spec in schema.columns:
        if (spec.is_modelled and not spec.is_numeric) or (spec.group and spec.name in df.columns):
            out[spec.name] = df[spec.name].to_numpy(dtype=object)
    return out


def report_figures(real_m: pd.DataFrame, synthetic_m: pd.DataFrame, schema, reference: tuple[pd.DataFrame, pd.DataFrame],
                   seed: int, *, max_rows: int = 50000, basis: str) -> dict:
    """What the report draws, computed once in the fidelity stage so the report never re-reads the
    real table: ``columns_chart`` (every modelled column's real vs synthetic shares on shared bins or
    top levels), ``associations`` (all-type matrices, real and synthetic) and ``reference``.

    ``reference`` is the (train, holdout) pair of raw real rows. Its ``marginals`` are each column's
    KS/TVD between the holdout and the training rows: what a second real sample scores, the value a
    headline is read against (mostlyai-qa's "97.4 % (98.2 %)"). A distance's noise floor depends on
    the sample sizes, so ``synthetic_marginals`` are the same statistics for a synthetic sample of the
    holdout's size against the same training rows: two numbers measured alike, directly comparable
    (``fidelity.marginals`` keeps the whole-table figure). ``real_m`` / ``synthetic_m`` are model
    frames (``Schema.model_frame``).
    """
    kinds = {c.name: c.kind for c in schema.modelled}
    numeric = [c for c, k in kinds.items() if k in ("numeric", "integer", "datetime")]
    categorical = [c for c in kinds if c not in numeric]
    cap = lambda df: df if len(df) <= max_rows else df.sample(max_rows, random_state=seed)  # noqa: E731
    train_m, hold_m = (schema.model_frame(cap(df)) for df in reference)
    matched = synthetic_m if len(synthetic_m) <= len(hold_m) else synthetic_m.sample(len(hold_m), random_state=seed)
    ref_marg = marginals(train_m, hold_m, numeric, categorical)
    syn_marg = marginals(train_m, matched, numeric, categorical)

    def means(marg: dict) -> dict:
        out = {}
        for stat in ("ks", "tvd"):
            kept = [m["value"] for m in marg.values() if m["statistic"] == stat and m["value"] is not None]
            out[f"mean_{stat}"] = float(np.mean(kept)) if kept else None
        return out

    assoc = associations(real_m, synthetic_m, kinds, reference=(train_m, hold_m, matched), seed=seed)
    rounded = lambda marg: {c: (None if m["value"] is None else round(m["value"], 6)) for c, m in marg.items()}  # noqa: E731
    return {
        "columns_chart": column_charts(real_m, synthetic_m, kinds),
        "associations": assoc,
        "reference": {
            "basis": basis, "n_rows": [int(len(train_m)), int(len(hold_m))], "n_synthetic_matched": int(len(matched)),
            "is": "marginals: each statistic between two samples of real rows (what a faithful generator can at best "
                  "score); synthetic_marginals: the same for a synthetic sample of the second sample's size",
            "marginals": rounded(ref_marg), "synthetic_marginals": rounded(syn_marg),
            "summary": {**means(ref_marg), "mean_abs_association_diff": assoc["reference_mean_abs_diff"],
                        **{f"synthetic_{k}": v for k, v in means(syn_marg).items()},
                        "synthetic_mean_abs_association_diff": assoc["matched_mean_abs_diff"]},
        },
    }


def _columns(schema) -> tuple[list[str], list[str], list[str]]:
    """(dates, numeric, categorical) modelled columns; dates are numeric too (counts of their unit,
    and KS depends on order only, so this is exact). ID-like, constant and all-missing columns say nothing."""
    modelled = schema.modelled
    return ([c.name for c in modelled if c.kind == "datetime"], [c.name for c in modelled if c.is_numeric],
            [c.name for c in modelled if not c.is_numeric])


@stage("fidelity")
def fidelity_of(real: pd.DataFrame, synthetic: pd.DataFrame, schema, target: str | None, seed: int, *,
                reference: tuple[pd.DataFrame, pd.DataFrame], basis: str, max_rows: int = 50000) -> dict:
    """Fidelity of ``synthetic`` to ``real``, each capped at ``max_rows`` seeded rows, on the typing
    layer's model values (numbers as float64, levels as bounded categoricals, so a free-text column
    costs 51 levels, not one per row); ``reference``: two real samples for the real-vs-real
    figures (``report_figures``), described by ``basis``."""
    dates, numeric, categorical = _columns(schema)
    cap = lambda df: df if len(df) <= max_rows else df.sample(max_rows, random_state=seed)  # noqa: E731
    real_m, syn_m = schema.model_frame(cap(real)), schema.model_frame(cap(synthetic))
    fidelity = fidelity_report(real_m, syn_m, numeric, categorical, target=target if target in categorical else None)
    for name in dates:
        fidelity.get("marginals", {}).get(name, {})["kind"] = "datetime"
    fidelity.update(report_figures(real_m, syn_m, schema, reference, seed, max_rows=max_rows, basis=basis))
    return fidelity


@stage("utility")
def utility_of(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema, target: str | None,
               seed: int, *, max_rows: int = 10000, n_jobs: int = 1) -> dict | None:
    """TSTR against TRTR on ``target`` (None without one), tested on the whole holdout; both models
    train on at most ``max_rows`` rows, the same number, so the comparison stays fair."""
    if not target:
        return None
    _, numeric, categorical = _columns(schema)
    train, holdout, synthetic = (schema.model_frame(df) for df in (train, holdout, synthetic))
    cap = lambda df: df if len(df) <= max_rows else df.sample(max_rows, random_state=seed)  # noqa: E731
    return {"tstr": tstr(cap(train), holdout, cap(synthetic), target, numeric, categorical, random_state=seed,
                         n_jobs=n_jobs)}


@stage("extras")
def evaluate_extras(real: pd.DataFrame, synthetic: pd.DataFrame, schema, target: str | None, seed: int, *,
                    split: tuple[pd.DataFrame, pd.DataFrame] | None = None, holdout: float = DEFAULT_HOLDOUT,
                    max_fidelity_rows: int = 50000, max_utility_rows: int = 10000, n_jobs: int = 1,
                    privacy_rows: pd.DataFrame | None = None) -> dict:
    """Fidelity, privacy and utility of one synthetic table: ``{"fidelity", "privacy", "utility", "timings_s"}``.

    The real table is split into train/holdout (``split_real``, seeded; or pass ``split``,
    the (train, holdout) pair the generator was actually fitted on, as ``advsynth run``
    does). Privacy is the second adversary (``privacy_of``: members are the training rows,
    non-members the holdout, bounded samples); utility is TSTR/TRTR on ``target``
    (``utility_of``). ``n_jobs`` is XGBoost's thread count for TSTR: 1 by default, because
    on a busy 2-core machine 2 OpenMP threads spin-wait (identical results). Fit the
    generator on ``split[0]`` only: a generator that saw the holdout rows makes DCR
    under-detect copying and TSTR optimistic. ``privacy_rows``: the synthetic rows the
    privacy adversary judges, when not all of ``synthetic`` (``advsynth run`` passes the
    detector's rows, which the pipeline's evaluation step also has).
    """
    _, numeric, categorical = _columns(schema)
    if target is not None and target not in numeric + categorical:
        raise InputError(f"target column '{target}' is not a modelled column of the schema")
    train, hold = split if split is not None else split_real(real, seed, holdout, schema)
    timings = {}
    t = time.perf_counter()
    fidelity = fidelity_of(real, synthetic, schema, target, seed, reference=(train, hold), max_rows=max_fidelity_rows,
                           basis="holdout vs the generator's training rows")
    timings["fidelity"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    privacy = privacy_of(train, hold, synthetic if privacy_rows is None else privacy_rows, schema, seed)
    timings["privacy"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    utility = utility_of(train, hold, synthetic, schema, target, seed, max_rows=max_utility_rows, n_jobs=n_jobs)
    timings["utility"] = round(time.perf_counter() - t, 3)
    return {"fidelity": fidelity, "privacy": privacy, "utility": utility, "timings_s": timings}
