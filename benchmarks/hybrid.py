"""The GMM (its hybrid parts included) against sequential CART on real tables, by both adversaries.

    python benchmarks/hybrid.py                                  # default tables, seed 0
    python benchmarks/hybrid.py --tables adult weather --generators gmm gmm-adversarial
    python benchmarks/hybrid.py --tables fair weather --generators gmm --gmm '{"min_components": 120, "max_components": 120}'

Each run is ``advsynth run`` on the table (Adult with config/adult.yaml, the others with
``--data``, types inferred), with the default detector and extras. Printed per run: the
detector's AUC, the holdout-only AUC (the detector with real rows no generator saw), the
privacy verdict and the tests that fired, the whole run's seconds, and for the adversarial
GMM what its detector-driven loop chose (k, redrawn columns, sweeps, refinement rounds). Derived columns (the
dependencies the GMM rebuilt) are listed from the log. Tables come from ``benchmarks/tables.py``
(``pip install -e '.[tables]'``). ``--gmm`` overrides GMM parameters on top of the table's config
(a fixed k, to compare with the k the sweep and its growth choose), and the k fitted is printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
import warnings

from tables import run_config

from advsynth.run import run

GENERATORS = {  # label -> (generator, RunConfig changes)
    "gmm": ("gmm", {}),
    "gmm-adversarial": ("gmm", {"adversarial": True}),
    "cart": ("cart", {}),
}
DEFAULT_TABLES = ("adult", "weather", "diamonds", "storms", "nassCDS", "txhousing", "fair", "randhie")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="+", default=list(DEFAULT_TABLES))
    parser.add_argument("--generators", nargs="+", default=list(GENERATORS), choices=list(GENERATORS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gmm", type=json.loads, default={}, help="GMM parameters as JSON, on top of the config's")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING)
    print(f"{'table':<10} {'generator':<16} {'AUC':>6} {'holdout':>7} {'privacy':<28} {'run s':>6}  k  chosen")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.tables:
            for label in args.generators:
                generator, changes = GENERATORS[label]
                cfg = run_config(name, folder, seed=args.seed, **changes)
                if args.gmm and generator == "gmm":
                    cfg.generators = {**cfg.generators, "gmm": {**cfg.generator_params("gmm"), **args.gmm}}
                start = time.perf_counter()
                m = run(cfg, generator=generator)
                seconds = time.perf_counter() - start
                p = m["privacy"]
                verdict = ("FLAGGED " + ",".join(f["test"] for f in p["flags"])) if p["flagged"] else "clean"
                chosen = m.get("adversarial", {}).get("chosen", "")
                fit = m.get("generator_fit") or {}
                k = fit.get("n_components", "-")
                guarded = [c["then"] for c in (fit.get("privacy_guard") or {}).get("checks", []) if c.get("then")]
                guard = f"  guard: {'; '.join(guarded)}" if guarded else ""
                print(f"{name:<10} {label:<16} {m['detector']['roc_auc']:6.3f} {m['holdout_only']['roc_auc']:7.3f} "
                      f"{verdict:<28} {seconds:6.1f}  k {k}  {chosen}{guard}", flush=True)


if __name__ == "__main__":
    main()
