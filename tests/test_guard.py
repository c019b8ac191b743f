"""The GMM's privacy guard: it holds rows back from its own fit, and gives up capacity while they show copies.

The table is built so that a setting copies: few-valued columns whose combinations are rare
(six columns of five levels, 4,000 training rows), and a redraw of every column from leaves of one
row, which hands out training rows' combinations. Unguarded, the run's privacy adversary flags
it; guarded, the fit's own check must catch it, step down and hand over a model that the
privacy adversary, on a holdout no part of the fit saw, does not flag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advsynth.experiment.seeds import rng_of
from advsynth.experiment.splits import RealSplit, held_out
from advsynth.metrics.evaluate import privacy_of
from advsynth.schema import infer_schema
from advsynth.synthesizers import guard
from advsynth.synthesizers.gmm import GMMSynthesizer

COPYING = {"privacy_guard": True, "redraw": "all", "redraw_min_leaf": 1, "min_components": 2, "max_components": 2, "refine": 0}


def few_valued(n: int, seed: int = 0) -> pd.DataFrame:
    """Six five-level columns tied by a latent class: every column says something of the others."""
    rng = np.random.default_rng(seed)
    latent = rng.integers(0, 6, n)
    cols = {}
    for j in range(6):
        shift = rng.integers(0, 5, 6)
        cols[f"c{j}"] = (shift[latent] + rng.choice(5, n, p=[0.4, 0.25, 0.15, 0.12, 0.08])) % 5
    return pd.DataFrame(cols)


@pytest.fixture(scope="module")
def split():
    real = few_valued(5000)
    schema = infer_schema(real)
    rows = RealSplit.of(len(real), seed=0)
    train, holdout = rows.apply(real)
    return schema, train, holdout


@pytest.fixture(scope="module")
def guarded(split):
    schema, train, _ = split
    return GMMSynthesizer(**COPYING).fit(train, schema)


def judged(gen, schema, train, holdout) -> dict:
    return privacy_of(train, holdout, gen.sample(len(train), random_state=5), schema, seed=0)


def test_a_copying_setting_is_flagged_unguarded_and_stepped_down_by_the_guard(split, guarded):
    schema, train, holdout = split
    unguarded = GMMSynthesizer(**{**COPYING, "privacy_guard": False}).fit(train, schema)
    assert unguarded.guard_ is None
    assert judged(unguarded, schema, train, holdout)["flagged"]

    gen = guarded
    checks = gen.guard_["checks"]
    assert checks[0]["fired"], "the guard's own check must see what the privacy adversary sees"
    # nothing to refine: the leaves grow first, then k halves, then the redraw goes
    steps = [c.get("then") for c in checks]
    assert steps[0] == f"redraw leaves of {guard.LEAF_GROWTH} rows"
    assert steps[1:-1] == ["k 2 -> 1", "redraw off"][:len(steps) - 2]
    assert not checks[-1]["fired"] and steps[-1] is None
    # what it handed over passes its own check again, and the run's adversary, on rows no fit saw
    held = gen.guard_["held_back_rows"]
    assert held == round(guard.SHARE * len(train)) and gen.guard_["fitted_rows"] == len(train) - held
    assert not judged(gen, schema, train, holdout)["flagged"]


def test_a_refined_model_is_first_refined_less_then_not_at_all(split, monkeypatch):
    """With refinement on, the guard's first step keeps the classifiers and caps their ratio lower
    (``WEAKER_ACCEPTANCE`` of draws pass), its second drops them; then the leaves grow as above."""
    from advsynth.synthesizers import gmm

    schema, train, holdout = split
    monkeypatch.setattr(gmm, "MIN_REFINE_ROWS", 1000)  # refine the test's 3,200 fitted rows
    gen = GMMSynthesizer(**{**COPYING, "refine": 1}).fit(train, schema)
    checks = gen.guard_["checks"]
    steps = [c.get("then") for c in checks]
    assert steps[:3] == [f"refinement keeps {guard.WEAKER_ACCEPTANCE:.0%} of draws", "refinement off",
                         f"redraw leaves of {guard.LEAF_GROWTH} rows"]
    assert checks[0]["refined"] and checks[0]["acceptance"] == pytest.approx(0.2, abs=0.01)
    assert checks[1]["refined"] and checks[1]["acceptance"] == pytest.approx(guard.WEAKER_ACCEPTANCE, abs=0.01)
    assert not checks[2]["refined"] and checks[2]["acceptance"] is None and gen.ratio_ is None
    assert not checks[-1]["fired"] and not judged(gen, schema, train, holdout)["flagged"]


def test_a_weaker_refinement_keeps_its_share_of_draws_and_draws_the_same_rows_again(split, monkeypatch):
    from advsynth.synthesizers import gmm

    schema, train, _ = split
    monkeypatch.setattr(gmm, "MIN_REFINE_ROWS", 1000)
    gen = GMMSynthesizer(min_components=2, max_components=2, redraw=None, refine=1).fit(train, schema)
    log_m, trees = gen.ratio_.log_m, gen.ratio_.summary()["trees"]
    gen._weaken_refinement(0.5)
    assert gen.acceptance_ == pytest.approx(0.5, abs=0.01)
    assert gen.ratio_.log_m < log_m and gen.ratio_.summary()["trees"] == trees  # the same classifiers, a lower cap
    first = gen.sample(500, random_state=3)
    pd.testing.assert_frame_equal(first, gen.sample(500, random_state=3))


def test_the_guard_leaves_a_model_that_passes_alone(split):
    schema, train, _ = split
    gen = GMMSynthesizer(privacy_guard=True, min_components=2, max_components=2, redraw=None, refine=0).fit(train, schema)
    assert len(gen.guard_["checks"]) == 1 and not gen.guard_["checks"][0]["fired"]
    assert gen.n_components_ == 2


def test_the_guard_s_check_is_deterministic_and_small_tables_are_not_checked(split, guarded):
    schema, train, _ = split
    held = guard.held_back(len(train), None, seed=0)
    fitted, kept_back = (schema.model_frame(train.iloc[np.flatnonzero(m)]) for m in (~held, held))
    assert guard.check(guarded, fitted, kept_back, 0) == guard.check(guarded, fitted, kept_back, 0)
    assert guard.check(guarded, fitted, kept_back, 0) == {k: v for k, v in guarded.guard_["checks"][-1].items()
                                                          if k not in ("k", "refined", "acceptance", "redraw_min_leaf")}
    small = train.iloc[: guard.MIN_ROWS - 1]
    assert GMMSynthesizer(privacy_guard=True, min_components=1, max_components=1, redraw=None).fit(small, schema).guard_ is None
    assert GMMSynthesizer().privacy_guard is False  # opt-in: see advsynth.synthesizers.guard


def test_held_back_rows_keep_groups_whole_and_follow_the_holdout_rule():
    groups = np.repeat(np.arange(1000), 3)  # 3,000 rows in groups of three
    mask = guard.held_back(len(groups), groups, seed=0)
    assert mask.sum() >= round(guard.SHARE * len(groups)) and mask.sum() <= round(guard.SHARE * len(groups)) + 3
    per_group = pd.Series(mask).groupby(groups).agg(["min", "max"])
    assert (per_group["min"] == per_group["max"]).all(), "a group straddles the held-back rows"
    assert guard.held_back(guard.MIN_ROWS - 1, None, seed=0) is None
    assert guard.held_back(100_000, None, seed=0).sum() == guard.MAX_ROWS
    # the run's holdout is the same rule: RealSplit's rows are held_out's mask
    split = RealSplit.of(3000, seed=4, groups=groups)
    again = held_out(3000, round(0.2 * 3000), rng_of(4, "holdout"), groups)
    np.testing.assert_array_equal(split.holdout, np.flatnonzero(again))


def test_a_run_with_the_guard_on_records_and_says_what_it_gave_up(tmp_path, split):
    """``privacy_guard: true`` in the config's ``generators.gmm`` reaches the fit, metrics.json
    records the checks, and the run's summary says what the GMM gave up."""
    from advsynth.cli import summary
    from advsynth.config import config_for_csv
    from advsynth.run import run

    _, train, holdout = split
    data = tmp_path / "few_valued.csv"
    pd.concat([train, holdout]).sort_index().to_csv(data, index=False)
    cfg = config_for_csv(str(data))
    cfg.generators = {"gmm": dict(COPYING)}
    metrics = run(cfg, generator="gmm")
    record = metrics["generator_fit"]["privacy_guard"]
    assert record["checks"][0]["fired"] and not record["checks"][-1]["fired"]
    assert "privacy guard: the fit's own check on" in summary(metrics)
    assert not metrics["privacy"]["flagged"]
    # the criterion's k is recorded beside the k the guard left, and is what the summary names
    fit = metrics["generator_fit"]
    assert fit["k_chosen"] == record["checks"][0]["k"] and fit["n_components"] == record["checks"][-1]["k"]
