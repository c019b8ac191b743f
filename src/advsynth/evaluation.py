"""Judge any synthetic table (SDV, CTGAN, a vendor's...) against its real table: ``advsynth evaluate``.

The detector protocol is exactly ``advsynth run``'s (``detect`` with the same
``DetectorConfig``, schema and seed), so a table scores the same AUC whichever door it came
through. The output folder has a run folder's shape (metrics.json, scores.csv, schema.json,
config.json and the judged table as synthetic.csv), so ``advsynth report DIR`` works on it.

Input checks, decided here once:

* Columns are matched by name. The same names in another order are reordered to the real
  table's order, with a note in metrics.json (``input.reordered``): order carries no
  information about realism. Missing or extra columns are refused with one line naming them
  (and pairing them up as a likely rename when their counts agree): the detector cannot judge a
  table that lacks a column, and silently dropping an extra one would hide a difference.
* Categorical values that no real row has are not an error: they are counted per column
  (``input.unseen_levels``) and reach the detector as the ``__other__`` level, where they are a
  giveaway like any other.
* Values of the wrong type (text in a numeric or date column) are counted per column
  (``input.wrong_types``) and reach the detector as missing values (with the missing flag set).

Privacy and utility need real rows the generator never saw: they are computed only when a
holdout table is given (``--holdout``); fidelity always.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from pathlib import Path

import pandas as pd

from ._version import __version__
from .config import load_real
from .experiment.folder import write_run
from .experiment.splits import split_real
from .experiment.stages import METRICS_SCHEMA_VERSION, NO_EXTRAS, NO_HOLDOUT, holdout_only_auc, verdict
from .metrics.evaluate import evaluate_extras, fidelity_of
from .errors import InputError
from .protocol import DetectorConfig
from .schema import Schema, infer_schema

log = logging.getLogger(__name__)

_EXAMPLES = 5


def align_columns(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The synthetic table in the real table's column order; ``(frame, reordered)``.

    Missing, extra or renamed columns raise one InputError line."""
    real_cols, syn_cols = [str(c) for c in real.columns], [str(c) for c in synthetic.columns]
    if syn_cols == real_cols:
        return synthetic, False
    missing = [c for c in real_cols if c not in syn_cols]
    extra = [c for c in syn_cols if c not in real_cols]
    if not missing and not extra:
        if len(set(syn_cols)) != len(syn_cols):
            raise InputError("the synthetic table repeats a column name")
        return synthetic[real_cols], True
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"extra {', '.join(extra)}")
    hint = ""
    if missing and len(missing) == len(extra):
        hint = " (renamed? " + ", ".join(f"{a} -> {b}" for a, b in zip(missing, extra)) + ")"
    raise InputError(f"the synthetic table's columns differ from the real table's: {'; '.join(parts)}{hint}")


def input_checks(schema: Schema, synthetic: pd.DataFrame) -> dict:
    """Per column, synthetic values outside the real levels and values of the wrong type."""
    unseen, wrong = {}, {}
    n = max(len(synthetic), 1)
    for spec in schema.modelled:
        col = synthetic[spec.name]
        present = col.notna()
        if spec.is_numeric:
            if spec.kind == "datetime":
                parsed = pd.to_datetime(col, errors="coerce")
            else:  # read as the detector reads it (the real file's decimal mark)
                parsed = col if pd.api.types.is_numeric_dtype(col) else spec.transformer.transform(col)
            bad = present & pd.Series(parsed, index=col.index).isna()
            if bad.any():
                wrong[spec.name] = {"count": int(bad.sum()), "share": float(bad.sum() / n),
                                    "expected": spec.kind,
                                    "examples": [str(v) for v in pd.unique(col[bad])[:_EXAMPLES]]}
        else:
            levels = {str(v) for v in spec.categories}
            text = col[present].map(str)
            bad = ~text.isin(levels)
            if bad.any():
                unseen[spec.name] = {"count": int(bad.sum()), "share": float(bad.sum() / n),
                                     "examples": [str(v) for v in pd.unique(text[bad])[:_EXAMPLES]]}
    return {"unseen_levels": unseen, "wrong_types": wrong}


def evaluate_synthetic(real: pd.DataFrame, synthetic: pd.DataFrame, *, detector: DetectorConfig | dict | None = None,
                       types: dict | None = None, holdout: pd.DataFrame | None = None, target: str | None = None,
                       seed: int = 0, extras: bool = True, name: str = "evaluate",
                       generator: str = "external") -> tuple[dict, "object", Schema, pd.DataFrame]:
    """Judge ``synthetic`` against ``real`` with the detector protocol of ``advsynth run``.

    Returns ``(metrics, detection_result, schema, synthetic_aligned)``; ``metrics`` has the
    shape of a run's metrics.json. ``holdout``: real rows the generator never saw (enables
    privacy and utility); ``types``: per-column type overrides as in a config.
    """
    config = DetectorConfig.coerce(detector)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    synthetic, reordered = align_columns(real, synthetic)
    if holdout is not None:
        holdout, _ = align_columns(real, holdout)
    schema = infer_schema(real, types)
    if target is not None and target not in real.columns:
        raise InputError(f"target column '{target}' is not in the data")
    if holdout is not None:
        check_holdout(real, holdout, schema)
    checks = input_checks(schema, synthetic)
    synthetic = schema.numbers_from_text(synthetic)  # "1,5" in a decimal-comma table is 1.5 for every metric
    for column, info in checks["wrong_types"].items():
        log.warning("synthetic column '%s' holds %d value(s) that are not %s (e.g. %s): the detector sees them "
                    "as missing", column, info["count"], info["expected"], ", ".join(info["examples"][:3]))
    t = time.perf_counter()
    result = verdict(real, synthetic, config, schema, seed)
    timings["detect"] = round(time.perf_counter() - t, 3)
    metrics = {
        "schema_version": METRICS_SCHEMA_VERSION,
        "name": name,
        "generator": generator,
        "generator_params": {},
        "n_real": int(len(real)),
        "n_synthetic": int(len(synthetic)),
        "n_holdout": int(len(holdout)) if holdout is not None else 0,
        "seed": int(seed),
        "excluded_columns": [c.name for c in schema.columns if c.id_like],
        "detector": result.to_dict(),
        "input": {"reordered": reordered, **checks},
        "versions": {"advsynth": __version__, "python": platform.python_version()},
    }
    if extras:
        t = time.perf_counter()
        metrics.update(_extras(real, synthetic, holdout, schema, target, seed))
        timings["extras"] = round(time.perf_counter() - t, 3)
        if holdout is not None:
            t = time.perf_counter()
            metrics["holdout_only"] = holdout_only_auc(holdout, synthetic, config, schema, seed)
            timings["holdout_only_detect"] = round(time.perf_counter() - t, 3)
        else:
            metrics["not_judged"] = dict(NO_HOLDOUT)
    else:
        metrics["not_judged"] = dict(NO_EXTRAS)
    timings["total"] = round(time.perf_counter() - started, 3)
    metrics["timings_s"] = timings
    return metrics, result, schema, synthetic


def check_holdout(real: pd.DataFrame, holdout: pd.DataFrame, schema: Schema) -> None:
    """Refuse, in one line, a holdout that holds rows of ``real``: privacy would then compare the
    generator's training rows with themselves (the holdout's copy rate reads 100 %)."""
    from .metrics.privacy import holdout_overlap

    names = [c.name for c in schema.columns]
    numeric = {c.name for c in schema.columns if c.is_numeric and c.kind != "datetime"}
    dates = {c.name for c in schema.columns if c.kind == "datetime"}
    found = holdout_overlap(real, holdout, names, numeric, dates)
    if found["overlaps"]:
        raise InputError(f"the holdout overlaps --real: {found['shared']:,} of its {found['n_holdout']:,} rows "
                         f"({found['rate']:.1%}) are rows of --real, where duplicates within --real explain "
                         f"{found['expected']:.1%}; the holdout must be real rows the generator never saw")


def _extras(real, synthetic, holdout, schema: Schema, target, seed) -> dict:
    """Fidelity always (the stage ``advsynth run`` uses: real rows against the synthetic rows, the
    real-vs-real reference from the real rows' two parts); privacy and utility only against real
    rows the generator never saw."""
    if holdout is not None:
        extras = evaluate_extras(pd.concat([real, holdout], ignore_index=True), synthetic, schema, target, seed,
                                 split=(real, holdout))
        return {k: extras[k] for k in ("fidelity", "privacy", "utility")}
    # no holdout: the real-vs-real reference compares two seeded random parts of --real
    return {"fidelity": fidelity_of(real, synthetic, schema, target, seed, reference=split_real(real, seed, schema=schema),
                                    basis="two random parts of --real (20 % vs 80 %)")}


def evaluate_paths(real_path: str | None, synthetic_path: str, out_dir: str | Path, *, config_path: str | None = None,
                   holdout_path: str | None = None, target: str | None = None, cv: int | None = None,
                   seed: int | None = None, extras: bool = True) -> dict:
    """``advsynth evaluate``: read the tables, judge, write the run-shaped folder; returns metrics."""
    from .config import DataConfig, RunConfig, load_config
    from .io import read_table

    out_path = Path(out_dir)
    if out_path.exists():
        raise InputError(f"output folder already exists: {out_path} (choose a new one; runs are never overwritten)")
    if config_path:
        cfg = load_config(config_path)
        if real_path:  # --real overrides the config's table, read with the config's options
            cfg.data = dataclasses.replace(cfg.data, path=str(real_path))
    elif real_path:
        cfg = RunConfig(data=DataConfig(path=str(real_path)), name=Path(str(real_path)).stem)
    else:
        raise InputError("give --real REAL (or a --config whose data is the real table)")
    if seed is not None:
        cfg.seed = seed
    if target is not None:  # --target wins over the config's, and config.json records the one used
        cfg.target = target
    detector = DetectorConfig.coerce(cfg.detector)
    if cv is not None:
        detector = detector.replace(cv=cv)
    real = load_real(cfg)
    # a synthetic table has a header naming the real columns and the real table's missing
    # markers; its cells stay text here and the real table's schema types them, so a value
    # of the wrong type is counted per column instead of being read as a missing marker
    synthetic = read_table(synthetic_path, na_values=cfg.data.na_values, skipinitialspace=cfg.data.skipinitialspace,
                           decimal=cfg.data.decimal, parse=False)
    holdout = None
    if holdout_path:
        holdout = read_table(holdout_path, header=cfg.data.header, names=cfg.data.columns, na_values=cfg.data.na_values,
                           skipinitialspace=cfg.data.skipinitialspace, sep=cfg.data.sep)
    metrics, result, schema, synthetic = evaluate_synthetic(
        real, synthetic, detector=detector, types=cfg.data.types, holdout=holdout, target=cfg.target,
        seed=cfg.seed, extras=extras and cfg.extras, name=cfg.name)
    metrics["synthetic_path"] = str(synthetic_path)
    config = dataclasses.asdict(cfg) | {"generator": "external", "detector": detector.to_dict(),
                                        "synthetic_path": str(synthetic_path), "holdout_path": holdout_path}
    write_run(out_path, synthetic, metrics, schema.to_json(), scores=result.scores_frame(), config=config)
    return metrics
