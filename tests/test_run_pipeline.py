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
