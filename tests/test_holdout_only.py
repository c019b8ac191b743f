"""The holdout-only AUC beside every verdict (metrics.json, the CLI summary), skipped without extras."""

import json

from conftest import make_mixed

from advsynth.cli import main


def test_run_reports_holdout_only_auc_and_skips_it_without_extras(tmp_path, capsys):
    data = tmp_path / "mixed.csv"
    make_mixed(300).to_csv(data, index=False)
    assert main(["run", "--data", str(data), "--out", str(tmp_path / "run"), "--generator", "baseline"]) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    only = metrics["holdout_only"]
    assert only["n_holdout"] == metrics["n_holdout"] == 60
    assert only["rows_per_class"] == 60  # the detector's real rows are the holdout's, nothing else
    assert 0.5 < only["roc_auc"] <= 1 and only["roc_auc_ci"][0] <= only["roc_auc"] <= only["roc_auc_ci"][1]
    assert f"holdout-only AUC {only['roc_auc']:.3f}" in out
    assert main(["run", "--data", str(data), "--out", str(tmp_path / "bare"), "--generator", "baseline",
                 "--no-extras"]) == 0
    out = capsys.readouterr().out
    assert "holdout-only AUC: not computed (--no-extras skips them)" in out
    assert "fidelity, privacy, utility: not judged (--no-extras skips them)" in out
    assert "holdout_only" not in json.loads((tmp_path / "bare" / "metrics.json").read_text())
