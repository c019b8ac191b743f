"""Local-run plumbing that needs no Docker."""

from __future__ import annotations

import io
import subprocess
import sys

from conftest import ROOT, make_mixed


class _GoneReader(io.StringIO):
    """A console whose reader went away, as under `advsynth pipeline run … | head`."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_tee_keeps_logging_when_the_console_goes_away():
    from pipelines.run_pipeline import _Tee

    console, log = io.StringIO(), io.StringIO()
    tee = _Tee(console, log)
    tee.write("step 1\n")
    tee._console = _GoneReader()
    tee.write("step 2\n")  # must not raise: the step whose output this is would fail
    tee.flush()
    assert console.getvalue() == "step 1\n" and log.getvalue() == "step 1\nstep 2\n"


def test_cli_output_to_a_reader_that_went_away(tmp_path):
    """The reader closes the pipe before the run prints: one quiet exit, the run folder written."""
    data = tmp_path / "d.csv"
    make_mixed(200).to_csv(data, index=False)
    proc = subprocess.Popen([sys.executable, "-m", "advsynth.cli", "run", "--data", str(data), "--out",
                             str(tmp_path / "run"), "--generator", "baseline", "--no-extras"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()  # gone before the summary is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 1
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert (tmp_path / "run" / "metrics.json").exists()


def test_pipeline_run_cli_passes_the_config_experiment_and_the_synthetic_table(tmp_path, monkeypatch, capsys):
    """`advsynth pipeline run --local --config C --synthetic S`: the evaluate-only variant, with the
    config's seed, column types and detector protocol as parameters (--param still wins)."""
    import json

    import pipelines.run_pipeline as rp
    from advsynth.cli import main
    from advsynth.config import load_config
    from advsynth.protocol import DetectorConfig

    calls = []

    def fake_run_local(data, workdir, parameters=None, synthetic_path=None, **kwargs):
        calls.append((data, parameters, synthetic_path))
        return {"status": "Succeeded", "evaluation": {"detector": {"roc_auc": 0.7}}}

    monkeypatch.setattr(rp, "run_local", fake_run_local)
    synthetic = tmp_path / "synth.csv"
    make_mixed(50).to_csv(synthetic, index=False)
    config = ROOT / "config" / "adult.yaml"
    assert main(["pipeline", "run", "--local", "--config", str(config), "--synthetic", str(synthetic),
                 "--workdir", str(tmp_path / "w"), "--param", "Seed=7"]) == 0
    (data, params, synthetic_path), = calls
    cfg = load_config(config)
    assert synthetic_path == str(synthetic)
    assert params["Seed"] == "7"                                   # --param wins over the config
    assert json.loads(params["ColumnTypes"]) == cfg.data.types
    detector = DetectorConfig.coerce(cfg.detector)
    assert params["DetectorRounds"] == detector.rounds and params["DetectorEta"] == detector.eta
    assert "Holdout" not in params and "MaxComponents" not in params  # evaluate-only: nothing is generated
    assert '"roc_auc": 0.7' in capsys.readouterr().out


def _fake_container(hosts, tmp_path):
    """A local-mode job container object with only what ``_compose`` reads (no Docker needed)."""
    from sagemaker.core.local.image import _SageMakerContainer

    container = object.__new__(_SageMakerContainer)
    container.hosts = list(hosts)
    container.compose_cmd_prefix = [str(tmp_path / "compose")]
    container.container_root = str(tmp_path)
    return container


def test_multi_instance_local_jobs_wait_for_every_container_and_fail_on_any(tmp_path, monkeypatch):
    """compose's --abort-on-container-exit stops all containers when the first exits (a slower
    sampling instance would be cut off); run_local runs multi-instance jobs with plain `up`, then
    fails with the first non-zero exit code of their containers. Single-instance jobs are unchanged.
    Fake `compose` and `docker` executables stand in for Docker."""
    import os
    import stat

    from pipelines.adversarial.pipeline import ensure_sdk_importable

    ensure_sdk_importable()
    from pipelines.run_pipeline import _jobs_end_with_their_last_instance

    log = tmp_path / "calls.log"
    for name, body in (("compose", 'echo "compose $*" >> "$LOG"; [ "$3" = ps ] && printf "c1\\nc2\\n"; exit 0'),
                       ("docker", 'echo "docker $*" >> "$LOG"; eval "echo \\$CODE_$4"')):
        path = tmp_path / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("LOG", str(log))
    with _jobs_end_with_their_last_instance():
        single = _fake_container(["algo-1"], tmp_path)._compose()
        double = _fake_container(["algo-1", "algo-2"], tmp_path)._compose()
    assert "--abort-on-container-exit" in single
    assert "--abort-on-container-exit" not in double and double[:2] == ["sh", "-c"]
    for codes, expected in (({"c1": 0, "c2": 0}, 0), ({"c1": 0, "c2": 3}, 3)):
        log.write_text("")
        env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "LOG": str(log),
               **{f"CODE_{k}": str(v) for k, v in codes.items()}}
        assert subprocess.run(double, env=env).returncode == expected
        calls = log.read_text().splitlines()
        assert calls[0].endswith("up --build")          # waits for every container
        assert any(c.startswith("docker inspect") for c in calls)
