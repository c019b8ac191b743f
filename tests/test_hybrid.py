"""The GMM's hybrid parts: columns rebuilt from the column they depend on, columns redrawn given the others."""

import numpy as np
import pandas as pd
import pytest

from advsynth.errors import ConfigError
from advsynth.schema import infer_schema
from advsynth.synthesizers import GMMSynthesizer
from advsynth.synthesizers.conditional import ConditionalRedraw, predictable_columns
from advsynth.synthesizers.dependencies import find_dependencies

SMALL = {"max_components": 4, "n_candidates": 2, "max_iter": 50}


def hourly(n=3000, seed=0):
    """Hourly readings at three stations: the timestamp fixes hour and month, a code fixes its label.
    Each hour has several readings, so its timestamp is a value the smooth marginal may output."""
    rng = np.random.default_rng(seed)
    stamp = pd.Timestamp("2013-01-01") + pd.to_timedelta(5 * rng.integers(0, n // 6, n), unit="h")
    station = rng.choice(["EWR", "JFK", "LGA"], n)
    return pd.DataFrame({
        "time": stamp,
        "hour": stamp.hour,
        "month": stamp.month,
        "station": station,
        "station_name": pd.Series(station).map({"EWR": "Newark", "JFK": "Kennedy", "LGA": "LaGuardia"}),
        "temp": np.round(10 + 8 * np.sin(stamp.hour / 24 * 2 * np.pi) + rng.normal(0, 2, n), 1),
        "flag": rng.integers(0, 2, n),
    })


def test_dependencies_are_found_from_the_finest_column_and_spurious_ones_are_not():
    df = hourly()
    df["row_id_ish"] = np.arange(len(df)) * 7.0  # distinct values determine everything trivially
    schema = infer_schema(df)
    found = {(d.child, d.parent) for d in find_dependencies(schema.model_frame(df), schema)}
    assert ("hour", "time") in found and ("month", "time") in found
    assert ("station_name", "station") in found or ("station", "station_name") in found
    parents = {p for _, p in found}
    assert "row_id_ish" not in parents and "flag" not in {c for c, _ in found} and "temp" not in {c for c, _ in found}


def test_a_derived_column_comes_back_consistent_with_its_parent_and_not_without_the_rule():
    df = hourly()
    schema = infer_schema(df)
    fake = GMMSynthesizer(random_state=0, **SMALL).fit(df, schema).sample(4000, random_state=1)
    assert (fake["hour"] == fake["time"].dt.hour).all() and (fake["month"] == fake["time"].dt.month).all()
    names = dict(zip(df["station"], df["station_name"]))
    assert (fake["station"].map(names) == fake["station_name"]).all()
    plain = GMMSynthesizer(random_state=0, dependencies=False, **SMALL).fit(df, schema).sample(4000, random_state=1)
    assert (plain["hour"] != plain["time"].dt.hour).mean() > 0.2  # what the mixture alone does


def test_redrawn_columns_follow_their_predictors_and_never_copy_a_rare_value():
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.uniform(0, 10, n)

    def wave(t):  # a relation a 4-component mixture cannot follow
        return 10 * np.sin(3 * t)

    df = pd.DataFrame({"x": np.round(x, 3), "y": np.round(wave(x) + rng.normal(0, 0.5, n), 4),
                       "g": rng.choice(list("abc"), n)})
    schema = infer_schema(df)
    a = GMMSynthesizer(random_state=0, redraw=None, **SMALL).fit(df, schema).sample(n, random_state=2)
    b = GMMSynthesizer(random_state=0, redraw=["y"], **SMALL).fit(df, schema).sample(n, random_state=2)
    real_error = np.mean(np.abs(df["y"] - wave(df["x"])))  # the noise: 0.4
    assert np.mean(np.abs(a["y"] - wave(a["x"]))) > 5 * real_error
    assert np.mean(np.abs(b["y"] - wave(b["x"]))) < 1.5 * real_error
    counts = df["y"].value_counts()
    rare = set(counts[counts < 3].index)
    assert not set(b["y"]) & rare  # the smooth marginal never hands out a value of one or two training rows
    assert list(b.dtypes) == list(df.dtypes)


def measurements(n=4000, seed=5):
    """A weight and the lengths it nearly determines, a total of parts, and columns that are noise given the rest."""
    rng = np.random.default_rng(seed)
    weight = rng.gamma(2.0, 1.0, n)
    length = np.round(3 * weight ** (1 / 3) + rng.normal(0, 0.02, n), 3)
    part_a, part_b = np.round(rng.uniform(0, 50, n), 2), np.round(rng.uniform(0, 50, n), 2)
    return pd.DataFrame({"weight": np.round(weight, 3), "length": length, "part_a": part_a, "part_b": part_b,
                         "total": np.round(part_a + part_b, 2), "cycle": np.round(cycle(weight) + rng.normal(0, 0.3, n), 3),
                         "noise": rng.normal(size=n), "colour": rng.choice(["red", "green", "blue"], n)})


def cycle(weight):
    """A relation a few-component mixture cannot follow."""
    return 10 * np.sin(3 * weight)


def test_auto_redraw_picks_the_near_functions_and_not_the_noise():
    df = measurements()
    schema = infer_schema(df)
    names = [c.name for c in schema.modelled]
    chosen, scores = predictable_columns(schema.model_frame(df), schema, names)
    assert {"weight", "length", "total"} <= set(chosen)
    assert "noise" not in chosen and "colour" not in chosen
    assert scores["noise"] < 0.2 and scores["colour"] < 0.2 and scores["length"] > 0.9


def test_auto_redraw_leaves_a_table_of_too_few_rows_alone():
    # the same relations, on fewer rows than 100 leaves of 10: no tree is coarse-fitted, no column redrawn
    df = measurements(n=900)
    schema = infer_schema(df)
    names = [c.name for c in schema.modelled]
    assert predictable_columns(schema.model_frame(df), schema, names) == ([], {})
    assert set(predictable_columns(schema.model_frame(df), schema, names, min_samples_leaf=5)[0]) >= {"length"}
    gen = GMMSynthesizer(random_state=0, refine=0, **SMALL).fit(df, schema)
    assert gen.redraw_columns_ == [] and gen.redraw_scores_ == {}


def test_auto_redraw_repairs_the_relations_the_mixture_breaks():
    df = measurements()
    schema = infer_schema(df)
    auto = GMMSynthesizer(random_state=0, refine=0, **SMALL).fit(df, schema)
    plain = GMMSynthesizer(random_state=0, refine=0, redraw=None, **SMALL).fit(df, schema)
    assert auto.redraw == "auto" and {"length", "total"} <= set(auto.redraw_columns_)
    assert plain.redraw_columns_ == [] and plain.redraw_scores_ == {}
    a, p = auto.sample(4000, random_state=1), plain.sample(4000, random_state=1)

    def cycle_error(t):  # the real rows' own error is their noise
        return np.median(np.abs(t["cycle"] - cycle(t["weight"])))

    def total_error(t):  # 0 in the real rows
        return np.median(np.abs(t["total"] - t["part_a"] - t["part_b"]))

    assert cycle_error(p) > 5 * cycle_error(df) and cycle_error(a) < 2 * cycle_error(df)
    assert total_error(a) < 0.6 * total_error(p)
    assert list(a.dtypes) == list(df.dtypes)
    pd.testing.assert_frame_equal(a, auto.sample(4000, random_state=1))  # deterministic
    # no training row comes back whole
    assert not len(a.merge(df.drop_duplicates(), how="inner"))


def test_auto_redraw_leaves_tables_of_unrelated_columns_alone():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.normal(size=2000), "b": rng.exponential(size=2000), "c": rng.choice(list("xyz"), 2000)})
    gen = GMMSynthesizer(random_state=0, refine=0, **SMALL).fit(df)
    assert gen.redraw_columns_ == [] and gen.redraw_ is None and set(gen.redraw_scores_) == {"a", "b", "c"}


def test_redraw_is_deterministic_and_refit_changes_only_the_trees():
    df = hourly(1500)
    schema = infer_schema(df)
    gen = GMMSynthesizer(random_state=0, **SMALL).fit(df, schema)
    mixture = gen.mixture_
    gen.refit_redraw(df, ["temp", "station"])
    assert gen.mixture_ is mixture and gen.redraw == ["temp", "station"]
    pd.testing.assert_frame_equal(gen.sample(500, random_state=4), gen.sample(500, random_state=4))
    fresh = GMMSynthesizer(random_state=0, redraw=["temp", "station"], **SMALL).fit(df, schema)
    pd.testing.assert_frame_equal(gen.sample(500, random_state=4), fresh.sample(500, random_state=4))


def test_conditional_redraw_reproduces_a_relation_with_pure_leaves():
    rng = np.random.default_rng(1)
    n = 2000
    code = rng.integers(0, 20, n)
    df = pd.DataFrame({"code": code.astype(float), "value": (code * 10).astype(float), "noise": rng.normal(size=n)})
    schema = infer_schema(df)
    frame = schema.model_frame(df)
    model = ConditionalRedraw(["value"], min_samples_leaf=10).fit(frame, schema)
    raw = frame.assign(value=rng.normal(size=n))  # a generator's values that ignore the relation
    out = model.transform(raw, np.random.default_rng(0))
    assert np.array_equal(out["value"].to_numpy(), frame["code"].to_numpy() * 10)


@pytest.mark.parametrize("params, message", [
    ({"redraw": ["nope"]}, "redraw names columns that are not modelled: nope"),
    ({"redraw": 3}, "The 'redraw' parameter of GMMSynthesizer must be None, a str among"),
    ({"redraw": "some"}, "The 'redraw' parameter of GMMSynthesizer must be None, a str among"),
    ({"redraw": ["x", 2]}, "redraw must be a list of column names"),
    ({"redraw_sweeps": 0}, "The 'redraw_sweeps' parameter of GMMSynthesizer must be an int in the range"),
    ({"dependencies": "yes"}, "The 'dependencies' parameter of GMMSynthesizer must be an instance of 'bool'"),
])
def test_bad_hybrid_parameters_are_one_line_errors(params, message):
    df = hourly(300)
    with pytest.raises(ConfigError, match=message):
        GMMSynthesizer(**SMALL, **params).fit(df)


@pytest.mark.parametrize("text, value", [(None, None), ("auto", "auto"), ("all", "all"), ('["x", "y"]', ["x", "y"])])
def test_the_redraw_hyperparameter_travels_as_text_and_back(text, value):
    import sys
    from pathlib import Path

    from advsynth.sagemaker.entrypoints import redraw_value

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pipelines.adversarial.pipeline import redraw_text

    assert redraw_value(text) == value
    if value is not None:  # None travels as the pipeline's "none", which the job reads as no hyperparameter
        assert redraw_value(redraw_text(value)) == value


def test_a_bad_redraw_hyperparameter_is_one_line():
    from advsynth.sagemaker.entrypoints import redraw_value

    with pytest.raises(ConfigError, match="must be none, auto, all or a JSON list"):
        redraw_value("sometimes")
