"""`advsynth run` on real tables of other shapes than Adult, and on a 100,000 x 30 stress table.

    python benchmarks/real_tables.py                    # every table, both generators, seed 0
    python benchmarks/real_tables.py --tables diabetes wine --generators gmm
    python benchmarks/real_tables.py --stress-rows 20000  # a smaller stress table

Each run is `advsynth run --data TABLE.csv` in its own Python process (so the peak RSS read
from ``ru_maxrss`` is that run's alone), with the default detector and extras. Printed per
run: detection AUC and null, the top column of the detector's importance and its share,
wall time and peak RSS. Targets (issue 9): the GMM's AUC clearly below the baseline's, no
column above 50 % of the importance because of an encoding artefact, peak RSS <= 2 GB.

Tables (all offline): scikit-learn's diabetes (full-precision floats, a two-valued float
``sex``), wine, breast_cancer; statsmodels' macrodata (+ an ISO quarter date), co2 (weekly
dates, missing values), grunfeld (an 11-level firm name, years), fair (discrete floats and
one full-precision float), randhie (20,190 rows of integers and discrete floats); and a
synthetic stress table: identifiers, a case id shared by 2-3 rows, free-text titles,
3,000-level cities, zip codes with leading zeros, UTC / offset / date timestamps, nullable
integers, a 99 %-missing column, stray "n/a" tokens, text booleans, a constant and an
empty column; and a second 100,000 x 30 stress table, ``levels``: 20 categoricals of 500 to
5,000 Zipf-skewed levels and 10 numbers.

The current tree's figures are README's ("Other benchmark scripts"): they are re-measured with
this script whenever the generator or the detector changes.

The stress table peaked at 2.25 GB (baseline) before the detector's features and DCR's rows
became sparse matrices. Before the typing layer: diabetes 1.000 / 1.000 (``sex`` 99.9 %), and
the stress table did not fit in memory. co2's ``week`` carries > 50 % because the table has two
columns and the GMM scores at chance. Tables of a few hundred rows move by +/- 0.07-0.14
between seeds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

from tables import SMALL, load  # noqa: E402  (benchmarks/ is the script's folder)

# Runs `advsynth run` in-process in a fresh interpreter and prints that process's peak RSS (KiB).
_CHILD = """
import resource, sys
from advsynth.cli import main
code = main(sys.argv[1:])
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code or 0)
"""


def run_one(csv: Path, generator: str, out: Path, seed: int) -> dict:
    cmd = [sys.executable, "-c", _CHILD, "run", "--data", str(csv), "--out", str(out), "--generator", generator,
           "--seed", str(seed)]
    env = {"PYTHONPATH": f"{ROOT / 'src'}", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    rss = next((int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("MAXRSS_KB")), 0)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1], "wall": wall, "rss_mb": rss / 1024}
    metrics = json.loads((out / "metrics.json").read_text())
    det = metrics["detector"]
    top, share = max(det["column_importance"].items(), key=lambda kv: kv[1])
    warn = [line for line in proc.stderr.splitlines() if "WARNING" in line or "warning" in line.lower()]
    return {"auc": det["roc_auc"], "null": det.get("null_roc_auc"), "top": top, "share": share, "wall": wall,
            "rss_mb": rss / 1024, "passthrough": metrics.get("passthrough_columns", {}), "warnings": len(warn)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="+")
    parser.add_argument("--generators", nargs="+", default=["gmm", "baseline"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stress-rows", type=int, default=100_000)
    args = parser.parse_args()
    names = args.tables or [*SMALL, "stress", "levels"]
    print(f"{'table':<14} {'rows':>7} {'cols':>4} {'generator':<9} {'auc':>6} {'null':>6} {'top column':<16} "
          f"{'share':>6} {'wall s':>7} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            df = load(name, stress_rows=args.stress_rows, seed=args.seed)
            csv = Path(tmp) / f"{name}.csv"
            df.to_csv(csv, index=False)
            for generator in args.generators:
                r = run_one(csv, generator, Path(tmp) / f"{name}-{generator}", args.seed)
                if "error" in r:
                    print(f"{name:<14} {len(df):>7} {df.shape[1]:>4} {generator:<9} ERROR {r['error']} "
                          f"({r['wall']:.1f} s, {r['rss_mb']:.0f} MB)")
                    continue
                null = f"{r['null']:6.3f}" if r["null"] is not None else "   n/a"
                print(f"{name:<14} {len(df):>7} {df.shape[1]:>4} {generator:<9} {r['auc']:6.3f} {null} "
                      f"{r['top'][:16]:<16} {r['share']:6.1%} {r['wall']:7.1f} {r['rss_mb']:8.0f}", flush=True)


if __name__ == "__main__":
    main()
