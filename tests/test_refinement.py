"""Density-ratio refinement: the GMM's draws kept by a classifier's ratio, calibrated at fit time."""

import numpy as np
import pandas as pd
import pytest

from advsynth.detection import detect
from advsynth.errors import ConfigError
from advsynth.experiment.sampling import sample_blocks
from advsynth.metrics.privacy import exact_match_rate
from advsynth.protocol import DetectorConfig
from advsynth.schema import infer_schema
from advsynth.synthesizers import GMMSynthesizer, gmm
from advsynth.synthesizers.refinement import DensityRatio, rejection_sample

WEAK = {"min_components": 2, "max_components": 2, "max_iter": 50, "redraw": None}  # a mixture too coarse for a ring (refinement alone)
FAST = DetectorConfig(rounds=100, early_stopping_rounds=20, null=False)


def ring(n=6000, seed=0):
    """Points on a noisy ring, a label for its half and a row id: two components cannot draw the ring's hole."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = rng.normal(5, 0.3, n)
    return pd.DataFrame({
        "id": np.arange(n) + 1000,
        "x": np.round(radius * np.cos(angle), 3),
        "y": np.round(radius * np.sin(angle), 3),
        "half": np.where(angle < np.pi, "upper", "lower"),
        "constant": 7,
    })


@pytest.fixture(scope="module")
def fitted():
    df = ring()
    schema = infer_schema(df)
    refined = GMMSynthesizer(random_state=0, **WEAK).fit(df, schema)
    plain = GMMSynthesizer(random_state=0, refine=0, **WEAK).fit(df, schema)
    return df, schema, refined, plain


def test_refinement_moves_the_draws_towards_the_real_table(fitted):
    df, schema, refined, plain = fitted
    assert plain.refinement_summary() is None and refined.refinement_summary()["rounds"] == 1
    unseen = ring(3000, seed=1)  # real rows neither fit saw
    # on every seed: a ratio classifier stopped on the validation AUC stopped after 2 trees on
    # seed 1 (the hole is found by the first tree; the AUC then stalls while the log odds are
    # still far too small), so its one round barely moved the draws
    for seed in (0, 1, 2):
        gen = refined if seed == 0 else GMMSynthesizer(random_state=seed, **WEAK).fit(df, schema)
        auc = {name: detect(unseen, g.sample(3000, random_state=2), FAST, schema=schema, seed=0).roc_auc
               for name, g in (("refined", gen), ("plain", plain))}
        assert auc["refined"] < auc["plain"] - 0.1, (seed, auc)
        hole = {name: (np.hypot(*g.sample(3000, random_state=2)[["x", "y"]].to_numpy().T) < 3.5).mean()
                for name, g in (("refined", gen), ("plain", plain))}
        assert hole["refined"] < hole["plain"] / 4, (seed, hole)  # draws in the ring's empty middle are dropped


def test_refined_rows_are_typed_like_the_input_numbered_once_and_deterministic(fitted):
    df, schema, refined, _ = fitted
    a = refined.sample(2500, random_state=5)
    assert len(a) == 2500 and list(a.columns) == list(df.columns)
    assert (a.dtypes == df.dtypes).all() and (a["constant"] == 7).all()
    pd.testing.assert_frame_equal(a, refined.sample(2500, random_state=5))
    blocks = pd.concat([rows for _, rows in sample_blocks(refined, 2500, seed=5, block_rows=1000)], ignore_index=True)
    assert blocks["id"].is_unique and len(blocks) == 2500  # identifiers numbered by each block's first row
    pd.testing.assert_frame_equal(blocks, pd.concat(
        [rows for _, rows in sample_blocks(refined, 2500, seed=5, block_rows=1000)], ignore_index=True))


def test_refinement_copies_no_more_training_rows_than_the_plain_draws(fitted):
    df, schema, refined, plain = fitted
    names = [c.name for c in schema.modelled]
    mf = schema.model_frame(df)
    rate = {name: exact_match_rate(mf, schema.model_frame(gen.sample(3000, random_state=3)), names)
            for name, gen in (("refined", refined), ("plain", plain))}
    assert rate["refined"] <= rate["plain"] + 0.002, rate  # rejection keeps or drops new draws, never a real row


def test_acceptance_is_calibrated_once_and_bounds_the_cost(fitted):
    _, schema, refined, _ = fitted
    assert refined.acceptance_ == pytest.approx(refined.refine_acceptance, abs=0.02)
    ratio = refined.ratio_
    log_ratio = np.random.default_rng(0).normal(0, 2, 20_000)
    share = DensityRatio(schema, seed=0).calibrate(log_ratio, 0.3)
    assert share == pytest.approx(0.3, abs=0.005)
    # a sampler whose ratio rejects everything fails with one line instead of looping forever
    stuck = DensityRatio(schema, seed=0)
    stuck.features, stuck.boosters, stuck.log_m = ratio.features, ratio.boosters, 1e6
    names = [c.name for c in schema.modelled]
    with pytest.raises(ConfigError, match="refine: 0"):
        rejection_sample(lambda m, r: schema.reverse(refined._sample_raw(m, r), r, columns=names), stuck, 100, 0.2,
                         np.random.default_rng(0), max_batches=3)


def test_small_tables_and_refine_zero_draw_as_before(fitted):
    df, schema, _, plain = fitted
    small = df.head(gmm.MIN_REFINE_ROWS - 1)
    gen = GMMSynthesizer(random_state=0, **WEAK).fit(small, infer_schema(small))
    assert gen.refinement_summary() is None  # a classifier on a few hundred rows would refine by noise
    again = GMMSynthesizer(random_state=0, refine=0, **WEAK).fit(df, schema)
    pd.testing.assert_frame_equal(plain.sample(500, random_state=4), again.sample(500, random_state=4))
    with pytest.raises(ConfigError, match="refine"):
        GMMSynthesizer(refine=-1).fit(df, schema)


def test_refit_refinement_changes_the_rounds_only(fitted):
    df, schema, refined, _ = fitted
    import copy

    twice = copy.copy(refined).refit_refinement(df, 2)
    assert twice.refinement_summary()["rounds"] == 2 and refined.refinement_summary()["rounds"] == 1
    assert twice.mixture_ is refined.mixture_  # the mixture is not refitted
