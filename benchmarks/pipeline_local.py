"""Time the SageMaker pipeline in local mode (Docker + moto) on the Adult table.

Usage (from the repo root, images built by ``bash scripts/local-docker.sh``)::

    PYTHONPATH=src:. python benchmarks/pipeline_local.py                 # full Adult (32,561 rows)
    PYTHONPATH=src:. python benchmarks/pipeline_local.py --rows 4000     # a seeded sample
    PYTHONPATH=src:. python benchmarks/pipeline_local.py --build         # also time the image build
    PYTHONPATH=src:. python benchmarks/pipeline_local.py --param DetectorRounds=100
    PYTHONPATH=src:. python benchmarks/pipeline_local.py --synthetic SYNTH.csv  # evaluate-only variant

The execution is the config's experiment (``parameters_for_config``: seed, holdout, column
types, gmm and detector settings), so its AUC is comparable with ``advsynth run --config``'s
on the same rows; ``--param`` overrides single parameters.

Prints the build time (with ``--build``), each step's wall time as local mode
recorded it, the run's total wall time and the detector figures, and writes the
same as JSON to ``WORKDIR/benchmark.json``. Step times include the container
start (``docker-compose up``) and the SDK's S3 copies on the host.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")


def _parse_param(text: str):
    name, sep, raw = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected Name=value, got {text!r}")
    return name, raw


def build_images() -> float:
    start = time.perf_counter()
    subprocess.run(["bash", str(ROOT / "scripts" / "local-docker.sh")], check=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=0, help="sample this many Adult rows (0: the full table)")
    parser.add_argument("--config", default=str(ROOT / "config" / "adult.yaml"))
    parser.add_argument("--build", action="store_true", help="time `bash scripts/local-docker.sh` first")
    parser.add_argument("--workdir", help="default: a new temporary folder")
    parser.add_argument("--param", action="append", type=_parse_param, default=[],
                        help="pipeline parameter Name=value (repeatable)")
    parser.add_argument("--synthetic", help="judge this synthetic table (evaluate-only variant)")
    args = parser.parse_args(argv)

    from advsynth.config import load_config
    from advsynth.config import load_real
    from pipelines.adversarial.pipeline import parameters_for_config
    from pipelines.run_pipeline import run_local

    figures: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    if args.build:
        figures["build_seconds"] = round(build_images(), 1)
        print(f"image build (scripts/local-docker.sh): {figures['build_seconds']:.1f} s", flush=True)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="advsynth-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = load_config(args.config)
    real = load_real(cfg)
    if args.rows:
        real = real.sample(n=args.rows, random_state=0)
    data = work / "real.csv"
    real.to_csv(data, index=False)
    figures["rows"] = len(real)
    params = {**parameters_for_config(cfg, evaluate_only=bool(args.synthetic)), **dict(args.param)}
    figures["parameters"] = params

    start = time.perf_counter()
    result = run_local(str(data), str(work / "run"), parameters=params, synthetic_path=args.synthetic)
    total = time.perf_counter() - start

    steps = {}
    for step in result["steps"]:
        begin, end = step.get("StartTime"), step.get("EndTime")
        seconds = (end - begin) if begin and end else None
        if hasattr(seconds, "total_seconds"):
            seconds = seconds.total_seconds()
        steps[step["StepName"]] = {"status": step["StepStatus"],
                                   "seconds": None if seconds is None else round(float(seconds), 1)}
    figures.update(status=result["status"], steps=steps, total_seconds=round(total, 1))
    det = (result.get("evaluation") or {}).get("detector")
    if det:
        figures["detector"] = {k: det[k] for k in ("roc_auc", "roc_auc_ci", "null_roc_auc", "p_value")}

    print(f"local pipeline on {len(real)} rows: {result['status']}")
    for name, step in steps.items():
        seconds = "-" if step["seconds"] is None else f"{step['seconds']:.1f} s"
        print(f"  {name:<18} {step['status']:<10} {seconds:>8}")
    print(f"  {'total (wall)':<29} {total:7.1f} s")
    if det:
        lo, hi = det["roc_auc_ci"]
        print(f"detector ROC AUC {det['roc_auc']:.3f} (95% CI {lo:.3f}-{hi:.3f}), "
              f"null {det['null_roc_auc']:.3f}")
    if result["status"] != "Succeeded":
        print(f"failure: {result['failure_reason']} {json.dumps(result['failed_steps'])[:2000]}")
    (work / "benchmark.json").write_text(json.dumps(figures, indent=2, default=str))
    print(f"wrote {work / 'benchmark.json'}")
    return 0 if result["status"] == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
