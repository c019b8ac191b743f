"""One trial of the pipeline's tuning job on Adult, in-process, beside the in-process search's score.

    nice python benchmarks/tuning_trial.py                          # k = 240, seed 0
    nice python benchmarks/tuning_trial.py --n-components 320 --pca-variance 0.95 --seed 1

Runs ``python -m advsynth.sagemaker generator-trial-train`` (in-process, a temporary /opt/ml
tree, the config's gmm settings and the default DetectorConfig) and then
``SelectionJudge.score`` (what ``advsynth run --adversarial`` computes per candidate) for the
same settings: the two AUCs must be equal. Prints the trial's metric lines, both AUCs and the
trial's wall time (scoring + refit on all training rows), which sizes ``TuningMaxJobs`` /
``TuningParallelJobs`` and the trial's MaxRuntimeInSeconds (3600).

Measured (2 shared cores, load average 9-10, config/adult.yaml, default DetectorConfig):
seed 0, k = 240: trial validation:auc 0.581629 = in-process 0.581629 (the 0.582 the
in-process search logs for k = 240 in synthesizers/adversarial.py); 18,234 selection-fit and
7,815 selection-validation rows; the trial takes 114 s (scoring 61 s + refit on 26,049 rows
53 s).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def main(argv=None) -> int:
    from advsynth.config import load_config
    from advsynth.io import read_table
    from advsynth.experiment.splits import split_real
    from advsynth.protocol import DetectorConfig
    from advsynth.config import load_real
    from advsynth.sagemaker import contract
    from advsynth.sagemaker.__main__ import main as sm_main
    from advsynth.schema import infer_schema
    from advsynth.synthesizers.adversarial import SelectionJudge

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config" / "adult.yaml"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-components", type=int, default=240)
    parser.add_argument("--pca-variance", type=float, default=None, help="default: the config's")
    parser.add_argument("--covariance-type", default=None, help="default: the config's (full)")
    args = parser.parse_args(argv)

    cfg = load_config(args.config)
    base = dict(cfg.generator_params("gmm"))
    settings = {"n_components": args.n_components}
    for key in ("pca_variance", "covariance_type"):
        if getattr(args, key) is not None:
            base[key] = getattr(args, key)
    detector = DetectorConfig.coerce(cfg.detector)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "input" / "data" / "train").mkdir(parents=True)
        (root / "input" / "config").mkdir(parents=True)
        csv = root / "input" / "data" / "train" / "real.csv"
        load_real(cfg).to_csv(csv, index=False)
        hp = {**{k: str(v) for k, v in base.items()}, "n_components": str(args.n_components), "seed": str(args.seed),
              "holdout": str(cfg.holdout), "types": json.dumps(cfg.data.types), "detector": json.dumps(detector.to_dict())}
        (root / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hp))
        os.environ[contract.SM_ROOT_ENV] = str(root)
        out = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(out):
            code = sm_main(["generator-trial-train"])
        trial_seconds = time.perf_counter() - started
        print(out.getvalue(), end="")
        if code:
            return code
        reported = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)
        real = read_table(csv)
        schema = infer_schema(real, cfg.data.types)
        train, _ = split_real(real, args.seed, cfg.holdout, schema)
        started = time.perf_counter()
        candidate = SelectionJudge(train, schema, detector, seed=args.seed).score(settings, base)
        judge_seconds = time.perf_counter() - started
    print(f"settings {settings} over {base}")
    print(f"trial validation:auc {reported['validation:auc']} (objective {reported['selection:objective']}), "
          f"in-process SelectionJudge {candidate.auc:.6f}: {'equal' if reported['validation:auc'] == f'{candidate.auc:.6f}' else 'DIFFERENT'}")
    print(f"trial {trial_seconds:.1f} s (scoring + refit), in-process scoring {judge_seconds:.1f} s")
    return 0 if reported["validation:auc"] == f"{candidate.auc:.6f}" else 1


if __name__ == "__main__":
    sys.exit(main())
