"""The whole pipeline in SageMaker local mode: real containers (Docker), S3 mocked by moto.

Needs the images from ``bash scripts/local-docker.sh`` (CI runs it before the tests).
Without Docker or the images these tests FAIL, with that instruction, rather than
skip: a silently skipped container tier would hide a broken pipeline.

Five executions on a 3,000-row sample of the real Adult table (about 6-7 minutes
on 2 cores): one that passes the AUC gate (threshold 0.99), one that fails it
(threshold 0.5, the fail step quoting the AUC), the evaluate-only variant on the first
execution's synthetic table (same splits, same AUC), one on an empty table whose
failure reason is the container's own one-line message, and one on several instances
(two sampling containers, two detector containers training over XGBoost's collective).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from advsynth.config import load_config
from advsynth.config import load_real

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[1]
ADULT_CONFIG = ROOT / "config" / "adult.yaml"
IMAGES = ("advsynth-generator:latest", "advsynth-detector:latest")
SAMPLE_ROWS = 3000
# Smaller than the defaults to keep the tier short; the statistics stay meaningful.
FAST = {"MaxComponents": 12, "DetectorRounds": 60, "Seed": 0}
BUILD_HINT = "run `bash scripts/local-docker.sh` first (it starts dockerd and builds the images)"


def _require_docker() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.fail(f"docker CLI not found: {BUILD_HINT}", pytrace=False)
    info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        pytest.fail(f"Docker engine not reachable ({info.stderr.strip()[:200]}): {BUILD_HINT}",
                    pytrace=False)
    for image in IMAGES:
        found = subprocess.run([docker, "image", "inspect", image], capture_output=True, timeout=60)
        if found.returncode != 0:
            pytest.fail(f"image {image} is missing: {BUILD_HINT}", pytrace=False)
    if shutil.which("docker-compose") is None and subprocess.run(
            [docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.fail(f"neither `docker compose` nor `docker-compose` is installed: {BUILD_HINT}",
                    pytrace=False)


@pytest.fixture(scope="module")
def adult_csv(tmp_path_factory, adult_path) -> Path:
    _require_docker()
    real = load_real(load_config(ADULT_CONFIG)).sample(n=SAMPLE_ROWS, random_state=0)
    path = tmp_path_factory.mktemp("data") / "adult.csv"
    real.to_csv(path, index=False)
    return path


def _run(data: Path, workdir: Path, **overrides):
    from pipelines.run_pipeline import run_local

    return run_local(str(data), str(workdir), parameters={**FAST, **overrides})


@pytest.fixture(scope="module")
def passing(adult_csv, tmp_path_factory):
    return _run(adult_csv, tmp_path_factory.mktemp("pass"), AucThreshold=0.99)


def test_pipeline_passes_gate_and_evaluation_is_sane(passing):
    result = passing
    assert result["status"] == "Succeeded", (result["failure_reason"], result["failed_steps"])
    statuses = {s["StepName"]: s["StepStatus"] for s in result["steps"]}
    for step in ("FitGenerator", "SampleSynthetic", "PrepareDetectorData", "TrainDetector", "EvaluateDetector", "AucGate",
                 "PrivacyGate"):
        assert statuses.get(step) == "Succeeded", statuses
    assert "AucAboveThreshold" not in statuses and "PrivacyFlagged" not in statuses
    # the second adversary judged the generator's own members and holdout (split.json) in the container
    privacy = result["evaluation"]["privacy"]
    assert privacy["flagged"] is False and privacy["flags"] == []
    assert privacy["membership"]["n_members"] == privacy["membership"]["n_non_members"] > 0
    assert 0.3 < privacy["membership"]["attacks"]["distance"]["roc_auc"] < 0.7
    det = result["evaluation"]["detector"]
    # on 3,000 Adult rows the GMM's fakes may not be told apart (AUC near 0.5, either side): the
    # section's consistency is checked here, its agreement with ``advsynth run`` in test_entrypoints
    assert 0.0 <= det["roc_auc"] <= 1.0
    lo, hi = det["roc_auc_ci"]
    assert lo <= det["roc_auc"] <= hi
    assert abs(det["null_roc_auc"] - 0.5) < 0.1
    assert math.isclose(sum(det["column_importance"].values()), 1.0, abs_tol=1e-6)
    assert 0.0 <= det["p_value"] <= 1.0
    assert det["rounds"] == FAST["DetectorRounds"]
    assert det["giveaways"]["rows"] and all(0 <= r["score"] <= 1 for r in det["giveaways"]["rows"])
    # three disjoint splits of the balanced rows: train, validation (early stopping), test (scored)
    assert det["n_train"] + det["n_validation"] + det["n_test"] == 2 * SAMPLE_ROWS
    assert abs(det["n_test"] / (2 * SAMPLE_ROWS) - det["test_size"]) < 0.01
    # No job container had a network: compose left the sagemaker-local network unused
    # because every service runs with network_mode "none" (run_local's isolation).
    log = Path(result["log_path"]).read_text(errors="replace")
    assert "Some networks were defined but are not used by any service: sagemaker-local" in log
    # The run's artifacts were copied out of the mocked bucket.
    artifacts = Path(result["artifacts_dir"])
    assert (artifacts / "SampleSynthetic" / "synthetic" / "synthetic-00000-of-00001.csv").is_file()
    assert list((artifacts / "FitGenerator").rglob("model.tar.gz"))


def test_pipeline_fails_gate_quoting_the_auc(adult_csv, tmp_path, passing):
    result = _run(adult_csv, tmp_path, AucThreshold=0.5)
    assert result["status"] == "Failed"
    assert set(result["failed_steps"]) == {"AucAboveThreshold"}, result["failed_steps"]
    reason = result["failed_steps"]["AucAboveThreshold"]["FailureReason"]
    auc = result["evaluation"]["detector"]["roc_auc"]
    quoted = re.search(r"Detector ROC AUC ([0-9.]+) is above the threshold 0\.5", reason)
    assert quoted, reason
    assert math.isclose(float(quoted.group(1)), auc, rel_tol=1e-9)
    # Same seed, same data: the containers are deterministic.
    assert math.isclose(auc, passing["evaluation"]["detector"]["roc_auc"], rel_tol=1e-9)


def test_pipeline_bad_input_reports_the_container_message(adult_csv, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = _run(empty, tmp_path / "work")
    assert result["status"] == "Failed"
    assert set(result["failed_steps"]) == {"FitGenerator"}, result["failed_steps"]
    failure = result["failed_steps"]["FitGenerator"]
    assert failure["container_failure"] == "input is empty: /opt/ml/input/data/train/empty.csv"
    assert any("advsynth: error: input is empty" in line for line in failure["log_tail"])
    assert not any("Traceback" in line for line in failure["log_tail"])
    assert result["evaluation"] is None


def test_evaluate_only_on_the_same_synthetic_table_gives_the_same_auc(adult_csv, tmp_path, passing):
    """The evaluate-only variant judges a given table with the same protocol: on the generating
    execution's own synthetic.csv it builds the same splits and so reaches the same AUC (the
    CSV round trip is exact; tests/test_entrypoints.py checks the splits byte for byte)."""
    from pipelines.run_pipeline import run_local

    synthetic = Path(passing["artifacts_dir"]) / "SampleSynthetic" / "synthetic" / "synthetic-00000-of-00001.csv"
    params = {k: v for k, v in FAST.items() if k != "MaxComponents"}
    result = run_local(str(adult_csv), str(tmp_path), parameters={**params, "AucThreshold": 0.99},
                       synthetic_path=str(synthetic))
    assert result["status"] == "Succeeded", (result["failure_reason"], result["failed_steps"])
    statuses = {s["StepName"]: s["StepStatus"] for s in result["steps"]}
    assert set(statuses) == {"PrepareDetectorData", "TrainDetector", "EvaluateDetector", "AucGate"}
    det, before = result["evaluation"]["detector"], passing["evaluation"]["detector"]
    assert math.isclose(det["roc_auc"], before["roc_auc"], rel_tol=1e-9)
    assert math.isclose(det["null_roc_auc"], before["null_roc_auc"], rel_tol=1e-9)


def test_pipeline_on_several_instances(adult_csv, tmp_path):
    """Local mode starts one container per instance. Two sampling instances draw one 100,000-row
    seed block each into their own shard files; the detector trains on two containers over
    XGBoost's collective (each reading its own training file, the first writing the model);
    evaluate and the gate read the sharded rows. Also checks run_local's multi-instance handling:
    the job waits for both containers (compose would otherwise stop the slower one), and the
    pipeline's PrivacyGuard parameter: with "true" the generator's job fits a guarded GMM."""
    import io
    import json
    import tarfile

    import joblib
    import pandas as pd

    result = _run(adult_csv, tmp_path, AucThreshold=0.99, MinComponents=4, SampleRows=200_000,
                  SampleInstanceCount=2, DetectorInstanceCount=2, PrivacyGuard="true")
    assert result["status"] == "Succeeded", (result["failure_reason"], result["failed_steps"])
    artifacts = Path(result["artifacts_dir"])
    shards = sorted((artifacts / "SampleSynthetic" / "synthetic").iterdir())
    assert [p.name for p in shards] == ["synthetic-00000-of-00002.csv", "synthetic-00001-of-00002.csv"]
    frames = [pd.read_csv(p) for p in shards]
    assert [len(f) for f in frames] == [100_000, 100_000]
    assert not frames[0].head(50).reset_index(drop=True).equals(frames[1].head(50).reset_index(drop=True))
    selected = sorted((artifacts / "SampleSynthetic" / "selected").iterdir())
    assert len(selected) == 2 and sum(len(pd.read_csv(p)) for p in selected) == SAMPLE_ROWS
    train_files = sorted(p.name for p in (artifacts / "PrepareDetectorData" / "train").iterdir())
    assert train_files == ["train-00000-of-00002.csv", "train-00001-of-00002.csv"]
    det = result["evaluation"]["detector"]
    assert det["n_train"] + det["n_validation"] + det["n_test"] == 2 * SAMPLE_ROWS
    lo, hi = det["roc_auc_ci"]
    assert lo <= det["roc_auc"] <= hi and abs(det["null_roc_auc"] - 0.5) < 0.1
    # the model came from the first of two hosts, trained on both hosts' rows
    (archive,) = (artifacts / "TrainDetector").rglob("model.tar.gz")
    with tarfile.open(archive) as tar:
        meta = json.load(io.TextIOWrapper(tar.extractfile("advsynth-detector.json")))
    assert meta["instances"] == 2 and meta["n_train"] == det["n_train"]
    # the guard held back some of the generator's training rows and checked the model on them
    (model_archive,) = (artifacts / "FitGenerator").rglob("model.tar.gz")
    with tarfile.open(model_archive) as tar:
        gen = joblib.load(io.BytesIO(tar.extractfile("generator.joblib").read()))
    assert gen.privacy_guard is True and gen.guard_["checks"] and gen.guard_["held_back_rows"] > 0
    log = Path(result["log_path"]).read_text(errors="replace")
    assert log.count("instance: 1 of 2") >= 2 and log.count("instance: 2 of 2") >= 2   # sample and detector
