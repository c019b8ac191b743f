"""Benchmark variants that set run settings: ``adversarial`` (config/race.yaml's gmm_adversarial),
and the holdout-only AUC in results.csv."""

import json

import pandas as pd

from advsynth.bench import BenchConfig, DatasetSpec, GeneratorSpec, run_benchmark


def test_adversarial_variant_and_holdout_only_column(tmp_path):
    gmm = {"max_components": 3, "n_candidates": 1}
    cfg = BenchConfig(name="t", seeds=[0], datasets=[DatasetSpec("iris", "sklearn", "iris")],
                      generators=[GeneratorSpec("plain", "gmm", gmm),
                                  GeneratorSpec("adv", "gmm", {**gmm, "adversarial": True})],
                      detector={"rounds": 15, "nthread": 1}, extras=True)
    results = run_benchmark(cfg, tmp_path / "b", progress=None)
    runs = {g: json.loads((tmp_path / "b" / "runs" / f"iris-{g}-s0" / "metrics.json").read_text()) for g in ("plain", "adv")}
    assert "adversarial" in runs["adv"] and "adversarial" not in runs["plain"]
    assert "adversarial" not in runs["adv"]["generator_params"]  # a run setting, not a GMM parameter
    on_disk = pd.read_csv(tmp_path / "b" / "results.csv").set_index("generator")
    for g, metrics in runs.items():
        assert on_disk.loc[g, "holdout_only_auc"] == metrics["holdout_only"]["roc_auc"]
    assert results["holdout_only_auc"].between(0, 1).all()
