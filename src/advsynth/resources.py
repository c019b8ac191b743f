"""Will a run fit in memory? Said before the generator starts, not by the kernel's OOM killer.

The estimate is deliberately simple: a fixed cost (the Python libraries, XGBoost, the
null) plus a cost per cell of the real and synthetic tables (the frames, the model
representation, the detector's matrix and its predictions). The per-cell figure was
measured with ``ru_maxrss`` on Adult (15 columns, 32,561 real rows, ``--no-extras``): with
32,561 and 325,610 synthetic rows the baseline peaked at 464 and 696 MB (about 55 bytes per
added synthetic cell), the GMM at 496 and 1,194 MB (about 160 bytes: it samples in the
one-hot space). The GMM's figure is used: the default generator must not be underestimated.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .errors import ConfigError

log = logging.getLogger(__name__)

FIXED_BYTES = 300 * 2**20
BYTES_PER_CELL = 160
# --rows above this multiple of the real table gets a warning with the estimate
ROWS_WARN_FACTOR = 10


def estimate_run_bytes(n_real: int, n_synthetic: int, n_columns: int) -> int:
    """Rough peak memory of a run (see the module docstring for where the figures come from)."""
    return FIXED_BYTES + (n_real + n_synthetic) * max(n_columns, 1) * BYTES_PER_CELL


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


def check_run_fits(n_real: int, n_synthetic: int, n_columns: int, available: int | None = None) -> int:
    """Warn when ``n_synthetic`` dwarfs the real table; refuse a run that cannot fit in memory.

    Returns the estimate in bytes. ``available`` defaults to ``available_memory()``.
    """
    need = estimate_run_bytes(n_real, n_synthetic, n_columns)
    if n_real and n_synthetic > ROWS_WARN_FACTOR * n_real:
        log.warning("%d synthetic rows is %.0fx the %d real rows; the run needs about %s of memory",
                    n_synthetic, n_synthetic / n_real, n_real, _gb(need))
    available = available_memory() if available is None else available
    if available is not None and need > available:
        raise ConfigError(f"{n_synthetic} synthetic rows + {n_real} real rows x {n_columns} columns need about "
                          f"{_gb(need)} of memory but only {_gb(available)} is available; ask for fewer --rows")
    return need
