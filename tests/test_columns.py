"""The typing layer: every column kind comes back typed exactly like the input, with no artefact."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from advsynth import BaselineSynthesizer, GMMSynthesizer
from advsynth.columns import OTHER_LEVEL, parse_text_frame
from advsynth.errors import ConfigError
from advsynth.schema import Schema, infer_schema

N = 300
GENERATORS = [
    lambda: BaselineSynthesizer(random_state=1),
    lambda: GMMSynthesizer(max_components=4, n_candidates=2, random_state=1),
]
IDS = ["baseline", "gmm"]


def text_frame(columns: dict) -> pd.DataFrame:
    """A frame as the reader gives it: text cells, missing as NaN, then typed by parse_text_frame."""
    return parse_text_frame(pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()}))


def typed_table(n: int = N, seed: int = 0) -> pd.DataFrame:
    """One column of every in-memory kind a Parquet file or the Python API hands over."""
    rng = np.random.default_rng(seed)
    ints = pd.array(rng.integers(0, 90, n), dtype="Int64")
    ints[rng.random(n) < 0.2] = pd.NA
    flags = pd.array(rng.random(n) < 0.4, dtype="boolean")
    flags[rng.random(n) < 0.1] = pd.NA
    return pd.DataFrame({
        "full": rng.normal(size=n),  # full double precision
        "sex": rng.choice([0.0506801187398187, -0.044641636506989], n),  # diabetes' two values
        "age": ints,
        "flag": flags,
        "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L", "XL"], ordered=True),
        "when": pd.to_datetime(1_600_000_000 + rng.integers(0, 10**7, n), unit="s").tz_localize("UTC")
                  .tz_convert("Europe/Paris"),
        "name": rng.choice(["ann", "bob", "cy"], n).astype(object),
        "tiny": rng.normal(size=n) * 1e-9,
        "huge": rng.uniform(1, 9, n) * 1e300,
    })


def test_reverse_of_model_frame_is_the_input_exactly():
    """The round trip through the model values loses nothing: same dtypes, same values."""
    df = typed_table()
    schema = infer_schema(df)
    back = schema.reverse(schema.model_frame(df).reset_index(drop=True))
    pd.testing.assert_frame_equal(back, df.reset_index(drop=True), check_exact=True)
    assert Schema.from_dict(json.loads(schema.to_json())) == schema


@pytest.mark.parametrize("factory", GENERATORS, ids=IDS)
def test_generated_columns_are_typed_like_the_input(factory):
    df = typed_table()
    out = factory().fit(df).sample(500)
    assert dict(out.dtypes.astype(str)) == dict(df.dtypes.astype(str))
    # discrete floats come back as exactly the real values (diabetes' `sex`: no 0.05068)
    assert set(out["sex"]) <= set(df["sex"])
    # full precision is not rounded; tiny values are not squashed to (-)0; 1e300 is a number, not an ID
    assert not np.allclose(out["full"], out["full"].round(6), rtol=0, atol=1e-12)
    assert (out["tiny"] != 0).mean() > 0.9 and not np.signbit(out["tiny"][out["tiny"] == 0]).any()
    assert out["tiny"].nunique() > 100 and 0.5 < out["tiny"].std() / df["tiny"].std() < 2
    assert out["huge"].min() >= df["huge"].min() and out["huge"].nunique() > 100
    assert out["age"].isna().any() and set(out["size"].dropna()) <= {"S", "M", "L"}
    assert str(out["when"].dt.tz) == "Europe/Paris"


def test_one_e300_floats_and_tz_timestamps_are_not_ids():
    schema = infer_schema(typed_table())
    assert not schema["huge"].id_like and schema["huge"].kind == "numeric"
    assert not schema["when"].id_like and schema["when"].kind == "datetime"


def test_tiny_values_are_not_written_as_minus_zero():
    df = pd.DataFrame({"x": np.r_[np.full(50, -1e-9), np.full(50, 2e-9)] * np.linspace(1, 2, 100),
                       "g": ["a", "b"] * 50})
    csv = BaselineSynthesizer().fit(df).sample(200).to_csv(index=False)
    assert "-0.0," not in csv


def test_decimals_come_from_the_text_actually_written():
    df = text_frame({"price": [f"{v:.2f}" for v in np.linspace(1, 50, N)], "g": ["a", "b", "c"] * (N // 3)})
    schema = infer_schema(df)
    assert schema["price"].decimals == 2
    out = GMMSynthesizer(max_components=3, n_candidates=2).fit(df).sample(400)
    assert np.array_equal(out["price"], out["price"].round(2))


def test_stray_tokens_in_a_numeric_column_are_missing_markers_with_one_warning(caplog):
    values = [str(v) for v in range(N)]
    values[3], values[10], values[20] = "n/a", "-", "n/a"
    with caplog.at_level(logging.WARNING):
        df = text_frame({"x": values})
    assert df["x"].dtype == "Int64" and df["x"].isna().sum() == 3
    lines = [r.message for r in caplog.records if "'x'" in r.message]
    assert len(lines) == 1 and "'-'" in lines[0] and "'n/a'" in lines[0]
    assert infer_schema(df)["x"].kind == "integer"


def test_decimal_commas_parse():
    df = parse_text_frame(pd.DataFrame({"x": ["1,5", "2,25", "3,0"] * 10}, dtype=object), decimal=",")
    assert df["x"].tolist()[:3] == [1.5, 2.25, 3.0]


def test_leading_zeros_of_codes_survive():
    codes = [f"{z:05d}" for z in range(2100, 2100 + 30)] * 10
    df = text_frame({"zip": codes, "n": [str(i % 7) for i in range(300)]})
    assert df["zip"].iloc[0] == "02100"
    out = BaselineSynthesizer().fit(df).sample(200)
    assert out["zip"].str.startswith("0").all() and set(out["zip"]) <= set(codes)


@pytest.mark.parametrize("stamp", ["2021-06-01T08:30:00Z", "2021-06-01T08:30:00", "2021-06-01T08:30:00+02:00",
                                   "06/21/2021 08:30", "2021-06-01"])
def test_text_datetimes_come_back_in_their_own_format(stamp):
    base = pd.Timestamp("2021-06-01 08:30:00")
    days = np.arange(N) % 90
    if stamp.endswith("Z"):
        texts = [(base + pd.Timedelta(days=int(d), minutes=int(d))).strftime("%Y-%m-%dT%H:%M:%SZ") for d in days]
    elif stamp.endswith("+02:00"):
        texts = [(base + pd.Timedelta(days=int(d))).strftime("%Y-%m-%dT%H:%M:%S") + "+02:00" for d in days]
    elif "/" in stamp:
        texts = [(base + pd.Timedelta(days=int(d))).strftime("%m/%d/%Y %H:%M") for d in days]
    elif "T" in stamp:
        texts = [(base + pd.Timedelta(days=int(d), seconds=int(d))).strftime("%Y-%m-%dT%H:%M:%S") for d in days]
    else:
        texts = [(base + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d") for d in days]
    df = text_frame({"t": texts, "g": ["a", "b", "c"] * (N // 3)})
    assert pd.api.types.is_datetime64_any_dtype(df["t"])
    schema = infer_schema(df)
    assert schema["t"].kind == "datetime" and not schema["t"].id_like
    out = schema.text_frame(GMMSynthesizer(max_components=3, n_candidates=2).fit(df).sample(200))
    pattern = (texts[0].replace("0", "9").replace("1", "9").replace("2", "9").replace("3", "9"))
    shape = lambda s: "".join("9" if ch.isdigit() else ch for ch in s)  # noqa: E731
    assert {shape(v) for v in out["t"]} == {shape(pattern)}
    # and the written text parses back to the same kind
    assert infer_schema(text_frame({"t": list(out["t"]), "g": list(out["g"])}))["t"].kind == "datetime"


def test_integer_column_typed_as_datetime_is_one_config_error():
    df = pd.DataFrame({"age": np.arange(40) + 20, "g": ["a", "b"] * 20})
    with pytest.raises(ConfigError, match="'age' is typed datetime but holds numbers"):
        infer_schema(df, {"age": "datetime"})


def test_na_category_stays_a_category():
    """With missing markers switched off the reader passes "NA" as text; the typing layer keeps it."""
    df = parse_text_frame(pd.DataFrame({"c": ["NA", "EU", "AS"] * 10}, dtype=object))
    schema = infer_schema(df)
    assert "NA" in schema["c"].categories and df["c"].notna().all()


@pytest.mark.parametrize("factory", GENERATORS, ids=IDS)
def test_missingness_rates_are_reproduced_even_when_extreme(factory):
    rng = np.random.default_rng(0)
    n = 2000
    x = rng.normal(size=n)
    x[rng.random(n) < 0.99] = np.nan
    df = pd.DataFrame({"x": x, "y": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
    out = factory().fit(df).sample(n)
    assert 0.97 < out["x"].isna().mean() < 0.999


@pytest.mark.parametrize("factory", GENERATORS, ids=IDS)
def test_nullable_integers_fit_and_come_back_nullable(factory):
    df = typed_table()[["age", "full", "name"]]
    out = factory().fit(df).sample(300)
    assert out["age"].dtype == "Int64" and 0.1 < out["age"].isna().mean() < 0.3


def test_gmm_on_an_all_categorical_table():
    """Mixture weights are float32 (EM runs in float32); normalised in float32 they need not sum to 1
    in float64, and numpy's multinomial refuses them. Such a weight vector is installed here on purpose."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({c: rng.choice(list("abcdefg"), 1000) for c in "pqrs"})
    gen = GMMSynthesizer(max_components=12, n_candidates=3).fit(df)
    k = gen.n_components_
    for _ in range(10_000):
        weights = rng.dirichlet(np.full(k, 0.3)).astype(np.float32)
        weights[-1] = np.float32(1e-9)
        p = weights / weights.sum()
        if p[:-1].astype(np.float64).sum() > 1.0 + 1e-12:
            break
    else:
        pytest.fail("no float32 weight vector with the rounding problem found")
    gen.mixture_.weights_ = weights
    out = gen.sample(1000)
    assert out.notna().all().all() and set(out["p"]) <= set("abcdefg")


@pytest.mark.parametrize("factory", GENERATORS, ids=IDS)
def test_infinite_values_are_kept_and_never_reach_a_model(factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    x[:150] = np.inf
    x[150:160] = -np.inf
    df = pd.DataFrame({"x": x, "g": rng.choice(["a", "b"], 500)})
    schema = infer_schema(df)
    assert np.isfinite(schema.model_frame(df)["x"]).all()
    out = factory().fit(df).sample(500)
    assert np.isfinite(out["x"]).mean() > 0.3
    if factory is GENERATORS[1]:  # a 30 % point mass comes back
        assert 0.2 < (out["x"] == np.inf).mean() < 0.4


@pytest.mark.parametrize("factory", GENERATORS, ids=IDS)
def test_constant_and_empty_columns_pass_through(factory, caplog):
    df = typed_table()[["full", "name"]].assign(const=7, empty=np.nan, tag="x")
    with caplog.at_level(logging.WARNING):
        schema = infer_schema(df)
    assert schema.passthrough == {"const": "constant", "empty": "missing", "tag": "constant"}
    assert [c.name for c in schema.modelled] == ["full", "name"]
    assert sum("constant" in r.message or "entirely missing" in r.message for r in caplog.records) == 3
    out = factory().fit(df, schema).sample(100)
    assert (out["const"] == 7).all() and out["const"].dtype == np.int64
    assert out["empty"].isna().all() and (out["tag"] == "x").all()


def test_high_cardinality_is_bounded_with_one_warning(caplog, monkeypatch):
    import advsynth.columns

    monkeypatch.setattr(advsynth.columns.categorical, "MAX_LEVELS", 50)  # the bound, at a size a unit test can reach
    rng = np.random.default_rng(0)
    n = 5000
    # 800 levels over 5,000 rows: each covers 6 rows on average, too many to be a group key
    df = pd.DataFrame({"title": [f"t{i}" for i in rng.integers(0, 800, n)], "x": rng.normal(size=n)})
    with caplog.at_level(logging.WARNING):
        schema = infer_schema(df)
    assert len(schema["title"].categories) <= 50 and 0 < len(schema["title"].tail) <= 1000
    assert sum("free text or nearly an identifier" in r.message for r in caplog.records) == 1
    frame = schema.model_frame(df)
    assert len(frame["title"].cat.categories) <= 51 and OTHER_LEVEL in frame["title"].cat.categories
    gen = GMMSynthesizer(max_components=4, n_candidates=2).fit(df)
    assert gen.encoder_.n_features_ < 20  # not 2,000 one-hot columns
    out = gen.sample(n)
    assert out["title"].nunique() > 200 and set(out["title"]) <= set(df["title"])


def test_parse_problems_count_wrong_typed_values_per_column():
    df = typed_table()[["full", "when", "name"]]
    schema = infer_schema(df)
    synthetic = pd.DataFrame({"full": ["1.5", "oops", None, "2"], "when": ["2021-01-01T00:00:00+01:00", "never", None,
                                                                           "2021-01-02T00:00:00+01:00"],
                              "name": ["ann", "zed", None, "bob"]})
    assert schema.parse_problems(synthetic) == {"full": 1, "when": 1}
    frame = schema.model_frame(synthetic)
    assert np.isnan(frame["full"][1]) and frame["full"][0] == 1.5
    assert frame["name"].tolist()[1] == OTHER_LEVEL


def test_weekly_dates_stay_on_their_weekday():
    weeks = pd.Series(pd.date_range("2000-01-01", periods=400, freq="7D"))
    df = pd.DataFrame({"week": weeks, "y": np.arange(400) + np.random.default_rng(0).normal(size=400)})
    out = GMMSynthesizer(max_components=4, n_candidates=2).fit(df).sample(400)
    assert set(out["week"].dt.day_of_week) == {weeks[0].day_of_week}


def test_a_csv_run_writes_every_column_back_in_its_own_text(tmp_path):
    """End to end through the reader, the generator and the writer: the synthetic CSV reads like the real one."""
    from advsynth.cli import main

    rng = np.random.default_rng(0)
    n = 200
    stamps = pd.Timestamp("2021-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s")
    kids = [str(v) for v in rng.integers(0, 4, n)]
    for i in range(0, n, 10):
        kids[i] = ""
    measured = [f"{v:.1f}" for v in rng.normal(70, 5, n)]
    measured[5] = "n/a"
    real = pd.DataFrame({"zip": [f"0{z}" for z in rng.integers(2100, 2200, n)], "at": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "kids": kids, "measured": measured, "version": "v1", "g": rng.choice(["a", "b"], n)})
    real.to_csv(tmp_path / "real.csv", index=False)
    assert main(["run", "--data", str(tmp_path / "real.csv"), "--out", str(tmp_path / "out"), "--generator", "gmm",
                 "--no-extras"]) in (0, None)
    out = pd.read_csv(tmp_path / "out" / "synthetic.csv", dtype=str, keep_default_na=False)
    assert out["zip"].str.fullmatch(r"0\d{4}").all()
    assert out["at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert out["kids"].str.fullmatch(r"\d?").all() and (out["kids"] == "").any()  # integers, some missing
    assert out["measured"].str.fullmatch(r"\d+\.\d|").all()
    assert (out["version"] == "v1").all()
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["passthrough_columns"] == {"version": "constant"}


def test_diabetes_no_longer_gives_itself_away():
    """Full-precision diabetes used to score AUC 1.000: `sex` came back as 0.05068 / -0.044642."""
    from sklearn.datasets import load_diabetes

    from advsynth.detection import detect

    real = load_diabetes(as_frame=True).frame
    schema = infer_schema(real)
    assert schema["sex"].values == sorted(real["sex"].unique().tolist())
    synthetic = GMMSynthesizer(max_components=8, n_candidates=3).fit(real, schema).sample(len(real))
    for name in real.columns:
        if schema[name].values:  # every discrete column comes back as real values only
            assert set(synthetic[name]) <= set(real[name]), name
    result = detect(schema.model_frame(real), schema.model_frame(synthetic), null=False)
    assert result.roc_auc < 0.8 and max(result.column_importance.values()) < 0.5


# --------------------------------------------------------------------------- identifiers and free text

_WORDS = "data model river blue market north sale quick plan night light stone green field union".split()


def _titles(n: int, seed: int = 0) -> list[str]:
    """Free text unique per row: words with spaces, varying length, a per-row number."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(_WORDS, rng.integers(2, 9))) + f" no{i}" for i in range(n)]


def test_free_text_unique_per_row_is_new_text_not_an_identifier(caplog):
    df = text_frame({"title": _titles(N), "x": [str(v) for v in np.random.default_rng(1).normal(size=N)]})
    with caplog.at_level(logging.WARNING):
        schema = infer_schema(df)
    spec = schema["title"]
    assert spec.id_like and spec.text and "title" not in [c.name for c in schema.modelled]
    warned = [r.message for r in caplog.records if "'title'" in r.message]
    assert len(warned) == 1 and "free text" in warned[0]
    out = BaselineSynthesizer(random_state=1).fit(df, schema).sample(500, random_state=3)["title"]
    assert not out.str.startswith("synthetic-").any()
    words = out.str.split()
    real_lengths = pd.Series(_titles(N)).str.split().str.len()
    assert words.str.len().between(real_lengths.min(), real_lengths.max()).all()
    assert set(words.explode()) <= set(_WORDS)  # the words of the column; "no17" (one row's alone) is never copied
    assert not set(out) & set(df["title"])       # no real row's text
    assert abs(words.str.len().mean() - real_lengths.mean()) < 0.6
    # deterministic with the seed, and the same from schema.json (the containers' copy)
    again = Schema.from_dict(json.loads(schema.to_json()))
    assert again["title"].text == spec.text
    raw = pd.DataFrame({"x": np.zeros(5)})
    assert schema.reverse(raw, np.random.default_rng(4))["title"].tolist() == \
        again.reverse(raw, np.random.default_rng(4))["title"].tolist()


def test_fresh_identifiers_keep_the_real_format():
    rng = np.random.default_rng(2)
    import uuid

    df = text_frame({
        "code": [f"A-{v:05d}" for v in rng.permutation(100_000)[:N]],
        "padded": [f"r{i:07d}" for i in range(N)],   # leading zeros
        "uuid": [str(uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | int(rng.integers(0, 2**62)))) for _ in range(N)],
        "case": [f"case-{i}" for i in range(N)],
        "odd": [f"{'x' * (i % 7)}#{i}!" if i % 2 else f"{i}?{'y' * (i % 5)}" for i in range(N)],
        "x": [str(v) for v in rng.normal(size=N)],
    })
    schema = infer_schema(df)
    assert all(schema[c].id_like and not schema[c].text for c in ("code", "padded", "uuid", "case", "odd"))
    out = BaselineSynthesizer(random_state=1).fit(df, schema).sample(1000, random_state=0)
    assert out["code"].str.fullmatch(r"A-\d{5}").all()
    assert out["padded"].str.fullmatch(r"r000\d{4}").all()   # every real one starts "r000": so do the fresh ones
    assert out["uuid"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").all()
    assert out["case"].str.fullmatch(r"case-[1-9]\d*").all()
    assert out["odd"].str.fullmatch(r"synthetic-\d+").all()  # no regular format: plain fresh identifiers
    for column in ("code", "padded", "uuid", "case", "odd"):
        assert out[column].is_unique, column
    assert out["code"].nunique() == 1000 and not out["code"].is_monotonic_increasing  # scattered, not a counter


def test_identifiers_fall_back_when_the_format_cannot_hold_the_rows():
    df = text_frame({"code": [f"Z{i:02d}" for i in range(60)], "x": [str(v % 7) for v in range(60)]})
    schema = infer_schema(df)
    out = schema.reverse(pd.DataFrame({"x": np.zeros(500)}), np.random.default_rng(0))["code"]
    assert out.is_unique and out.str.startswith("synthetic-").all()  # "Z" + 2 digits holds 100 values, not 500


def test_floats_written_at_full_precision_round_trip_exactly():
    # a table written by R with 14 significant digits reads with 16 decimals; rounding at 16
    # decimals scaled 923.9959999993443 past 2**52 and gave back 923.996
    x = np.array([923.9959999993443, 58.19099999964237, 30.147999999811876, 25.06899999990128] * 10)
    df = pd.DataFrame({"weight": x, "k": np.arange(40) % 3})
    schema = infer_schema(df)
    back = schema.reverse(schema.model_frame(df).reset_index(drop=True))
    assert np.array_equal(back["weight"].to_numpy(), x)


def _orders(n_orders: int = 900, seed: int = 0) -> pd.DataFrame:
    """Order lines: an order number shared by its 1-6 lines, the order's region on every line,
    each line's own quantity and price."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 7, n_orders)
    order = np.repeat(np.arange(n_orders), sizes)
    region = rng.choice(["north", "south", "east"], n_orders)[order]
    qty = rng.integers(1, 9, len(order))
    return text_frame({
        "order": [f"{10 + o % 50}/{o // 50:03d}" for o in order],
        "region": region.tolist(),
        "qty": [str(q) for q in qty],
        "price": [f"{p:.2f}" for p in qty * rng.gamma(3, 4, len(order)) + (region == "north") * 20],
    })


def test_group_keys_are_fresh_keys_with_the_real_group_sizes_and_consistent_groups(caplog):
    df = _orders()
    with caplog.at_level(logging.WARNING):
        schema = infer_schema(df)
    spec = schema["order"]
    assert spec.id_like and spec.group and "order" not in [c.name for c in schema.modelled]
    assert spec.group["sizes"] == [1, 2, 3, 4, 5, 6] and spec.group["constant"] == ["region"]
    assert any("'order' is a group key" in r.message for r in caplog.records)
    gen = GMMSynthesizer(max_components=4, n_candidates=2, random_state=1).fit(df, schema)
    out = gen.sample(6000, random_state=2)
    assert out["order"].str.fullmatch(r"\d+/\d{3}").all()  # the real format, zero padding kept
    real_sizes = df["order"].value_counts()
    sizes = out["order"].value_counts()
    assert abs(sizes.mean() - real_sizes.mean()) < 0.15 * real_sizes.mean()
    assert sizes.max() <= real_sizes.max()
    assert (out.groupby("order")["region"].nunique() == 1).all()  # an order has one region, as the real ones
    assert out.groupby("order")["qty"].nunique().max() > 1        # its lines are still drawn line by line
    # a table drawn in blocks (or shards) groups its rows as one draw does; schema.json keeps the facts
    again = Schema.from_dict(json.loads(schema.to_json()))
    assert again["order"].group == spec.group and again["order"].id_format == spec.id_format
    first = gen.sample(2500, random_state=2)
    keys = pd.concat([first["order"], gen.sample(3500, random_state=2, first_row=2500)["order"]], ignore_index=True)
    assert keys.iloc[:2500].equals(out["order"].iloc[:2500])
    assert not set(keys.iloc[2500:]) & set(keys.iloc[:2500]) - {keys.iloc[2499]}  # a later block's groups are its own


def test_many_level_names_stay_categorical_and_regular_codes_become_keys():
    rng = np.random.default_rng(3)
    words = np.array(["".join(rng.choice(list("abcdefghij"), rng.integers(4, 9))) for _ in range(400)])
    df = text_frame({"town": words[rng.integers(0, 400, 1200)].tolist(), "x": [str(v) for v in rng.normal(size=1200)]})
    schema = infer_schema(df)
    assert not schema["town"].id_like and schema["town"].group is None  # no regular format: a many-level category


def test_group_attributes_keep_their_relation_to_the_lines():
    """Groups are filled with rows that already agree on the group's attributes, so a line's
    price still follows its order's region (north +20) instead of a region copied onto it."""
    df = _orders(1500, seed=4)
    gen = GMMSynthesizer(max_components=6, n_candidates=2, random_state=1).fit(df)
    out = gen.sample(8000, random_state=5)
    assert (out.groupby("order")["region"].nunique() == 1).all()
    price = out["price"].astype(float)
    gap = price[out["region"] == "north"].mean() - price[out["region"] != "north"].mean()
    real = df["price"].astype(float)
    real_gap = real[df["region"] == "north"].mean() - real[df["region"] != "north"].mean()
    assert abs(gap - real_gap) < 0.25 * real_gap


def test_a_table_drawn_in_blocks_keeps_every_group_whole_and_its_keys_distinct():
    """Blocks of SAMPLE_BLOCK_ROWS rows each from their own seed (and so the shards of a sharded
    draw): no group crosses a block, so every group is consistent, and no key is reused."""
    from advsynth.columns.identifiers import GROUP_CHUNK
    from advsynth.experiment.sampling import SAMPLE_BLOCK_ROWS, sample_blocks

    assert SAMPLE_BLOCK_ROWS % GROUP_CHUNK == 0
    df = _orders(600, seed=8)
    gen = BaselineSynthesizer(random_state=1).fit(df)
    n = SAMPLE_BLOCK_ROWS + 30_000
    blocks = list(sample_blocks(gen, n, seed=4))
    assert [first for first, _ in blocks] == [0, SAMPLE_BLOCK_ROWS]
    out = pd.concat([b for _, b in blocks], ignore_index=True)
    key = out["order"]
    runs = (key != key.shift()).cumsum()
    assert runs.max() == key.nunique()                        # each key is one run of rows: one group
    assert (out.groupby("order")["region"].nunique() == 1).all()
    assert key.value_counts().max() <= 6
    assert not set(blocks[0][1]["order"]) & set(blocks[1][1]["order"])


def test_group_keys_fit_a_format_that_holds_the_groups_but_not_the_rows():
    """Keys are numbered by group, not by row: 'O' + three digits holds 1,000 keys, enough for
    the ~700 groups of 2,400 rows though not for the rows themselves."""
    rng = np.random.default_rng(6)
    order = np.repeat(np.arange(900), rng.integers(2, 5, 900))
    df = text_frame({"order": [f"O{o:03d}" for o in order], "x": [str(v) for v in rng.normal(size=len(order))]})
    schema = infer_schema(df)
    assert schema["order"].group
    out = BaselineSynthesizer(random_state=1).fit(df, schema).sample(2400, random_state=0)["order"]
    assert out.str.fullmatch(r"O\d{3}").all()
    assert out.value_counts().between(1, 4).all()


def test_the_holdout_split_keeps_a_group_key_s_groups_whole():
    """A run splits by the groups of the coarsest group key, so no holdout row has case-mates
    among the training rows; a table whose key values are all distinct splits row by row."""
    from advsynth.experiment.splits import RealSplit, split_real

    df = _orders()
    schema = infer_schema(df)
    labels = schema.split_groups(df)
    assert labels is not None and len(np.unique(labels)) == df["order"].nunique()
    train, holdout = split_real(df, 0, 0.2, schema)
    assert not set(train["order"]) & set(holdout["order"])
    assert abs(len(holdout) - 0.2 * len(df)) <= 6
    no_key = df.drop(columns="order")
    assert infer_schema(no_key).split_groups(no_key) is None
    unique = df.assign(order=[f"A-{i:05d}" for i in range(len(df))])
    unique_schema = infer_schema(unique)
    assert unique_schema.split_groups(unique) is None
    assert (split_real(unique, 0, 0.2, unique_schema)[1].index == df.index[RealSplit.of(len(df), 0, 0.2).holdout]).all()
