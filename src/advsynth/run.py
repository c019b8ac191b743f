"""One adversarial run: read → split → fit → sample → judge → write, timing each phase.

This is the function behind ``advsynth run``; it holds no argument parsing and prints
nothing (the CLI does), so tests and benchmarks call it directly. Each phase is a stage of
``advsynth.experiment`` (the same ones ``advsynth evaluate``, the bench and the containers
compose): the holdout split (``experiment.splits``), the seeded block draw
(``experiment.sampling``: a table of more than one block is streamed to disk, only the
detector's rows kept in memory), the verdict, the holdout-only AUC, the privacy adversary
and the extras (``experiment.stages``, ``metrics.evaluate``), the run folder
(``experiment.folder``).

Cores: the real-vs-real null trains on one thread beside the generator's fit; the detector
uses every core for a large table (``DetectorConfig.nthread`` 0), and on a small one trains on
one thread while the extras (fidelity, privacy, utility) run on the other.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import platform
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ._version import __version__
from .config import RunConfig, load_real
from .detection import balance_indices, null_on_real
from .errors import ConfigError, InputError
from .experiment.folder import write_run
from .experiment import sampling
from .experiment.splits import split_real
from .experiment.stages import (METRICS_SCHEMA_VERSION, NO_EXTRAS, detector_rows, generator_fit, holdout_only_auc,
                                verdict)
from .io import is_parquet, table_format
from .metrics.evaluate import evaluate_extras
from .protocol import DetectorConfig
from .resources import check_run_fits
from .schema import infer_schema
from .synthesizers import make_generator
from .synthesizers.adversarial import gmm_params, select_by_detector

log = logging.getLogger(__name__)

FRESH_AUC_IS = ("the run's detector: all real rows vs fresh draws of the chosen settings refitted on the training "
                "rows; fresh_holdout_auc: holdout rows only (never seen by any fit or selection) vs fresh "
                "draws, a weaker detector for having fewer rows")


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


def output_format(cfg: RunConfig) -> str:
    """The synthetic table's format: the config's ``output_format``, else Parquet for a Parquet input, else CSV."""
    chosen = getattr(cfg, "output_format", None)
    if chosen:
        return table_format("synthetic", chosen)
    return "parquet" if is_parquet(cfg.data.path) else "csv"


@dataclasses.dataclass
class _Drawn:
    """The synthetic rows a run holds: the whole table, or (streamed) the detector's rows with
    the file the rest went to."""

    rows: pd.DataFrame
    file: Path | None = None


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
    out_path = _checked_out(cfg, out_dir)
    detector = DetectorConfig.coerce(cfg.detector)  # the one protocol, parsed once
    if cfg.adversarial and name != "gmm":
        raise ConfigError(f"adversarial mode chooses the gmm's settings; generator {name!r} has none to choose")
    gen = make_generator(name, random_state=cfg.seed, **cfg.generator_params(name))  # bad parameters fail before reading
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with _timed(timings, "read"):
        real = load_real(cfg)
        schema = infer_schema(real, cfg.data.types)
    if cfg.target is not None and cfg.target not in real.columns:
        raise InputError(f"target column '{cfg.target}' is not in the data")
    n_rows = int(cfg.rows or len(real))
    _check_fits(real, n_rows, detector)
    train, holdout = split_real(real, cfg.seed, cfg.holdout, schema)
    with ThreadPoolExecutor(max_workers=1) as pool:
        null_job = _start_null(pool, real, detector, schema, cfg.seed) if detector.null and null is None else None
        selection = None
        if cfg.adversarial:  # reads the training rows only; the holdout stays unseen
            with _timed(timings, "adversarial_selection"):
                selection = select_by_detector(train, schema, detector, base_params=cfg.generator_params(name),
                                               seed=cfg.seed)
            gen = make_generator(name, random_state=cfg.seed, **gmm_params(selection.chosen, cfg.generator_params(name)))
        with _timed(timings, "fit"):
            gen.fit(train, schema)
        drawn = _draw(gen, cfg, n_rows, len(real), schema, detector, out_path, timings)
        # the detector's synthetic rows (balance's pick): also what the privacy adversary and the
        # pipeline's evaluation step judge, so every door judges the same rows
        judged = detector_rows(drawn.rows, len(real), n_rows, cfg.seed, detector.max_rows_per_class)
        # beside a detector on one thread only: a larger table's detector has every core, and the
        # extras' rows beside its matrices would only raise the peak memory
        beside = cfg.extras and detector.threads(detector.fit_rows(len(real), n_rows)) == 1
        extras_job = _start_extras(pool, cfg, real, drawn.rows, schema, (train, holdout), judged) if beside else None
        with _timed(timings, "detect"):
            # with a streamed table ``drawn.rows`` holds exactly the rows balance() would pick
            result = verdict(real, drawn.rows, detector, schema, cfg.seed,
                             null=null if null_job is None else lambda: _collect(null_job, timings))
        result.rows_available = {"real": int(len(real)), "synthetic": n_rows}
        if "null_overlapped" in timings:  # listed after the detector it ran beside
            timings["null_overlapped"] = timings.pop("null_overlapped")
        holdout_only = None
        if cfg.extras or selection is not None:
            with _timed(timings, "holdout_only_detect"):
                holdout_only = holdout_only_auc(holdout, judged, detector, schema, cfg.seed)
        extras = None
        if extras_job is not None:
            extras, timings["extras_overlapped"] = extras_job.result()
    if cfg.extras and extras_job is None:
        with _timed(timings, "extras"):
            extras = evaluate_extras(real, drawn.rows, schema, cfg.target, cfg.seed, split=(train, holdout), n_jobs=1,
                                     privacy_rows=judged)
    adversarial = None
    if selection is not None:
        adversarial = _adversarial_section(selection, result, holdout_only)
    timings["total"] = round(time.perf_counter() - started, 3)  # wall time: the null overlaps the fit
    metrics = _metrics(cfg, name, gen, real, train, holdout, n_rows, schema, result, adversarial, holdout_only, extras,
                       timings, len(drawn.rows))
    if out_path is not None:
        fmt = output_format(cfg)
        write_run(out_path, schema.text_frame(drawn.rows, fmt) if drawn.file is None else drawn.file, metrics,
                  schema.to_json(), scores=result.scores_frame(),
                  config=dataclasses.asdict(cfg) | {"generator": name}, fmt=fmt)
    return metrics


def _checked_out(cfg: RunConfig, out_dir) -> Path | None:
    """The run folder: new, and not holding the input."""
    if out_dir is None:
        return None
    out_path = Path(out_dir)
    if out_path.exists():
        raise InputError(f"output folder already exists: {out_path} (choose a new one; runs are never overwritten)")
    if not cfg.data.path.startswith("s3://") and Path(cfg.data.path).resolve().is_relative_to(out_path.resolve()):
        raise InputError(f"output folder {out_path} would contain the input {cfg.data.path}")
    return out_path


def _check_fits(real: pd.DataFrame, n_rows: int, detector: DetectorConfig) -> None:
    """Before any fitting: fail early, not by OOM. A streamed table holds only the detector's
    rows, the block being written and the ones the sampling threads draw ahead."""
    held = n_rows if n_rows <= sampling.SAMPLE_BLOCK_ROWS else min(
        n_rows, detector.max_rows_per_class + (1 + sampling.SAMPLE_WORKERS) * sampling.SAMPLE_BLOCK_ROWS)
    check_run_fits(len(real), n_rows, len(real.columns), held_synthetic=held)


def _start_null(pool: ThreadPoolExecutor, real: pd.DataFrame, detector: DetectorConfig, schema, seed: int) -> Future:
    """The null needs only the real table: it trains on one core while the generator's final EM
    fit (single-threaded) holds the other. Same trees for any thread count. (In a copy of this
    context, so ``experiment.trace`` sees the stage.)"""
    return pool.submit(contextvars.copy_context().run, _timed_call, null_on_real, real, detector, schema=schema,
                       seed=seed, nthread=1)


def _start_extras(pool: ThreadPoolExecutor, cfg: RunConfig, real: pd.DataFrame, synthetic: pd.DataFrame, schema,
                  split: tuple, judged: pd.DataFrame) -> Future:
    """Fidelity, privacy and utility need only the rows, not the verdict: they run on the other
    core while the detector (one thread on a small table) trains (the same call as after it)."""
    return pool.submit(contextvars.copy_context().run, _timed_call, evaluate_extras, real, synthetic, schema,
                       cfg.target, cfg.seed, split=split, n_jobs=1, privacy_rows=judged)


def _collect(null_job: Future, timings: dict) -> tuple:
    null, timings["null_overlapped"] = null_job.result()
    return null


def _draw(gen, cfg: RunConfig, n_rows: int, n_real: int, schema, detector: DetectorConfig, out_path: Path | None,
          timings: dict) -> _Drawn:
    """The synthetic rows: drawn whole (one block), or streamed block by block to a staging file
    of the run folder."""
    if n_rows <= sampling.SAMPLE_BLOCK_ROWS:
        with _timed(timings, "sample"):
            return _Drawn(gen.sample(n_rows, random_state=cfg.seed))
    keep = balance_indices(n_real, n_rows, cfg.seed, detector.max_rows_per_class)[1]
    rows, file = sampling.sample_streamed(gen, n_rows, cfg.seed, schema, output_format(cfg), out_path, timings, keep=keep)
    return _Drawn(rows, file=file)


def _adversarial_section(selection, result, holdout_only: dict | None) -> dict:
    """metrics.json's ``adversarial``: the search, and the fresh verdicts on the chosen settings."""
    return {**selection.to_dict(), "fresh_auc": result.roc_auc,
            "fresh_holdout_auc": (holdout_only or {}).get("roc_auc"), "fresh_auc_is": FRESH_AUC_IS}


def _metrics(cfg: RunConfig, name: str, gen, real, train, holdout, n_rows: int, schema, result, adversarial,
             holdout_only, extras, timings: dict, n_in_memory: int) -> dict:
    """metrics.json of a run."""
    metrics = {
        "schema_version": METRICS_SCHEMA_VERSION,
        "name": cfg.name,
        "generator": name,
        "generator_params": {k: v for k, v in gen.get_params().items()},
        "n_real": int(len(real)),
        "n_generator_train": int(len(train)),
        "n_holdout": int(len(holdout)),
        "n_synthetic": n_rows,
        "seed": int(cfg.seed),
        "excluded_columns": [c.name for c in schema.columns if c.id_like],
        "passthrough_columns": schema.passthrough,
        "detector": result.to_dict(),
        **({"adversarial": adversarial} if adversarial is not None else {}),
        **({"holdout_only": holdout_only} if holdout_only is not None else {}),
        "timings_s": timings,
        "versions": {"advsynth": __version__, "python": platform.python_version()},
    }
    fit = generator_fit(gen)
    if fit is not None:
        metrics["generator_fit"] = fit
    if n_in_memory < n_rows:  # streamed: the detector and the extras read this uniform subset
        metrics["n_synthetic_in_memory"] = int(n_in_memory)
    if extras is not None:
        metrics.update({k: extras[k] for k in ("fidelity", "privacy", "utility")})
    else:
        metrics["not_judged"] = dict(NO_EXTRAS)
    return metrics
