"""Drawing a synthetic table in seeded blocks: whole, streamed to disk, or sharded over machines.

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
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..errors import ConfigError
from ..io import csv_text, staging_file

log = logging.getLogger(__name__)

SAMPLE_BLOCK_ROWS = 100_000  # rows per seed stream; part of the seed contract: changing it changes the rows
SAMPLE_WORKERS = 2  # threads drawing blocks of a streamed table (the rows do not depend on it)


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
    name = staging_file(target)
    writer = SyntheticWriter(Path(name), fmt, schema)
    kept = []
    try:
        for first, block in sample_blocks(gen, n_rows, seed, blocks=blocks, workers=SAMPLE_WORKERS):
            writer.write(block)
            if keep is not None:
                lo, hi = np.searchsorted(keep, [first, first + len(block)])
                kept.append(block.iloc[keep[lo:hi] - first])
        writer.close()
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


def sample_streamed(gen, n_rows: int, seed: int, schema, fmt: str, out_path: Path | None, timings: dict,
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
        path = staging_file(out_path.parent / f"{out_path.name}.synthetic.{fmt}")
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
