"""Will a run fit in memory? Said before the generator starts, not by the kernel's OOM killer.

The estimate is deliberately simple: a fixed cost (the Python libraries, XGBoost, the
null) plus a cost per cell of the real and synthetic tables (the frames, the model
representation, the detector's matrix and its predictions). The per-cell figure was
measured with ``ru_maxrss`` on Adult (15 columns, 32,561 real rows, ``--no-extras``): with
32,561 and 325,610 synthetic rows the baseline peaked at 464 and 696 MB (about 55 bytes per
added synthetic cell), the GMM at 496 and 1,194 MB (about 160 bytes: it samples in the
one-hot space). The GMM's figure is used: the default generator must not be underestimated.

A run streams a synthetic table of more than ``advsynth.experiment.sampling.SAMPLE_BLOCK_ROWS`` rows to disk
block by block and keeps only the rows its detector uses (``DetectorConfig.max_rows_per_class``)
plus one block, so only those ``held_synthetic`` rows count. A real cell costs less than a
synthetic one (no one-hot sampling; the detector and the null read at most
``max_rows_per_class`` rows of each kind): ``benchmarks/scale.py`` measured 1.76 GB peak for 1,000,000
real rows x 15 columns with 350,000 synthetic rows held, about 40 bytes per real cell once the
held synthetic cells are counted at 160; ``BYTES_PER_REAL_CELL`` keeps a 2.5x margin.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .errors import ConfigError

log = logging.getLogger(__name__)

FIXED_BYTES = 300 * 2**20
BYTES_PER_CELL = 160
BYTES_PER_REAL_CELL = 100
# --rows above this multiple of the real table gets a warning with the estimate
ROWS_WARN_FACTOR = 10


def estimate_run_bytes(n_real: int, n_synthetic: int, n_columns: int) -> int:
    """Rough peak memory of a run holding ``n_synthetic`` synthetic rows (see the module docstring)."""
    return FIXED_BYTES + (n_real * BYTES_PER_REAL_CELL + n_synthetic * BYTES_PER_CELL) * max(n_columns, 1)


def available_memory() -> int | None:
    """Bytes this process may still use: the smaller of the machine's available memory and the
    room left under a cgroup (container) limit; None when neither can be read."""
    candidates = []
    try:
        import psutil

        candidates.append(int(psutil.virtual_memory().available))
    except ImportError:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            pass
    try:
        cgroup = Path("/sys/fs/cgroup")
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            candidates.append(int(limit) - int((cgroup / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        pass
    return min(candidates) if candidates else None


def _gb(n: float) -> str:
    return f"{n / 2**30:.1f} GB"


def check_run_fits(n_real: int, n_synthetic: int, n_columns: int, available: int | None = None, *,
                   held_synthetic: int | None = None) -> int:
    """Warn when ``n_synthetic`` dwarfs the real table; refuse a run that cannot fit in memory.

    ``held_synthetic``: the synthetic rows the run keeps in memory (a streamed run keeps fewer
    than it writes); default all. Returns the estimate in bytes. ``available`` defaults to
    ``available_memory()``.
    """
    need = estimate_run_bytes(n_real, n_synthetic if held_synthetic is None else held_synthetic, n_columns)
    if n_real and n_synthetic > ROWS_WARN_FACTOR * n_real:
        log.warning("%d synthetic rows is %.0fx the %d real rows; the run needs about %s of memory",
                    n_synthetic, n_synthetic / n_real, n_real, _gb(need))
    available = available_memory() if available is None else available
    if available is not None and need > available:
        raise ConfigError(f"{n_synthetic} synthetic rows + {n_real} real rows x {n_columns} columns need about "
                          f"{_gb(need)} of memory but only {_gb(available)} is available; ask for fewer --rows")
    return need


def available_cores() -> int:
    """CPU cores this process may use: its CPU affinity (or the machine's count), capped by a
    cgroup (container) CPU quota when one is set."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)
