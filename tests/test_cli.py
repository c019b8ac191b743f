"""The command line as a user meets it: one-line errors, exit codes, nothing overwritten."""

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT, make_mixed


def advsynth(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "advsynth.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


def assert_one_line_error(result, needle):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("advsynth: error:") and needle in lines[0], lines[0]


def test_run_on_any_csv_writes_outputs_and_summary(tmp_path):
    data = tmp_path / "mixed.csv"
    make_mixed(300).to_csv(data, index=False)
    before = hashlib.sha256(data.read_bytes()).hexdigest()
    out = tmp_path / "run"
    result = advsynth("run", "--data", data, "--out", out, "--generator", "baseline")
    assert result.returncode == 0, result.stderr
    assert "detector ROC-AUC" in result.stdout and "top giveaway columns" in result.stdout and "time " in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("generator", "n_real", "n_synthetic", "seed", "timings_s"):
        assert key in metrics
    for key in ("roc_auc", "roc_auc_ci", "precision", "recall", "p_value", "null_roc_auc", "column_importance"):
        assert key in metrics["detector"]
    assert metrics["n_synthetic"] == metrics["n_real"] == 300
    # the generator saw 80 % of the real rows; privacy and utility are measured against the rest
    assert (metrics["n_generator_train"], metrics["n_holdout"]) == (240, 60)
    assert {"fidelity", "privacy", "utility"} <= set(metrics) and "exact copies" in result.stdout
    scores = (out / "scores.csv").read_text().splitlines()
    assert scores[0] == "model,y,score" and {line.split(",")[0] for line in scores[1:]} == {"detector", "real_vs_real"}
    assert json.loads((out / "config.json").read_text())["data"]["path"] == str(data)
    assert (out / "synthetic.csv").read_text().splitlines()[0] == "group,x,count,spend,flag"
    assert hashlib.sha256(data.read_bytes()).hexdigest() == before
    # a second run into the same folder is refused, and the first run's files survive
    again = advsynth("run", "--data", data, "--out", out)
    assert_one_line_error(again, "already exists")
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_no_extras_leaves_out_fidelity_privacy_utility(tmp_path):
    data = tmp_path / "mixed.csv"
    make_mixed(200).to_csv(data, index=False)
    result = advsynth("run", "--data", data, "--out", tmp_path / "run", "--generator", "baseline", "--no-extras")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "privacy" not in metrics and "extras" not in metrics["timings_s"]


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda d: d / "absent.csv", "input not found"),
        (lambda d: _write(d / "e.csv", b""), "input is empty"),
        (lambda d: _write(d / "h.csv", b"a,b,c\n"), "header but no rows"),
        (lambda d: _write(d / "few.csv", b"a,b\n" + b"".join(b"%d,x%d\n" % (i, i % 3) for i in range(8))), "at least 20"),
        (lambda d: _write(d / "latin1.csv", b"a,b\n1,caf\xe9\n"), "not UTF-8"),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(tmp_path, make, needle):
    path = make(tmp_path)
    before = path.read_bytes() if path.exists() else None
    result = advsynth("run", "--data", path, "--out", tmp_path / "out")
    assert_one_line_error(result, needle)
    assert not (tmp_path / "out").exists()
    assert (path.read_bytes() if path.exists() else None) == before


def test_constant_and_empty_columns_pass_through(tmp_path):
    data = _write(tmp_path / "c.csv", b"a,b,c\n" + b"".join(b"%d,same,\n" % (i % 5) for i in range(40)))
    result = advsynth("run", "--data", data, "--out", tmp_path / "out", "--generator", "baseline", "--no-extras")
    assert result.returncode == 0, result.stderr
    assert "column 'b' is constant" in result.stderr and "column 'c' is entirely missing" in result.stderr
    synthetic = pd.read_csv(tmp_path / "out" / "synthetic.csv")
    assert (synthetic["b"] == "same").all() and synthetic["c"].isna().all()


def test_id_column_warns_and_is_excluded(tmp_path):
    df = make_mixed(200).assign(row_id=[f"r{i}" for i in range(200)])
    df.to_csv(tmp_path / "ids.csv", index=False)
    result = advsynth("run", "--data", tmp_path / "ids.csv", "--out", tmp_path / "o", "--generator", "baseline")
    assert result.returncode == 0, result.stderr
    assert "row_id" in result.stderr and "one distinct value per row" in result.stderr
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["excluded_columns"] == ["row_id"]
    assert "row_id" not in metrics["detector"]["column_importance"]


@pytest.mark.parametrize("config, needle", [
    ("data:\n  path: {data}\n  types: {{salary: integer}}\n", "salary"),
    ("data:\n  path: {data}\ngenrator: gmm\n", "genrator"),
    ("data: [unclosed\n", "not valid YAML"),
    ("data:\n  path: {data}\ngenerators:\n  gmm: {{components: 3}}\n", "has no parameter"),
    ("data:\n  path: {data}\nholdout: 0.9\n", "holdout must be"),
    ("data:\n  path: {data}\nextras: sometimes\n", "extras must be true or false"),
    (None, "config not found"),
], ids=["unknown-column", "typo", "broken-yaml", "bad-parameter", "bad-holdout", "bad-extras", "missing"])
def test_config_errors(tmp_path, config, needle):
    data = tmp_path / "d.csv"
    make_mixed(100).to_csv(data, index=False)
    path = tmp_path / "c.yaml"
    if config is not None:
        path.write_text(config.format(data=data))
    assert_one_line_error(advsynth("run", "--config", path, "--out", tmp_path / "o"), needle)
    assert not (tmp_path / "o").exists()


def test_unknown_generator_is_refused(tmp_path):
    data = tmp_path / "d.csv"
    make_mixed(100).to_csv(data, index=False)
    assert_one_line_error(advsynth("run", "--data", data, "--generator", "vae", "--out", tmp_path / "o"),
                          "unknown generator 'vae'; choose one of baseline, gmm")
    assert not (tmp_path / "o").exists()


def test_help_reads_like_the_readme():
    result = advsynth("run", "--help")
    assert result.returncode == 0 and "--config" in result.stdout and "--generator" in result.stdout
    top = advsynth("--help").stdout
    assert all(cmd in top for cmd in ("run", "pipeline", "bench", "report"))
    upsert = advsynth("pipeline", "upsert", "--help").stdout
    assert "--generator-image" in upsert and "--kms-key" in upsert


def test_run_keeps_date_columns_as_dates(tmp_path):
    from test_generators import _dated

    data = tmp_path / "dated.csv"
    _dated(300).to_csv(data, index=False)
    out = tmp_path / "run"
    result = advsynth("run", "--data", data, "--out", out, "--generator", "gmm")
    assert result.returncode == 0, result.stderr
    schema = json.loads((out / "schema.json").read_text())
    assert {c["name"]: c["kind"] for c in schema["columns"]}["signup"] == "datetime"
    rows = (out / "synthetic.csv").read_text().splitlines()
    header = rows[0].split(",")
    signup = [r.split(",")[header.index("signup")] for r in rows[1:]]
    assert all(len(v) == 10 and v[4] == "-" and v[7] == "-" for v in signup), signup[:3]  # 2020-04-10
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fidelity"]["marginals"]["signup"]["statistic"] == "ks"


def test_missing_optional_extra_is_one_line(monkeypatch, capsys):
    """Without the [pipeline] extra, pipeline commands say what to install instead of a traceback."""
    from advsynth.cli import main

    monkeypatch.setitem(sys.modules, "sagemaker", None)  # import sagemaker now raises ModuleNotFoundError
    for name in [m for m in sys.modules if m.startswith("pipelines")]:
        monkeypatch.delitem(sys.modules, name)
    assert main(["pipeline", "definition"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["advsynth: error: this command needs sagemaker: pip install 'advsynth[pipeline]'"], err


def test_pipeline_run_without_the_extra_writes_nothing(monkeypatch, tmp_path, capsys):
    from advsynth.cli import main

    monkeypatch.setitem(sys.modules, "sagemaker", None)
    work = tmp_path / "work"
    assert main(["pipeline", "run", "--local", "--config", str(ROOT / "config" / "adult.yaml"),
                 "--workdir", str(work)]) == 2
    assert "pip install 'advsynth[pipeline]'" in capsys.readouterr().err and not work.exists()
