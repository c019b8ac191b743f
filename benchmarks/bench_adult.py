"""Time the benchmark on Adult: baseline + GMM, 3 seeds (target: <= 2 minutes on 2 cores).

    PYTHONPATH=src python benchmarks/bench_adult.py [--generators baseline,gmm_aic] [--seeds 0,1,2]
                                                    [--extras] [--out DIR]

Prints the wall time of the whole benchmark, the per-run timings (results.csv columns), the
AUC's spread across seeds (SD, t-interval) beside the mean DeLong half width,
the machine's load average before and after (other jobs on a shared machine inflate every
figure); with ``--extras`` each run also computes fidelity, privacy and utility (``extras_s``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from advsynth.bench import load_bench_config, run_benchmark  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "config" / "benchmark.yaml"))
    ap.add_argument("--generators", default="baseline,gmm_aic")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--extras", action="store_true", help="also compute fidelity/privacy/utility per run")
    ap.add_argument("--out", help="benchmark folder (default: a temporary one)")
    args = ap.parse_args()

    cfg = load_bench_config(args.config, args.generators.split(",")).select(
        datasets=["adult"], generators=args.generators.split(","), seeds=[int(s) for s in args.seeds.split(",")])
    cfg.extras = args.extras
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-adult-")) / "bench"
    print(f"load average before: {os.getloadavg()}", flush=True)
    start = time.perf_counter()
    results = run_benchmark(cfg, out)
    wall = time.perf_counter() - start
    print(f"load average after:  {os.getloadavg()}")
    cols = ["generator", "seed", "roc_auc", "null_roc_auc", "fit_s", "sample_s", "detect_s", "null_s", "extras_s",
            "total_s", "rows_per_s"]
    print(results[cols].to_string(index=False))
    # the AUC's spread across generator seeds beside the runs' DeLong half widths
    from advsynth.bench import summarise

    spread = summarise(results)[["generator", "seeds", "auc_mean", "auc_sd", "auc_t_pm", "delong_pm"]]
    print("\n" + spread.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nwall time {wall:.1f} s for {len(results)} runs (target <= 120 s for baseline+gmm x 3 seeds)")
    print(f"results in {out}")

    return 0


if __name__ == "__main__":
    sys.exit(main())
