"""Large tables: the detector's row cap, float32 features in place, block-seeded streamed sampling, Parquet output."""

import json

import numpy as np
import pandas as pd
import pytest

from advsynth.experiment import sampling as sampling_module
from advsynth.cli import main
from advsynth.config import DataConfig, RunConfig
from advsynth.detection import DetectorFeatures, balance, balance_indices, detect, null_on_real
from advsynth.errors import ConfigError
from advsynth.io import read_table
from advsynth.protocol import DetectorConfig
from advsynth.experiment.sampling import SyntheticWriter, block_seed, sample_blocks
from advsynth.run import run
from advsynth.experiment.splits import split_real
from advsynth.schema import infer_schema
from advsynth.synthesizers import make_generator
from conftest import make_mixed

FAST = DetectorConfig(rounds=30, max_depth=3, early_stopping_rounds=0, null=False)


def test_max_rows_per_class_is_validated():
    with pytest.raises(ConfigError, match="max_rows_per_class"):
        DetectorConfig(max_rows_per_class=5)
    assert DetectorConfig.from_dict({"max_rows_per_class": 1000}).max_rows_per_class == 1000


def test_balance_indices_are_balance_and_respect_the_cap():
    real, synth = make_mixed(300, seed=1), make_mixed(500, seed=2)
    r_idx, s_idx = balance_indices(len(real), len(synth), 3)
    r_b, s_b = balance(real, synth, 3)
    assert r_idx is None and len(s_idx) == 300
    pd.testing.assert_frame_equal(s_b, synth.iloc[s_idx].reset_index(drop=True))
    r_idx, s_idx = balance_indices(len(real), len(synth), 3, max_rows=100)
    assert len(r_idx) == len(s_idx) == 100 and np.all(np.diff(s_idx) > 0) and s_idx.max() < 500
    assert len(balance(real, synth, 3, max_rows=100)[0]) == 100


def test_capped_detector_uses_and_reports_the_rows_it_used():
    real, synth = make_mixed(1200, seed=1), make_mixed(1500, seed=2)
    schema = infer_schema(real)
    full = detect(real, synth, FAST, schema=schema)
    capped = detect(real, synth, FAST.replace(max_rows_per_class=200), schema=schema)
    assert full.rows_per_class == 1200 and capped.rows_per_class == 200
    assert capped.rows_available == {"real": 1200, "synthetic": 1500}
    assert capped.n_test == round(400 * FAST.test_size) and full.n_test == round(2400 * FAST.test_size)
    # the interval is DeLong's on the rows used: fewer rows, a wider interval
    width = lambda r: r.roc_auc_ci[1] - r.roc_auc_ci[0]  # noqa: E731
    assert width(capped) > 1.5 * width(full)
    assert json.loads(json.dumps(capped.to_dict()))["rows_per_class"] == 200


def test_capped_null_trains_on_the_capped_halves():
    real = make_mixed(1000, seed=4)
    _, _, (y, scores) = null_on_real(real, FAST.replace(max_rows_per_class=150), seed=0)
    assert len(y) == len(scores) == round(300 * FAST.test_size) and y.sum() == len(y) / 2
    _, _, (y_full, _) = null_on_real(real, FAST, seed=0)
    assert len(y_full) == round(1000 * FAST.test_size)


def test_features_fill_a_preallocated_float32_block():
    real = make_mixed(300, seed=1)
    schema = infer_schema(real)
    feats = DetectorFeatures.fit(schema, real)
    mf = schema.model_frame(real)
    expected = feats.transform_model_frame(mf)
    block = np.zeros((len(real) + 7, len(feats.columns)), dtype=np.float32)
    feats.transform_model_frame(mf, out=block[7:])
    assert expected.dtype == np.float32
    np.testing.assert_array_equal(block[7:], expected)
    assert not block[:7].any()
    with pytest.raises(ValueError, match="float32"):
        feats.transform_model_frame(mf, out=np.zeros(expected.shape))


def test_blocks_depend_on_the_seed_only():
    real = make_mixed(400, seed=1)
    gen = make_generator("baseline", random_state=0).fit(real, infer_schema(real))
    whole = list(sample_blocks(gen, 250, seed=7, block_rows=100))
    assert [first for first, _ in whole] == [0, 100, 200] and [len(b) for _, b in whole] == [100, 100, 50]
    # block 0 is the unblocked draw; any subset of blocks (one instance's shard) gives the same rows
    pd.testing.assert_frame_equal(whole[0][1], gen.sample(100, random_state=7))
    shard = dict(sample_blocks(gen, 250, seed=7, blocks=[2, 1], block_rows=100))
    pd.testing.assert_frame_equal(shard[200], whole[2][1])
    pd.testing.assert_frame_equal(shard[100], whole[1][1])
    assert not whole[1][1].equals(whole[0][1].iloc[:100])
    assert len({block_seed(7, b) for b in range(50)}) == 50 and block_seed(7, 3) != block_seed(8, 3)


def _config(path, **changes) -> RunConfig:
    return RunConfig(data=DataConfig(path=str(path)), generator="baseline", extras=False,
                     detector=FAST.replace(max_rows_per_class=150), **changes)


def test_streamed_run_writes_every_row_and_detects_as_on_the_whole_table(tmp_path, monkeypatch):
    real = make_mixed(400, seed=1)
    path = tmp_path / "real.csv"
    real.to_csv(path, index=False)
    monkeypatch.setattr(sampling_module, "SAMPLE_BLOCK_ROWS", 120)
    metrics = run(_config(path, rows=500), tmp_path / "out")
    written = read_table(tmp_path / "out" / "synthetic.csv")
    assert len(written) == 500 and metrics["n_synthetic"] == 500 and metrics["n_synthetic_in_memory"] == 150
    assert not list(tmp_path.glob(".out*"))  # the streamed file was moved in, nothing left beside
    # the same rows as the blocks drawn in memory, written as a whole table would be
    real_read = read_table(path)
    schema = infer_schema(real_read)
    gen = make_generator("baseline", random_state=0).fit(split_real(real_read, 0, 0.2)[0], schema)
    blocks = pd.concat([b for _, b in sample_blocks(gen, 500, seed=0, block_rows=120)], ignore_index=True)
    expected = tmp_path / "expected.csv"
    schema.text_frame(blocks).to_csv(expected, index=False, lineterminator="\n")
    assert (tmp_path / "out" / "synthetic.csv").read_text() == expected.read_text()
    # the detector kept exactly the rows balance() picks from the whole table
    direct = detect(real_read, blocks, FAST.replace(max_rows_per_class=150), schema=schema, seed=0)
    assert metrics["detector"]["roc_auc"] == direct.roc_auc and metrics["detector"]["rows_per_class"] == 150
    assert metrics["detector"]["rows_available"] == {"real": 400, "synthetic": 500}
    assert metrics["timings_s"]["write"] >= 0 and metrics["timings_s"]["sample"] > 0


def test_streamed_failure_leaves_nothing(tmp_path, monkeypatch):
    real = make_mixed(400, seed=1)
    path = tmp_path / "real.csv"
    real.to_csv(path, index=False)
    monkeypatch.setattr(sampling_module, "SAMPLE_BLOCK_ROWS", 120)

    def broken(self, frame):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SyntheticWriter, "write", broken)
    with pytest.raises(OSError):
        run(_config(path, rows=500), tmp_path / "new" / "out")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("streamed", [False, True])
def test_parquet_output_on_request_and_for_parquet_input(tmp_path, monkeypatch, capsys, streamed):
    if streamed:
        monkeypatch.setattr(sampling_module, "SAMPLE_BLOCK_ROWS", 150)
    real = make_mixed(400, seed=1)
    csv, pq = tmp_path / "real.csv", tmp_path / "real.parquet"
    real.to_csv(csv, index=False)
    real.to_parquet(pq, index=False)
    common = ["--generator", "baseline", "--no-extras", "--rows", "400"]
    assert main(["run", "--data", str(csv), "--out", str(tmp_path / "c"), *common]) == 0
    assert main(["run", "--data", str(csv), "--format", "parquet", "--out", str(tmp_path / "p"), *common]) == 0
    assert main(["run", "--data", str(pq), "--out", str(tmp_path / "q"), *common]) == 0
    assert "synthetic.parquet" in capsys.readouterr().out
    assert (tmp_path / "c" / "synthetic.csv").exists() and not (tmp_path / "c" / "synthetic.parquet").exists()
    from_csv = read_table(tmp_path / "c" / "synthetic.csv")
    from_parquet = read_table(tmp_path / "p" / "synthetic.parquet")
    assert not (tmp_path / "p" / "synthetic.csv").exists() and (tmp_path / "q" / "synthetic.parquet").exists()
    assert len(from_parquet) == 400 and list(from_parquet.columns) == list(real.columns)
    # the same rows either way (CSV text re-read vs Parquet's types)
    np.testing.assert_allclose(from_parquet["spend"].to_numpy(float), from_csv["spend"].to_numpy(float))
    assert from_parquet["group"].tolist() == from_csv["group"].tolist()
    assert main(["report", str(tmp_path / "p")]) == 0


def test_output_format_is_checked():
    with pytest.raises(ConfigError, match="output_format"):
        RunConfig(data=DataConfig(path="x.csv"), output_format="xlsx")


def test_shards_partition_the_blocks_and_concatenate_to_the_whole_table(tmp_path, monkeypatch):
    from advsynth.experiment.sampling import shard_blocks, write_shard

    assert [list(shard_blocks(1050, 3, i, block_rows=100)) for i in range(3)] == [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9, 10]]
    with pytest.raises(ConfigError, match="shard 3"):
        shard_blocks(1050, 3, 3)
    monkeypatch.setattr(sampling_module, "SAMPLE_BLOCK_ROWS", 100)
    real = make_mixed(400, seed=1)
    schema = infer_schema(real)
    gen = make_generator("baseline", random_state=0).fit(real, schema)
    paths = [write_shard(gen, 450, 3, schema, tmp_path / "s", i, 2)[0] for i in range(2)]
    assert [p.name for p in paths] == ["synthetic-00000-of-00002.csv", "synthetic-00001-of-00002.csv"]
    whole = pd.concat([b for _, b in sample_blocks(gen, 450, 3)], ignore_index=True)
    expected = schema.text_frame(whole).to_csv(index=False, lineterminator="\n")
    lines = paths[0].read_text().splitlines() + paths[1].read_text().splitlines()[1:]  # one header
    assert "\n".join(lines) + "\n" == expected
    with pytest.raises(ConfigError, match="at most 5 instances"):
        write_shard(gen, 450, 3, schema, tmp_path / "s", 0, 6)
    keep = np.array([5, 120, 300, 449])   # rows the detector will use: each shard returns its own
    kept = [write_shard(gen, 450, 3, schema, tmp_path / "k", i, 2, keep=keep)[1] for i in range(2)]
    assert [len(k) for k in kept] == [2, 2]
    assert pd.concat(kept, ignore_index=True).equals(whole.iloc[keep].reset_index(drop=True))
    parquet, _ = write_shard(gen, 450, 3, schema, tmp_path / "p", 1, 2, fmt="parquet")
    assert len(read_table(parquet)) == 250 and not list((tmp_path / "p").glob(".*"))


def test_current_shard_from_sagemaker_resource_config(tmp_path, monkeypatch):
    from advsynth.sagemaker.contract import current_shard

    monkeypatch.delenv("SM_HOSTS", raising=False)
    assert current_shard(tmp_path / "none.json") == (0, 1)
    config = tmp_path / "resourceconfig.json"
    config.write_text(json.dumps({"current_host": "algo-3", "hosts": ["algo-1", "algo-2", "algo-3"]}))
    assert current_shard(config) == (2, 3)
    monkeypatch.setenv("SM_HOSTS", json.dumps(["algo-1", "algo-2"]))
    monkeypatch.setenv("SM_CURRENT_HOST", "algo-2")
    assert current_shard(tmp_path / "none.json") == (1, 2)
    config.write_text(json.dumps({"current_host": "algo-9", "hosts": ["algo-1"]}))
    with pytest.raises(ConfigError, match="algo-9"):
        current_shard(config)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_gmm_draw_is_the_mixture_then_pca_inverse_in_one_product(covariance_type):
    """The vectorised draw (one noise call, one affine map per component) gives the rows of the
    two-step draw: component k's mean + noise @ L_k^T, then PCA's inverse, noise drawn in component order."""
    real = make_mixed(600, seed=3)
    gen = make_generator("gmm", random_state=0, max_components=6, n_candidates=2,
                         covariance_type=covariance_type).fit(real, infer_schema(real))
    counts = np.random.default_rng(1).multinomial(500, gen.mixture_.weights_ / gen.mixture_.weights_.sum())
    assert (counts > 0).sum() >= 2
    d = gen.mixture_.means_.shape[1]
    order = np.random.default_rng(6).permutation(500)
    drawn = gen._draw_encoded(counts, np.random.default_rng(5).standard_normal((500, d)), order)
    rng = np.random.default_rng(5)
    Z = np.vstack([gen.mixture_.means_[k] + rng.standard_normal((c, d)) @ gen._cholesky_[k].T
                   for k, c in enumerate(counts)])
    keep = gen.encoder_.feature_index(gen.decoded_)  # the columns the latent classes draw are not mapped
    np.testing.assert_allclose(drawn, gen.pca_.inverse_transform(Z)[order][:, keep], rtol=1e-9, atol=1e-9)
    # refitting replaces the maps of the previous fit
    maps = gen._affine_
    gen.fit(make_mixed(600, seed=4), infer_schema(real))
    assert gen._affine_ is not maps and gen._affine_[0].shape[0] == gen.n_components_


def test_conditional_entropy_matches_the_crosstab_definition():
    from advsynth.encoding import _conditional_entropy, _entropy

    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 2000))
        a = rng.integers(0, int(rng.integers(1, 30)), n)
        b = (a * int(rng.integers(0, 3)) + rng.integers(0, int(rng.integers(1, 20)), n)) % 25
        joint = pd.crosstab(a, b).to_numpy(dtype=float)
        expected = float(sum(row.sum() / joint.sum() * _entropy(row) for row in joint))
        assert _conditional_entropy(a, b) == expected


def test_level_codes_of_model_frames_match_the_per_row_lookup():
    """The per-distinct-value mapping gives each row's position in the block's levels, as looking
    each row's value up would (missing -> MISSING, the tail -> REST, unknown -> -1)."""
    from advsynth.encoding import MISSING, REST, TableEncoder, _CategoricalBlock, _level_codes

    real = make_mixed(800, seed=5)
    real["count"] = real["count"].astype(float)
    real.loc[::9, "count"] = np.nan
    real["word"] = np.random.default_rng(1).choice([f"w{i}" for i in range(30)], 800)
    schema = infer_schema(real)
    mf = schema.model_frame(real)
    encoder = TableEncoder(max_onehot_levels=12, tail_onehot_levels=4).fit(mf, schema)
    blocks = [b for b in encoder.blocks_ if isinstance(b, _CategoricalBlock)]
    assert {b.spec.name for b in blocks} >= {"group", "count", "word"} and any(b.rest_levels for b in blocks)
    other = mf.copy()
    other["count"] = other["count"] + 0.5  # numbers outside the levels
    for b in blocks:
        for frame in (mf, other, mf.iloc[::-3]):
            col = frame[b.spec.name]
            keys = [MISSING if pd.isna(v) else (REST if v in b.rest_levels else (float(v) if b.spec.is_numeric else v))
                    for v in col.astype(object)]
            expected = [b.levels.index(k) if k in b.levels else -1 for k in keys]
            assert _level_codes(b, col).tolist() == expected


def test_threaded_blocks_are_the_same_rows_in_the_same_order():
    real = make_mixed(500, seed=2)
    gen = make_generator("gmm", random_state=0, max_components=4, n_candidates=2).fit(real, infer_schema(real))
    one = list(sample_blocks(gen, 730, seed=4, block_rows=100))
    two = list(sample_blocks(gen, 730, seed=4, block_rows=100, workers=2))
    assert [first for first, _ in two] == list(range(0, 730, 100)) and len(two[-1][1]) == 30
    for (_, a), (_, b) in zip(one, two):
        pd.testing.assert_frame_equal(a, b)
    stream = sample_blocks(gen, 730, seed=4, block_rows=100, workers=2)
    first, block = next(stream)
    stream.close()  # a consumer that stops early: pending blocks are dropped, nothing hangs
    pd.testing.assert_frame_equal(block, one[0][1])


def test_automatic_threads_one_for_small_tables_every_core_for_large(monkeypatch):
    import advsynth.resources as resources
    from advsynth.protocol import AUTO_THREADS_MIN_ROWS

    monkeypatch.setattr(resources, "available_cores", lambda: 6)
    auto = DetectorConfig()
    assert auto.nthread == 0 and auto.threads(None) == 1 and auto.threads(AUTO_THREADS_MIN_ROWS - 1) == 1
    assert auto.threads(AUTO_THREADS_MIN_ROWS) == 6 and auto.xgb_params(rows=10 ** 6)["nthread"] == 6
    assert DetectorConfig(nthread=3).threads(10 ** 6) == 3 and DetectorConfig(nthread=1).xgb_params(rows=10 ** 6)["nthread"] == 1
    with pytest.raises(ConfigError, match="nthread"):
        DetectorConfig(nthread=-1)


def test_available_cores_is_a_positive_count():
    from advsynth.resources import available_cores

    assert 1 <= available_cores() <= (__import__("os").cpu_count() or 1)


def test_detector_scores_do_not_depend_on_the_thread_count():
    """What makes automatic threads safe: the same trees, bit for bit, whatever nthread is."""
    from advsynth.detection import _fit_and_score, stacked_features

    real, synth = make_mixed(3000, seed=1), make_mixed(3000, seed=2)
    schema = infer_schema(real)
    mr, ms = schema.model_frame(real), schema.model_frame(synth)
    X, y = stacked_features(DetectorFeatures.fit_model_frames(schema, mr, ms), mr, ms)
    config = DetectorConfig(rounds=60, early_stopping_rounds=10)
    scores = [_fit_and_score(X, y, config, 0, nthread)[2] for nthread in (1, 2, 3)]
    assert np.array_equal(scores[0], scores[1]) and np.array_equal(scores[0], scores[2])


def test_identifiers_are_distinct_across_blocks_and_shards():
    """An identifier is numbered by its row's place in the whole table: a table drawn in blocks
    (streamed, or sharded over instances) has the identifiers of one draw, never a repeat."""
    n = 600
    rng = np.random.default_rng(0)
    real = pd.DataFrame({
        "rid": np.arange(1, n + 1) * 7,                                   # integer identifiers
        "code": [f"A-{v:05d}" for v in rng.permutation(100_000)[:n]],    # a template
        "case": [f"case-{i}" for i in range(n)],                          # a prefix and a number
        "x": rng.normal(size=n),
    })
    schema = infer_schema(real)
    assert all(schema[c].id_like for c in ("rid", "code", "case"))
    gen = make_generator("baseline", random_state=0).fit(real, schema)
    whole = gen.sample(250, random_state=0)
    blocks = pd.concat([frame for _, frame in sample_blocks(gen, 250, 0, block_rows=60, workers=2)], ignore_index=True)
    for column in ("rid", "code", "case"):
        assert blocks[column].is_unique, column
        assert blocks[column].tolist() == whole[column].tolist(), column
    assert blocks["rid"].tolist() == list(range(1, 251))
