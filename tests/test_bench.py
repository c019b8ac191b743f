"""Benchmarks, history and the bench CLI on small scikit-learn tables (each test well under 20 s)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pandas as pd
import pytest
from moto import mock_aws

from advsynth.bench import (
    RESULT_COLUMNS,
    BenchConfig,
    DatasetSpec,
    GeneratorSpec,
    load_bench_config,
    run_benchmark,
)
from advsynth.cli import build_parser
from advsynth.metrics.evaluate import evaluate_extras
from advsynth.errors import AdvsynthError, ConfigError
from advsynth.history import HistoryStore, git_revision, make_record, trend
from advsynth.schema import infer_schema
from advsynth.experiment.trace import trace
from advsynth.stats import mean_interval

ROOT = Path(__file__).resolve().parents[1]


def small_cfg(seeds=(0,), generators=("baseline", "gmm_bic"), extras=False, table="iris") -> BenchConfig:
    gens = {"baseline": GeneratorSpec("baseline", "baseline"),
            "gmm_bic": GeneratorSpec("gmm_bic", "gmm", {"criterion": "bic", "max_components": 4, "n_candidates": 2})}
    return BenchConfig(name="t", seeds=list(seeds), datasets=[DatasetSpec(table, "sklearn", table)],
                       generators=[gens[g] for g in generators], detector={"rounds": 15, "nthread": 1},
                       extras=extras)


def parse(argv):
    """The real ``advsynth`` parser, so the subcommands are tested as wired."""
    return build_parser().parse_args(argv)


# --------------------------------------------------------------------------- config


def test_shipped_benchmark_config_loads():
    cfg = load_bench_config(ROOT / "config" / "benchmark.yaml")
    assert {g.name for g in cfg.generators} >= {"baseline", "gmm_aic", "gmm_bic"}
    assert {g.name: g.params.get("criterion") for g in cfg.generators}["gmm_bic"] == "bic"
    kinds = {d.name: (d.kind, d.source) for d in cfg.datasets}
    assert kinds["adult"][0] == "config" and Path(kinds["adult"][1]).exists()
    assert kinds["wine"] == ("sklearn", "wine")
    assert len(cfg.hash()) == 64 and cfg.hash() == load_bench_config(ROOT / "config" / "benchmark.yaml").hash()


@pytest.mark.parametrize("text, message", [
    ("seeds: [0]\ndatasets: {w: {sklearn: wine}}\ngenerators: {b: {type: baseline}}\ntypo: 1\n", "unknown key"),
    ("datasets: {w: {sklearn: nope}}\ngenerators: {baseline: {}}\n", "unknown scikit-learn table"),
    ("datasets: {w: {sklearn: wine, csv: x.csv}}\ngenerators: {baseline: {}}\n", "exactly one of"),
    ("datasets: {w: {sklearn: wine}}\ngenerators: {b: {type: vae}}\n", "unknown type"),
    ("datasets: {w: {sklearn: wine}}\n", "non-empty 'generators'"),
    ("seeds: [a]\ndatasets: {w: {sklearn: wine}}\ngenerators: {baseline: {}}\n", "seeds"),
    ("[1, 2\n", "not valid YAML"),
])
def test_bad_benchmark_configs_are_one_line_config_errors(tmp_path, text, message):
    path = tmp_path / "b.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_bench_config(path)
    assert "\n" not in str(info.value)


def test_a_plug_in_variant_is_checked_only_when_it_will_run(tmp_path):
    """The race config's SDV variants must not stop its other variants where SDV is not installed."""
    path = tmp_path / "b.yaml"
    path.write_text("datasets: {w: {sklearn: wine}}\n"
                    "generators: {baseline: {}, missing: {type: 'advsynth_no_such_module:Generator'}}\n")
    with pytest.raises(ConfigError, match="advsynth_no_such_module"):
        load_bench_config(path)
    cfg = load_bench_config(path, ["baseline"]).select(generators=["baseline"])
    assert [g.name for g in cfg.generators] == ["baseline"]
    shipped = load_bench_config(ROOT / "config" / "race.yaml", ["baseline", "gmm_aic", "gmm_guarded"])
    assert {g.name: g.params for g in shipped.generators}["gmm_guarded"]["privacy_guard"] is True


def test_select_rejects_unknown_names():
    with pytest.raises(ConfigError, match="unknown generator"):
        small_cfg().select(generators=["gmm_aic"])


# --------------------------------------------------------------------------- running


def test_benchmark_writes_results_summary_history_and_progress(tmp_path, capsys):
    cfg = small_cfg(seeds=(0, 1), extras=True)
    with trace() as stages:
        results = run_benchmark(cfg, tmp_path / "b", history=str(tmp_path / "hist"))
    # the bench composes run's stages (its null once per dataset and seed)
    assert {"holdout_split", "detector.features", "detector.split", "detector.fit", "detector.score",
            "detector.giveaways", "detector.null", "holdout_only", "fidelity", "privacy", "extras"} <= set(stages)
    assert list(results.columns) == RESULT_COLUMNS and len(results) == 4
    on_disk = pd.read_csv(tmp_path / "b" / "results.csv")
    assert len(on_disk) == 4 and set(on_disk["generator"]) == {"baseline", "gmm_bic"}
    assert on_disk["roc_auc"].between(0, 1).all() and on_disk["null_roc_auc"].notna().all()
    # the null is shared by the generators of one dataset x seed
    assert on_disk.groupby("seed")["null_roc_auc"].nunique().eq(1).all()
    assert on_disk[["mean_ks", "dcr_ratio", "tstr_auc", "fit_s", "rows_per_s"]].notna().all().all()
    summary = (tmp_path / "b" / "summary.md").read_text()
    # mean, seed SD, t-interval over seeds and the mean DeLong half width, side by side
    g = on_disk[on_disk["generator"] == "gmm_bic"]
    delong = ((g["roc_auc_hi"] - g["roc_auc_lo"]) / 2).mean()
    row = f"| iris | gmm_bic | 2 | {g['roc_auc'].mean():.3f} | {g['roc_auc'].std(ddof=1):.3f} | "
    assert row in summary and f"| {delong:.3f} |" in summary.split(row)[1].splitlines()[0]
    metrics = json.loads((tmp_path / "b" / "runs" / "iris-gmm_bic-s1" / "metrics.json").read_text())
    assert metrics["detector"]["null_roc_auc"] is not None and {"fidelity", "privacy", "utility"} <= set(metrics)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and err[0].startswith("[1/4] iris baseline seed 0: AUC") and "ETA" in err[-1]

    records = HistoryStore(tmp_path / "hist").records()
    assert len(records) == 4
    rec = records[-1]
    assert {"timestamp", "git_revision", "versions", "config_hash", "seed", "dataset", "generator", "metrics"} <= set(rec)
    assert set(rec["versions"]) >= {"advsynth", "numpy", "pandas", "sklearn", "xgboost"}
    assert re.fullmatch(r"[0-9a-f]{64}", rec["config_hash"])
    assert rec["git_revision"] is None or re.fullmatch(r"[0-9a-f]{40}", rec["git_revision"])
    assert (rec["dataset"], rec["generator"], rec["seed"]) == ("iris", "gmm_bic", 1)
    assert rec["metrics"]["detector"]["roc_auc"] == pytest.approx(on_disk["roc_auc"].iloc[-1])
    # same run config, different seed -> same hash; different generator -> different hash
    by = {(r["generator"], r["seed"]): r["config_hash"] for r in records}
    assert by[("baseline", 0)] == by[("baseline", 1)] != by[("gmm_bic", 0)]
    with pytest.raises(AdvsynthError, match="already holds results"):
        run_benchmark(cfg, tmp_path / "b")


def test_killed_benchmark_leaves_finished_records_readable(tmp_path):
    hist = tmp_path / "hist"

    def progress(event):
        if event["event"] == "run_done" and event["done"] == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C (or the job was killed) after the 2nd run

    with pytest.raises(KeyboardInterrupt):
        run_benchmark(small_cfg(seeds=(0, 1)), tmp_path / "b", history=str(hist), progress=progress)
    # a write killed mid-way leaves only a dot-temp file; readers ignore it
    (hist / "records" / ".20990101T000000.000000Z-dead.json.tmp").write_text('{"timestamp": "20')
    records = HistoryStore(hist).records()
    assert [(r["generator"], r["seed"]) for r in records] == [("baseline", 0), ("gmm_bic", 0)]
    assert all(0 <= r["metrics"]["detector"]["roc_auc"] <= 1 for r in records)
    assert len(pd.read_csv(tmp_path / "b" / "results.csv")) == 2
    assert not (tmp_path / "b" / "summary.md").exists()


def test_corrupt_record_is_skipped_with_a_warning(tmp_path, caplog):
    store = HistoryStore(tmp_path)
    store.append(make_record(dataset="d", generator="g", seed=0, config={}, metrics={"detector": {"roc_auc": 0.6}}))
    (tmp_path / "records" / "zz-foreign.json").write_text("not json")
    assert len(store.records()) == 1
    assert "skipping unreadable history record" in caplog.text


def test_same_seed_gives_identical_results(tmp_path):
    cfg = small_cfg(seeds=(3,), table="wine")
    a = run_benchmark(cfg, tmp_path / "a", progress=None)
    b = run_benchmark(cfg, tmp_path / "b", progress=None)
    stats = ["roc_auc", "roc_auc_lo", "roc_auc_hi", "null_roc_auc", "p_value", "precision", "recall", "n_synthetic"]
    pd.testing.assert_frame_equal(a[stats], b[stats])
    for gen in ("baseline", "gmm_bic"):
        run = f"runs/wine-{gen}-s3/synthetic.csv"
        assert (tmp_path / "a" / run).read_bytes() == (tmp_path / "b" / run).read_bytes()


def test_history_on_s3_with_moto(tmp_path):
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bench-history")
        loc = "s3://bench-history/team/adv"
        run_benchmark(small_cfg(generators=("baseline",)), tmp_path / "b", history=loc, progress=None)
        store = HistoryStore(loc)
        store.append(make_record(dataset="iris", generator="baseline", seed=9, config={"x": 1},
                                 metrics={"detector": {"roc_auc": 0.9, "roc_auc_ci": [0.8, 1.0]}}))
        keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="bench-history")["Contents"]]
        assert len(keys) == 2 and all(re.fullmatch(r"team/adv/records/\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{32}\.json", k) for k in keys)
        records = store.records()
        assert [r["seed"] for r in records] == [0, 9]
        assert records[0]["metrics"]["summary"]["generator_type"] == "baseline"
        assert trend(records)[0]["runs"] == 2


def test_git_revision_outside_a_checkout_is_none(tmp_path):
    assert git_revision(tmp_path) == (None, None)


# --------------------------------------------------------------------------- trend


def rec(auc, lo, hi, bench, minutes, generator="gmm", config="c1"):
    ts = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    return {"timestamp": ts.isoformat(), "dataset": "adult", "generator": generator, "bench_id": bench,
            "config_hash": config, "git_revision": "a" * 40,
            "metrics": {"detector": {"roc_auc": auc, "roc_auc_ci": [lo, hi]}}}


PREVIOUS = [rec(0.70, 0.69, 0.71, "b1", 0), rec(0.71, 0.70, 0.72, "b1", 1), rec(0.69, 0.68, 0.70, "b1", 2)]


def test_trend_flags_a_clear_increase_only():
    # previous mean 0.70, sd 0.01, n 3: upper end 0.70 + 4.303 * 0.01 / sqrt(3) = 0.7248
    _, half = mean_interval([0.70, 0.71, 0.69])
    assert 0.70 + half == pytest.approx(0.7248, abs=1e-4)
    worse = PREVIOUS + [rec(0.80, 0.78, 0.82, "b2", 10), rec(0.79, 0.77, 0.81, "b2", 11)]
    row = trend(worse)[0]
    assert row["regression"] and row["latest_n"] == 2 and row["latest_lo"] == pytest.approx(0.775)
    assert row["previous_n"] == 3 and row["previous_hi"] == pytest.approx(0.7248, abs=1e-4)
    # lower bound 0.724 < 0.7248: inside the noise, no flag
    assert not trend(PREVIOUS + [rec(0.74, 0.724, 0.756, "b2", 10)])[0]["regression"]
    # a better (lower) AUC is never a regression
    assert not trend(PREVIOUS + [rec(0.55, 0.53, 0.57, "b2", 10)])[0]["regression"]


def test_trend_edge_cases():
    # no previous batch: no verdict
    only = trend(PREVIOUS)[0]
    assert not only["regression"] and only["previous_n"] == 0 and only["previous_hi"] is None
    # one previous record: its DeLong upper bound is the bar
    single = [rec(0.70, 0.69, 0.71, None, 0), rec(0.72, 0.705, 0.735, None, 5)]
    assert not trend(single)[0]["regression"]
    assert trend([rec(0.70, 0.69, 0.71, None, 0), rec(0.73, 0.715, 0.745, None, 5)])[0]["regression"]
    # groups are per dataset x generator; config changes are reported
    rows = trend(PREVIOUS + [rec(0.99, 0.98, 1.0, "b2", 10, generator="baseline", config="c2"),
                             rec(0.80, 0.78, 0.82, "b2", 10, config="c2")])
    by = {r["generator"]: r for r in rows}
    assert not by["baseline"]["regression"] and by["gmm"]["regression"] and by["gmm"]["config_changed"]


# --------------------------------------------------------------------------- CLI


def test_bench_history_cli_exit_codes(tmp_path, capsys):
    store = HistoryStore(tmp_path / "h")
    for r in PREVIOUS:
        store.append(r)
    args = parse(["bench", "history", "--history", str(tmp_path / "h")])
    assert args.func(args) == 0
    assert "adult" in capsys.readouterr().out
    store.append(rec(0.80, 0.78, 0.82, "b2", 10))
    assert args.func(args) == 1
    assert "REGRESSION" in capsys.readouterr().out


def test_bench_cli_runs_and_reports_user_errors(tmp_path, capsys):
    cfg = tmp_path / "b.yaml"
    cfg.write_text("name: cli\nseeds: [0]\nhistory: hist\nextras: false\ndetector: {rounds: 10}\n"
                   "datasets: {iris: {sklearn: iris}}\ngenerators: {baseline: {}}\n")
    args = parse(["bench", "--config", str(cfg), "--out", str(tmp_path / "out")])
    assert args.func(args) == 0
    assert "| iris | baseline | 1 |" in capsys.readouterr().out
    assert len(HistoryStore(tmp_path / "hist").records()) == 1  # 'history:' is relative to the config
    for argv, message in ((["bench", "--config", str(tmp_path / "missing.yaml")], "not found"),
                          (["bench", "--config", str(cfg), "--out", str(tmp_path / "out")], "already exists"),
                          (["bench", "--config", str(cfg), "--generators", "vae"], "unknown generator"),
                          (["bench", "--config", str(cfg), "--seeds", "x"], "--seeds"),
                          (["bench", "history", "--history", str(tmp_path / "nothing")], "no history"),
                          (["report", str(tmp_path / "nothing")], "not a folder"),
                          (["report", str(tmp_path)], "neither a run folder")):
        args = parse(argv)
        with pytest.raises(AdvsynthError, match=message) as info:
            args.func(args)
        assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- extras


def test_evaluate_extras_uses_schema_columns_and_skips_ids(mixed):
    from advsynth.synthesizers import make_generator

    real = mixed.assign(customer=[f"c{i}" for i in range(len(mixed))])
    schema = infer_schema(real)
    synthetic = make_generator("baseline", random_state=0).fit(real, schema).sample(len(real))
    extras = evaluate_extras(real, synthetic, schema, "group", seed=0)
    assert "customer" not in extras["fidelity"]["marginals"]
    assert set(extras["fidelity"]["marginals"]) == {"group", "x", "count", "spend", "flag"}
    assert extras["utility"]["tstr"]["target"] == "group" and extras["utility"]["tstr"]["n_test"] > 0
    assert extras["privacy"]["dcr"]["n_holdout"] == 80  # the default holdout, 20 % of 400 rows
    assert extras["privacy"]["flagged"] is False  # baseline rows copy nothing
    assert evaluate_extras(real, synthetic, schema, None, seed=0)["utility"] is None
    with pytest.raises(AdvsynthError, match="not a modelled column"):
        evaluate_extras(real, synthetic, schema, "customer", seed=0)


def test_benchmark_never_rewrites_a_finished_run_folder(tmp_path, monkeypatch):
    """Each run folder is exactly what run() wrote: the shared null goes in through run(null=...)."""
    import advsynth.run as run_module
    from advsynth.detection import null_on_real
    from advsynth.protocol import DetectorConfig

    snapshots = {}
    real_run = run_module.run

    def recording_run(cfg, out_dir=None, generator=None, **kwargs):
        metrics = real_run(cfg, out_dir, generator, **kwargs)
        snapshots[Path(out_dir)] = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in Path(out_dir).iterdir()}
        return metrics

    monkeypatch.setattr(run_module, "run", recording_run)
    cfg = small_cfg(seeds=(0,), extras=False, table="wine")
    run_benchmark(cfg, tmp_path / "b", progress=None)
    assert len(snapshots) == 2
    for folder, files in snapshots.items():
        now = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
        assert now == files, f"{folder} changed after run() returned"
    # both generators carry the same null, the one null_on_real gives for this table, seed and protocol
    from advsynth.bench import dataset_run_config, detector_config
    from advsynth.config import load_real
    from advsynth.schema import infer_schema

    base = dataset_run_config(cfg.datasets[0], tmp_path / "b" / "data")
    real = load_real(base)
    detector = detector_config(base.detector, cfg.detector, cfg.datasets[0].detector)
    assert detector == DetectorConfig.from_dict({**DetectorConfig().to_dict(), "rounds": 15, "nthread": 1})
    auc, ci, (y, score) = null_on_real(real, detector, schema=infer_schema(real, base.data.types), seed=0)
    for folder in snapshots:
        det = json.loads((folder / "metrics.json").read_text())["detector"]
        assert det["null_roc_auc"] == pytest.approx(auc, abs=1e-12) and det["null_roc_auc_ci"] == pytest.approx(ci)
        scores = pd.read_csv(folder / "scores.csv")
        null_scores = scores.loc[scores["model"] == "real_vs_real", "score"].to_numpy()
        assert null_scores == pytest.approx(score, abs=1e-7)


def test_bench_detector_sections_are_detector_configs(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("datasets: {w: {sklearn: wine, detector: {round: 5}}}\ngenerators: {baseline: {}}\n")
    with pytest.raises(ConfigError, match="round"):
        load_bench_config(path)
    path.write_text("detector: {eta: 2}\ndatasets: {w: {sklearn: wine}}\ngenerators: {baseline: {}}\n")
    with pytest.raises(ConfigError, match="eta"):
        load_bench_config(path)
    shipped = load_bench_config(ROOT / "config" / "benchmark.yaml")
    from advsynth.bench import dataset_run_config, detector_config
    from advsynth.protocol import DetectorConfig

    adult = next(d for d in shipped.datasets if d.name == "adult")
    detector = detector_config(dataset_run_config(adult, tmp_path).detector, shipped.detector, adult.detector)
    # the benchmark measures what 'advsynth run' runs: only the thread count is the benchmark's own
    assert detector.replace(nthread=DetectorConfig().nthread) == DetectorConfig.coerce(
        dataset_run_config(adult, tmp_path).detector)


def test_summary_puts_seed_spread_beside_delong():
    from advsynth.bench import summarise, summary_markdown

    rows = pd.DataFrame({"dataset": "d", "generator": "g", "seed": [0, 1, 2], "roc_auc": [0.70, 0.72, 0.74],
                         "roc_auc_lo": [0.695, 0.715, 0.735], "roc_auc_hi": [0.705, 0.725, 0.745],
                         "null_roc_auc": 0.5})
    rows = rows.reindex(columns=RESULT_COLUMNS)
    s = summarise(rows).iloc[0]
    assert s["auc_mean"] == pytest.approx(0.72) and s["auc_sd"] == pytest.approx(0.02)
    assert s["auc_t_pm"] == pytest.approx(4.302653 * 0.02 / 3 ** 0.5, rel=1e-5)   # t(0.975, 2 df)
    assert s["delong_pm"] == pytest.approx(0.005)
    assert "| d | g | 3 | 0.720 | 0.020 | 0.050 | 0.005 |" in summary_markdown(rows)
    one = summarise(rows.iloc[:1]).iloc[0]
    assert one["auc_sd"] is None and one["auc_t_pm"] is None and one["delong_pm"] == pytest.approx(0.005)
