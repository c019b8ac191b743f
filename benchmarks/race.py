"""The head-to-head race on Adult (config/race.yaml): run it, or print its table from a finished run.

    python benchmarks/race.py [--config config/race.yaml] [--seeds 0,1,2] [--generators a,b] [--out DIR]
    python benchmarks/race.py --bench DIR [DIR...] # the table of finished `advsynth bench` folders, merged
    python benchmarks/race.py --generators gmm_aic,gmm_adversarial --out DIR2   # re-run a subset ...
    python benchmarks/race.py --bench DIR DIR2     # ... and merge: DIR2's variants replace DIR's
    python benchmarks/race.py --time-ctgan EPOCHS  # one CTGAN fit on Adult's training rows, timed

Needs the [sdv] extra for the SDV variants. The race itself is ``advsynth.bench.run_benchmark``
(what ``advsynth bench --config config/race.yaml`` runs); this script adds the table the README
quotes: per generator the detector AUC (mean ± seed SD, and the runs' mean DeLong half width),
the holdout-only AUC (the detector's real rows limited to the holdout no generator saw: free of
synthetic twins of training rows), the privacy adversary's verdict, its membership attacks' AUCs,
the DCR share and the exact-copy rate beside the holdout's own (a generator the privacy adversary
flags gets no rank, whatever its AUC: a copier must never win), fit and sample seconds, and
TSTR/TRTR AUC.
The load average is printed before and after: other jobs on a shared machine inflate times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pandas as pd  # noqa: E402

from advsynth.bench import load_bench_config, privacy_cell, run_benchmark, summarise  # noqa: E402


def _f(value, fmt: str) -> str:
    return "–" if value is None or pd.isna(value) else format(value, fmt)


def merged_results(bench_dirs: list[Path]) -> pd.DataFrame:
    """results.csv of several benchmark folders as one table; a run (dataset, generator variant,
    seed) comes from the last folder that has it (so re-running only the GMM rows replaces them).
    ``run_dir`` becomes absolute."""
    key = ["dataset", "generator", "seed"]
    frames = []
    for bench_dir in bench_dirs:
        results = pd.read_csv(bench_dir / "results.csv")
        results["run_dir"] = [str(bench_dir / r) for r in results["run_dir"]]
        frames.append(results)
    merged = pd.concat(frames, ignore_index=True).drop_duplicates(key, keep="last")
    order = {g: i for i, g in enumerate(dict.fromkeys(merged["generator"]))}  # first appearance
    return merged.sort_values(key, key=lambda c: c.map(order) if c.name == "generator" else c, kind="stable")


def race_table(bench_dirs: list[Path]) -> str:
    """Markdown table of finished benchmark folders (results.csv and the runs' metrics.json): the
    generators ranked by AUC among those the privacy adversary did not flag (``bench.rank_generators``);
    a flagged generator gets no rank and its verdict says which tests fired."""
    results = merged_results(bench_dirs)
    ranked = summarise(results)
    lines = ["| rank | generator | seeds | AUC mean ± seed SD | ± DeLong | holdout-only AUC | privacy | MIA AUC "
             "(distance / density) | DCR share | exact copies (holdout's) | fit s (incl. search) | sample s "
             "| TSTR AUC (TRTR) |", "|---:|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for _, r in ranked.iterrows():
        g = results[(results["dataset"] == r["dataset"]) & (results["generator"] == r["generator"])]
        aucs = g["roc_auc"].astype(float)
        sd = aucs.std(ddof=1) if len(aucs) > 1 else float("nan")
        delong = ((g["roc_auc_hi"] - g["roc_auc_lo"]) / 2).mean()
        holdout_only, fit = [], []
        for run_dir in g["run_dir"]:
            metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
            timings = metrics["timings_s"]  # an adversarial run's fit includes its search
            fit.append(timings.get("fit", 0) + timings.get("adversarial_selection", 0))
            holdout_only.append((metrics.get("holdout_only") or {}).get("roc_auc"))
        only = pd.Series(holdout_only, dtype=float)
        only_sd = only.std(ddof=1) if only.notna().sum() > 1 else float("nan")
        rank = "–" if pd.isna(r["rank"]) else str(int(r["rank"]))
        lines.append(
            f"| {rank} | {r['generator']} | {len(g)} | {aucs.mean():.3f} ± {_f(sd, '.3f')} | {delong:.3f} "
            f"| {_f(only.mean(), '.3f')} ± {_f(only_sd, '.3f')} | {privacy_cell(r)} "
            f"| {_f(r['mia_auc'], '.3f')} / {_f(r['mia_density_auc'], '.3f')} | {_f(r['dcr_share'], '.1%')} "
            f"| {_f(g['exact_match_rate'].mean(), '.2%')} ({_f(g['holdout_exact_match_rate'].mean(), '.2%')}) "
            f"| {sum(fit) / len(fit):.1f} | {g['sample_s'].mean():.2f} "
            f"| {_f(g['tstr_auc'].mean(), '.3f')} ({_f(g['trtr_auc'].mean(), '.3f')}) |")
    return "\n".join(lines)


def time_ctgan(epochs: int) -> None:
    """One ``sdv:CTGAN`` fit on Adult's generator-training rows (the holdout split of a run), timed."""
    from advsynth.config import load_config
    from advsynth.experiment.splits import split_real
    from advsynth.config import load_real
    from advsynth.schema import infer_schema
    from advsynth.synthesizers import make_generator

    cfg = load_config(ROOT / "config" / "adult.yaml")
    real = load_real(cfg)
    schema = infer_schema(real, cfg.data.types)
    train, _ = split_real(real, cfg.seed, cfg.holdout, schema)
    gen = make_generator("sdv:CTGAN", random_state=0, epochs=epochs)
    print(f"load average before: {os.getloadavg()}", flush=True)
    start = time.perf_counter()
    gen.fit(train, schema)
    seconds = time.perf_counter() - start
    print(f"CTGAN {epochs} epochs on {len(train):,} rows: {seconds:.1f} s ({seconds / epochs:.2f} s/epoch); "
          f"load average after: {os.getloadavg()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "config" / "race.yaml"))
    ap.add_argument("--seeds", help="comma-separated subset of the config's seeds")
    ap.add_argument("--generators", help="comma-separated subset of the config's generator variants")
    ap.add_argument("--out", help="benchmark folder (default: a temporary one)")
    ap.add_argument("--bench", nargs="+", help="print the table of these finished benchmark folders and exit; a "
                    "run (dataset, variant, seed) in several folders is taken from the last one (re-run a subset, then merge)")
    ap.add_argument("--time-ctgan", type=int, metavar="EPOCHS", help="time one CTGAN fit on Adult and exit")
    args = ap.parse_args()
    if args.time_ctgan:
        time_ctgan(args.time_ctgan)
        return 0
    if args.bench:
        print(race_table([Path(b) for b in args.bench]))
        return 0
    wanted = args.generators.split(",") if args.generators else None
    cfg = load_bench_config(args.config, wanted).select(
        generators=wanted,
        seeds=[int(s) for s in args.seeds.split(",")] if args.seeds else None)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="race-")) / "bench"
    print(f"load average before: {os.getloadavg()}", flush=True)
    start = time.perf_counter()
    run_benchmark(cfg, out)
    print(f"\nrace in {time.perf_counter() - start:.0f} s on {os.cpu_count()} CPUs; "
          f"load average after: {os.getloadavg()}; folder {out}\n")
    print(race_table([out]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
