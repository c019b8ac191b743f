import numpy as np
import pandas as pd
import pytest

from advsynth import BaselineSynthesizer, GMMSynthesizer, make_generator
from advsynth.errors import ConfigError, InputError
from advsynth.schema import infer_schema
from conftest import make_mixed

GENERATORS = [
    lambda: BaselineSynthesizer(random_state=3),
    lambda: GMMSynthesizer(max_components=6, n_candidates=3, random_state=3),
]


@pytest.mark.parametrize("factory", GENERATORS, ids=["baseline", "gmm"])
def test_output_has_the_real_tables_shape(mixed, factory):
    synth = factory().fit(mixed).sample(2000)
    schema = infer_schema(mixed)
    assert list(synth.columns) == list(mixed.columns) and len(synth) == 2000
    assert synth["count"].dtype == np.int64
    assert set(synth["group"].dropna()) <= {"a", "b", "c"}
    assert set(synth["flag"]) <= {True, False}
    for col in ("x", "count", "spend"):
        values = synth[col].dropna().astype(float)
        assert values.min() >= schema[col].minimum and values.max() <= schema[col].maximum
    # precision of the real data is kept: x has 3 decimals, spend 2
    assert np.allclose(synth["x"].dropna(), synth["x"].dropna().round(3))
    assert np.allclose(synth["spend"], synth["spend"].round(2))
    # missing values at about the real rate (10 % in x, 5 % in group; binomial sd ≈ 0.7 %)
    assert abs(synth["x"].isna().mean() - mixed["x"].isna().mean()) < 0.04
    assert abs(synth["group"].isna().mean() - mixed["group"].isna().mean()) < 0.03


@pytest.mark.parametrize("factory", GENERATORS, ids=["baseline", "gmm"])
def test_same_seed_same_rows_other_seed_other_rows(mixed, factory):
    a = factory().fit(mixed).sample(300)
    b = factory().fit(mixed).sample(300)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(factory().fit(mixed).sample(300, random_state=99))


def test_gmm_keeps_dependence_the_baseline_breaks(mixed):
    """x depends on group in the real table; the mixture keeps that, independent columns cannot."""
    def gap(df):
        means = df.groupby("group")["x"].mean()
        return means["c"] - means["a"]

    real_gap = gap(mixed)
    gmm_gap = gap(GMMSynthesizer(max_components=6, n_candidates=3).fit(mixed).sample(3000))
    base_gap = gap(BaselineSynthesizer().fit(mixed).sample(3000))
    assert real_gap > 5
    assert abs(gmm_gap - real_gap) < 1.5
    assert abs(base_gap) < 0.5


def test_gmm_point_mass_comes_back_exactly(mixed):
    synth = GMMSynthesizer(max_components=6, n_candidates=3).fit(mixed).sample(3000)
    real_zero = (mixed["spend"] == 0).mean()
    assert abs((synth["spend"] == 0).mean() - real_zero) < 0.06


def test_gmm_selects_k_by_criterion_and_records_the_sweep(mixed):
    for criterion in ("aic", "bic"):
        gen = GMMSynthesizer(min_components=1, max_components=8, n_candidates=4, criterion=criterion).fit(mixed)
        assert sorted(gen.selection_) == [1, 3, 6, 8]
        assert gen.n_components_ == min(gen.selection_, key=gen.selection_.get)


def test_id_columns_get_fresh_identifiers(mixed):
    df = mixed.assign(id=np.arange(100, 100 + len(mixed)))
    synth = GMMSynthesizer(max_components=4, n_candidates=2).fit(df).sample(50)
    assert synth["id"].tolist() == list(range(1, 51))


def test_save_and_load_give_the_same_samples(mixed, tmp_path):
    gen = GMMSynthesizer(max_components=4, n_candidates=2).fit(mixed)
    gen.save(tmp_path / "g.joblib")
    loaded = GMMSynthesizer.load(tmp_path / "g.joblib")
    pd.testing.assert_frame_equal(gen.sample(100), loaded.sample(100))


def test_bad_parameters_and_unfitted_use(mixed):
    with pytest.raises(ConfigError, match="unknown generator 'vae'"):
        make_generator("vae")
    with pytest.raises(ConfigError, match="has no parameter"):
        make_generator("gmm", components=3)
    with pytest.raises(ConfigError, match="criterion"):
        GMMSynthesizer(criterion="dic").fit(mixed)
    with pytest.raises(ConfigError, match="pca_variance"):
        GMMSynthesizer(pca_variance=1.5).fit(mixed)
    with pytest.raises(InputError, match="not fitted"):
        GMMSynthesizer().sample(10)
    with pytest.raises(InputError, match="schema"):
        GMMSynthesizer(max_components=2).fit(mixed, infer_schema(mixed.drop(columns="x")))


def _dated(n: int = 400) -> pd.DataFrame:
    """make_mixed plus a date column tied to x and a timestamp column with whole seconds, some missing."""
    df = make_mixed(n)
    rng = np.random.default_rng(1)
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.round(np.nan_to_num(df["x"]) * 30).astype(int) + 100, unit="D")
    df["signup"] = day.strftime("%Y-%m-%d")
    stamp = pd.Timestamp("2021-06-01 08:00:00") + pd.to_timedelta(rng.integers(0, 86_400 * 30, n), unit="s")
    df["seen"] = pd.Series(stamp.strftime("%Y-%m-%dT%H:%M:%S")).where(rng.random(n) > 0.1, None)
    return df


@pytest.mark.parametrize("factory", GENERATORS, ids=["baseline", "gmm"])
def test_dates_stay_dates(tmp_path, factory):
    from advsynth.io import read_table

    csv = tmp_path / "dated.csv"
    _dated().to_csv(csv, index=False)
    real = read_table(csv)
    schema = infer_schema(real)
    assert (schema["signup"].kind, schema["signup"].unit) == ("datetime", "D")
    assert (schema["seen"].kind, schema["seen"].unit) == ("datetime", "s")
    synth = factory().fit(real, schema).sample(1000)
    for col in ("signup", "seen"):
        assert pd.api.types.is_datetime64_any_dtype(synth[col])
        values = synth[col].dropna()
        assert values.min() >= real[col].min() and values.max() <= real[col].max()
    assert (synth["signup"] == synth["signup"].dt.normalize()).all()  # whole days, like the input
    assert (synth["seen"].dropna() == synth["seen"].dropna().dt.floor("s")).all()
    assert abs(synth["seen"].isna().mean() - real["seen"].isna().mean()) < 0.05
    out = tmp_path / "synthetic.csv"
    synth.to_csv(out, index=False)
    assert read_table(out)["signup"].dtype.kind == "M"  # written and read back as dates


def test_gmm_keeps_the_link_between_a_date_and_a_number(tmp_path):
    from advsynth.io import read_table

    csv = tmp_path / "dated.csv"
    _dated(1000).to_csv(csv, index=False)
    real = read_table(csv)
    synth = GMMSynthesizer(max_components=6, n_candidates=3, random_state=0).fit(real).sample(1000)
    days = lambda df: (df["signup"] - pd.Timestamp("2020-01-01")).dt.days  # noqa: E731
    assert real["x"].corr(days(real)) > 0.9
    assert synth["x"].corr(days(synth)) > 0.7


def test_component_range_leaves_enough_rows_per_component():
    gmm = GMMSynthesizer(max_components=60, n_candidates=4)
    assert gmm.candidates(26_000, 56) == [1, 21, 40, 60]  # Adult: the configured range
    small = gmm.candidates(142, 14)  # wine's training rows: more than 14 rows per component
    assert max(small) == 9 and 142 / max(small) > 14
    fitted = GMMSynthesizer(max_components=60, random_state=0).fit(make_mixed(120))
    assert max(fitted.selection_) <= 120 // (fitted.pca_.n_components_ + 1)


def _latent_toy(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A majority level with 24 rare ones, a co-missing pair and a level ↔ number pair."""
    rng = np.random.default_rng(seed)
    rare = [f"c{i}" for i in range(24)]
    country = np.where(rng.random(n) < 0.88, "home", rng.choice(rare, n))
    edu_num = rng.integers(1, 17, n)
    edu = np.array([f"e{v:02d}" for v in edu_num], dtype=object)
    work = rng.choice(["private", "self", "state"], n).astype(object)
    occ = rng.choice(["clerk", "craft", "sales", "tech"], n).astype(object)
    gone = rng.random(n) < 0.1
    work[gone], occ[gone] = None, None
    occ[(~gone) & (rng.random(n) < 0.01)] = None  # occupation also missing on its own, rarely
    x = np.round(edu_num + rng.normal(0, 1, n), 2)
    return pd.DataFrame({"country": country, "edu": edu, "edu_num": edu_num, "work": work, "occ": occ, "x": x})


def test_latent_decoding_keeps_rare_levels_ties_and_co_missingness():
    real = _latent_toy()
    latent = GMMSynthesizer(max_components=4, n_candidates=2, latent_min_levels=1, random_state=0).fit(real)
    groups = {frozenset(g) for g in latent.latent_.groups}
    assert frozenset({"edu", "edu_num"}) in groups and frozenset({"work", "occ"}) in groups
    synth = latent.sample(3000, random_state=1)
    real_levels = set(real["country"])
    assert len(set(synth["country"]) & real_levels) >= len(real_levels) - 3  # rare levels come back
    assert set(synth["country"]) <= real_levels
    assert abs((synth["country"] == "home").mean() - (real["country"] == "home").mean()) < 0.03
    # tied pair: every row's level agrees with its number
    assert (synth["edu"] == synth["edu_num"].map(lambda v: f"e{v:02d}")).all()
    # co-missingness: whenever work is missing occupation is too, at about the real rate
    assert synth.loc[synth["work"].isna(), "occ"].isna().all()
    assert abs(synth["work"].isna().mean() - real["work"].isna().mean()) < 0.03
    # the argmax decoder, for contrast, swells the majority level and loses rare ones
    argmax = GMMSynthesizer(max_components=4, n_candidates=2, categorical_decoding="argmax", match_marginals=False,
                            random_state=0).fit(real).sample(3000, random_state=1)
    assert len(set(argmax["country"])) < len(set(synth["country"]))


def test_matched_marginals_reproduce_heaps_at_round_values():
    rng = np.random.default_rng(0)
    hours = np.where(rng.random(4000) < 0.45, 40, np.round(rng.normal(38, 12, 4000)).clip(1, 99)).astype(int)
    real = pd.DataFrame({"hours": hours, "age": rng.integers(17, 90, 4000)})
    synth = GMMSynthesizer(max_components=4, n_candidates=2, random_state=0).fit(real).sample(4000)
    assert abs((synth["hours"] == 40).mean() - (real["hours"] == 40).mean()) < 0.02
    assert abs(synth["hours"].median() - real["hours"].median()) <= 1


def test_argmax_decoding_keeps_missingness_implications():
    """Where work is missing occupation is too (real rows); the per-column decoders must not break it."""
    real = _latent_toy()
    synth = GMMSynthesizer(max_components=4, n_candidates=2, latent_min_levels=100, random_state=0).fit(real).sample(3000)
    assert synth["work"].isna().sum() > 100
    assert synth.loc[synth["work"].isna(), "occ"].isna().all()


def test_date_sequences_are_not_rank_matched_so_no_twins_fool_the_detector():
    """A date per row copied exactly (rank matching + snapping) makes each synthetic row the twin of a
    real one and drives the detector below chance; such columns keep the mixture's own values."""
    from advsynth.detection import detect
    from advsynth.encoding import TableEncoder

    rng = np.random.default_rng(0)
    n = 1500
    weeks = pd.date_range("1960-01-03", periods=n, freq="7D")
    df = pd.DataFrame({"week": weeks, "level": 300 + 0.02 * np.arange(n) + rng.normal(0, 1, n).round(2)})
    schema = infer_schema(df)
    encoder = TableEncoder(match_marginals=True).fit(schema.model_frame(df), schema)
    blocks = {b.spec.name: b for b in encoder.blocks_}
    assert blocks["week"].quantiles is None  # one distinct week per row: sequence-like
    assert blocks["level"].quantiles is not None  # numbers keep their exact marginal
    fake = GMMSynthesizer(max_components=8, n_candidates=2, random_state=0).fit(df).sample(n)
    result = detect(df, fake, schema=schema, seed=0, null=False)
    assert result.roc_auc_ci[1] >= 0.5  # not significantly below chance


def test_level_shares_are_tuned_once_per_fit_and_hold_for_any_batch_size():
    """The one-hot blocks' biases are tuned when the mixture is fitted, so every batch, 50 rows or
    20,000, is decoded alike and the levels keep their real shares."""
    real = make_mixed(3000, seed=11)
    gen = GMMSynthesizer(max_components=6, n_candidates=2, categorical_decoding="argmax", random_state=0).fit(real)
    block = next(b for b in gen.encoder_.blocks_ if b.spec.name == "group")
    assert block.bias is not None and np.any(block.bias != 0)
    real_shares = real["group"].value_counts(normalize=True, dropna=False)
    big = gen.sample(20_000, random_state=1)["group"].value_counts(normalize=True, dropna=False)
    assert (big.reindex(real_shares.index) - real_shares).abs().max() < 0.02
    # a small batch is decoded by the same biases: its rows are the large batch's decoding of the same draw
    X, _ = gen._draw(50, np.random.default_rng(2))
    small = gen.encoder_.inverse_transform(X, np.random.default_rng(3), gen.decoded_)["group"]
    part = X[:, gen.encoder_.feature_index(["group"])]
    expected = np.array(block.levels, dtype=object)[np.argmax(part + block.bias, axis=1)]
    expected[expected == "__missing__"] = np.nan
    pd.testing.assert_series_equal(small.astype(object), pd.Series(expected, name="group").astype(object),
                                   check_names=False)


def test_k_grows_past_the_range_only_when_the_sweep_ends_at_its_top():
    """A best k at max_components grows by at most edge_growth and the final fit's rows over the
    sweep's, with EDGE_ROWS_PER_COMPONENT fitted rows per component; nothing else moves it."""
    from advsynth.synthesizers.gmm import EDGE_ROWS_PER_COMPONENT

    gen = GMMSynthesizer(max_components=60, edge_growth=2.0)
    swept = [1, 20, 40, 60]
    assert gen.grown_k(60, swept, 4000, 10_000) == 120                  # the sweep's top: doubled
    assert gen.grown_k(40, swept, 4000, 10_000) == 40                   # inside the range: kept
    assert gen.grown_k(60, swept, 4000, 6000) == 75                     # 1.5 x the rows, 80 rows each
    assert 6000 // EDGE_ROWS_PER_COMPONENT == 75
    assert gen.grown_k(60, swept, 3000, 3000) == 60                     # the sweep saw every row
    assert gen.grown_k(120, [120], 4000, 10_000) == 120                 # a fixed k is never grown
    assert gen.grown_k(30, [1, 10, 20, 30], 4000, 10_000) == 30         # the rows' cap stopped the sweep
    assert gen.grown_k(60, swept, 4000, 10_000, n_dims=99) == 100       # 100 rows each in 99 dimensions
    assert GMMSynthesizer(max_components=60, edge_growth=1.0).grown_k(60, swept, 4000, 10_000) == 60


def test_a_sweep_that_ends_at_its_top_fits_the_grown_k():
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 6, (40, 3))
    X = centres[rng.integers(0, 40, 6000)] + rng.normal(0, 0.3, (6000, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    gen = GMMSynthesizer(max_components=8, n_candidates=2, selection_rows=1000, fit_rows=3000, redraw=None,
                         refine=0, random_state=0).fit(df)
    assert max(gen.selection_) == 8 and min(gen.selection_, key=gen.selection_.get) == 8  # the top won
    assert gen.n_components_ == 16 and gen.mixture_.n_components == 16


def test_blocked_mixture_is_the_same_for_any_thread_count_and_matches_scikit_learn():
    """The final EM fit's components are computed in blocks on threads: the threads must not change
    the mixture at all, and the blocks may move it from scikit-learn's loop by float noise only
    (stated tolerance: 1e-4 on means, weights and log densities)."""
    from sklearn.mixture import GaussianMixture

    from advsynth.synthesizers.mixture import COMPONENT_BLOCK, BlockedGaussianMixture

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(400, 4)) + 3 * i for i in range(5)]).astype(np.float32)
    k = 2 * COMPONENT_BLOCK + 3  # three blocks, the last one short
    fits = [BlockedGaussianMixture(k, n_threads=t, reg_covar=1e-4, random_state=0).fit(X) for t in (1, 2, 3)]
    for other in fits[1:]:
        for attr in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
            assert np.array_equal(getattr(fits[0], attr), getattr(other, attr)), attr
        assert other.n_iter_ == fits[0].n_iter_
    reference = GaussianMixture(k, reg_covar=1e-4, random_state=0).fit(X)
    assert fits[0].n_iter_ == reference.n_iter_
    for attr in ("weights_", "means_"):
        np.testing.assert_allclose(getattr(fits[0], attr), getattr(reference, attr), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fits[0].score_samples(X), reference.score_samples(X), rtol=1e-4, atol=1e-4)
    # other covariance types run scikit-learn's own steps
    diag = BlockedGaussianMixture(k, covariance_type="diag", n_threads=2, random_state=0).fit(X)
    assert np.array_equal(diag.means_, GaussianMixture(k, covariance_type="diag", random_state=0).fit(X).means_)
