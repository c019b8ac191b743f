"""MLflow tracking (advsynth[mlflow]) against a real MLflow tracking server on localhost, never a mock.

The fixture starts ``mlflow server`` (SQLite backend, served artifacts) on a free port, and the
tests read back what advsynth logged with ``mlflow.MlflowClient``.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

from advsynth.cli import main  # noqa: E402
from conftest import make_mixed  # noqa: E402

FAST = ["--no-extras"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real MLflow tracking server; yields its URI and stops it afterwards."""
    root = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    exe = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow")
    assert exe, "mlflow's server command is missing (pip install 'advsynth[mlflow]')"
    log = (root / "server.log").open("w")
    proc = subprocess.Popen([exe, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                             "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
                             "--artifacts-destination", str(root / "artifacts")],
                            stdout=log, stderr=subprocess.STDOUT, cwd=root)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the MLflow server did not start:\n" + (root / "server.log").read_text()[-3000:])
        time.sleep(0.5)
    yield uri
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def table(tmp_path) -> Path:
    path = tmp_path / "mixed.csv"
    make_mixed(400).to_csv(path, index=False)
    return path


def _runs(uri: str, experiment: str):
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"experiment {experiment} was not created"
    return client, client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])


def test_run_logs_params_metrics_and_artifacts(server, table, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--data", str(table), "--generator", "baseline", "--out", str(out),
                 "--mlflow", server, "--mlflow-experiment", "run-test"]) == 0
    assert "logged to MLflow" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    client, runs = _runs(server, "run-test")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED" and run.data.tags["advsynth.generator"] == "baseline"
    logged = run.data.metrics
    det = metrics["detector"]
    assert logged["detector_auc"] == pytest.approx(det["roc_auc"])
    assert logged["detector_auc_lo"] == pytest.approx(det["roc_auc_ci"][0])
    assert logged["null_auc"] == pytest.approx(det["null_roc_auc"])
    assert logged["holdout_only_auc"] == pytest.approx(metrics["holdout_only"]["roc_auc"])
    priv = metrics["privacy"]
    assert logged["privacy_flagged"] == float(priv["flagged"])
    assert logged["mia_distance_auc"] == pytest.approx(priv["membership"]["attacks"]["distance"]["roc_auc"])
    assert logged["dcr_share"] == pytest.approx(priv["dcr"]["share"])
    assert logged["mean_ks"] == pytest.approx(metrics["fidelity"]["summary"]["mean_ks"])
    assert logged["reference_mean_ks"] == pytest.approx(metrics["fidelity"]["reference"]["summary"]["mean_ks"])
    assert logged["time_total_s"] == pytest.approx(metrics["timings_s"]["total"])
    # parameters: the resolved config, flattened
    config = json.loads((out / "config.json").read_text())
    assert run.data.params["seed"] == str(config["seed"]) and run.data.params["generator"] == "baseline"
    assert run.data.params["detector.rounds"] == str(config["detector"]["rounds"])
    # artifacts: the run folder's files, byte for byte
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "config.json", "report.html"} <= names
    local = Path(client.download_artifacts(run.info.run_id, "metrics.json", str(tmp_path / "dl")))
    assert local.read_bytes() == (out / "metrics.json").read_bytes()


def test_evaluate_logs_its_folder(server, table, tmp_path):
    syn = tmp_path / "syn.csv"
    make_mixed(400, seed=9).to_csv(syn, index=False)
    out = tmp_path / "ev"
    assert main(["evaluate", "--real", str(table), "--synthetic", str(syn), "--out", str(out), *FAST,
                 "--mlflow", server, "--mlflow-experiment", "evaluate-test"]) == 0
    _, runs = _runs(server, "evaluate-test")
    assert len(runs) == 1 and runs[0].data.tags["advsynth.generator"] == "external"
    metrics = json.loads((out / "metrics.json").read_text())
    assert runs[0].data.metrics["detector_auc"] == pytest.approx(metrics["detector"]["roc_auc"])
    assert "privacy_flagged" not in runs[0].data.metrics  # not judged: not logged as 0


def test_bench_logs_a_parent_with_nested_runs(server, tmp_path):
    config = tmp_path / "bench.yaml"
    config.write_text("name: track\nseeds: [0, 1]\ndatasets:\n  wine:\n    sklearn: wine\n"
                      "generators:\n  baseline:\n    type: baseline\nextras: false\n"
                      "detector: {rounds: 10, nthread: 1}\n")
    out = tmp_path / "b"
    assert main(["bench", "--config", str(config), "--out", str(out), "--no-history",
                 "--mlflow", server, "--mlflow-experiment", "bench-test"]) == 0
    _, runs = _runs(server, "bench-test")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    assert parents[0].data.metrics["runs"] == 2 and parents[0].data.params["name"] == "track"
    assert sorted(c.data.tags["advsynth.seed"] for c in children) == ["0", "1"]
    for child in children:
        assert 0 <= child.data.metrics["detector_auc"] <= 1


def test_unreachable_server_is_one_line_before_any_work(table, tmp_path, capsys):
    out = tmp_path / "never"
    port = _free_port()  # nothing listens there
    assert main(["run", "--data", str(table), "--generator", "baseline", "--out", str(out),
                 "--mlflow", f"http://127.0.0.1:{port}"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("advsynth: error: cannot use the MLflow tracking server") and err.count("\n") == 1
    assert not out.exists()  # it failed before the run, not after


def test_missing_extra_is_one_line(table, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if advsynth[mlflow] were not installed
    assert main(["run", "--data", str(table), "--out", str(tmp_path / "x"), "--mlflow", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err == "advsynth: error: --mlflow needs mlflow: pip install 'advsynth[mlflow]'\n"
