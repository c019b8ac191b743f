"""The privacy adversary on copiers, fresh real rows and real generators, on several real tables.

    python benchmarks/privacy.py                                   # the three sections below, default tables
    python benchmarks/privacy.py --section fresh --seeds 20        # the false-positive rate only
    python benchmarks/privacy.py --tables adult diamonds --section copiers generators

Sections:

* ``fresh``: the "synthetic" table is real rows nobody trained on. Each seed splits the table
  three ways (40 % fresh rows, then the rest 80 / 20 into the generator's training rows and the
  holdout, as a run splits it; whole groups of a group key on each side), so the three sets are
  exchangeable: any flag is a false positive. Prints the rate per table and overall, and every statistic's spread.
* ``copiers``: the copiers of ``advsynth.synthesizers.copiers`` and sequential CART fitted on the
  run's training rows: each must be flagged, on every table.
* ``generators``: ``advsynth run`` with the baseline and the default GMM (and, with
  ``--adversarial``, the adversarial GMM): none may be flagged; a flag is a finding for the
  generator. These are whole runs (Adult with config/adult.yaml), so they take longer.

Per run: flagged, the tests that fired, the copy rates against the holdout's, the DCR share
(observed and its equal-size equivalent) and both membership attacks' AUCs, and the privacy
section's own seconds. Tables come from ``benchmarks/tables.py`` (``pip install -e '.[tables]'``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import numpy as np

from tables import load, run_config, table_types

from advsynth.experiment.splits import RealSplit, split_real
from advsynth.metrics.evaluate import privacy_of
from advsynth.schema import infer_schema
from advsynth.synthesizers import make_generator

COPIERS = {
    "exact copies": ("advsynth.synthesizers.copiers:ExactCopier", {}),
    "jittered copies": ("advsynth.synthesizers.copiers:JitterCopier", {}),
    "one cell changed": ("advsynth.synthesizers.copiers:OneCellCopier", {}),
    "near-copier": ("advsynth.synthesizers.copiers:OneCellCopier", {"jitter": 0.01}),
    "10% copy mix": ("advsynth.synthesizers.copiers:MixCopier", {}),
    "cart": ("cart", {}),
}
GENERATORS = {"baseline": ("baseline", {}), "gmm": ("gmm", {})}  # (generator, RunConfig changes)
DEFAULT_TABLES = ("adult", "diamonds", "weather", "nassCDS", "storms", "fair")


def describe(report: dict) -> str:
    c, d, m = report["copies"], report["dcr"], report["membership"]["attacks"]
    auc = lambda name: f"{m[name]['roc_auc']:.3f}" if name in m and m[name]["roc_auc"] is not None else "  -  "  # noqa: E731
    return (f"exact {c['exact']['rate']:7.2%} ({c['exact']['chance_rate']:6.2%})  near {c['near']['rate']:7.2%} "
            f"({c['near']['chance_rate']:6.2%})  DCR {d['share']:.3f}/{d['expected']:.3f} = {d['share_equal_size']:.3f}"
            f"  MIA {auc('distance')} {auc('density_ratio')}")


def fresh(tables: list[str], seeds: int) -> None:
    print(f"\n== fresh real rows as the synthetic table ({seeds} seeds per table): every flag is a false positive")
    total = flagged = 0
    for name in tables:
        df = load(name)
        schema = infer_schema(df, table_types(name))
        stats, hits, fired = [], 0, {}
        groups = schema.split_groups(df)
        for seed in range(seeds):
            if groups is None:
                order = np.random.default_rng([seed, 41]).permutation(len(df))
                n_fresh = int(0.4 * len(df))
                fresh_rows, rest = np.sort(order[:n_fresh]), np.sort(order[n_fresh:])
            else:  # whole groups on each side, as a run splits them: else fresh rows share cases with training rows
                split = RealSplit.of(len(df), seed + 10_000, 0.4, groups=groups)
                fresh_rows, rest = split.holdout, split.train
            synthetic = df.iloc[fresh_rows]
            train, holdout = split_real(df.iloc[rest], seed, schema=schema)
            report = privacy_of(train, holdout, synthetic, schema, seed)
            hits += report["flagged"]
            for f in report["flags"]:
                fired[f["test"]] = fired.get(f["test"], 0) + 1
            m = report["membership"]["attacks"]
            stats.append([report["copies"]["exact"]["excess"], report["copies"]["near"]["excess"],
                          report["dcr"]["share_equal_size"], m.get("distance", {}).get("roc_auc") or np.nan,
                          m.get("density_ratio", {}).get("roc_auc") or np.nan])
        s = np.array(stats, dtype=float)
        total, flagged = total + seeds, flagged + hits
        print(f"{name:<12} flagged {hits}/{seeds} {fired or ''}  max excess exact {np.nanmax(s[:, 0]):+.4f} "
              f"near {np.nanmax(s[:, 1]):+.4f}  DCR eq {np.nanmin(s[:, 2]):.3f}-{np.nanmax(s[:, 2]):.3f}  "
              f"MIA distance {np.nanmin(s[:, 3]):.3f}-{np.nanmax(s[:, 3]):.3f}  density "
              f"{np.nanmin(s[:, 4]):.3f}-{np.nanmax(s[:, 4]):.3f}", flush=True)
    print(f"false-positive rate: {flagged}/{total} = {flagged / max(total, 1):.1%}")


def generated(tables: list[str], generators: dict, title: str, seed: int, must_flag: bool) -> None:
    print(f"\n== {title}")
    for name in tables:
        df = load(name)
        schema = infer_schema(df, table_types(name))
        train, holdout = split_real(df, seed, schema=schema)
        for label, (kind, params) in generators.items():
            gen = make_generator(kind, random_state=seed, **params).fit(train, schema)
            synthetic = gen.sample(len(df), random_state=seed)
            start = time.perf_counter()
            report = privacy_of(train, holdout, synthetic, schema, seed)
            seconds = time.perf_counter() - start
            verdict = "FLAGGED" if report["flagged"] else "clean  "
            ok = "ok" if report["flagged"] == must_flag else "WRONG"
            tests = ",".join(f["test"] for f in report["flags"]) or "-"
            print(f"{name:<12} {label:<17} {verdict} {ok:<5} {describe(report)}  {seconds:4.1f}s  [{tests}]", flush=True)


def runs(tables: list[str], generators: dict, seed: int) -> None:
    from advsynth.run import run

    print("\n== advsynth run's generators: none may be flagged")
    with tempfile.TemporaryDirectory() as folder:
        for name in tables:
            for label, (generator, changes) in generators.items():
                cfg = run_config(name, folder, seed=seed, **changes)
                metrics = run(cfg, generator=generator)
                report = metrics["privacy"]
                verdict = "FLAGGED" if report["flagged"] else "clean  "
                ok = "WRONG" if report["flagged"] else "ok"
                tests = ",".join(f["test"] for f in report["flags"]) or "-"
                print(f"{name:<12} {label:<17} {verdict} {ok:<5} {describe(report)}  "
                      f"{metrics['timings_s'].get('extras_overlapped', metrics['timings_s'].get('extras', 0)):4.1f}s extras  AUC {metrics['detector']['roc_auc']:.3f}"
                      f"  [{tests}]", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="+", default=list(DEFAULT_TABLES))
    parser.add_argument("--section", nargs="+", default=["fresh", "copiers", "generators"],
                        choices=["fresh", "copiers", "generators"])
    parser.add_argument("--seeds", type=int, default=10, help="seeds of the fresh-rows section")
    parser.add_argument("--seed", type=int, default=0, help="seed of the copiers and generators")
    parser.add_argument("--adversarial", action="store_true", help="add the adversarial GMM to the generators")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if "fresh" in args.section:
        fresh(args.tables, args.seeds)
    if "copiers" in args.section:
        generated(args.tables, COPIERS, "copiers: every one must be flagged", args.seed, must_flag=True)
    if "generators" in args.section:
        gens = dict(GENERATORS)
        if args.adversarial:
            gens["gmm --adversarial"] = ("gmm", {"adversarial": True})
        runs(args.tables, gens, args.seed)


if __name__ == "__main__":
    main()
