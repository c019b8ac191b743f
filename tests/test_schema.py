import json
import logging

import numpy as np
import pandas as pd
import pytest

from advsynth.errors import ConfigError, InputError
from advsynth.schema import infer_schema


def test_kinds_bounds_and_missing_rates(mixed):
    schema = infer_schema(mixed)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {"group": "categorical", "x": "numeric", "count": "integer", "spend": "numeric", "flag": "boolean"}
    assert schema["x"].missing_rate == pytest.approx(mixed["x"].isna().mean())
    assert schema["spend"].minimum == 0.0 and schema["spend"].maximum == mixed["spend"].max()
    assert schema["x"].decimals == 3 and schema["spend"].decimals == 2
    assert schema["group"].categories == ["a", "b", "c"]


def test_override_types_and_unknown_column(mixed):
    assert infer_schema(mixed, {"count": "categorical"})["count"].kind == "categorical"
    with pytest.raises(ConfigError, match="nope"):
        infer_schema(mixed, {"nope": "integer"})
    with pytest.raises(ConfigError, match="unknown column type"):
        infer_schema(mixed, {"x": "float128"})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda df: df.head(5), "at least 20"),
        (lambda df: df.head(0), "no rows"),
        (lambda df: df[["x"]].assign(x=7.0), "no column left to model"),
    ],
)
def test_unusable_tables_are_refused(mixed, change, message):
    with pytest.raises(InputError) as err:
        infer_schema(change(mixed))
    assert message is None or message in str(err.value)


def test_declared_integer_with_text_is_refused(mixed):
    with pytest.raises(InputError, match="declared integer but holds 'x'"):
        infer_schema(mixed.assign(count=["x"] + list(mixed["count"][1:])), {"count": "integer"})


def test_id_like_column_is_flagged_not_modelled(mixed, caplog):
    df = mixed.assign(customer=[f"c{i}" for i in range(len(mixed))])
    with caplog.at_level(logging.WARNING):
        schema = infer_schema(df)
    assert schema["customer"].id_like and schema["customer"].categories == []
    assert "customer" not in [c.name for c in schema.modelled]
    assert "one distinct value per row" in caplog.text


def test_schema_round_trips_through_json(mixed):
    from advsynth.schema import Schema
    import json

    schema = infer_schema(mixed)
    assert Schema.from_dict(json.loads(schema.to_json())) == schema


def test_schema_json_keeps_every_fact_and_reads_older_files(mixed):
    from advsynth.schema import Schema

    df = mixed.assign(when=pd.date_range("2021-01-01", periods=len(mixed), freq="h", tz="Europe/Paris"),
                      const="k", empty=np.nan)
    schema = infer_schema(df)
    again = Schema.from_dict(json.loads(schema.to_json()))
    assert again == schema and again.passthrough == {"const": "constant", "empty": "missing"}
    frame = schema.model_frame(df)
    pd.testing.assert_frame_equal(again.model_frame(df), frame)
    old = {"columns": [{"name": "x", "kind": "numeric", "missing_rate": 0.0, "minimum": 0.0, "maximum": 1.0,
                        "decimals": 2, "categories": [], "id_like": False, "unit": None}]}
    assert Schema.from_dict(old)["x"].decimals == 2
