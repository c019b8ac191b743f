"""Scale benchmark: `advsynth run --no-extras` on Adult-like tables of growing size.

    nice python benchmarks/scale.py                          # 100 k and 1 M rows
    nice python benchmarks/scale.py --sizes 100000 1000000 10000000 --format parquet
    nice python benchmarks/scale.py --sizes 200000 --sampling-only

Each table is Adult's rows (read as config/adult.yaml reads them) drawn with replacement
(numpy seed 0), written once to a temporary folder as CSV (or Parquet). Each size then runs
``advsynth.run.run`` in its own child process, so the peak RSS printed is that run's alone
(``os.wait4``'s resource usage of the child: its ``ru_maxrss``, the same figure
``getrusage(RUSAGE_CHILDREN)`` reports). Columns:

* phase wall times from the run's ``metrics.json`` ``timings_s`` (``null_overlapped`` runs on
  the second core during ``fit``/``sample``, so phases do not add up to ``total``);
* ``wall``: the child's wall time, interpreter start and imports included;
* ``sample rows/s``: with ``--sampling-only``, draw + invert + type in memory (blocks drawn
  as a run draws them, ``SAMPLE_WORKERS`` threads, nothing written); in a full run, rows over
  ``sample`` + ``write`` (threads draw the next blocks while one is written, so the run's
  ``sample`` alone is only the time the writer waited);
* ``det rows``: rows per class the detector trained and tested on (``DetectorConfig.max_rows_per_class``);
* the fitted exponent b of ``total ~ a * rows**b`` across the sizes (1 is linear).

The machine is shared: the load average before each size is printed, and heavy runs should
be started with ``nice``.

The machine is shared by other jobs, so wall times swing with its load; the CPU seconds
(``getrusage``: every thread of the run, start-up excluded) are the load-insensitive figure.
Measured on 2 cores, quiet (load 1.0-1.1), issue 11's third round:

    rows        read   fit  sample write detect null  total  peak RSS  rows/s   AUC
    100 k        0.7   8.2    0.4    -    11.4   2.6   21 s   0.67 GB  272,000  0.850
    1 M          6.2  11.8    1.8   3.9   23.1   6.3   47 s   1.57 GB  178,000  0.871   (an hour earlier: 44 s)
    10 M (pq)   30.9  19.8   12.4   8.7   23.9   5.3  103 s   5.61 GB  473,000  0.876

    --sampling-only, 1 M rows: 1.6 s wall, 2.8 CPU-s, 642,000 rows/s (228,000 before this round)

At 1 M the run took 71 s (detect 47.5 s) before this round: XGBoost scored the validation
rows, then a ``QuantileDMatrix``, at 24 ms a round against 3 ms for a plain ``DMatrix``, with
the same predictions. Earlier rounds: 208 s and 5.2 GB (issue 11's start), 79 s and 1.55 GB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PHASES = ("read", "fit", "sample", "write", "detect", "null_overlapped", "total")


def build_table(n: int, path: Path, config: Path, fmt: str) -> None:
    """Adult rows drawn with replacement, typed as the config reads them."""
    import numpy as np

    from advsynth.config import load_config, load_real
    from advsynth.io import write_table

    real = load_real(load_config(config))
    table = real.iloc[np.random.default_rng(0).integers(0, len(real), n)].reset_index(drop=True)
    if fmt == "csv":
        table.to_csv(path, index=False)
    else:
        write_table(path, table)


def _cpu() -> float:
    """CPU seconds of this process so far, every thread (XGBoost's and BLAS's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _record_cpu(cpu: dict) -> None:
    """Wrap the run's phase timers so each phase's process CPU seconds land in ``cpu``.

    Process CPU: a phase that overlaps the null (fit, sample) includes the null's thread;
    ``null_overlapped`` is that thread's own CPU time (XGBoost with one thread runs in it).
    The streamed ``sample`` and ``write`` phases are timed together as ``sample+write``.
    """
    import advsynth.experiment.sampling as sampling_module
    import advsynth.run as run_module

    timed, timed_call, streamed = run_module._timed, run_module._timed_call, sampling_module.sample_streamed

    @contextmanager
    def cpu_timed(timings, phase):
        start = _cpu()
        with timed(timings, phase):
            yield
        cpu[phase] = round(_cpu() - start, 1)

    def cpu_timed_call(func, *args, **kwargs):
        start = time.thread_time()
        value = timed_call(func, *args, **kwargs)
        cpu["null_overlapped"] = round(time.thread_time() - start, 1)
        return value

    def cpu_streamed(*args, **kwargs):
        start = _cpu()
        value = streamed(*args, **kwargs)
        cpu["sample+write"] = round(_cpu() - start, 1)
        return value

    run_module._timed, run_module._timed_call, sampling_module.sample_streamed = cpu_timed, cpu_timed_call, cpu_streamed


def worker(data: str, out: str, sampling_only: bool) -> None:
    """The child: one run (or, with ``sampling_only``, fit + in-memory sampling); prints JSON timings."""
    from advsynth.config import config_for_csv, load_real
    from advsynth.run import run

    cfg = config_for_csv(data)
    cfg.extras = False
    if sampling_only:
        from advsynth.schema import infer_schema
        from advsynth.synthesizers import make_generator

        real = load_real(cfg)
        schema = infer_schema(real)
        gen = make_generator(cfg.generator, random_state=0).fit(real, schema)
        from advsynth.run import SAMPLE_WORKERS, sample_blocks

        start, cpu_start = time.perf_counter(), _cpu()
        for _ in sample_blocks(gen, len(real), 0, workers=SAMPLE_WORKERS):  # as a run draws them, unwritten
            pass
        seconds = time.perf_counter() - start
        cpu = round(_cpu() - cpu_start, 1)
        print(json.dumps({"timings_s": {"sample": seconds, "total": seconds}, "n_synthetic": len(real),
                          "cpu_s": {"sample": cpu, "total": cpu}}))
        return
    cpu: dict = {}
    _record_cpu(cpu)
    cpu_start = _cpu()
    metrics = run(cfg, out)
    cpu["total"] = round(_cpu() - cpu_start, 1)
    det = metrics["detector"]
    print(json.dumps({"timings_s": metrics["timings_s"], "n_synthetic": metrics["n_synthetic"],
                      "rows_per_class": det.get("rows_per_class"), "auc": det["roc_auc"],
                      "ci": det["roc_auc_ci"], "null": det.get("null_roc_auc"), "cpu_s": cpu, "nthread": det["params"]["nthread"]}))


def run_child(data: Path, out: Path, sampling_only: bool) -> tuple[dict, float, float, float]:
    """One size in a child process: (its JSON, wall seconds, peak RSS in MB, CPU seconds incl. start-up)."""
    cmd = [sys.executable, __file__, "--worker", str(data), str(out)] + (["--sampling-only"] if sampling_only else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"run on {data} failed with exit code {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return json.loads(stdout.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024, cpu  # Linux: KiB


def exponent(sizes: list[int], totals: list[float]) -> float | None:
    """Least-squares slope of log(total) on log(rows)."""
    if len(sizes) < 2:
        return None
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in totals]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--config", default=str(ROOT / "config" / "adult.yaml"))
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv", help="format of the input table")
    parser.add_argument("--sampling-only", action="store_true", help="fit + in-memory sampling only, no run")
    parser.add_argument("--worker", nargs=2, metavar=("DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, args.sampling_only)
        return
    header = (f"{'rows':>10} {'load':>5} " + " ".join(f"{p[:7]:>7}" for p in PHASES)
              + f" {'wall':>7} {'peak MB':>8} {'sample rows/s':>13} {'det rows':>9} {'auc':>6} {'null':>6}")
    print(header)
    totals = []
    with tempfile.TemporaryDirectory(prefix="advsynth-scale-") as tmp:
        for n in args.sizes:
            data = Path(tmp) / f"adult_{n}.{args.format}"
            build_table(n, data, Path(args.config), args.format)
            load = os.getloadavg()[0]
            result, wall, peak, usage_cpu = run_child(data, Path(tmp) / f"run_{n}", args.sampling_only)
            t = result["timings_s"]
            totals.append(t["total"])
            # a streamed run draws the next blocks while one is written: its sampling rate is rows
            # over sample + write (--sampling-only measures draw + invert + type alone)
            drawn = t.get("sample", 0) + (0 if args.sampling_only else t.get("write", 0))
            rate = result["n_synthetic"] / drawn if drawn else float("nan")
            auc, null = result.get("auc"), result.get("null")
            print(f"{n:>10} {load:>5.1f} " + " ".join(f"{t[p]:>7.1f}" if p in t else f"{'-':>7}" for p in PHASES)
                  + f" {wall:>7.1f} {peak:>8.0f} {rate:>13,.0f} {str(result.get('rows_per_class') or '-'):>9}"
                  + f" {'-' if auc is None else format(auc, '.3f'):>6} {'-' if null is None else format(null, '.3f'):>6}"
                  + (f" nthread {result['nthread']}" if "nthread" in result else ""),
                  flush=True)
            print(f"{'':>10} {'cpu s':>5} " + " ".join(
                f"{result['cpu_s'][p]:>7.1f}" if p in result.get("cpu_s", {}) else f"{'-':>7}" for p in PHASES)
                + (f"  sample+write {result['cpu_s']['sample+write']:.1f}" if "sample+write" in result.get("cpu_s", {}) else "")
                + (f"  child cpu {usage_cpu:.1f}") + f"  load after {os.getloadavg()[0]:.1f}", flush=True)
            data.unlink()
    b = exponent(args.sizes, totals)
    if b is not None:
        print(f"fitted exponent of total time vs rows: {b:.2f}")


if __name__ == "__main__":
    main()
