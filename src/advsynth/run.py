"""One adversarial run: read → fit → sample → detect → write, timing each phase.

This is the function behind ``advsynth run``; it holds no argument parsing and prints
nothing (the CLI does), so tests and benchmarks call it directly.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from . import __version__
from .config import RunConfig
from .detection import detect, null_on_real
from .errors import ConfigError, InputError, OutputError
from .io import describe_os_error, read_table, write_csv_atomic, write_text_atomic
from .protocol import DetectorConfig
from .resources import check_run_fits
from .metrics.evaluate import evaluate_extras, split_real
from .schema import infer_schema
from .synthesizers import make_generator
from .synthesizers.adversarial import Refiner, gmm_params, select_by_detector

log = logging.getLogger(__name__)


def load_real(cfg: RunConfig) -> pd.DataFrame:
    d = cfg.data
    return read_table(
        d.path, header=d.header, names=d.columns, na_values=d.na_values,
        skipinitialspace=d.skipinitialspace, sep=d.sep, decimal=d.decimal,
    )


@contextmanager
def _timed(timings: dict, phase: str):
    start = time.perf_counter()
    yield
    timings[phase] = round(time.perf_counter() - start, 3)
    log.info("%s took %.2f s", phase, timings[phase])


def _timed_call(func, *args, **kwargs):
    start = time.perf_counter()
    value = func(*args, **kwargs)
    return value, round(time.perf_counter() - start, 3)


def run(cfg: RunConfig, out_dir: str | Path | None = None, generator: str | None = None, *,
        null: tuple | None = None) -> dict:
    """Run the evaluation; returns the metrics dict and, with ``out_dir``, writes the run folder.

    ``null`` hands in a precomputed real-vs-real null, the ``(auc, ci, (y, scores))`` that
    ``advsynth.detection.null_on_real`` returns for this real table, seed and detector config
    (``advsynth bench`` computes it once per dataset and seed); the run then trains no null.
    The folder is assembled in a temporary sibling and renamed into place, so an
    interrupted run leaves no half-written folder; an existing folder is never replaced.
    """
    name = generator or cfg.generator
    out_path = Path(out_dir) if out_dir is not None else None
    if out_path is not None:
        if out_path.exists():
            raise InputError(f"output folder already exists: {out_path} (choose a new one; runs are never overwritten)")
        if not cfg.data.path.startswith("s3://") and Path(cfg.data.path).resolve().is_relative_to(out_path.resolve()):
            raise InputError(f"output folder {out_path} would contain the input {cfg.data.path}")
    detector = DetectorConfig.coerce(cfg.detector)  # the one protocol, parsed once
    if cfg.adversarial and name != "gmm":
        raise ConfigError(f"adversarial mode chooses the gmm's settings; generator {name!r} has none to choose")
    gen = make_generator(name, random_state=cfg.seed, **cfg.generator_params(name))
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with _timed(timings, "read"):
        real = load_real(cfg)
        schema = infer_schema(real, cfg.data.types)
    if cfg.target is not None and cfg.target not in real.columns:
        raise InputError(f"target column '{cfg.target}' is not in the data")
    n_rows = int(cfg.rows or len(real))
    check_run_fits(len(real), n_rows, len(real.columns))  # before any fitting: fail early, not by OOM
    train, holdout = split_real(real, cfg.seed, cfg.holdout)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The null needs only the real table: it trains on one core while the generator's
        # final EM fit (single-threaded) holds the other. Same trees for any thread count.
        null_job = None
        if detector.null and null is None:
            null_job = pool.submit(_timed_call, null_on_real, real, detector, schema=schema, seed=cfg.seed, nthread=1)
        selection = None
        if cfg.adversarial:  # reads the training rows only; the holdout stays unseen
            with _timed(timings, "adversarial_selection"):
                selection = select_by_detector(train, schema, detector, base_params=cfg.generator_params(name),
                                               seed=cfg.seed)
            gen = make_generator(name, random_state=cfg.seed, **gmm_params(selection.chosen, cfg.generator_params(name)))
        with _timed(timings, "fit"):
            gen.fit(train, schema)
        refinement = None
        with _timed(timings, "sample"):
            if cfg.adversarial == "refine" and selection.best_generator is not None:  # detector-guided rejection
                refiner = Refiner(detector, seed=cfg.seed).fit(
                    selection.validation_rows, selection.best_generator.sample(len(selection.validation_rows),
                                                                               random_state=cfg.seed + 2), schema)
                synthetic, refinement, unrefined = refiner.sample(gen, n_rows, seed=cfg.seed)
            else:
                synthetic = gen.sample(n_rows, random_state=cfg.seed)
        with _timed(timings, "detect"):
            result = detect(real, synthetic, detector, schema=schema, seed=cfg.seed, null=False)
        if null_job is not None:
            null, timings["null_overlapped"] = null_job.result()
        if detector.null and null is not None:
            result.with_null(*null)
    adversarial = None
    if selection is not None:
        with _timed(timings, "adversarial_holdout_detect"):  # real rows no fit or selection has seen
            holdout_auc = detect(holdout, synthetic, detector.replace(cv=0), schema=schema, seed=cfg.seed, null=False).roc_auc
        if refinement is not None:  # the same protocol on the draws before rejection: what refinement bought
            with _timed(timings, "adversarial_unrefined_detect"):
                refinement["fresh_auc_without_refinement"] = detect(
                    real, unrefined, detector.replace(cv=0), schema=schema, seed=cfg.seed, null=False).roc_auc
        adversarial = {**selection.to_dict(), "refinement": refinement, "fresh_auc": result.roc_auc, "fresh_holdout_auc": holdout_auc,
                       "fresh_auc_is": "the run's detector: all real rows vs fresh draws of the chosen settings "
                       "refitted on the training rows; fresh_holdout_auc: holdout rows only (never seen by any fit, selection or "
                       "refinement) vs fresh draws, a weaker detector for having fewer rows"}
    extras = None
    if cfg.extras:
        with _timed(timings, "extras"):
            extras = evaluate_extras(real, synthetic, schema, cfg.target, cfg.seed, split=(train, holdout),
                                     n_jobs=1)
    timings["total"] = round(time.perf_counter() - started, 3)  # wall time: the null overlaps the fit
    metrics = {
        "name": cfg.name,
        "generator": name,
        "generator_params": {k: v for k, v in gen.get_params().items()},
        "n_real": int(len(real)),
        "n_generator_train": int(len(train)),
        "n_holdout": int(len(holdout)),
        "n_synthetic": int(len(synthetic)),
        "seed": int(cfg.seed),
        "excluded_columns": [c.name for c in schema.columns if c.id_like],
        "passthrough_columns": schema.passthrough,
        "detector": result.to_dict(),
        **({"adversarial": adversarial} if adversarial is not None else {}),
        "timings_s": timings,
        "versions": {"advsynth": __version__, "python": platform.python_version()},
    }
    if hasattr(gen, "n_components_"):
        metrics["generator_fit"] = {
            "n_components": int(gen.n_components_),
            "pca_components": int(gen.pca_.n_components_),
            "criterion": gen.criterion,
            "criterion_by_k": {str(k): v for k, v in sorted(gen.selection_.items())},
            "k_at_edge": k_at_edge(gen.n_components_, gen.selection_),
        }
    if extras is not None:
        metrics.update({k: extras[k] for k in ("fidelity", "privacy", "utility")})
    if out_path is not None:
        write_run(out_path, schema.text_frame(synthetic), metrics, schema.to_json(), scores=result.scores_frame(),
                  config=dataclasses.asdict(cfg) | {"generator": name})
    return metrics


def k_at_edge(chosen: int, selection: dict) -> str | None:
    """"min" or "max" when the chosen number of components is the smallest or largest k swept
    (the criterion might keep improving beyond the range: widen it), else None."""
    ks = sorted(int(k) for k in selection)
    if len(ks) < 2:
        return None
    return "min" if int(chosen) == ks[0] else "max" if int(chosen) == ks[-1] else None


def write_run(out_path: Path, synthetic: pd.DataFrame, metrics: dict, schema_json: str, *,
              scores: pd.DataFrame | None = None, config: dict | None = None) -> None:
    """Write the run folder: synthetic.csv, metrics.json, schema.json, and scores.csv (held-out
    detector and null scores, for ROC curves) and config.json (the resolved config) when given.

    The files are staged in a hidden sibling folder and renamed into place in one step.
    ``rename`` onto a folder that holds files fails, so when two runs share an ``--out`` the
    second one to finish is refused and the first one's folder stays intact; on any failure
    (disk full, read-only, no permission) the staging folder and any parent folder made for
    it are removed: nothing partial is left.
    """
    out_path = Path(out_path)
    made = [p for p in (out_path.parent, *out_path.parent.parents) if not p.exists()]
    staging = None
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.", dir=out_path.parent))
        write_csv_atomic(staging / "synthetic.csv", synthetic)
        write_text_atomic(staging / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        write_text_atomic(staging / "schema.json", schema_json + "\n")
        if scores is not None:
            write_csv_atomic(staging / "scores.csv", scores)
        if config is not None:
            write_text_atomic(staging / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
        try:
            staging.rename(out_path)
        except OSError as err:
            if out_path.exists():
                raise OutputError(f"output folder {out_path} was created by someone else while this run was "
                                  "writing (two runs with the same --out?); it was left as it is and this "
                                  "run's results were not written") from None
            raise
    except BaseException as err:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in made:  # innermost first; only the ones this call created, and only if empty
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(err, OSError):
            raise OutputError(f"cannot write the run folder {out_path}: {describe_os_error(err)}") from None
        raise
