"""Plain GMM vs improved GMM vs adversarial GMM, judged by the default (strong) detector.

    nice python benchmarks/adversarial.py                     # Adult, seeds 0 1 2, all three models
    nice python benchmarks/adversarial.py --seeds 0 --models improved
    nice python benchmarks/adversarial.py --tables            # the other real tables: plain vs adversarial

Models:
  plain        the GMM before issue 10: AIC over k in 1..60 on 4,000 rows, argmax decoding, no marginal matching
  improved     the default GMM of config/adult.yaml (latent-class native-country, rank-matched marginals,
               calibrated argmax, missingness implications; k as the config sets it)
  adversarial  `advsynth run --adversarial`: settings chosen by a detector on the training rows

Columns: fresh = the run's detector AUC (all real rows vs fresh synthetic draws: the verdict);
holdout = the holdout-only AUC (the same detector, real rows limited to the holdout no fit saw);
selection = the best candidate's AUC on the selection-validation split (optimistic, adversarial only);
dcr = privacy DCR ratio (synthetic vs holdout median distance to training rows, >= 0.95 wanted);
copies = exact-copy rate of training rows vs the holdout's own rate; fit = generator fit (incl. the
adversarial search); total = wall time of the run. The null is off (it does not depend on the model).

The current tree's figures are README's (the quick start and the race in "Generators" give the
same runs per seed); re-measure with this script when the generator or the detector changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from advsynth.config import DataConfig, RunConfig, load_config  # noqa: E402
from advsynth.protocol import DetectorConfig  # noqa: E402
from advsynth.run import run  # noqa: E402

PLAIN = {"min_components": 1, "max_components": 60, "n_candidates": 4, "criterion": "aic", "selection_rows": 4000,
         "categorical_decoding": "argmax", "match_marginals": False}


def variant(cfg: RunConfig, model: str) -> RunConfig:
    detector = DetectorConfig.coerce(cfg.detector).replace(null=False)
    gens = dict(cfg.generators)
    if model == "plain":
        gens["gmm"] = {**(gens.get("gmm") or {}), **PLAIN}
    return dataclasses.replace(cfg, generators=gens, detector=detector, adversarial=model == "adversarial")


def measure(cfg: RunConfig, model: str, seed: int) -> dict:
    cfg = dataclasses.replace(variant(cfg, model), seed=seed)
    start = time.perf_counter()
    m = run(cfg, None, "gmm")
    wall = time.perf_counter() - start
    priv = m.get("privacy") or {}
    adv = m.get("adversarial") or {}
    timings = m["timings_s"]
    return {
        "model": model, "seed": seed, "fresh": m["detector"]["roc_auc"], "selection": adv.get("selection_auc"),
        "holdout_only": (m.get("holdout_only") or {}).get("roc_auc"), "chosen": adv.get("chosen"),
        "k": (m.get("generator_fit") or {}).get("n_components"),
        "dcr": (priv.get("dcr") or {}).get("ratio_median"), "copies": priv.get("exact_match_rate"),
        "holdout_copies": priv.get("holdout_exact_match_rate"),
        "fit": timings.get("fit", 0) + timings.get("adversarial_selection", 0), "total": wall,
    }


def show(row: dict, label: str) -> None:
    f = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    print(f"{label:<14} {row['model']:<11} {row['seed']:>4} {f(row['fresh'], '.4f'):>6} {f(row['holdout_only'], '.4f'):>8} "
          f"{f(row['selection'], '.4f'):>9} "
          f"{f(row['dcr'], '.3f'):>5} {f(row['copies'], '.4f'):>6}/{f(row['holdout_copies'], '.4f'):<6} "
          f"{f(row['k'], 'd'):>4} {row['fit']:>6.1f} {row['total']:>6.1f}  {row['chosen'] or ''}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "config" / "adult.yaml"))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=["plain", "improved", "adversarial"],
                        choices=["plain", "improved", "adversarial"])
    parser.add_argument("--tables", nargs="*", help="the other real tables (scikit-learn, statsmodels): all, or the named ones")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'table':<14} {'model':<11} {'seed':>4} {'fresh':>6} {'holdout':>8} {'selection':>9} {'dcr':>5} {'copies/holdout':>13} "
          f"{'k':>4} {'fit':>6} {'total':>6}  chosen")
    if args.tables is None:
        cfg = load_config(args.config)
        for seed in args.seeds:
            for model in args.models:
                show(measure(cfg, model, seed), cfg.name)
    else:
        from real_tables import sklearn_tables, statsmodels_tables

        tables = {**sklearn_tables(), **statsmodels_tables()}
        tables = {name: df for name, df in tables.items() if not args.tables or name in args.tables}
        with tempfile.TemporaryDirectory() as tmp:
            for name, df in tables.items():
                csv = Path(tmp) / f"{name}.csv"
                df.to_csv(csv, index=False)
                cfg = RunConfig(data=DataConfig(path=str(csv)), name=name)
                for seed in args.seeds:
                    for model in args.models:
                        show(measure(cfg, model, seed), name)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
