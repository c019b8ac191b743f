"""Benchmark of `advsynth run` on the real Adult table: wall time per phase and the detector figures.

    python benchmarks/run_adult.py                 # gmm and baseline, seed 0
    python benchmarks/run_adult.py --seeds 0 1 2   # spread across seeds
    python benchmarks/run_adult.py --selection-cost  # time of the AIC sweep vs rows (linear, not quadratic)

Prints one line per run; compare with the targets (the GMM's default AUC <= 0.62 with the strong
default detector, baseline >= 0.99, null AUC 0.50 +/- 0.02, a whole GMM run <= 20 s on 2 cores)
and with README's figures, which say on which machine they were measured.
``extras`` ran beside the detector when it trains on one thread (its seconds are not in the sum). The CPU probe, a fixed
single-thread workload, says how fast the machine was: the same machine has been 30 % slower
at times, so compare runs with similar probes.
``rounds`` is how many boosting rounds early stopping kept; ``edge`` flags a GMM k at the end of its range.
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

from advsynth.config import load_config  # noqa: E402
from advsynth.run import load_real, run  # noqa: E402


def selection_cost(cfg) -> None:
    """Time one GMM fit at growing row counts: the sweep is on a fixed subsample, so cost tracks rows linearly."""
    from advsynth.schema import infer_schema
    from advsynth.synthesizers import make_generator

    real = load_real(cfg)
    schema = infer_schema(real, cfg.data.types)
    for frac in (0.25, 0.5, 1.0):
        part = real.sample(frac=frac, random_state=0).reset_index(drop=True)
        start = time.perf_counter()
        make_generator("gmm", **cfg.generator_params("gmm")).fit(part, schema)
        print(f"gmm fit on {len(part):>6} rows: {time.perf_counter() - start:6.2f} s")


def cpu_probe() -> float:
    """Seconds of a fixed single-thread workload (float32 products the size of the GMM's EM steps)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((10_000, 56)).astype(np.float32)
    with threadpool_limits(1, user_api="blas"):
        start = time.perf_counter()
        for _ in range(400):
            (a.T * a[:, 0]) @ a
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "config" / "adult.yaml"))
    parser.add_argument("--generators", nargs="+", default=["gmm", "baseline"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--selection-cost", action="store_true")
    args = parser.parse_args()
    cfg = load_config(args.config)
    if args.selection_cost:
        selection_cost(cfg)
        return
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; CPU probe {cpu_probe():.2f} s")
    print(f"{'generator':<9} {'seed':>4} {'auc':>6} {'95% CI':>13} {'null':>6} {'k':>3} {'edge':>4} {'rounds':>6} "
          f"{'read':>5} {'fit':>5} {'sample':>6} {'detect':>6} {'extras':>6} {'total':>6} {'wall':>6}")
    for generator in args.generators:
        for seed in args.seeds:
            cfg.seed = seed
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:  # the run folder is written, as `advsynth run` does
                m = run(cfg, Path(tmp) / "run", generator=generator)
                wall = time.perf_counter() - start
            d, t = m["detector"], m["timings_s"]
            k = m.get("generator_fit", {}).get("n_components", "-")
            edge = m.get("generator_fit", {}).get("k_at_edge") or "-"
            print(f"{generator:<9} {seed:>4} {d['roc_auc']:6.3f} {d['roc_auc_ci'][0]:6.3f}-{d['roc_auc_ci'][1]:5.3f} "
                  f"{d['null_roc_auc']:6.3f} {k:>3} {edge:>4} {d['best_rounds']:>6} {t['read']:5.1f} {t['fit']:5.1f} {t['sample']:6.1f} "
                  f"{t['detect']:6.1f} {t.get('extras_overlapped', t.get('extras', 0)):6.1f} {t['total']:6.1f} {wall:6.1f}")


if __name__ == "__main__":
    main()
