"""One adversarial run: read → fit → sample → detect → write, timing each phase.

This is the function behind ``advsynth run``; it holds no argument parsing and prints
nothing (the CLI does), so tests and benchmarks call it directly.

Large tables
------------
Synthetic rows are drawn in blocks of ``SAMPLE_BLOCK_ROWS``, each from its own seed
(``block_seed``: block 0 uses the run's seed itself, block b >= 1 the b-th child of
``numpy.random.SeedSequence(seed)``), so the rows depend on the seed alone, not on how many
blocks are held in memory at once nor on which machine draws which block (a SageMaker
sampling job split over instances writes the same rows). A table of at most one block is
exactly ``generator.sample(n, random_state=seed)``. Each block is typed and written to
``synthetic.csv`` (or ``.parquet``) as it is drawn; only the synthetic rows the detector uses
(``DetectorConfig.max_rows_per_class``, chosen exactly as ``detection.balance`` would) stay in
memory, so memory is bounded by the block and the cap, not by ``--rows``. ``SAMPLE_WORKERS``
threads draw the next blocks while one is written (at most that many wait in memory); the
rows do not depend on it.

Cores: the real-vs-real null trains on one thread beside the generator's (single-threaded)
fit; the detector then uses every core for a large table (``DetectorConfig.nthread`` 0).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from . import __version__
from .config import RunConfig
from .detection import balance_indices, detect, null_on_real
from .errors import ConfigError, InputError, OutputError
from .io import csv_text, describe_os_error, is_parquet, read_table, table_format, write_csv_atomic, write_text_atomic
from .protocol import DetectorConfig
from .resources import check_run_fits
from .metrics.evaluate import evaluate_extras, split_real
from .schema import infer_schema
from .synthesizers import make_generator
from .synthesizers.adversarial import Refiner, gmm_params, select_by_detector

log = logging.getLogger(__name__)

SAMPLE_BLOCK_ROWS = 100_000  # rows per seed stream; part of the seed contract: changing it changes the rows
SAMPLE_WORKERS = 2  # threads drawing blocks of a streamed table (the rows do not depend on it)


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


def block_seed(seed: int, block: int) -> int:
    """The seed of block ``block`` of a run seeded ``seed`` (see the module docstring)."""
    if block == 0:
        return int(seed)
    return int(np.random.SeedSequence(int(seed), spawn_key=(int(block),)).generate_state(1, np.uint32)[0])


def sample_blocks(gen, n_rows: int, seed: int, blocks=None, block_rows: int | None = None, workers: int = 1):
    """Yield ``(first_row, frame)`` for each block of a ``n_rows``-row synthetic table.

    ``blocks``: the block numbers to draw (default all, in order), e.g. one instance's share of
    a sharded job; any subset gives the same rows as the whole table's draw at those positions.
    ``workers``: threads drawing blocks ahead of the consumer (numpy's sorting, products and
    random draws release the GIL). Each block has its own seed, so the rows do not depend on it;
    at most ``workers`` blocks wait in memory beside the one being consumed.
    """
    block_rows = int(block_rows or SAMPLE_BLOCK_ROWS)
    n_blocks = -(-int(n_rows) // block_rows)
    jobs = []
    for b in range(n_blocks) if blocks is None else blocks:
        first = b * block_rows
        jobs.append((first, min(block_rows, int(n_rows) - first), block_seed(seed, b)))
    if int(workers) <= 1 or len(jobs) <= 1:
        for first, size, block_seed_ in jobs:
            yield first, gen.sample(size, random_state=block_seed_, first_row=first)
        return
    # BLAS on one thread for the whole draw: the threads then never race to set its limit
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(max_workers=int(workers)) as pool:
        pending = deque()
        try:
            for first, size, block_seed_ in jobs:
                pending.append((first, pool.submit(gen.sample, size, random_state=block_seed_, first_row=first)))
                if len(pending) > int(workers):
                    first_done, future = pending.popleft()
                    yield first_done, future.result()
            while pending:
                first_done, future = pending.popleft()
                yield first_done, future.result()
        finally:
            for _, future in pending:  # the consumer stopped early: drop the blocks not yet started
                future.cancel()


def shard_blocks(n_rows: int, n_shards: int, shard: int, block_rows: int | None = None) -> range:
    """The blocks shard ``shard`` (0-based) of ``n_shards`` draws: contiguous runs whose sizes
    differ by at most one block, so the shards' files in shard order are the whole table."""
    if not 0 <= int(shard) < int(n_shards):
        raise ConfigError(f"shard {shard} is not one of 0 .. {int(n_shards) - 1}")
    n_blocks = -(-int(n_rows) // int(block_rows or SAMPLE_BLOCK_ROWS))
    return range(int(shard) * n_blocks // int(n_shards), (int(shard) + 1) * n_blocks // int(n_shards))


def current_shard(resource_config: str | Path = "/opt/ml/config/resourceconfig.json") -> tuple[int, int]:
    """``(index, count)`` of this instance in a SageMaker job: its place in ``hosts`` of
    ``resourceconfig.json`` (processing and training jobs), else in ``SM_HOSTS`` by
    ``SM_CURRENT_HOST``; ``(0, 1)`` outside SageMaker."""
    path = Path(resource_config)
    if path.exists():
        info = json.loads(path.read_text(encoding="utf-8"))
        hosts, current = list(info["hosts"]), info["current_host"]
    elif os.environ.get("SM_HOSTS") and os.environ.get("SM_CURRENT_HOST"):
        hosts, current = json.loads(os.environ["SM_HOSTS"]), os.environ["SM_CURRENT_HOST"]
    else:
        return 0, 1
    if current not in hosts:
        raise ConfigError(f"current host {current!r} is not among the job's hosts {hosts}")
    return hosts.index(current), len(hosts)


def shard_file_name(stem: str, shard: int, n_shards: int, ext: str = "csv") -> str:
    """``stem-SSSSS-of-NNNNN.ext``: unique per instance under one S3 prefix, sorting in shard order."""
    return f"{stem}-{int(shard):05d}-of-{int(n_shards):05d}.{ext}"


def write_shard(gen, n_rows: int, seed: int, schema, folder: str | Path, shard: int, n_shards: int,
                fmt: str = "csv", keep: np.ndarray | None = None) -> tuple[Path, pd.DataFrame | None]:
    """Draw this shard's blocks of an ``n_rows`` table and write them to
    ``folder/synthetic-SSSSS-of-NNNNN.fmt`` (every shard a complete CSV with its header, or a
    Parquet file). Same seed → the same rows as the single-machine run, whatever ``n_shards``.

    ``keep`` (sorted global row numbers, e.g. the rows the detector will use) returns those of
    them that fall in this shard, collected while streaming; without it the second value is None.
    """
    blocks = shard_blocks(n_rows, n_shards, shard)
    if not blocks:
        raise ConfigError(f"{n_shards} sampling instances for {n_rows} rows leave instance {shard + 1} without a "
                          f"block of {SAMPLE_BLOCK_ROWS:,} rows; use at most {-(-int(n_rows) // SAMPLE_BLOCK_ROWS)} "
                          "instances")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / shard_file_name("synthetic", shard, n_shards, fmt)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    os.close(fd)
    writer = SyntheticWriter(Path(name), fmt, schema)
    kept = []
    try:
        for first, block in sample_blocks(gen, n_rows, seed, blocks=blocks, workers=SAMPLE_WORKERS):
            writer.write(block)
            if keep is not None:
                lo, hi = np.searchsorted(keep, [first, first + len(block)])
                kept.append(block.iloc[keep[lo:hi] - first])
        writer.close()
        os.chmod(name, 0o644)
        os.replace(name, target)
    except BaseException:
        writer.close()
        Path(name).unlink(missing_ok=True)
        raise
    return target, (pd.concat(kept, ignore_index=True) if keep is not None else None)


class SyntheticWriter:
    """Appends typed synthetic blocks to one CSV or Parquet file (the caller moves it into place).

    CSV blocks are written exactly as ``write_csv_atomic`` writes a whole frame; Parquet blocks
    become row groups of one file with the first block's Arrow schema.
    """

    def __init__(self, path: Path, fmt: str, schema):
        self.path, self.format, self.schema = Path(path), fmt, schema
        self._fh = None
        self._parquet = None

    def write(self, frame: pd.DataFrame) -> None:
        text = self.schema.text_frame(frame, self.format)
        if self.format == "csv":
            first = self._fh is None
            if first:
                self._fh = open(self.path, "w", encoding="utf-8", newline="")
            self._fh.write(csv_text(text, header=first))  # the real file's delimiter and number text
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet is None:
            table = pa.Table.from_pandas(text, preserve_index=False)
            self._parquet = pq.ParquetWriter(self.path, table.schema)
        else:
            table = pa.Table.from_pandas(text, schema=self._parquet.schema, preserve_index=False)
        self._parquet.write_table(table)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._parquet is not None:
            self._parquet.close()


def output_format(cfg: RunConfig) -> str:
    """The synthetic table's format: the config's ``output_format``, else Parquet for a Parquet input, else CSV."""
    chosen = getattr(cfg, "output_format", None)
    if chosen:
        return table_format("synthetic", chosen)
    return "parquet" if is_parquet(cfg.data.path) else "csv"


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
    # before any fitting: fail early, not by OOM; a streamed table holds only the detector's rows, the
    # block being written and the ones the sampling threads draw ahead
    held = n_rows if n_rows <= SAMPLE_BLOCK_ROWS else min(
        n_rows, detector.max_rows_per_class + (1 + SAMPLE_WORKERS) * SAMPLE_BLOCK_ROWS)
    check_run_fits(len(real), n_rows, len(real.columns), held_synthetic=held)
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
        fmt = output_format(cfg)
        refinement = None
        if cfg.adversarial == "refine" and selection.best_generator is not None:  # detector-guided rejection
            with _timed(timings, "sample"):
                refiner = Refiner(detector, seed=cfg.seed).fit(
                    selection.validation_rows, selection.best_generator.sample(len(selection.validation_rows),
                                                                               random_state=cfg.seed + 2), schema)
                synthetic, refinement, unrefined = refiner.sample(gen, n_rows, seed=cfg.seed)
            synthetic_file = None
        elif n_rows <= SAMPLE_BLOCK_ROWS:
            with _timed(timings, "sample"):
                synthetic = gen.sample(n_rows, random_state=cfg.seed)
            synthetic_file = None
        else:
            synthetic, synthetic_file = _sample_streamed(gen, n_rows, cfg.seed, schema, fmt, out_path, timings,
                                                         keep=balance_indices(len(real), n_rows, cfg.seed,
                                                                              detector.max_rows_per_class)[1])
        with _timed(timings, "detect"):
            # with a streamed table ``synthetic`` holds exactly the rows balance() would pick
            result = detect(real, synthetic, detector, schema=schema, seed=cfg.seed, null=False)
        result.rows_available = {"real": int(len(real)), "synthetic": n_rows}
        if null_job is not None:
            null, timings["null_overlapped"] = null_job.result()
        if detector.null and null is not None:
            result.with_null(*null)
    holdout_only = None
    if cfg.extras or selection is not None:
        with _timed(timings, "holdout_only_detect"):
            holdout_only = holdout_only_auc(holdout, synthetic, detector, schema, cfg.seed)
    adversarial = None
    if selection is not None:
        holdout_auc = (holdout_only or {}).get("roc_auc")
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
                                     n_jobs=1, privacy_rows=detector_rows(synthetic, len(real), n_rows, cfg.seed,
                                                                          detector.max_rows_per_class))
    timings["total"] = round(time.perf_counter() - started, 3)  # wall time: the null overlaps the fit
    metrics = {
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
    if hasattr(gen, "n_components_"):
        metrics["generator_fit"] = {
            "n_components": int(gen.n_components_),
            "pca_components": int(gen.pca_.n_components_),
            "criterion": gen.criterion,
            "criterion_by_k": {str(k): v for k, v in sorted(gen.selection_.items())},
            "k_at_edge": k_at_edge(gen.n_components_, gen.selection_),
        }
    if len(synthetic) < n_rows:  # streamed: the detector and the extras read this uniform subset
        metrics["n_synthetic_in_memory"] = int(len(synthetic))
    if extras is not None:
        metrics.update({k: extras[k] for k in ("fidelity", "privacy", "utility")})
    else:
        from .evaluation import NO_EXTRAS

        metrics["not_judged"] = dict(NO_EXTRAS)
    if out_path is not None:
        write_run(out_path, schema.text_frame(synthetic, fmt) if synthetic_file is None else synthetic_file, metrics,
                  schema.to_json(), scores=result.scores_frame(),
                  config=dataclasses.asdict(cfg) | {"generator": name}, fmt=fmt)
    return metrics


def detector_rows(synthetic: pd.DataFrame, n_real: int, n_rows: int, seed: int, max_rows: int) -> pd.DataFrame:
    """The synthetic rows the detector uses (``detection.balance``'s pick of an ``n_rows`` table),
    also those the privacy adversary judges: the pipeline's evaluation step holds these rows and
    no others, so both doors judge the same ones. ``synthetic`` is the whole table, or already
    that pick (a streamed table keeps only these rows)."""
    keep = balance_indices(n_real, n_rows, seed, max_rows)[1]
    if keep is None or len(synthetic) < n_rows:
        return synthetic
    return synthetic.iloc[keep]


def holdout_only_auc(holdout: pd.DataFrame, synthetic: pd.DataFrame, detector: DetectorConfig, schema,
                     seed: int) -> dict:
    """The same detector protocol with its real rows restricted to the holdout, which no fit has seen.

    Why: the verdict's real rows include the generator's training rows, split across the
    detector's train and test sets. A generator whose draws sit on (or next to) training rows
    has "twins" on both sides of that split, which a tree with fine thresholds reads as real,
    so the all-rows AUC can flatter it (down to below chance). Holdout rows have no twins; the
    cost is fewer rows, so a weaker detector. One more detector fit, without CV or null.
    """
    info = {"is": "the run's detector with its real rows restricted to the holdout (never seen by the generator); "
                  "fewer rows than the verdict's, so weaker; an all-rows AUC well below it means the synthetic rows "
                  "mirror training rows", "n_holdout": int(len(holdout))}
    from .detection import MIN_ROWS_PER_CLASS

    if len(holdout) < MIN_ROWS_PER_CLASS:
        return {**info, "roc_auc": None, "roc_auc_ci": None, "skipped": f"holdout has {len(holdout)} rows"}
    result = detect(holdout, synthetic, detector.replace(cv=0), schema=schema, seed=seed, null=False)
    return {**info, "roc_auc": result.roc_auc, "roc_auc_ci": list(result.roc_auc_ci),
            "rows_per_class": result.rows_per_class}


def k_at_edge(chosen: int, selection: dict) -> str | None:
    """"min" or "max" when the chosen number of components is the smallest or largest k swept
    (the criterion might keep improving beyond the range: widen it), else None."""
    ks = sorted(int(k) for k in selection)
    if len(ks) < 2:
        return None
    return "min" if int(chosen) == ks[0] else "max" if int(chosen) == ks[-1] else None


def _sample_streamed(gen, n_rows: int, seed: int, schema, fmt: str, out_path: Path | None, timings: dict,
                     keep: np.ndarray | None) -> tuple[pd.DataFrame, Path | None]:
    """Draw ``n_rows`` block by block (``sample_blocks``), writing each block to a hidden file
    beside ``out_path`` (``write_run`` moves it in) and keeping only the rows in ``keep``
    (sorted row numbers; None keeps all). Returns the kept rows and the file (None without
    ``out_path``). ``timings`` gets ``write`` (typing to text and writing) and ``sample``: the
    time spent waiting for drawn blocks (draw + invert + type); ``SAMPLE_WORKERS`` threads draw
    the next blocks while one is written, so ``sample`` + ``write`` is the phase's wall time."""
    timings["sample"] = timings["write"] = 0.0
    writer = path = None
    made = []
    if out_path is not None:
        made = [p for p in (out_path.parent, *out_path.parent.parents) if not p.exists()]
        out_path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out_path.name}.synthetic.", suffix=f".{fmt}", dir=out_path.parent)
        os.close(fd)
        path = Path(name)
        os.chmod(path, 0o644)  # as write_bytes_atomic: outputs are read by other users
        writer = SyntheticWriter(path, fmt, schema)
    kept = []
    try:
        start = time.perf_counter()
        for first, block in sample_blocks(gen, n_rows, seed, workers=SAMPLE_WORKERS):
            middle = time.perf_counter()
            timings["sample"] += middle - start
            if writer is not None:
                writer.write(block)
            if keep is None:
                kept.append(block)
            else:
                lo, hi = np.searchsorted(keep, [first, first + len(block)])
                kept.append(block.iloc[keep[lo:hi] - first])
            start = time.perf_counter()
            timings["write"] += start - middle
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.close()
            path.unlink(missing_ok=True)
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    timings["sample"], timings["write"] = round(timings["sample"], 3), round(timings["write"], 3)
    log.info("sampled %d rows in blocks of %d in %.2f s (writing %.2f s)", n_rows, SAMPLE_BLOCK_ROWS,
             timings["sample"], timings["write"])
    return pd.concat(kept, ignore_index=True), path


def write_run(out_path: Path, synthetic: pd.DataFrame | Path, metrics: dict, schema_json: str, *,
              scores: pd.DataFrame | None = None, config: dict | None = None, fmt: str = "csv") -> None:
    """Write the run folder: synthetic.csv (or .parquet with ``fmt``), metrics.json, schema.json,
    and scores.csv (held-out detector and null scores, for ROC curves) and config.json (the
    resolved config) when given. ``synthetic`` is a frame, or a file already written (by a
    streamed run) that is moved into the folder.

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
        if isinstance(synthetic, pd.DataFrame):
            from .io import write_table

            write_table(staging / f"synthetic.{fmt}", synthetic, fmt)
        else:
            os.replace(synthetic, staging / f"synthetic.{fmt}")
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
        if not isinstance(synthetic, pd.DataFrame):
            Path(synthetic).unlink(missing_ok=True)
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
