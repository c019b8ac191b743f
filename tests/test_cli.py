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


def main_run(capsys, *args):
    """``advsynth ARGS`` in-process: (exit code, stdout, stderr)."""
    from advsynth.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_main_error(capsys, args, needle):
    """The CLI fails with exactly one ``advsynth: error:`` line holding ``needle``, no traceback."""
    code, _, err = main_run(capsys, *args)
    assert code != 0
    lines = [line for line in err.strip().splitlines() if not line.startswith("WARNING ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("advsynth: error:") and needle in lines[0], lines[0]
    return lines[0]


def assert_nothing_left(folder, *keep):
    """Only the given files remain: no output folder, no hidden staging folder, no temp file."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(keep)


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
    assert {"fidelity", "privacy", "utility"} <= set(metrics) and "privacy: not flagged" in result.stdout
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
    assert "privacy" not in metrics and not {"extras", "extras_overlapped"} & set(metrics["timings_s"])


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
        (lambda d: _write(d / "dup.csv", b"age,sex,age\n" + b"1,m,2\n" * 30), "duplicate column name(s): 'age'"),
        (lambda d: _write(d / "blank.csv", b"a,,c\n" + b"1,2,3\n" * 30), "empty column name(s) at position(s) 2"),
        (lambda d: _write(d / "wide.csv", b"a,b\n" + b"1,2\n" * 30 + b"1,2,3\n"), "Expected 2 fields in line 32, saw 3"),
        (lambda d: d / "folder.csv" if (d / "folder.csv").mkdir() is None else None, "input is a directory"),
        (lambda d: _write(d / "bad.parquet", b"PAR1 broken PAR1"), "as Parquet"),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(tmp_path, capsys, make, needle):
    path = make(tmp_path)
    before = path.read_bytes() if path.is_file() else None
    assert_main_error(capsys, ["run", "--data", path, "--out", tmp_path / "out", "--generator", "baseline"], needle)
    assert not (tmp_path / "out").exists()
    assert (path.read_bytes() if path.is_file() else None) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


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
    # the summary says the AUC does not cover it
    assert any(line.startswith("not judged") and line.endswith(": row_id") for line in result.stdout.splitlines())
    synthetic = pd.read_csv(tmp_path / "o" / "synthetic.csv")
    assert synthetic["row_id"].str.fullmatch(r"r[1-9]\d*").all() and synthetic["row_id"].is_unique  # the real format


@pytest.mark.parametrize("config, needle", [
    ("data:\n  path: {data}\n  types: {{salary: integer}}\n", "salary"),
    ("data:\n  path: {data}\ngenrator: gmm\n", "genrator"),
    ("data: [unclosed\n", "not valid YAML"),
    ("data:\n  path: {data}\ngenerators:\n  gmm: {{components: 3}}\n", "has no parameter"),
    ("data:\n  path: {data}\nholdout: 0.9\n", "holdout must be"),
    ("data:\n  path: {data}\nextras: sometimes\n", "extras must be true or false"),
    (None, "config not found"),
    ("data:\n  path: {data}\n  header: 'no'\n", "data.header must be true or false, got 'no'"),
    ("data:\n  path: {data}\nrows: 0\n", "rows must be a whole number >= 1, got 0"),
    ("data:\n  path: {data}\nseed: 1.7\n", "seed must be a whole number, got 1.7"),
    ("data:\n  path: {data}\nseed: -1\n", "seed must be a whole number between 0 and"),
    ("data:\n  path: {data}\ndetector:\n  rounds: ten\n", "detector.rounds must be a whole number"),
    ("data:\n  path: {data}\ndetector:\n  max_depth: -1\n", "detector.max_depth must be a whole number >= 1"),
    ("data:\n  path: {data}\n  sep: 5\n", "data.sep must be one delimiter character"),
    ("data:\n  path: {data}\nname: ../..\n", "name must be a plain name"),
    ("data:\n  path: {data}\n  types: {{x: float}}\n", "data.types.x must be one of"),
    ("data:\n  path: {data}\n  header: false\n  columns: [a, b, c]\n", "5 fields per row but the config names 3"),
], ids=["unknown-column", "typo", "broken-yaml", "bad-parameter", "bad-holdout", "bad-extras", "missing",
        "header-text", "rows-0", "seed-float", "seed-negative", "rounds-text", "depth-negative", "sep-number",
        "name-escapes", "bad-type", "too-few-names"])
def test_config_errors(tmp_path, capsys, monkeypatch, config, needle):
    data = tmp_path / "d.csv"
    make_mixed(100).to_csv(data, index=False)
    before = data.read_bytes()
    path = tmp_path / "c.yaml"
    if config is not None:
        path.write_text(config.format(data=data))
    monkeypatch.chdir(tmp_path)  # the default out, runs/..., would land here
    assert_main_error(capsys, ["run", "--config", path], needle)
    assert_nothing_left(tmp_path, "d.csv", *(["c.yaml"] if config is not None else []))
    assert data.read_bytes() == before


def test_unknown_generator_is_refused(tmp_path):
    data = tmp_path / "d.csv"
    make_mixed(100).to_csv(data, index=False)
    assert_one_line_error(advsynth("run", "--data", data, "--generator", "vae", "--out", tmp_path / "o"),
                          "unknown generator 'vae'; choose one of baseline, gmm")
    assert not (tmp_path / "o").exists()


def test_help_reads_like_the_readme(capsys):
    from advsynth.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert exit_.value.code == 0
    for option in ("--config", "--data TABLE", "--generator", "--out", "--seed", "--rows", "--no-extras",
                   "--sep CHAR", "--decimal MARK", "--na-values LIST", "Parquet"):
        assert option in text, option
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

    # import sagemaker (or any of its submodules) now raises ModuleNotFoundError, whatever
    # earlier tests imported: cached submodules would otherwise be found without their parent
    for name in [m for m in sys.modules if m.startswith(("pipelines", "sagemaker."))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sagemaker", None)
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


# --- reading options on the command line -------------------------------------------------------

def test_semicolon_decimal_comma_file_runs_and_na_values_switch_markers_off(tmp_path, capsys):
    df = make_mixed(200).assign(group=lambda d: d["group"].replace("c", "NA"))
    path = tmp_path / "eu.csv"
    df.to_csv(path, index=False, sep=";", decimal=",")
    before = path.read_bytes()
    code, out, err = main_run(capsys, "run", "--data", path, "--out", tmp_path / "run", "--generator", "baseline",
                              "--no-extras", "--na-values", "")
    assert code == 0, err
    schema = {c["name"]: c for c in json.loads((tmp_path / "run" / "schema.json").read_text())["columns"]}
    assert schema["x"]["kind"] == "numeric" and schema["spend"]["kind"] == "numeric"
    assert "NA" in schema["group"]["categories"]  # the category NA is a category, not a missing value
    # written in the input's dialect: ';'-separated, decimal commas
    lines = (tmp_path / "run" / "synthetic.csv").read_text().splitlines()
    assert lines[0] == "group;x;count;spend;flag" and "," in lines[1].split(";")[1]
    assert path.read_bytes() == before
    # the same file with pandas' default markers: NA is missing
    code, _, err = main_run(capsys, "run", "--data", path, "--out", tmp_path / "run2", "--generator", "baseline",
                            "--no-extras", "--sep", ";", "--decimal", ",")
    assert code == 0, err
    schema = {c["name"]: c for c in json.loads((tmp_path / "run2" / "schema.json").read_text())["columns"]}
    assert "NA" not in schema["group"]["categories"] and schema["x"]["kind"] == "numeric"


def test_parquet_input_runs(tmp_path, capsys):
    from advsynth.io import write_table

    write_table(tmp_path / "t.parquet", make_mixed(200))
    code, _, err = main_run(capsys, "run", "--data", tmp_path / "t.parquet", "--out", tmp_path / "run",
                            "--generator", "baseline", "--no-extras")
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["name"] == "t"


@pytest.mark.parametrize("args, needle", [
    (["--seed", "-1"], "seed must be a whole number between 0 and"),
    (["--rows", "0"], "rows must be a whole number >= 1, got 0"),
    (["--sep", ";;"], "data.sep must be one delimiter character"),
    (["--generator", "../../x"], "--generator must be a plain name"),
])
def test_bad_options_are_one_line(tmp_path, capsys, monkeypatch, args, needle):
    data = tmp_path / "d.csv"
    make_mixed(100).to_csv(data, index=False)
    monkeypatch.chdir(tmp_path)
    assert_main_error(capsys, ["run", "--data", data, *args], needle)
    assert_nothing_left(tmp_path, "d.csv")


# --- output locations that cannot be written --------------------------------------------------

@pytest.fixture
def small_csv(tmp_path):
    data = tmp_path / "d.csv"
    make_mixed(100).to_csv(data, index=False)
    return data


def test_out_under_a_regular_file_fails_before_running(tmp_path, capsys, small_csv, monkeypatch):
    import advsynth.run

    monkeypatch.setattr(advsynth.run, "run", lambda *a, **k: pytest.fail("ran although the output is unwritable"))
    (tmp_path / "file").write_text("x")
    assert_main_error(capsys, ["run", "--data", small_csv, "--out", tmp_path / "file" / "run"],
                      "is a file, not a folder")
    assert (tmp_path / "file").read_text() == "x"
    assert_nothing_left(tmp_path, "d.csv", "file")
    # an output folder holding the input is refused too (the input is never at risk)
    assert_main_error(capsys, ["run", "--data", small_csv, "--out", tmp_path / "file" / ".."], "would contain the input")
    (tmp_path / "old").mkdir()
    assert_main_error(capsys, ["run", "--data", small_csv, "--out", tmp_path / "new" / ".." / "old"], "already exists")
    assert_nothing_left(tmp_path, "d.csv", "file", "old")


def test_read_only_output_fails_before_running(tmp_path, capsys, small_csv, monkeypatch):
    import os

    import advsynth.run

    monkeypatch.setattr(advsynth.run, "run", lambda *a, **k: pytest.fail("ran although the output is unwritable"))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if str(p) == str(tmp_path) else real_access(p, mode))
    assert_main_error(capsys, ["run", "--data", small_csv, "--out", tmp_path / "runs" / "r"], "is not writable")
    assert_nothing_left(tmp_path, "d.csv")


@pytest.mark.parametrize("code", ["ENOSPC", "EROFS", "EACCES"])
def test_disk_full_or_read_only_while_writing_leaves_nothing(tmp_path, capsys, small_csv, monkeypatch, code):
    import errno
    import os

    def fail(*args):
        raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)))

    monkeypatch.setattr(os, "fsync", fail)
    before = small_csv.read_bytes()
    line = assert_main_error(capsys, ["run", "--data", small_csv, "--out", tmp_path / "runs" / "r",
                                      "--generator", "baseline", "--no-extras"], f"({code})")
    assert "cannot write" in line
    assert_nothing_left(tmp_path, "d.csv")  # no run folder, no staging folder, not even runs/
    assert small_csv.read_bytes() == before


def test_the_loser_of_two_runs_on_one_out_is_told_and_the_winner_kept(tmp_path, capsys, small_csv, monkeypatch):
    """Another run finishes into --out between this run's check and its rename."""
    import advsynth.run

    out = tmp_path / "run"
    real_write_run = advsynth.run.write_run

    def winner_finishes_first(out_path, *args, **kwargs):
        out_path.mkdir()
        (out_path / "metrics.json").write_text("winner")
        return real_write_run(out_path, *args, **kwargs)

    monkeypatch.setattr(advsynth.run, "write_run", winner_finishes_first)
    assert_main_error(capsys, ["run", "--data", small_csv, "--out", out, "--generator", "baseline", "--no-extras"],
                      "was created by someone else while this run was writing")
    assert [p.name for p in out.iterdir()] == ["metrics.json"] and (out / "metrics.json").read_text() == "winner"
    assert_nothing_left(tmp_path, "d.csv", "run")


def test_concurrent_write_run_one_wins_whole(tmp_path):
    """Two threads stage and rename onto the same folder: one folder, complete, from one writer."""
    import threading

    import pandas as pd

    from advsynth.errors import OutputError
    from advsynth.experiment.folder import write_run

    out, barrier, results = tmp_path / "runs" / "same", threading.Barrier(2), {}

    def writer(tag):
        barrier.wait()
        try:
            write_run(out, pd.DataFrame({"who": [tag] * 1000}), {"who": tag}, "{}")
            results[tag] = "ok"
        except OutputError as err:
            results[tag] = str(err)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [tag for tag, r in results.items() if r == "ok"]
    assert len(winners) == 1, results
    (loser,) = set(results) - set(winners)
    assert "was created by someone else" in results[loser]
    assert json.loads((out / "metrics.json").read_text()) == {"who": winners[0]}
    assert set((out / "synthetic.csv").read_text().splitlines()[1:]) == {winners[0]}
    assert [p.name for p in out.parent.iterdir()] == ["same"]


def test_unexpected_system_error_is_one_line(tmp_path, capsys, small_csv, monkeypatch):
    import errno

    import advsynth.run

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", str(small_csv))

    monkeypatch.setattr(advsynth.run, "run", broken)
    assert_main_error(capsys, ["run", "--data", small_csv, "--out", tmp_path / "o"], "Input/output error (EIO)")
    with pytest.raises(OSError):  # --debug keeps the traceback
        main_run(capsys, "--debug", "run", "--data", small_csv, "--out", tmp_path / "o")


# --- memory: said before the run starts -------------------------------------------------------

def test_rows_far_above_the_table_warns_with_the_estimate(tmp_path, capsys, small_csv, caplog):
    with caplog.at_level("WARNING", logger="advsynth"):
        code, _, err = main_run(capsys, "run", "--data", small_csv, "--out", tmp_path / "run", "--generator",
                                "baseline", "--no-extras", "--rows", "1100")
    assert code == 0, err
    assert "1100 synthetic rows is 11x the 100 real rows; the run needs about" in caplog.text


def test_run_that_cannot_fit_in_memory_is_refused_before_it_starts(tmp_path, capsys, small_csv, monkeypatch):
    from advsynth import resources
    from advsynth.synthesizers.baseline import BaselineSynthesizer

    # 10 M synthetic rows are streamed to disk: the run holds the detector's 250,000 rows, the block being
    # written and the two the sampling threads draw ahead
    monkeypatch.setattr(resources, "available_memory", lambda: 2**27)
    monkeypatch.setattr(BaselineSynthesizer, "fit", lambda *a, **k: pytest.fail("fitted although it cannot fit"))
    assert_main_error(capsys, ["run", "--data", small_csv, "--out", tmp_path / "run", "--generator", "baseline",
                               "--rows", "10000000"],
                      "10000000 synthetic rows + 100 real rows x 5 columns need about 0.7 GB of memory but only "
                      "0.1 GB is available")
    assert_nothing_left(tmp_path, "d.csv")


def test_memory_estimate_unit():
    from advsynth.resources import BYTES_PER_CELL, BYTES_PER_REAL_CELL, FIXED_BYTES, check_run_fits

    assert check_run_fits(100, 100, 5, available=2**40) == FIXED_BYTES + 100 * 5 * (BYTES_PER_CELL + BYTES_PER_REAL_CELL)
    # a streamed run counts only the synthetic rows it holds: 10 M rows written, 350,000 held
    assert check_run_fits(10**7, 10**7, 15, available=2**36, held_synthetic=350_000) == FIXED_BYTES + 15 * (
        10**7 * BYTES_PER_REAL_CELL + 350_000 * BYTES_PER_CELL)
    from advsynth.errors import ConfigError

    with pytest.raises(ConfigError, match="need about"):
        check_run_fits(10, 10**9, 30, available=2**34)


def test_summary_warns_when_the_auc_is_significantly_below_chance():
    from advsynth.cli import summary

    metrics = {"generator": "gmm", "name": "t", "n_synthetic": 100, "n_real": 100, "seed": 0,
               "timings_s": {"total": 1.0},
               "detector": {"roc_auc": 0.40, "roc_auc_ci": [0.37, 0.43], "p_value": 0.99, "precision": 0.4,
                            "recall": 0.4, "column_importance": {"a": 1.0}}}
    assert "significantly below 0.5" in summary(metrics)
    metrics["detector"].update(roc_auc=0.49, roc_auc_ci=[0.46, 0.52])
    assert "significantly below 0.5" not in summary(metrics)


def test_summary_warns_when_the_holdout_only_auc_is_significantly_above_the_verdict():
    """co2-like: a generator close to its training rows scores lower against them than against unseen rows."""
    from advsynth.cli import summary

    metrics = {"generator": "gmm", "name": "t", "n_synthetic": 100, "n_real": 100, "seed": 0,
               "timings_s": {"total": 1.0},
               "detector": {"roc_auc": 0.45, "roc_auc_ci": [0.42, 0.48], "p_value": 0.9, "precision": 0.4,
                            "recall": 0.4, "column_importance": {"a": 1.0}},
               "holdout_only": {"roc_auc": 0.55, "roc_auc_ci": [0.51, 0.59], "n_holdout": 400}}
    assert "significantly above the verdict" in summary(metrics)
    metrics["holdout_only"].update(roc_auc=0.47, roc_auc_ci=[0.43, 0.51])   # overlapping: no warning
    assert "significantly above the verdict" not in summary(metrics)


def test_the_extras_run_beside_a_one_thread_detector_and_give_the_same_figures(tmp_path):
    """On a small table the detector trains on one thread and the extras run on the other core;
    with the detector on two threads they run after it. Where they ran changes nothing else."""
    from advsynth.config import config_for_csv
    from advsynth.run import run

    data = tmp_path / "mixed.csv"
    make_mixed(400).to_csv(data, index=False)
    cfg = config_for_csv(str(data))
    cfg.generator = "baseline"
    beside = run(cfg)
    cfg.detector = {"nthread": 2}
    after = run(cfg)
    assert "extras_overlapped" in beside["timings_s"] and "extras" not in beside["timings_s"]
    assert "extras" in after["timings_s"] and "extras_overlapped" not in after["timings_s"]
    for key in ("fidelity", "privacy", "utility", "detector", "holdout_only"):
        a, b = (json.loads(json.dumps(m[key], default=str)) for m in (beside, after))
        if key == "detector":  # the config and params record the thread count
            for m in (a, b):
                m.pop("params", None), m["config"].pop("nthread")
        assert a == b, key
