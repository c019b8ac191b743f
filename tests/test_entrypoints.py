"""The container entrypoints against a temporary /opt/ml tree (no Docker).

The happy path chains the four commands the way the pipeline does, on a 1,000-row
sample of the real Adult table: generator-train -> (tar the model) -> sample ->
detector-train -> (tar the model) -> evaluate; ``advsynth.run.run`` on the same CSV,
config types, seed and DetectorConfig must reach the same AUC and null. The failure cases run the real
``python -m advsynth.sagemaker`` process and check its exit code, its one-line
stderr (no traceback) and the failure file.
"""

from __future__ import annotations

import json
import re
import math
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advsynth.config import DataConfig, RunConfig, load_config
from advsynth.errors import ConfigError
from advsynth.protocol import DetectorConfig
from advsynth.config import load_real
from advsynth.evaluation import evaluate_synthetic
from advsynth.experiment.splits import split_real
from advsynth.experiment.trace import trace
from advsynth.run import run
from advsynth.sagemaker import contract, entrypoints
from advsynth.sagemaker.entrypoints import detector_arguments, detector_hyperparameters
from advsynth.sagemaker.__main__ import main as sm_main

ROOT = Path(__file__).resolve().parents[1]
ADULT_CONFIG = ROOT / "config" / "adult.yaml"

GMM_PARAMS = {"pca_variance": 0.99, "min_components": 1, "max_components": 6, "n_candidates": 2, "criterion": "bic"}
HOLDOUT = 0.2
TYPES = load_config(ADULT_CONFIG).data.types          # the config's column types travel with the job
GENERATOR_HP = {**{k: str(v) for k, v in GMM_PARAMS.items()}, "seed": "0", "holdout": str(HOLDOUT),
                "types": json.dumps(TYPES)}
# A small protocol, early stopping on: every container reads its settings from this one object.
DETECTOR = DetectorConfig(rounds=40, max_depth=4, eta=0.3, early_stopping_rounds=5, validation_size=0.2,
                          test_size=0.3, nthread=1)
DETECTOR_HP = detector_hyperparameters(DETECTOR, seed=0)


@pytest.fixture(scope="module")
def adult_sample(adult_path) -> pd.DataFrame:
    real = load_real(load_config(ADULT_CONFIG))
    return real.sample(n=1000, random_state=0).reset_index(drop=True)


def _env(root: Path) -> dict:
    env = dict(os.environ)
    env[contract.SM_ROOT_ENV] = str(root)
    env.pop(contract.PROCESSING_ROOT_ENV, None)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else src
    return env


def _use_root(monkeypatch, root: Path) -> None:
    monkeypatch.setenv(contract.SM_ROOT_ENV, str(root))
    monkeypatch.delenv(contract.PROCESSING_ROOT_ENV, raising=False)


def _write_hp(root: Path, hp: dict) -> None:
    path = root / "input" / "config" / "hyperparameters.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(hp))


def _tar_dir(folder: Path, archive: Path) -> None:
    """What SageMaker does with /opt/ml/model: model.tar.gz with the files at its top level."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)


def _copy_dir(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())


def _run_module(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advsynth.sagemaker", *args], env=_env(root),
                          capture_output=True, text=True, timeout=300)


def _assert_xgboost_csv(path: Path) -> np.ndarray:
    """Label first, no header, numbers only (empty field = missing)."""
    lines = path.read_text().splitlines()
    assert lines, f"{path} is empty"
    for line in lines[:200]:
        for field in line.split(","):
            if field:
                float(field)   # a header or a category would raise
    data = pd.read_csv(path, header=None).to_numpy(dtype=float)
    assert set(np.unique(data[:, 0])) == {0.0, 1.0}
    return data


@pytest.fixture(scope="module")
def chain(tmp_path_factory, adult_sample):
    """Run the four entrypoints in-process, each in its own /opt/ml root, like separate jobs."""
    base = tmp_path_factory.mktemp("chain")
    real_csv = base / "real.csv"
    adult_sample.to_csv(real_csv, index=False)
    mp = pytest.MonkeyPatch()
    stages = {}  # the experiment's stages each container command called
    try:
        # 1. generator-train
        gen = base / "generator"
        (gen / "input" / "data" / "train").mkdir(parents=True)
        (gen / "input" / "data" / "train" / "real.csv").write_bytes(real_csv.read_bytes())
        _write_hp(gen, GENERATOR_HP)
        _use_root(mp, gen)
        with trace() as stages['generator-train']:
            assert sm_main(["generator-train"]) == 0
        # 2. sample: model.tar.gz + the real table as processing inputs
        smp = base / "sample"
        _tar_dir(gen / "model", smp / "processing" / "model" / "model.tar.gz")
        (smp / "processing" / "real").mkdir(parents=True)
        (smp / "processing" / "real" / "real.csv").write_bytes(real_csv.read_bytes())
        _use_root(mp, smp)
        with trace() as stages['sample']:
            assert sm_main(["sample", "--rows", "0", "--seed", "0", *detector_arguments(DETECTOR)]) == 0
        # 3. prepare: the selected rows + the real table -> the detector's splits
        prep = base / "prepare"
        _copy_dir(smp / "processing" / "model", prep / "processing" / "model")
        _copy_dir(smp / "processing" / "real", prep / "processing" / "real")
        _copy_dir(smp / "processing" / "selected", prep / "processing" / "selected")
        _use_root(mp, prep)
        with trace() as stages['prepare']:
            assert sm_main(["prepare", "--drawn-rows", "0", "--seed", "0", *detector_arguments(DETECTOR)]) == 0
        # 4. detector-train on the splits
        det = base / "detector"
        for channel in ("train", "validation"):
            folder = det / "input" / "data" / channel
            folder.mkdir(parents=True)
            src = prep / "processing" / "detector" / channel / f"{channel}.csv"
            (folder / f"{channel}.csv").write_bytes(src.read_bytes())
        _write_hp(det, DETECTOR_HP)
        _use_root(mp, det)
        with trace() as stages['detector-train']:
            assert sm_main(["detector-train"]) == 0
        # 5. evaluate (the synthetic rows: the sample step's selected shards)
        ev = base / "evaluate"
        _tar_dir(det / "model", ev / "processing" / "model" / "model.tar.gz")
        _tar_dir(gen / "model", ev / "processing" / "generator" / "model.tar.gz")  # split.json: the privacy members
        for name, src in (("test", prep / "processing" / "detector" / "test" / "test.csv"),
                          ("synthetic", smp / "processing" / "selected" / "selected-00000-of-00001.csv"),
                          ("features", prep / "processing" / "detector" / "features" / "features.json"),
                          ("real", real_csv)):
            (ev / "processing" / name).mkdir(parents=True)
            (ev / "processing" / name / src.name).write_bytes(src.read_bytes())
        _use_root(mp, ev)
        with trace() as stages['evaluate']:
            assert sm_main(["evaluate", "--seed", "0"]) == 0
    finally:
        mp.undo()
    return {"base": base, "generator": gen, "sample": smp, "prepare": prep, "detector": det, "evaluate": ev,
            "real": adult_sample, "real_csv": real_csv, "stages": stages}


def test_generator_train_writes_model_and_metric_lines(chain, capsys):
    model = chain["generator"] / "model"
    assert sorted(p.name for p in model.iterdir()) == ["generator.joblib", "schema.json", "split.json"]
    schema = json.loads((model / "schema.json").read_text())
    assert [c["name"] for c in schema["columns"]] == list(chain["real"].columns)
    # the rows the generator never saw, as advsynth run withholds them (what the privacy adversary reads)
    from advsynth.experiment.splits import RealSplit

    split = json.loads((model / "split.json").read_text())
    assert split["holdout_rows"] == RealSplit.of(len(chain["real"]), 0, HOLDOUT).holdout.tolist()
    assert split["n_real"] == len(chain["real"]) and split["holdout_share"] == HOLDOUT
    assert not (chain["generator"] / "output" / "failure").exists()


def test_generator_train_carries_the_privacy_guard(tmp_path, monkeypatch, adult_path):
    """``privacy_guard: "true"`` (the pipeline's PrivacyGuard parameter) reaches the job's GMM: the
    saved model holds the guard's checks on the rows it held back."""
    import joblib

    from advsynth.synthesizers import guard

    rows = round(guard.MIN_ROWS / (1 - HOLDOUT)) + 100  # enough training rows for the guard to check
    real = load_real(load_config(ADULT_CONFIG)).sample(n=rows, random_state=2)
    (tmp_path / "input" / "data" / "train").mkdir(parents=True)
    real.to_csv(tmp_path / "input" / "data" / "train" / "real.csv", index=False)
    _write_hp(tmp_path, {**GENERATOR_HP, "max_components": "3", "privacy_guard": "true"})
    _use_root(monkeypatch, tmp_path)
    assert sm_main(["generator-train"]) == 0
    gen = joblib.load(tmp_path / "model" / "generator.joblib")
    assert gen.privacy_guard is True and gen.guard_["checks"]
    assert gen.guard_["held_back_rows"] + gen.guard_["fitted_rows"] == round(rows * (1 - HOLDOUT))


def test_generator_metric_lines_match_pipeline_regexes(tmp_path, adult_sample):
    import re

    from pipelines.adversarial.pipeline import GENERATOR_METRICS

    (tmp_path / "input" / "data" / "train").mkdir(parents=True)
    adult_sample.iloc[:300].to_csv(tmp_path / "input" / "data" / "train" / "t.csv", index=False)
    _write_hp(tmp_path, {**GENERATOR_HP, "max_components": "3"})
    proc = _run_module(tmp_path, "generator-train")
    assert proc.returncode == 0, proc.stderr
    for name, regex in GENERATOR_METRICS.items():
        match = re.search(regex, proc.stdout)
        assert match, f"{name}: {regex!r} matches nothing in {proc.stdout!r}"
        float(match.group(1))


def test_sample_and_prepare_write_builtin_xgboost_splits(chain):
    synthetic = pd.read_csv(chain["sample"] / "processing" / "synthetic" / "synthetic-00000-of-00001.csv")
    proc = chain["prepare"] / "processing"
    assert list(synthetic.columns) == list(chain["real"].columns)
    assert len(synthetic) == len(chain["real"])
    features = json.loads((proc / "detector" / "features" / "features.json").read_text())
    from advsynth.detection import DetectorFeatures

    n_features = len(DetectorFeatures.from_json(json.dumps(features)).columns)
    train = _assert_xgboost_csv(proc / "detector" / "train" / "train.csv")
    validation = _assert_xgboost_csv(proc / "detector" / "validation" / "validation.csv")
    test = _assert_xgboost_csv(proc / "detector" / "test" / "test.csv")
    assert train.shape[1] == validation.shape[1] == test.shape[1] == n_features + 1
    n = 2 * len(chain["real"])
    assert len(train) + len(validation) + len(test) == n
    # test_size of the rows held out; validation_size of the remaining training rows for early stopping
    assert abs(len(test) / n - DETECTOR.test_size) < 0.01
    assert abs(len(validation) / (len(train) + len(validation)) - DETECTOR.validation_size) < 0.01
    # balanced classes in every split
    for split in (train, validation, test):
        assert abs(split[:, 0].mean() - 0.5) < 0.01
    assert features["split"]["n_train"] == len(train) and features["split"]["n_validation"] == len(validation)
    assert DetectorConfig.from_dict(features["detector"]) == DETECTOR.replace(nthread=DetectorConfig().nthread)
    assert {c["name"]: c["kind"] for c in features["schema"]["columns"] if c["name"] in TYPES} == {
        name: kind for name, kind in TYPES.items()}
    # inputs are left as they were: nothing written next to model.tar.gz or real.csv
    assert sorted(p.name for p in (proc / "model").iterdir()) == ["model.tar.gz"]
    assert sorted(p.name for p in (proc / "real").iterdir()) == ["real.csv"]


def test_detector_train_writes_loadable_xgboost_model(chain):
    import xgboost as xgb

    model = chain["detector"] / "model" / "xgboost-model"
    booster = xgb.Booster()
    booster.load_model(bytearray(model.read_bytes()))
    meta = json.loads((chain["detector"] / "model" / "advsynth-detector.json").read_text())
    assert meta["xgb_params"] == DETECTOR.xgb_params(seed=0, nthread=DetectorConfig().nthread)
    assert (meta["rounds"], meta["early_stopping_rounds"]) == (DETECTOR.rounds, DETECTOR.early_stopping_rounds)
    # early stopping keeps the best rounds only
    assert 1 <= booster.num_boosted_rounds() == meta["rounds_used"] <= DETECTOR.rounds


def test_detector_logs_rounds_in_builtin_format(tmp_path, chain):
    import re

    from pipelines.adversarial.pipeline import DETECTOR_METRICS

    for channel in ("train", "validation"):
        (tmp_path / "input" / "data" / channel).mkdir(parents=True)
        src = chain["detector"] / "input" / "data" / channel / f"{channel}.csv"
        (tmp_path / "input" / "data" / channel / f"{channel}.csv").write_bytes(src.read_bytes())
    _write_hp(tmp_path, {**DETECTOR_HP, "num_round": "5"})
    proc = _run_module(tmp_path, "detector-train")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    for name, regex in DETECTOR_METRICS.items():
        values = [float(m.group(1)) for m in re.finditer(regex, out)]
        assert len(values) == 5, f"{name}: {values} from {out!r}"
        assert all(0 <= v <= 1 for v in values)


def test_evaluate_writes_detector_section(chain):
    evaluation = json.loads((chain["evaluate"] / "processing" / "evaluation" / "evaluation.json").read_text())
    det = evaluation["detector"]
    # on a small Adult sample the GMM's fakes may not be told apart (AUC near or below 0.5): the
    # section's own consistency is what is checked here, agreement with ``advsynth run`` below
    assert 0.0 <= det["roc_auc"] <= 1.0
    lo, hi = det["roc_auc_ci"]
    assert lo <= det["roc_auc"] <= hi
    assert 0.0 <= det["p_value"] <= 1.0
    assert 0.0 <= det["precision"] <= 1.0 and 0.0 <= det["recall"] <= 1.0
    assert abs(det["null_roc_auc"] - 0.5) < 0.15
    assert math.isclose(sum(det["column_importance"].values()), 1.0, abs_tol=1e-6)
    assert set(det["column_importance"]) <= set(chain["real"].columns)
    assert det["rounds"] == DETECTOR.rounds
    assert det["n_train"] + det["n_validation"] + det["n_test"] == 2 * len(chain["real"])
    assert det["test_size"] == DETECTOR.test_size


def test_evaluation_keys_match_in_process_detect(chain):
    from advsynth.detection import DetectionResult

    evaluation = json.loads((chain["evaluate"] / "processing" / "evaluation" / "evaluation.json").read_text())
    assert set(evaluation["detector"]) == set(DetectionResult.__dataclass_fields__) - {"scores"}  # scores stay out of JSON


def test_entrypoints_and_advsynth_run_agree(chain):
    """The pipeline's containers and ``advsynth run`` run one experiment: same holdout, column
    types, features, splits, early stopping and null, so the same AUCs.

    Tolerance 1e-9: nothing differs in principle. The matrices cross the container boundary as
    CSV with 9 significant digits, which is exact for float32 features; XGBoost's hist method
    is deterministic for any thread count; the generator is fitted on the same rows with the same
    seed in both. A looser tolerance would hide a second experiment.
    """
    cfg = RunConfig(data=DataConfig(path=str(chain["real_csv"]), types=TYPES), name="agree", seed=0,
                    generator="gmm", generators={"gmm": GMM_PARAMS}, detector=DETECTOR, holdout=HOLDOUT)
    metrics = run(cfg)
    evaluation = json.loads((chain["evaluate"] / "processing" / "evaluation" / "evaluation.json").read_text())
    ours, theirs = evaluation["detector"], metrics["detector"]
    assert metrics["n_generator_train"] < metrics["n_real"]          # the run withheld its holdout too
    for key in ("roc_auc", "null_roc_auc", "precision", "recall"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-9), key
    assert ours["roc_auc_ci"] == pytest.approx(theirs["roc_auc_ci"], abs=1e-9)
    for key in ("n_train", "n_validation", "n_test", "best_rounds", "rounds"):
        assert ours[key] == theirs[key], key
    assert ours["column_importance"] == pytest.approx(theirs["column_importance"], abs=1e-9)
    # the same giveaways: surest-fake rows (by score) and the levels of the top columns
    assert [r["score"] for r in ours["giveaways"]["rows"]] == pytest.approx(
        [r["score"] for r in theirs["giveaways"]["rows"]], abs=1e-9)
    assert ours["giveaways"]["levels"].keys() == theirs["giveaways"]["levels"].keys()
    for column, entries in theirs["giveaways"]["levels"].items():
        assert len(ours["giveaways"]["levels"][column]) == len(entries)
        for mine, run_entry in zip(ours["giveaways"]["levels"][column], entries):
            assert mine.get("level", mine.get("range")) == run_entry.get("level", run_entry.get("range"))
            for key in ("real_share", "synthetic_share", "difference"):
                assert mine[key] == pytest.approx(run_entry[key], abs=1e-12), (column, key)
    # the synthetic table the sample step drew is the run's
    synthetic = pd.read_csv(chain["sample"] / "processing" / "synthetic" / "synthetic-00000-of-00001.csv")
    assert len(synthetic) == metrics["n_synthetic"]
    # the second adversary: the same members, non-members and synthetic rows, so the same verdict and figures
    _assert_same_numbers(evaluation["privacy"], metrics["privacy"], "privacy")
    _assert_same_numbers(evaluation["holdout_only"], metrics["holdout_only"], "holdout_only")
    assert evaluation["privacy"]["membership"]["n_members"] > 0


DETECTOR_STAGES = {"detector.features", "detector.split", "detector.fit", "detector.score", "detector.giveaways",
                   "detector.null"}


def test_every_door_calls_the_same_stages(chain):
    """``advsynth run``, ``advsynth evaluate`` and the pipeline's container commands compose the
    same stage functions of ``advsynth.experiment`` (recorded by ``experiment.trace``), so a figure
    means one thing whichever door printed it: the detector's six stages, the holdout split and the
    privacy adversary in each door that knows the generator's training rows."""
    cfg = RunConfig(data=DataConfig(path=str(chain["real_csv"]), types=TYPES), name="doors", seed=0,
                    generator="gmm", generators={"gmm": GMM_PARAMS}, detector=DETECTOR, holdout=HOLDOUT)
    with trace() as run_stages:
        run(cfg)
    real = load_real(cfg)
    train, holdout = split_real(real, 0, HOLDOUT)
    synthetic = pd.read_csv(chain["sample"] / "processing" / "synthetic" / "synthetic-00000-of-00001.csv")
    with trace() as evaluate_stages:
        evaluate_synthetic(train, synthetic, detector=DETECTOR, types=TYPES, holdout=holdout)
    containers = chain["stages"]
    container_stages = set().union(*containers.values())
    for door, stages in (("run", set(run_stages)), ("evaluate", set(evaluate_stages)),
                         ("containers", container_stages)):
        assert DETECTOR_STAGES <= stages, (door, DETECTOR_STAGES - stages)
        assert "privacy" in stages, door
    assert "holdout_split" in run_stages and "holdout_split" in containers["generator-train"]
    assert {"holdout_only", "fidelity", "utility", "extras"} <= set(run_stages)
    assert {"holdout_only", "fidelity", "utility", "extras"} <= set(evaluate_stages)
    # each container command runs its own part of the one experiment
    assert {"detector.features", "detector.split"} <= set(containers["prepare"])
    assert set(containers["detector-train"]) == {"detector.fit"}
    assert {"detector.score", "detector.giveaways", "detector.null", "privacy", "holdout_only"} <= set(containers["evaluate"])
    assert "holdout_only" in container_stages


def _assert_same_numbers(ours, theirs, where: str) -> None:
    """Two JSON trees equal in structure and text, numbers to 1e-9 (the equivalence tests' tolerance)."""
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), where
        for key in theirs:
            _assert_same_numbers(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same_numbers(a, b, f"{where}[{i}]")
    elif isinstance(theirs, float) and not isinstance(theirs, bool):
        assert ours == pytest.approx(theirs, abs=1e-9), where
    else:
        assert ours == theirs, where


def test_prepare_on_a_given_synthetic_table_builds_the_same_splits(chain, tmp_path, monkeypatch):
    """Evaluate-only: ``prepare`` reading the generated synthetic.csv (no generator model) with the
    config's types writes byte-identical splits, so the pipeline's evaluate-only variant judges a
    table exactly as the generating one does."""
    proc = tmp_path / "processing"
    (proc / "given").mkdir(parents=True)
    (proc / "real").mkdir()
    source = chain["prepare"] / "processing"
    (proc / "given" / "synthetic.csv").write_bytes(
        (chain["sample"] / "processing" / "synthetic" / "synthetic-00000-of-00001.csv").read_bytes())
    (proc / "real" / "real.csv").write_bytes(chain["real_csv"].read_bytes())
    _use_root(monkeypatch, tmp_path)
    assert sm_main(["prepare", "--seed", "0", "--types", json.dumps(TYPES), *detector_arguments(DETECTOR)]) == 0
    for split in ("train", "validation", "test"):
        assert (proc / "detector" / split / f"{split}.csv").read_bytes() == \
            (source / "detector" / split / f"{split}.csv").read_bytes(), split
    features = json.loads((proc / "detector" / "features" / "features.json").read_text())
    assert features["input"] == {"reordered": False, "unseen_levels": {}, "wrong_types": {}}
    # ... and advsynth evaluate on the same table reaches the pipeline's AUC
    from advsynth.evaluation import evaluate_synthetic

    real = pd.read_csv(chain["real_csv"])
    synthetic = pd.read_csv(proc / "given" / "synthetic.csv")
    metrics, *_ = evaluate_synthetic(load_real(RunConfig(data=DataConfig(path=str(chain["real_csv"])))), synthetic,
                                     detector=DETECTOR, types=TYPES, seed=0, extras=False)
    evaluation = json.loads((chain["evaluate"] / "processing" / "evaluation" / "evaluation.json").read_text())
    assert metrics["detector"]["roc_auc"] == pytest.approx(evaluation["detector"]["roc_auc"], abs=1e-9)
    assert metrics["detector"]["null_roc_auc"] == pytest.approx(evaluation["detector"]["null_roc_auc"], abs=1e-9)
    assert len(real) == metrics["n_real"]


def test_prepare_refuses_a_given_table_with_other_columns(chain, tmp_path):
    proc = tmp_path / "processing"
    (proc / "given").mkdir(parents=True)
    (proc / "real").mkdir()
    chain["real"].rename(columns={"age": "Age"}).to_csv(proc / "given" / "s.csv", index=False)
    (proc / "real" / "real.csv").write_bytes(chain["real_csv"].read_bytes())
    result = _run_module(tmp_path, "prepare", "--seed", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "missing age" in result.stderr and "extra Age" in result.stderr


def test_detector_settings_round_trip_through_options_and_hyperparameters():
    from advsynth.sagemaker.entrypoints import (
        DETECTOR_HYPERPARAMETERS,
        _Parser,
        add_detector_options,
        detector_config_from_args,
        detector_config_from_hyperparameters,
    )

    cfg = DetectorConfig(rounds=77, max_depth=3, eta=0.05, early_stopping_rounds=9, validation_size=0.15,
                         test_size=0.25, params={"min_child_weight": 2.0})
    parser = _Parser()
    add_detector_options(parser)
    assert detector_config_from_args(parser.parse_args(detector_arguments(cfg))) == cfg
    assert detector_config_from_args(parser.parse_args([])) == DetectorConfig()
    hp = {k: contract.parse_hyperparameter(k, v, DETECTOR_HYPERPARAMETERS[k])
          for k, v in detector_hyperparameters(cfg, seed=4).items()}
    # the training job's hyperparameters carry the training settings; the split shares are the sample step's
    defaults = DetectorConfig()
    assert detector_config_from_hyperparameters(hp) == (
        cfg.replace(validation_size=defaults.validation_size, test_size=defaults.test_size), 4)
    with pytest.raises(ConfigError, match="objective"):
        detector_config_from_hyperparameters({**hp, "objective": "reg:squarederror"})


# ---------------------------------------------------------------- contract units
def test_hyperparameters_are_typed(tmp_path):
    path = tmp_path / "hp.json"
    path.write_text(json.dumps({"max_components": "12", "pca_variance": "0.9", "criterion": "\"aic\"",
                                "fit_rows": "None", "privacy_guard": "True", "sagemaker_region": "\"us-east-1\""}))
    hp = contract.read_hyperparameters(entrypoints.GENERATOR_HYPERPARAMETERS, path)
    assert hp == {"max_components": 12, "pca_variance": 0.9, "criterion": "aic", "fit_rows": None,
                  "privacy_guard": True, "seed": 0, "types": "{}"}
    spec = entrypoints.GENERATOR_HYPERPARAMETERS["privacy_guard"]
    assert [contract.parse_hyperparameter("privacy_guard", v, spec) for v in ("false", "\"true\"", False)] == [
        False, True, False]


@pytest.mark.parametrize("name,value,word", [("max_components", "abc", "an integer"),
                                              ("max_components", "2.5", "an integer"),
                                              ("pca_variance", "high", "a number"),
                                              ("privacy_guard", "1", "true or false"),
                                              ("privacy_guard", "yes", "true or false")])
def test_bad_hyperparameter_names_itself(tmp_path, name, value, word):
    path = tmp_path / "hp.json"
    path.write_text(json.dumps({name: value}))
    with pytest.raises(ConfigError) as err:
        contract.read_hyperparameters(entrypoints.GENERATOR_HYPERPARAMETERS, path)
    assert str(err.value) == f"hyperparameter '{name}' must be {word}, got '{value}'"


def test_unknown_hyperparameter_is_refused(tmp_path):
    path = tmp_path / "hp.json"
    path.write_text(json.dumps({"max_component": "3"}))
    with pytest.raises(ConfigError, match="unknown hyperparameter.*'max_component'"):
        contract.read_hyperparameters(entrypoints.GENERATOR_HYPERPARAMETERS, path)


def test_model_archive_with_escaping_member_is_not_extracted(tmp_path):
    import io

    archive = tmp_path / "in" / "model.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("../evil.txt", "/abs.txt", "xgboost-model"):
            data = b"x"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    out = entrypoints.extract_model(archive.parent, ["xgboost-model"])
    try:
        assert sorted(p.name for p in out.rglob("*")) == ["xgboost-model"]
        assert not (tmp_path / "evil.txt").exists()
        assert sorted(p.name for p in archive.parent.iterdir()) == ["model.tar.gz"]
    finally:
        import shutil

        shutil.rmtree(out)


# ---------------------------------------------------------------- failures (real processes)
def _assert_clean_failure(proc, failure: Path, expected: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("advsynth: error:")]
    assert len(error_lines) == 1, proc.stderr
    assert failure.is_file(), f"no failure file at {failure}"
    reason = failure.read_text().strip()
    assert "\n" not in reason
    assert expected in reason, reason
    assert error_lines[0] == f"advsynth: error: {reason}"
    return reason


def test_missing_train_channel_fails_cleanly(tmp_path):
    _write_hp(tmp_path, GENERATOR_HP)
    proc = _run_module(tmp_path, "generator-train")
    reason = _assert_clean_failure(proc, tmp_path / "output" / "failure", "input channel 'train' not found")
    assert str(tmp_path / "input" / "data" / "train") in reason


def test_empty_channel_folder_fails_cleanly(tmp_path):
    (tmp_path / "input" / "data" / "train").mkdir(parents=True)
    proc = _run_module(tmp_path, "generator-train")
    _assert_clean_failure(proc, tmp_path / "output" / "failure", "input channel 'train' is empty")


def test_several_csv_files_fail_cleanly(tmp_path, adult_sample):
    folder = tmp_path / "input" / "data" / "train"
    folder.mkdir(parents=True)
    adult_sample.to_csv(folder / "a.csv", index=False)
    adult_sample.to_csv(folder / "b.csv", index=False)
    proc = _run_module(tmp_path, "generator-train")
    _assert_clean_failure(proc, tmp_path / "output" / "failure", "must hold exactly one CSV file, found 2: a.csv, b.csv")


@pytest.mark.parametrize("content,expected", [("", "input is empty"),
                                              ("age,workclass\n", "the table has a header but no rows")])
def test_empty_table_fails_cleanly(tmp_path, content, expected):
    folder = tmp_path / "input" / "data" / "train"
    folder.mkdir(parents=True)
    (folder / "real.csv").write_text(content)
    proc = _run_module(tmp_path, "generator-train")
    _assert_clean_failure(proc, tmp_path / "output" / "failure", expected)


def test_wrong_hyperparameter_type_fails_cleanly(tmp_path, adult_sample):
    folder = tmp_path / "input" / "data" / "train"
    folder.mkdir(parents=True)
    adult_sample.to_csv(folder / "real.csv", index=False)
    _write_hp(tmp_path, {**GENERATOR_HP, "max_components": "abc"})
    proc = _run_module(tmp_path, "generator-train")
    reason = _assert_clean_failure(proc, tmp_path / "output" / "failure", "")
    assert reason == "hyperparameter 'max_components' must be an integer, got 'abc'"
    assert not (tmp_path / "model").exists() or not any((tmp_path / "model").iterdir())


def test_detector_needs_num_round(tmp_path):
    _write_hp(tmp_path, {"objective": "binary:logistic"})
    proc = _run_module(tmp_path, "detector-train")
    _assert_clean_failure(proc, tmp_path / "output" / "failure", "hyperparameter 'num_round' is required")


def test_detector_refuses_non_numeric_csv(tmp_path):
    folder = tmp_path / "input" / "data" / "train"
    folder.mkdir(parents=True)
    (folder / "train.csv").write_text("label,x\n0,1\n1,2\n")
    _write_hp(tmp_path, {"num_round": "2"})
    proc = _run_module(tmp_path, "detector-train")
    _assert_clean_failure(proc, tmp_path / "output" / "failure", "is not numeric")


def test_processing_missing_model_object_writes_exit_message(tmp_path):
    (tmp_path / "processing" / "real").mkdir(parents=True)
    (tmp_path / "processing" / "real" / "real.csv").write_text("a,b\n1,2\n")
    proc = _run_module(tmp_path, "sample", "--rows", "10")
    # Processing jobs report through /opt/ml/output/message (ExitMessage), not output/failure.
    _assert_clean_failure(proc, tmp_path / "output" / "message", "generator model input not found")
    assert not (tmp_path / "output" / "failure").exists()


def test_processing_bad_argument_is_a_config_error(tmp_path):
    proc = _run_module(tmp_path, "sample", "--rows", "many")
    _assert_clean_failure(proc, tmp_path / "output" / "message", "sample: argument --rows: invalid int value")


def test_unexpected_error_keeps_traceback_and_exits_1(tmp_path, monkeypatch, capsys):
    _use_root(monkeypatch, tmp_path)

    def boom():
        raise RuntimeError("disk on fire")

    assert contract.run_entrypoint(boom) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert (tmp_path / "output" / "failure").read_text().strip() == "internal error: RuntimeError: disk on fire"


def test_given_table_with_unseen_levels_and_wrong_types_is_judged_not_refused(chain, tmp_path, monkeypatch):
    """As in advsynth evaluate: a level no real row has and text in a numeric column are counted
    per column and reach the detector (as __other__ / missing), not a crash."""
    proc = tmp_path / "processing"
    (proc / "given").mkdir(parents=True)
    (proc / "real").mkdir()
    synthetic = pd.read_csv(chain["sample"] / "processing" / "synthetic" / "synthetic-00000-of-00001.csv")
    synthetic.loc[:9, "workclass"] = "Martian"
    synthetic["age"] = synthetic["age"].astype(object)
    synthetic.loc[:2, "age"] = "old"
    synthetic.to_csv(proc / "given" / "s.csv", index=False)
    (proc / "real" / "real.csv").write_bytes(chain["real_csv"].read_bytes())
    _use_root(monkeypatch, tmp_path)
    assert sm_main(["prepare", "--seed", "0", "--types", json.dumps(TYPES), *detector_arguments(DETECTOR)]) == 0
    checks = json.loads((proc / "detector" / "features" / "features.json").read_text())["input"]
    assert checks["unseen_levels"]["workclass"]["count"] == 10 and checks["unseen_levels"]["workclass"]["examples"] == ["Martian"]
    assert checks["wrong_types"]["age"]["count"] == 3


# ---------------------------------------------------------------- several instances
def _resource_config(root: Path, hosts: list, current: str, kind: str = contract.PROCESSING) -> None:
    path = root / ("config" if kind == contract.PROCESSING else "input/config") / "resourceconfig.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"current_host": current, "hosts": hosts}))


def test_sharded_sample_is_the_single_instance_table_and_prepares_the_same_splits(chain, tmp_path, monkeypatch):
    """Three sampling instances (each told its place by resourceconfig.json) write shards whose
    union, in shard order, is exactly the table one instance draws for the seed; their selected
    rows give ``prepare`` byte-identical splits. Blocks of 300 rows stand in for 100,000 so that
    1,000 rows make four seed blocks (instances get 1, 1 and 2)."""
    import advsynth.experiment.sampling as run_module

    monkeypatch.setattr(run_module, "SAMPLE_BLOCK_ROWS", 300)
    hosts = ["algo-1", "algo-2", "algo-3"]
    n_rows = 1000
    roots = {}
    for count, names in ((1, hosts[:1]), (3, hosts)):
        for host in names:
            root = tmp_path / f"n{count}" / host
            _copy_dir(chain["sample"] / "processing" / "model", root / "processing" / "model")
            _copy_dir(chain["sample"] / "processing" / "real", root / "processing" / "real")
            _resource_config(root, names, host)
            _use_root(monkeypatch, root)
            assert sm_main(["sample", "--rows", str(n_rows), "--seed", "0", *detector_arguments(DETECTOR)]) == 0
            roots[count, host] = root
    single = (roots[1, "algo-1"] / "processing" / "synthetic" / "synthetic-00000-of-00001.csv").read_text()
    shards = [roots[3, h] / "processing" / "synthetic" / f"synthetic-{i:05d}-of-00003.csv" for i, h in enumerate(hosts)]
    sizes = [len(pd.read_csv(p)) for p in shards]
    assert sizes == [300, 300, 400]
    union = shards[0].read_text() + "".join(p.read_text().split("\n", 1)[1] for p in shards[1:])
    assert union == single
    # the shards are really different seed streams, not copies
    assert len({p.read_text().split("\n", 2)[1] for p in shards}) == 3

    def prepare(selected_dirs, root):
        for folder in selected_dirs:
            _copy_dir(folder, root / "processing" / "selected")
        _copy_dir(chain["sample"] / "processing" / "model", root / "processing" / "model")
        _copy_dir(chain["sample"] / "processing" / "real", root / "processing" / "real")
        _use_root(monkeypatch, root)
        assert sm_main(["prepare", "--drawn-rows", str(n_rows), "--seed", "0", *detector_arguments(DETECTOR)]) == 0
        return root / "processing" / "detector"

    one = prepare([roots[1, "algo-1"] / "processing" / "selected"], tmp_path / "prep1")
    three = prepare([roots[3, h] / "processing" / "selected" for h in hosts], tmp_path / "prep3")
    for split in ("train", "validation", "test"):
        assert (one / split / f"{split}.csv").read_bytes() == (three / split / f"{split}.csv").read_bytes(), split
    # the detector uses min(real, drawn) rows of each class: all 1,000 real rows, 1,000 drawn
    assert sum(len(pd.read_csv(p)) for p in (roots[3, h] / "processing" / "selected" for h in hosts)
               for p in p.iterdir()) == 1000


def test_sample_refuses_more_instances_than_seed_blocks(chain, tmp_path):
    _copy_dir(chain["sample"] / "processing" / "model", tmp_path / "processing" / "model")
    _copy_dir(chain["sample"] / "processing" / "real", tmp_path / "processing" / "real")
    _resource_config(tmp_path, ["algo-1", "algo-2"], "algo-1")   # 1 seed block: the first instance gets none
    proc = _run_module(tmp_path, "sample", "--rows", "0")
    _assert_clean_failure(proc, tmp_path / "output" / "message", "use at most 1 instances")


def test_prepare_writes_one_training_file_per_detector_instance(chain, tmp_path, monkeypatch):
    root = tmp_path
    for name in ("model", "real", "selected"):
        _copy_dir(chain["prepare"] / "processing" / name, root / "processing" / name)
    _use_root(monkeypatch, root)
    assert sm_main(["prepare", "--drawn-rows", "0", "--seed", "0", "--train-files", "3",
                    *detector_arguments(DETECTOR)]) == 0
    files = sorted((root / "processing" / "detector" / "train").iterdir())
    assert [p.name for p in files] == [f"train-{i:05d}-of-00003.csv" for i in range(3)]
    parts = [_assert_xgboost_csv(p) for p in files]
    whole = _assert_xgboost_csv(chain["prepare"] / "processing" / "detector" / "train" / "train.csv")
    # row i in file i mod 3: every file balanced, together exactly the training split
    assert [len(p) for p in parts] == [len(whole[i::3]) for i in range(3)]
    for i, part in enumerate(parts):
        np.testing.assert_array_equal(part, whole[i::3])
        assert abs(part[:, 0].mean() - 0.5) < 0.05


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _separable_split(folder: Path, n: int, seed: int, files: int = 1) -> np.ndarray:
    """A built-in-XGBoost CSV split whose label depends on the first two features (so a detector
    has something to find), in ``files`` files (row i in file i mod files)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=n) > 0).astype(int)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        name = f"part-{i:05d}.csv" if files > 1 else "data.csv"
        (folder / name).write_text(entrypoints._format_matrix(y[i::files], X[i::files]))
    return np.column_stack([y, X])


@pytest.mark.parametrize("sharded_by_sagemaker", [False, True])
def test_detector_trains_distributed_over_two_hosts(tmp_path, monkeypatch, sharded_by_sagemaker):
    """Two ``detector-train`` processes, each with its own /opt/ml and the job's resourceconfig.json,
    train one model over XGBoost's collective: each reads its share of the training files (every
    2nd file from its rank when, as in local mode, every host got every file; all of its channel
    when SageMaker sharded it), only the first host writes the model, early stopping agrees, and
    the model scores the test rows as well as the one-host model (distributed hist merges per-host
    quantile sketches, so the trees may differ slightly)."""
    from sklearn.metrics import roc_auc_score

    data = tmp_path / "data"
    whole = _separable_split(data / "train", 4000, 0, files=4)
    _separable_split(data / "validation", 1000, 1)
    test = _separable_split(data / "test", 2000, 2)
    files = sorted((data / "train").iterdir())

    def channels(root, train_files):
        for path in train_files:
            (root / "input" / "data" / "train").mkdir(parents=True, exist_ok=True)
            (root / "input" / "data" / "train" / path.name).write_bytes(path.read_bytes())
        _copy_dir(data / "validation", root / "input" / "data" / "validation")
        _write_hp(root, DETECTOR_HP)

    one = tmp_path / "one"
    channels(one, files)
    _use_root(monkeypatch, one)
    assert sm_main(["detector-train"]) == 0

    hosts = ["127.0.0.1", "localhost"]      # two names for this machine: the tracker runs on the first
    port = _free_port()
    procs = []
    for rank, host in enumerate(hosts):
        root = tmp_path / host
        channels(root, files[rank::2] if sharded_by_sagemaker else files)
        _resource_config(root, hosts, host, contract.TRAINING)
        distribution = {"S3DistributionType": "ShardedByS3Key"} if sharded_by_sagemaker else {}
        (root / "input" / "config" / "inputdataconfig.json").write_text(json.dumps(
            {"train": {"TrainingInputMode": "File", **distribution}, "validation": {"TrainingInputMode": "File"}}))
        env = {**_env(root), "ADVSYNTH_TRACKER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, "-m", "advsynth.sagemaker", "detector-train"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    assert "instance: 1 of 2" in outputs[0][0] and "instance: 2 of 2" in outputs[1][0]
    rows = [int(re.search(r"train_rows: (\d+)", out).group(1)) for out, _ in outputs]
    assert rows == [len(whole[0::4]) + len(whole[2::4]), len(whole[1::4]) + len(whole[3::4])]
    # early stopping stops both hosts at the same round (the validation AUC is all-reduced)
    rounds = {int(re.search(r"rounds_used: (\d+)", out).group(1)) for out, _ in outputs}
    assert len(rounds) == 1
    # the rounds are logged once (by the first host), with the AUC over both hosts' rows
    assert "validation-auc" in outputs[0][0] + outputs[0][1]
    assert "validation-auc" not in outputs[1][0] + outputs[1][1]
    assert not (tmp_path / hosts[1] / "model").exists() or not any((tmp_path / hosts[1] / "model").iterdir())
    meta = json.loads((tmp_path / hosts[0] / "model" / "advsynth-detector.json").read_text())
    assert meta["instances"] == 2 and meta["n_train"] == len(whole)

    def auc(root):
        booster = entrypoints._load_booster(root / "model" / "xgboost-model")
        return roc_auc_score(test[:, 0], booster.inplace_predict(test[:, 1:]))

    auc_one, auc_two = auc(one), auc(tmp_path / hosts[0])
    assert auc_one > 0.8
    assert auc_two == pytest.approx(auc_one, abs=0.02)
