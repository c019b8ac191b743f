"""The ``advsynth`` command: argument parsing and human-readable output only.

Every problem the user can fix (an AdvsynthError) is printed as one line on stderr with
a non-zero exit; ``--debug`` shows the traceback and debug logging.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from .errors import AdvsynthError
from .tracking import add_tracking_options, tracking_from_args

log = logging.getLogger("advsynth")


# phases that ran on the other core beside another one (their seconds are not in the sum)
_OVERLAPPED = {"null_overlapped": "null (alongside fit)", "extras_overlapped": "extras (alongside detect)"}

def _default_out(name: str, generator: str) -> Path:
    """``runs/NAME-GENERATOR-TIMESTAMP``: both parts are checked plain names, so it stays in runs/."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("runs") / f"{name}-{generator}-{stamp}"


def _na_values(text: str) -> list[str]:
    """``--na-values '?,-'`` → ['?', '-']; ``--na-values ''`` → [] (only empty cells are missing)."""
    return [token for token in text.split(",") if token] if text else []


def track_folder(tracker, out: Path) -> None:
    """Write the run's report (render only, about a second) and log the folder to MLflow."""
    if tracker is None:
        return
    try:
        from .report import write_report

        write_report(out)
    except AdvsynthError as err:  # no matplotlib: log metrics and config without the page
        log.warning("no report logged: %s", err)
    run_id = tracker.log_folder(out)
    print(f"logged to MLflow {tracker.uri}, experiment {tracker.experiment!r}, run {run_id}")


def cmd_run(args: argparse.Namespace) -> int:
    import dataclasses

    from .config import check_generator, config_for_csv, load_config, safe_name
    from .io import check_output_folder
    from .run import run

    if bool(args.config) == bool(args.data):
        raise AdvsynthError("give exactly one of --config FILE or --data TABLE")
    cfg = load_config(args.config) if args.config else config_for_csv(args.data)
    reading = {key: value for key, value in (("sep", args.sep), ("decimal", args.decimal),
                                              ("na_values", args.na_values)) if value is not None}
    changes = {key: value for key, value in (("seed", args.seed), ("rows", args.rows),
                                             ("output_format", args.format)) if value is not None}
    if args.no_extras:
        changes["extras"] = False
    if args.adversarial:
        changes["adversarial"] = args.adversarial
    if args.cv is not None:
        changes["detector"] = cfg.detector.replace(cv=args.cv)
    # replace() re-runs the checks, so --seed -1 or --sep ';;' fail like the same config key
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, **reading), **changes)
    generator = check_generator("--generator", args.generator) if args.generator else cfg.generator
    out = check_output_folder(args.out or _default_out(cfg.name, safe_name(generator)), [cfg.data.path])
    tracker = tracking_from_args(args)
    metrics = run(cfg, out, generator=generator)
    print(summary(metrics, out))
    track_folder(tracker, Path(out))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_paths

    if not (args.real or args.config):
        raise AdvsynthError("give --real REAL (or --config FILE whose data is the real table)")
    out = Path(args.out)
    tracker = tracking_from_args(args)
    metrics = evaluate_paths(args.real, args.synthetic, out, config_path=args.config, holdout_path=args.holdout,
                             target=args.target, cv=args.cv, seed=args.seed, extras=not args.no_extras)
    print(summary(metrics, out))
    track_folder(tracker, out)
    return 0


def _p(p_value: float) -> str:
    """A p-value as printed: one that underflowed to 0 is below the smallest double, not zero."""
    return "p<1e-300" if p_value < 1e-300 else f"p={p_value:.2g}"


def _tstr_summary(result: dict) -> str:
    from .metrics.utility import tstr_summary

    return tstr_summary(result)


def _num(value, fmt: str = ".3f") -> str:
    return "n/a" if value is None else format(value, fmt)


def summary(metrics: dict, out: Path | None = None) -> str:
    det = metrics["detector"]
    lo, hi = det["roc_auc_ci"]
    top = sorted(det["column_importance"].items(), key=lambda kv: -kv[1])[:3]
    lines = [
        f"{metrics['generator']} on {metrics['name']}: {metrics['n_synthetic']} synthetic rows vs {metrics['n_real']} real (seed {metrics['seed']})",
        f"detector ROC-AUC {det['roc_auc']:.3f} (95% CI {lo:.3f}-{hi:.3f}, {_p(det['p_value'])}); "
        f"precision {det['precision']:.3f}, recall {det['recall']:.3f}",
    ]
    if det.get("roc_auc_ci_covers"):
        lines.append(f"the interval covers {det['roc_auc_ci_covers']}")
    avail = det.get("rows_available") or {}
    if det.get("rows_per_class") and max(avail.values(), default=0) > det["rows_per_class"]:
        lines.append(f"the detector used {det['rows_per_class']:,} rows per class of {avail['real']:,} real and "
                     f"{avail['synthetic']:,} synthetic (detector.max_rows_per_class)")
    if det.get("cv"):
        cv = det["cv"]
        lines.append(f"{cv['k']}-fold CV AUC {cv['mean']:.3f} (SD {cv['sd']:.3f}; folds "
                     + " ".join(f"{a:.3f}" for a in cv["folds"]) + ")")
    if det.get("null_roc_auc") is not None:
        lines.append(f"real-vs-real null AUC {det['null_roc_auc']:.3f} (0.5 means the detector finds nothing)")
    from .report import holdout_only_line

    lines.append(holdout_only_line(metrics))
    lines.append("top giveaway columns: " + ", ".join(f"{c} {s:.0%}" for c, s in top))
    if metrics.get("excluded_columns"):  # a user must know what the AUC does not cover
        lines.append("not judged (identifiers, group keys and free text, drawn fresh apart from the other "
                     "columns; the detector leaves them out): " + ", ".join(metrics["excluded_columns"]))
    levels = (det.get("giveaways") or {}).get("levels") or {}
    for column, rows in list(levels.items())[:2]:
        shown = [r for r in rows if abs(r["difference"]) >= 0.005][:2]
        if shown:
            lines.append(f"  {column}: " + "; ".join(
                f"{r.get('level', r.get('range'))} {r['synthetic_share']:.1%} synthetic vs {r['real_share']:.1%} real"
                for r in shown))
    rows = (det.get("giveaways") or {}).get("rows") or []
    if rows:
        lines.append(f"most obviously fake synthetic row (score {rows[0]['score']:.3f}): "
                     + ", ".join(f"{k}={v}" for k, v in list(rows[0]["row"].items())[:8])
                     + (" ..." if len(rows[0]["row"]) > 8 else ""))
    checks = metrics.get("input") or {}
    if checks.get("reordered"):
        lines.append("note: the synthetic table's columns were in another order; matched by name")
    for key, what in (("unseen_levels", "values no real row has"), ("wrong_types", "values of the wrong type")):
        if checks.get(key):
            lines.append(f"{what}: " + ", ".join(f"{c} {v['count']}" for c, v in checks[key].items()))
    adv = metrics.get("adversarial")
    if adv and adv.get("skipped"):
        lines.append(f"adversarial: search skipped ({adv['skipped']}); the configured settings were used")
    elif adv:
        lines.append(f"adversarial: settings {adv['chosen']} chosen from {len(adv['candidates'])} candidates by their "
                     f"selection AUC {adv['selection_auc']:.3f} (validation rows of the training split; optimistic); "
                     f"the fresh detector's AUC above ({adv['fresh_auc']:.3f}) is the verdict; a detector on the "
                     f"holdout rows alone (fewer rows, so weaker) {adv['fresh_holdout_auc']:.3f}")
    if det["roc_auc_ci"][1] < 0.5:  # significantly below chance: not a perfect generator but a warning sign
        lines.append("warning: the AUC is significantly below 0.5: the detector calls synthetic rows real more often "
                     "than real rows, which happens when synthetic values mirror the real rows (twins across the "
                     "detector's split); read it as 'not detected', not as better than real")
    only = metrics.get("holdout_only") or {}
    if only.get("roc_auc") is not None and det["roc_auc_ci"][1] < only["roc_auc_ci"][0]:
        # fewer real rows make the holdout-only detector weaker, so it should not score higher
        lines.append(f"warning: the holdout-only AUC {only['roc_auc']:.3f} is significantly above the verdict "
                     f"{det['roc_auc']:.3f}: the synthetic rows are closer to the generator's training rows than "
                     "to unseen real rows; the holdout-only AUC is the fairer figure for this table")
    fit = metrics.get("generator_fit") or {}
    guarded = fit.get("privacy_guard") or {}
    from .experiment.stages import chosen_k

    fitted_k = chosen_k(fit)
    if fit.get("k_grown_from"):
        lines.append(f"k = {fitted_k}: the sweep's best, k = {fit['k_grown_from']}, was the largest it "
                     "tried, so the final fit grew it (edge_growth)")
    steps = [c["then"] for c in guarded.get("checks", []) if c.get("then")]
    if steps:
        lines.append(f"privacy guard: the fit's own check on {guarded['held_back_rows']} held-back training rows "
                     f"found {', '.join(guarded['checks'][0]['fired'])}, so the GMM gave up capacity: {'; '.join(steps)}")
    if fit.get("k_at_edge"):
        which = "largest" if fit["k_at_edge"] == "max" else "smallest"
        lines.append(f"note: the GMM chose k = {fitted_k}, the {which} k it tried: its criterion might "
                     "prefer a k outside the swept range (min_components/max_components, capped by the rows)")
    if metrics.get("privacy"):
        from .metrics.privacy import verdict_line

        lines.append(verdict_line(metrics["privacy"]))
    for what, why in (metrics.get("not_judged") or {}).items():
        if "holdout-only" not in what:  # holdout_only_line above says it
            lines.append(f"{what}: not judged ({why})")
    if metrics.get("fidelity"):
        fid, tstr = metrics["fidelity"]["summary"], (metrics.get("utility") or {}).get("tstr")
        lines.append(f"fidelity: mean KS {_num(fid.get('mean_ks'))}, mean TVD {_num(fid.get('mean_tvd'))}"
                     + (f"; utility: {_tstr_summary(tstr)}" if tstr else ""))
    lines.append(f"time {metrics['timings_s']['total']:.1f} s (" + ", ".join(
        f"{_OVERLAPPED.get(k, k)} {v:.1f}" for k, v in metrics["timings_s"].items() if k != "total") + ")")
    if out is not None:
        table = next((f"{out}/{n}" for n in ("synthetic.parquet",) if (Path(out) / n).exists()), f"{out}/synthetic.csv")
        lines.append(f"wrote {out}/metrics.json, {table}, {out}/scores.csv; 'advsynth report {out}' draws it")
    return "\n".join(lines)


# optional packages -> the pyproject extra that installs them
_EXTRAS = {"sagemaker": "pipeline", "moto": "pipeline", "matplotlib": "report", "pyarrow": "parquet"}


def _name_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise AdvsynthError(f"--param takes NAME=VALUE, got {text!r}")
    return name, value


def cmd_pipeline_definition(args: argparse.Namespace) -> int:
    from pipelines.get_pipeline_definition import definition

    print(definition(role=args.role, region=args.region, bucket=args.bucket, local=args.local, indent=2,
                     evaluate_only=args.evaluate_only, tuning=args.tuning))
    return 0


def cmd_pipeline_run(args: argparse.Namespace) -> int:
    import moto  # noqa: F401  (fail before writing anything when the [pipeline] extra is missing)
    import sagemaker  # noqa: F401

    from pipelines.run_pipeline import run_local

    if not args.local:
        raise AdvsynthError("only --local runs are started from here; use 'advsynth pipeline start' on AWS")
    if bool(args.config) == bool(args.data):
        raise AdvsynthError("give exactly one of --config FILE or --data CSV")
    params = dict(_name_value(p) for p in args.param)
    data = args.data
    if args.config:  # the pipeline reads a CSV with a header: write the config's table as one
        from pipelines.adversarial.pipeline import parameters_for_config

        from .config import load_config
        from .io import write_csv_atomic
        from .config import load_real

        cfg = load_config(args.config)
        # the config's experiment (seed, holdout, types, gmm and detector settings); --param wins
        params = {**parameters_for_config(cfg, evaluate_only=bool(args.synthetic)), **params}
        data = Path(args.workdir) / "input" / f"{cfg.name}.csv"
        write_csv_atomic(data, load_real(cfg))
    result = run_local(str(data), args.workdir, parameters=params, synthetic_path=args.synthetic)
    print(json.dumps({k: result.get(k) for k in ("status", "failure_reason", "evaluation", "artifacts_dir")}, indent=2, default=str))
    return 0 if result.get("status") == "Succeeded" else 1


def cmd_pipeline_upsert(args: argparse.Namespace) -> int:
    from pipelines import deploy

    extra = {"generator_image": args.generator_image} if args.generator_image else {}
    if args.kms_key:
        extra["kms_key"] = args.kms_key
    name = args.name
    if args.evaluate_only:
        extra["evaluate_only"] = True
        if name == "AdvsynthAdversarial":  # never replace the generating pipeline by the variant
            name = "AdvsynthEvaluate"
    if args.tuning:
        extra["tuning"] = True
        if name == "AdvsynthAdversarial":
            name = "AdvsynthTuning"
    print(json.dumps(deploy.upsert(args.role, region=args.region, default_bucket=args.bucket,
                                   pipeline_name=name, **extra), indent=2, default=str))
    return 0


def cmd_pipeline_start(args: argparse.Namespace) -> int:
    from pipelines import deploy

    params = dict(_name_value(p) for p in args.param)
    print(deploy.start(args.name, params))
    return 0


def cmd_pipeline_schedule(args: argparse.Namespace) -> int:
    from pipelines import deploy

    if args.delete:
        deploy.delete_schedule(args.name)
        print(f"deleted the schedule of {args.name}")
    elif args.disable:
        deploy.disable_schedule(args.name)
        print(f"disabled the schedule of {args.name}")
    else:
        if not (args.cron and args.role):
            raise AdvsynthError("--cron and --role are needed to create a schedule")
        print(deploy.schedule(args.name, args.cron, args.role))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advsynth",
        description="Adversarial evaluation of synthetic tabular data: fit a generator on a real table, "
        "sample a synthetic one, and measure how well an XGBoost detector tells them apart.",
    )
    parser.add_argument("--debug", action="store_true", help="debug logging and full tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true", help="say what was done (delimiter sniffed, "
                        "timings) at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="fit, sample and detect on one table; writes synthetic.csv and metrics.json",
                         description="Fit a generator on the real table, sample as many synthetic rows, train the "
                         "detector and write OUT/synthetic.csv, OUT/metrics.json, OUT/schema.json.")
    src = run.add_mutually_exclusive_group()
    src.add_argument("--config", help="experiment config (YAML), e.g. config/adult.yaml")
    src.add_argument("--data", metavar="TABLE", help="any CSV with a header row, or a Parquet file "
                     "(.parquet/.pq); column types are inferred")
    run.add_argument("--generator", metavar="NAME", help="gmm, baseline, a plug-in class 'package.module:Class' (fit(df)/sample(n)) or "
                     "'sdv:GaussianCopula' / 'sdv:CTGAN' (advsynth[sdv]) (default: the config's, else gmm)")
    run.add_argument("--out", help="run folder to create (must not exist; default runs/NAME-GENERATOR-TIMESTAMP)")
    run.add_argument("--seed", type=int, help="override the config's seed (0 .. 2**32-1)")
    run.add_argument("--rows", type=int, help="synthetic rows (default: as many as the real table)")
    run.add_argument("--no-extras", action="store_true", help="skip the fidelity, privacy and utility metrics")
    run.add_argument("--format", choices=("csv", "parquet"), help="synthetic.csv or synthetic.parquet "
                     "(default: Parquet when the input is Parquet, else CSV)")
    csv_opts = run.add_argument_group("reading a CSV", "override the config's data.sep, data.decimal and "
                                      "data.na_values; what was sniffed is logged with --verbose")
    csv_opts.add_argument("--sep", metavar="CHAR", help="delimiter (default: sniffed among , ; tab |); "
                          "give a tab as $'\\t'")
    csv_opts.add_argument("--decimal", choices=(".", ","), metavar="MARK", help="decimal mark of numbers, . or , (default: ',' when "
                          "a non-comma file writes numbers as 1,5, else '.')")
    csv_opts.add_argument("--na-values", metavar="LIST", type=_na_values,
                          help="comma-separated markers of a missing value, replacing pandas' defaults "
                          "(NA, null, nan, ...); '' means only empty cells are missing")
    run.add_argument("--cv", type=int, metavar="K", help="also estimate the AUC by K-fold cross-validation (K >= 2)")
    run.add_argument("--adversarial", action="store_true", help="gmm only: let a detector drive it on a "
                     "validation split of the generator's training rows: it chooses which of its giveaway "
                     "columns are redrawn given the others, round after round while its AUC falls, then the rounds "
                     "of density-ratio refinement (a winner must also pass the privacy adversary; a few minutes on "
                     "Adult); the verdict stays a fresh detector on fresh draws")
    add_tracking_options(run)
    run.set_defaults(func=cmd_run)

    ev = sub.add_parser("evaluate", help="judge any synthetic table against its real table (same detector as run)",
                        description="Run advsynth's detector protocol on a synthetic table from any generator and "
                        "write OUT/metrics.json, scores.csv, schema.json, config.json and synthetic.csv (the judged "
                        "table), so 'advsynth report OUT' works. Columns are matched by name (reordering is allowed "
                        "and noted); missing or extra columns are an error. CSV or Parquet.")
    ev.add_argument("--real", help="the real table (CSV with a header, or Parquet); with --config, overrides its data path")
    ev.add_argument("--synthetic", required=True, help="the synthetic table (CSV with a header naming the real columns, or Parquet)")
    ev.add_argument("--config", help="experiment config: how to read the real table, column types, detector, seed")
    ev.add_argument("--holdout", help="real rows the generator never saw (same format as the real table): enables "
                    "privacy and utility")
    ev.add_argument("--target", help="target column for conditional fidelity and utility")
    ev.add_argument("--cv", type=int, metavar="K", help="also estimate the AUC by K-fold cross-validation (K >= 2)")
    ev.add_argument("--seed", type=int, help="override the config's seed (default 0)")
    ev.add_argument("--no-extras", action="store_true", help="skip the fidelity, privacy and utility metrics")
    ev.add_argument("--out", required=True, help="folder to create (must not exist)")
    add_tracking_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    pipe = sub.add_parser("pipeline", help="the SageMaker pipeline: definition, local run, deploy, schedule")
    psub = pipe.add_subparsers(dest="pipeline_command", required=True)
    p = psub.add_parser("definition", help="print the pipeline JSON (offline, no credentials)")
    p.add_argument("--role", default="arn:aws:iam::000000000000:role/AdvsynthSageMaker")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--bucket", default="advsynth-artifacts")
    p.add_argument("--local", action="store_true", help="the local-mode variant (instance type 'local')")
    p.add_argument("--evaluate-only", action="store_true", help="the variant that judges a given synthetic table")
    p.add_argument("--tuning", action="store_true", help="the variant whose generator settings a tuning job chooses")
    p.set_defaults(func=cmd_pipeline_definition)
    p = psub.add_parser("run", help="run the whole pipeline locally: Docker + S3 mocked by moto")
    p.add_argument("--local", action="store_true", required=True, help="local mode (required)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--config", help="experiment config whose table to use, e.g. config/adult.yaml")
    source.add_argument("--data", help="CSV with a header row")
    p.add_argument("--synthetic", metavar="CSV",
                   help="judge this synthetic table (header as the real table's) instead of generating one")
    p.add_argument("--workdir", required=True, help="folder for the local run's files")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="pipeline parameter")
    p.set_defaults(func=cmd_pipeline_run)
    for name, helptext, func in (("upsert", "create or update the pipeline on AWS", cmd_pipeline_upsert),
                                 ("start", "start an execution on AWS", cmd_pipeline_start),
                                 ("schedule", "attach, disable or delete a cron schedule on AWS", cmd_pipeline_schedule)):
        p = psub.add_parser(name, help=helptext)
        p.add_argument("--name", default="AdvsynthAdversarial", help="pipeline name")
        if name == "upsert":
            p.add_argument("--role", required=True, help="SageMaker execution role ARN")
            p.add_argument("--region")
            p.add_argument("--bucket", required=True, help="S3 bucket for artifacts")
            p.add_argument("--generator-image", help="ECR URI of the advsynth image (generator and evaluation steps)")
            p.add_argument("--kms-key", help="KMS key ID or ARN for job volumes and outputs")
            p.add_argument("--evaluate-only", action="store_true",
                           help="deploy the variant that judges the table at SyntheticDataUri (no generator steps; "
                                "named AdvsynthEvaluate unless --name is given)")
            p.add_argument("--tuning", action="store_true",
                           help="deploy the variant whose generator settings a hyperparameter tuning job chooses by "
                                "a detector's AUC (named AdvsynthTuning unless --name is given)")
        if name == "start":
            p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
        if name == "schedule":
            p.add_argument("--cron", help='e.g. "0 3 * * ? *" (EventBridge cron, UTC)')
            p.add_argument("--role", help="role EventBridge Scheduler assumes to start the pipeline")
            p.add_argument("--disable", action="store_true")
            p.add_argument("--delete", action="store_true")
        p.set_defaults(func=func)

    from .bench_cli import add_subcommands

    add_subcommands(sub)
    return parser


def _log_to_stderr(level: int) -> None:
    """advsynth's log lines on the current stderr; replaces the handler of an earlier in-process
    call (tests, notebooks) instead of stacking a second one on a stale stream."""
    logger = logging.getLogger("advsynth")
    for handler in [h for h in logger.handlers if getattr(h, "advsynth_cli", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.advsynth_cli = True
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _log_to_stderr(logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING)
    try:
        return args.func(args)
    except AdvsynthError as err:
        if args.debug:
            raise
        print(f"advsynth: error: {err}", file=sys.stderr)
        return err.exit_code
    except ModuleNotFoundError as err:  # an optional feature whose extra is not installed
        package = (err.name or "").split(".")[0]
        if package not in _EXTRAS or args.debug:
            raise
        print(f"advsynth: error: this command needs {package}: pip install 'advsynth[{_EXTRAS[package]}]'",
              file=sys.stderr)
        return 2
    except MemoryError:
        if args.debug:
            raise
        print("advsynth: error: out of memory; try fewer --rows or a smaller table", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("advsynth: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`)
        try:  # point stdout at /dev/null so the flush at exit does not fail a second time
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):
            pass
        return 1
    except OSError as err:  # the system refused (disk full, read-only, permission): not a bug in advsynth
        if args.debug:
            raise
        from .io import describe_os_error

        where = f"{err.filename}: " if err.filename else ""
        print(f"advsynth: error: {where}{describe_os_error(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
