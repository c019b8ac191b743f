"""The head-to-head race on Adult (config/race.yaml): run it, or print its table from a finished run.

    python benchmarks/race.py [--config config/race.yaml] [--seeds 0,1,2] [--generators a,b] [--out DIR]
    python benchmarks/race.py --bench DIR          # the table of a finished `advsynth bench` folder
    python benchmarks/race.py --time-ctgan EPOCHS  # one CTGAN fit on Adult's training rows, timed

Needs the [sdv] extra for the SDV variants. The race itself is ``advsynth.bench.run_benchmark``
(what ``advsynth bench --config config/race.yaml`` runs); this script adds the table the README
quotes: per generator the detector AUC (mean ± 95 % interval over seeds; with one seed the run's
DeLong interval), fit and sample seconds, the DCR ratio and exact-copy rate beside the holdout's
own (privacy stays next to the AUC: a copying generator must not "win"), and TSTR/TRTR AUC.
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

from advsynth.bench import load_bench_config, mean_interval, run_benchmark  # noqa: E402


def _f(value, fmt: str) -> str:
    return "–" if value is None or pd.isna(value) else format(value, fmt)


def race_table(bench_dir: Path) -> str:
    """Markdown table of a finished benchmark folder (results.csv and the runs' metrics.json)."""
    results = pd.read_csv(bench_dir / "results.csv")
    lines = ["| generator | seeds | AUC ± 95% | fit s | sample s | DCR ratio | exact copies (holdout) "
             "| TSTR AUC (TRTR) |", "|---|---:|---|---:|---:|---:|---:|---:|"]
    for (dataset, gen), g in results.groupby(["dataset", "generator"], sort=False):
        auc, half = mean_interval(g["roc_auc"])
        how = "seeds"
        if half is None:
            half, how = float((g["roc_auc_hi"].iloc[0] - g["roc_auc_lo"].iloc[0]) / 2), "DeLong"
        holdout_copies = []
        for run_dir in g["run_dir"]:
            privacy = json.loads((bench_dir / run_dir / "metrics.json").read_text()).get("privacy") or {}
            holdout_copies.append(privacy.get("holdout_exact_match_rate"))
        holdout = pd.Series(holdout_copies, dtype=float).mean()
        lines.append(
            f"| {gen} | {len(g)} | {auc:.3f} ± {half:.3f} ({how}) | {g['fit_s'].mean():.1f} | {g['sample_s'].mean():.2f} "
            f"| {_f(g['dcr_ratio'].mean(), '.2f')} | {_f(g['exact_match_rate'].mean(), '.4f')} ({_f(holdout, '.4f')}) "
            f"| {_f(g['tstr_auc'].mean(), '.3f')} ({_f(g['trtr_auc'].mean(), '.3f')}) |")
    return "\n".join(lines)


def time_ctgan(epochs: int) -> None:
    """One ``sdv:CTGAN`` fit on Adult's generator-training rows (the holdout split of a run), timed."""
    from advsynth.config import load_config
    from advsynth.metrics.evaluate import split_real
    from advsynth.run import load_real
    from advsynth.schema import infer_schema
    from advsynth.synthesizers import make_generator

    cfg = load_config(ROOT / "config" / "adult.yaml")
    real = load_real(cfg)
    schema = infer_schema(real, cfg.data.types)
    train, _ = split_real(real, cfg.seed, cfg.holdout)
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
    ap.add_argument("--bench", help="print the table of this finished benchmark folder and exit")
    ap.add_argument("--time-ctgan", type=int, metavar="EPOCHS", help="time one CTGAN fit on Adult and exit")
    args = ap.parse_args()
    if args.time_ctgan:
        time_ctgan(args.time_ctgan)
        return 0
    if args.bench:
        print(race_table(Path(args.bench)))
        return 0
    cfg = load_bench_config(args.config).select(
        generators=args.generators.split(",") if args.generators else None,
        seeds=[int(s) for s in args.seeds.split(",")] if args.seeds else None)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="race-")) / "bench"
    print(f"load average before: {os.getloadavg()}", flush=True)
    start = time.perf_counter()
    run_benchmark(cfg, out)
    print(f"\nrace in {time.perf_counter() - start:.0f} s on {os.cpu_count()} CPUs; "
          f"load average after: {os.getloadavg()}; folder {out}\n")
    print(race_table(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
