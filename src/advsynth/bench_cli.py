"""The ``bench``, ``bench history`` and ``report`` subcommands (parsing and printing only).

Wired into ``advsynth.cli.build_parser`` with one line: ``add_subcommands(sub)``.

    advsynth bench --config config/benchmark.yaml [--out DIR] [--history PATH|s3://bucket/prefix]
                   [--datasets a,b] [--generators x,y] [--seeds 0,1] [--no-history] [--no-extras]
    advsynth bench history [--history PATH|s3://…] [--config config/benchmark.yaml]
    advsynth report RUN_DIR|BENCH_DIR

``bench history`` exits 1 when a regression is flagged (see ``advsynth.history.trend``),
so a scheduled job can fail on it. Every user-fixable problem is an ``AdvsynthError``.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from .errors import ConfigError, InputError
from .tracking import add_tracking_options, tracking_from_args

DEFAULT_CONFIG = "config/benchmark.yaml"
DEFAULT_HISTORY = "benchmark-history"


def _csv_list(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _history_location(arg: str | None, config_path: str | None) -> str:
    """--history, else the config's ``history:``, else ./benchmark-history."""
    if arg:
        return arg
    if config_path and Path(config_path).exists():
        from .bench import load_bench_config

        cfg = load_bench_config(config_path)
        if cfg.history:
            return _resolve(cfg.history, config_path)
    return DEFAULT_HISTORY


def _resolve(location: str, config_path: str) -> str:
    if location.startswith("s3://") or Path(location).is_absolute():
        return location
    return str((Path(config_path).parent / location).resolve())


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import load_bench_config, run_benchmark
    from .history import HistoryStore

    if getattr(args, "bench_command", None) == "history":
        return cmd_history(args)
    cfg = load_bench_config(args.config, _csv_list(args.generators) or None)
    try:
        seeds = [int(s) for s in _csv_list(args.seeds)] if args.seeds else None
    except ValueError:
        raise ConfigError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
    cfg = cfg.select(datasets=_csv_list(args.datasets), generators=_csv_list(args.generators), seeds=seeds)
    if args.no_extras:
        cfg.extras = False
    out = Path(args.out) if args.out else Path("benchmarks-out") / (
        f"{cfg.name}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}")
    if out.exists() and any(out.iterdir()):
        raise InputError(f"benchmark folder already exists and is not empty: {out} (choose a new one)")
    history = None if args.no_history else HistoryStore(
        args.history or (_resolve(cfg.history, args.config) if cfg.history else DEFAULT_HISTORY))
    tracker = tracking_from_args(args)  # a wrong --mlflow fails before the benchmark, not after it
    results = run_benchmark(cfg, out, history=history)
    print((out / "summary.md").read_text(encoding="utf-8"))
    print(f"wrote {out}/results.csv, {out}/summary.md" + (f"; {len(results)} record(s) appended to {history.location}"
                                                           if history else ""))
    if tracker is not None:
        import dataclasses

        from .report import write_comparison, write_report
        from .tracking import log_benchmark

        for run_dir in sorted((out / "runs").glob("*/metrics.json")):
            write_report(run_dir.parent)
        write_comparison(out)
        parent = log_benchmark(tracker, out, dataclasses.asdict(cfg))
        print(f"logged to MLflow {tracker.uri}, experiment {tracker.experiment!r}: parent run {parent} with "
              f"{len(results)} nested run(s)")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from .history import HistoryStore, format_trend, trend

    location = _history_location(getattr(args, "history_path", None) or getattr(args, "history", None),
                                 getattr(args, "history_config", None) or getattr(args, "config", None))
    if not location.startswith("s3://") and not Path(location).exists():
        raise InputError(f"no history at {location} (run 'advsynth bench' first or pass --history)")
    rows = trend(HistoryStore(location).records())
    print(format_trend(rows))
    flagged = [r for r in rows if r["regression"]]
    if flagged:
        print(f"\n{len(flagged)} regression(s): " + ", ".join(f"{r['dataset']}/{r['generator']}" for r in flagged))
        return 1
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_comparison, write_report

    path = Path(args.run_dir)
    if not path.is_dir():
        raise InputError(f"not a folder: {path}")
    if (path / "results.csv").exists():
        print(write_comparison(path))
    elif (path / "metrics.json").exists():
        print(write_report(path))
    else:
        raise InputError(f"{path} is neither a run folder (metrics.json) nor a benchmark folder (results.csv)")
    return 0


def add_subcommands(subparsers) -> None:
    """Register ``bench`` (with ``bench history``) and ``report`` on the main parser's subparsers."""
    bench = subparsers.add_parser(
        "bench", help="benchmark generators x datasets x seeds; 'bench history' shows the trend",
        description="Run every generator variant on every dataset for every seed of a benchmark config; "
        "writes OUT/results.csv and OUT/summary.md and appends one record per run to the history.")
    bench.add_argument("--config", default=DEFAULT_CONFIG, help=f"benchmark config (default {DEFAULT_CONFIG})")
    bench.add_argument("--out", help="benchmark folder to create (default benchmarks-out/NAME-TIMESTAMP)")
    bench.add_argument("--history", help="history folder or s3://bucket/prefix (default: the config's 'history')")
    bench.add_argument("--no-history", action="store_true", help="do not record the runs")
    bench.add_argument("--datasets", help="comma-separated subset of the config's datasets")
    bench.add_argument("--generators", help="comma-separated subset of the config's generator variants")
    bench.add_argument("--seeds", help="comma-separated seeds (override the config's)")
    bench.add_argument("--no-extras", action="store_true", help="skip fidelity/privacy/utility per run")
    add_tracking_options(bench)
    bench.set_defaults(func=cmd_bench)
    bsub = bench.add_subparsers(dest="bench_command")
    hist = bsub.add_parser("history", help="trend per dataset x generator; exit code 1 if a regression is flagged",
                           description="Group the history's records by dataset x generator over time. A regression is "
                           "flagged when the latest batch's mean DeLong lower bound exceeds the upper end of the "
                           "previous records' 95%% interval of the mean AUC (see advsynth.history.trend).")
    hist.add_argument("--history", dest="history_path", help="history folder or s3://bucket/prefix")
    hist.add_argument("--config", dest="history_config", default=DEFAULT_CONFIG,
                      help="benchmark config whose 'history' to read when --history is absent")
    hist.set_defaults(func=cmd_history)

    report = subparsers.add_parser("report", help="write report.html for a run folder (comparison.html for a benchmark)",
                                   description="Write a self-contained, offline HTML report and print its path. Render only: every "
                                   "figure comes from the folder's files (the real table is never re-read, no stage is "
                                   "re-run); what an older folder lacks is named on the page. A run folder gets "
                                   "report.html (summary with real-vs-real references, detector, every column, "
                                   "association matrices, privacy, utility); a benchmark folder comparison.html, "
                                   "linking each run's report.")
    report.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (metrics.json) or a benchmark folder (results.csv)")
    report.set_defaults(func=cmd_report)
