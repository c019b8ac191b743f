"""advsynth evaluate: any synthetic table, judged with advsynth run's detector protocol."""

import json

import numpy as np
import pandas as pd
import pytest

from advsynth import evaluate_synthetic
from advsynth.cli import main
from advsynth.config import DataConfig, RunConfig
from advsynth.errors import InputError
from advsynth.evaluation import align_columns
from advsynth.protocol import DetectorConfig
from advsynth.run import run
from conftest import make_mixed

FAST = {"rounds": 80, "max_depth": 4, "early_stopping_rounds": 20, "nthread": 1}


@pytest.fixture
def real_csv(tmp_path):
    path = tmp_path / "real.csv"
    make_mixed(600, seed=1).to_csv(path, index=False)
    return path


def _cfg(path, **kw):
    return RunConfig(data=DataConfig(path=str(path)), name="mixed", detector=dict(FAST), extras=False, **kw)


def test_evaluate_gives_the_same_auc_as_run_for_the_same_table(tmp_path, real_csv, capsys):
    metrics = run(_cfg(real_csv, seed=3), tmp_path / "run", generator="baseline")
    config = tmp_path / "c.yaml"
    config.write_text(f"data: {{path: {real_csv}}}\nseed: 3\nextras: false\ndetector: {json.dumps(FAST)}\n")
    rc = main(["evaluate", "--config", str(config), "--synthetic", str(tmp_path / "run" / "synthetic.csv"),
               "--out", str(tmp_path / "ev")])
    assert rc == 0
    ev = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert ev["detector"]["roc_auc"] == metrics["detector"]["roc_auc"]
    assert ev["detector"]["null_roc_auc"] == metrics["detector"]["null_roc_auc"]
    assert ev["detector"]["column_importance"] == pytest.approx(metrics["detector"]["column_importance"])
    for name in ("metrics.json", "scores.csv", "schema.json", "config.json", "synthetic.csv"):
        assert (tmp_path / "ev" / name).is_file()
    assert "detector ROC-AUC" in capsys.readouterr().out


def test_reordered_columns_are_matched_by_name_and_noted(real_csv):
    real = pd.read_csv(real_csv)
    synthetic = make_mixed(600, seed=2)
    m1, *_ = evaluate_synthetic(real, synthetic, detector=FAST, extras=False)
    m2, *_ = evaluate_synthetic(real, synthetic[list(reversed(synthetic.columns))], detector=FAST, extras=False)
    assert m2["input"]["reordered"] and not m1["input"]["reordered"]
    assert m1["detector"]["roc_auc"] == m2["detector"]["roc_auc"]


@pytest.mark.parametrize("change, needle", [
    (lambda df: df.drop(columns=["spend"]), "missing spend"),
    (lambda df: df.assign(extra=1), "extra extra"),
    (lambda df: df.rename(columns={"x": "x_value"}), "renamed? x -> x_value"),
])
def test_column_mismatches_are_one_line(change, needle):
    real = make_mixed(100)
    with pytest.raises(InputError, match=needle.replace("?", r"\?")):
        align_columns(real, change(real.copy()))


def test_unseen_levels_and_wrong_types_are_reported_not_fatal(real_csv, tmp_path, capsys):
    synthetic = make_mixed(600, seed=2)
    synthetic["group"] = synthetic["group"].astype(object)
    synthetic.loc[:59, "group"] = "invented"
    synthetic["x"] = synthetic["x"].astype(object)
    synthetic.loc[100:109, "x"] = "n/a-ish"
    path = tmp_path / "syn.csv"
    synthetic.to_csv(path, index=False)
    rc = main(["evaluate", "--real", str(real_csv), "--synthetic", str(path), "--no-extras", "--out", str(tmp_path / "o")])
    assert rc == 0
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["input"]["unseen_levels"]["group"]["count"] == 60
    assert m["input"]["unseen_levels"]["group"]["examples"] == ["invented"]
    assert m["input"]["wrong_types"]["x"]["count"] == 10 and m["input"]["wrong_types"]["x"]["examples"] == ["n/a-ish"]
    out = capsys.readouterr().out
    assert "values no real row has: group 60" in out and "values of the wrong type: x 10" in out
    # the invented level reaches the detector: the rows it rates most obviously fake are mostly
    # the invented ones (10 % of the synthetic rows), and where group is among the giveaway
    # columns its unseen level is the one over-represented
    rows = m["detector"]["giveaways"]["rows"]
    assert sum(r["row"]["group"] == "invented" for r in rows) >= 0.5 * len(rows)
    levels = m["detector"]["giveaways"]["levels"].get("group", [])
    assert not levels or any(r.get("level") == "__other__" and r["synthetic_share"] > 0.09 for r in levels)


def test_parquet_tables_and_holdout_extras(tmp_path):
    real = make_mixed(500, seed=1)
    holdout = make_mixed(150, seed=5)
    synthetic = make_mixed(500, seed=2)
    for name, df in (("real", real), ("holdout", holdout), ("syn", synthetic)):
        df.to_parquet(tmp_path / f"{name}.parquet")
    rc = main(["evaluate", "--real", str(tmp_path / "real.parquet"), "--synthetic", str(tmp_path / "syn.parquet"),
               "--holdout", str(tmp_path / "holdout.parquet"), "--target", "group", "--out", str(tmp_path / "o")])
    assert rc == 0
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert {"fidelity", "privacy", "utility"} <= set(m) and m["n_holdout"] == 150
    assert m["utility"]["tstr"]["target"] == "group"
    # config.json records the target --target set (it read null when only the flag named it)
    assert json.loads((tmp_path / "o" / "config.json").read_text())["target"] == "group"


def test_without_holdout_no_privacy_or_utility(real_csv):
    real = pd.read_csv(real_csv)
    m, *_ = evaluate_synthetic(real, make_mixed(600, seed=2), detector=FAST)
    assert "fidelity" in m and "privacy" not in m and "utility" not in m


def test_cv_flag_reports_folds(tmp_path, real_csv):
    syn = tmp_path / "syn.csv"
    make_mixed(600, seed=2).to_csv(syn, index=False)
    rc = main(["evaluate", "--real", str(real_csv), "--synthetic", str(syn), "--cv", "3", "--no-extras",
               "--out", str(tmp_path / "o")])
    assert rc == 0
    cv = json.loads((tmp_path / "o" / "metrics.json").read_text())["detector"]["cv"]
    assert cv["k"] == 3 and len(cv["folds"]) == 3 and abs(cv["mean"] - np.mean(cv["folds"])) < 1e-12


def test_bad_paths_are_one_line(tmp_path, real_csv, capsys):
    rc = main(["evaluate", "--real", str(real_csv), "--synthetic", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    assert rc != 0 and capsys.readouterr().err.startswith("advsynth: error:")
    assert not (tmp_path / "o").exists()


def test_detector_config_is_the_runs(real_csv):
    m, *_ = evaluate_synthetic(pd.read_csv(real_csv), make_mixed(600, seed=2), detector=FAST, extras=False)
    assert m["detector"]["config"] == DetectorConfig.from_dict(FAST).to_dict()


def test_report_draws_an_evaluate_folder(tmp_path, real_csv):
    pytest.importorskip("matplotlib")
    from advsynth.report import write_report

    syn = tmp_path / "syn.csv"
    make_mixed(600, seed=2).to_csv(syn, index=False)
    assert main(["evaluate", "--real", str(real_csv), "--synthetic", str(syn), "--out", str(tmp_path / "o")]) == 0
    page = write_report(tmp_path / "o").read_text()
    assert "ROC curves: detector" in page and "Not in this run folder" not in page
    # without --holdout the real-vs-real reference is two parts of --real, and the columns are charted
    assert "two random parts of --real" in page and page.count('<figure class="col"') == 5
    assert "synthetic table syn.csv vs real" in page


def test_run_takes_a_precomputed_null_and_trains_none(tmp_path, real_csv, monkeypatch):
    import advsynth.run as run_module

    def no_null(*args, **kwargs):
        raise AssertionError("run trained a null although one was handed in")

    monkeypatch.setattr(run_module, "null_on_real", no_null)
    y, s = np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9])
    metrics = run(_cfg(real_csv), tmp_path / "r", generator="baseline", null=(0.75, [0.6, 0.9], (y, s)))
    assert metrics["detector"]["null_roc_auc"] == 0.75 and metrics["detector"]["null_roc_auc_ci"] == [0.6, 0.9]
    scores = pd.read_csv(tmp_path / "r" / "scores.csv")
    assert scores[scores.model == "real_vs_real"]["score"].tolist() == s.tolist()


def test_k_at_edge_flags_the_ends_of_the_swept_range():
    from advsynth.experiment.stages import k_at_edge

    sweep = {1: 10.0, 5: 8.0, 9: 7.0}
    assert k_at_edge(9, sweep) == "max" and k_at_edge(1, sweep) == "min" and k_at_edge(5, sweep) is None
    assert k_at_edge(3, {3: 1.0}) is None
