import boto3
import pandas as pd
import pytest
from moto import mock_aws

from advsynth.errors import InputError
from advsynth.io import read_table, write_csv_atomic


def test_missing_empty_header_only_and_non_utf8(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        read_table(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputError, match="input is empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "bad.csv").write_bytes(b"a,b\n1,caf\xe9\n")
    with pytest.raises(InputError, match=r"not UTF-8: .* byte 0xe9 at offset 9"):
        read_table(tmp_path / "bad.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    assert read_table(tmp_path / "header.csv").empty


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out" / "t.csv"
    write_csv_atomic(target, pd.DataFrame({"a": [1, 2]}))
    write_csv_atomic(target, pd.DataFrame({"a": [3]}))
    assert target.read_text() == "a\n3\n"
    assert [p.name for p in target.parent.iterdir()] == ["t.csv"]
    assert target.stat().st_mode & 0o777 == 0o644  # readable by a container's non-root user


@mock_aws
def test_s3_read_and_missing_object():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="t.csv", Body=b"a,b\n1,x\n2,y\n")
    df = read_table("s3://data/t.csv")
    assert df.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    with pytest.raises(InputError, match="input not found: s3://data/missing.csv"):
        read_table("s3://data/missing.csv")
    with pytest.raises(InputError, match="input not found: s3://nobucket/t.csv"):
        read_table("s3://nobucket/t.csv")


# --- reading: one parser per kind of input, saying what it did ----------------------------------

import errno  # noqa: E402
import os  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

from advsynth import columns  # noqa: E402
from advsynth.errors import OutputError  # noqa: E402
from advsynth.io import sniff_delimiter, write_table  # noqa: E402


@pytest.mark.parametrize("text, sep", [
    ("a;b;c\n1,5;x;2\n2,25;y;3\n", ";"),
    ("a\tb\n1.5\tx, y\n2\tz\n", "\t"),
    ("a|b\n1|x;y\n2|z\n", "|"),
    ('a,b\n"x;y|z",1\n"p;q",2\n', ","),
    ("a\n1\n2\n", ","),  # one column: nothing splits it
])
def test_delimiter_is_sniffed(text, sep):
    assert sniff_delimiter(text) == sep


def test_semicolon_file_with_decimal_commas_reads_as_numbers(tmp_path, caplog):
    path = tmp_path / "eu.csv"
    path.write_text("price;city;qty\n1,5;Köln;3\n2,25;Wien;4\n-0,75;Graz;5\n")
    with caplog.at_level(logging.INFO, logger="advsynth.io"):
        df = read_table(path)
    assert list(df.columns) == ["price", "city", "qty"]
    assert df["price"].tolist() == [1.5, 2.25, -0.75] and df["qty"].tolist() == [3, 4, 5]
    assert "delimiter ';' (sniffed), decimal ','" in caplog.text
    # --sep / data.sep and --decimal / data.decimal override the guesses
    assert read_table(path, sep=";", decimal=".")["price"].tolist() == ["1,5", "2,25", "-0,75"]
    with pytest.raises(InputError, match="more than the 1 fields of the first row"):
        read_table(path, sep=",")  # a wrong delimiter loses no field silently


def test_cells_reach_the_typing_layer_as_written(tmp_path, monkeypatch):
    """Leading zeros, 'NA' and spacing are the typing layer's to judge: pandas must not convert them."""
    seen = {}

    def capture(df, *, decimal="."):
        seen.update(frame=df.copy(), decimal=decimal)
        return df

    monkeypatch.setattr(columns, "parse_text_frame", capture)
    path = tmp_path / "zips.csv"
    path.write_text("zip,n,flag\n00501,007,true\n02134,10,false\n,1e3,NA\n")
    read_table(path, na_values=[])
    frame = seen["frame"]
    assert frame["zip"].tolist()[:2] == ["00501", "02134"] and pd.isna(frame["zip"].iloc[2])
    assert frame["n"].tolist() == ["007", "10", "1e3"] and frame["flag"].tolist() == ["true", "false", "NA"]
    assert seen["decimal"] == "."


def test_missing_markers(tmp_path):
    path = tmp_path / "na.csv"
    path.write_text("cat,v\nNA,1\n?,2\n,3\nx,4\n")
    assert read_table(path)["cat"].isna().tolist() == [True, False, True, False]  # pandas' markers + empty
    assert read_table(path, na_values=[])["cat"].isna().tolist() == [False, False, True, False]
    assert read_table(path, na_values=["?"])["cat"].isna().tolist() == [False, True, True, False]


@pytest.mark.parametrize("header, needle", [
    ("age,sex,age", "duplicate column name(s): 'age'"),
    ("a,,c", "empty column name(s) at position(s) 2"),
    ("a, ,c", "empty column name(s) at position(s) 2"),
])
def test_duplicate_and_empty_header_names_are_refused(tmp_path, header, needle):
    path = tmp_path / "h.csv"
    path.write_text(header + "\n1,2,3\n")
    with pytest.raises(InputError) as err:
        read_table(path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_config_names_must_match_the_fields(tmp_path):
    path = tmp_path / "five.csv"
    path.write_text("1,2,3,4,5\n6,7,8,9,10\n")
    with pytest.raises(InputError, match="5 fields per row but the config names 3 columns"):
        read_table(path, header=False, names=["a", "b", "c"])
    assert read_table(path, header=False, names=list("abcde")).columns.tolist() == list("abcde")


def _typed_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "zip": ["00501", "02134", None],
        "n": pd.array([1, None, 3], dtype="Int64"),
        "x": [0.0506801187398187, -0.044641636506989, np.nan],
        "when": pd.to_datetime(["2020-01-01T10:00Z", "2021-06-30T23:59Z", None], utc=True),
        "NA": ["NA", "b", "NA"],
    })


def test_parquet_in_keeps_its_types_and_out_is_atomic(tmp_path):
    df = _typed_frame()
    write_table(tmp_path / "t.parquet", df)
    back = read_table(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert str(back["n"].dtype) == "Int64" and str(back["when"].dtype).startswith("datetime64") and back["when"].dt.tz
    # recognised by its magic bytes whatever the file is called
    (tmp_path / "t.data").write_bytes((tmp_path / "t.parquet").read_bytes())
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.data"), back)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.data", "t.parquet"]
    write_table(tmp_path / "t.csv", df[["zip"]])
    assert (tmp_path / "t.csv").read_text() == 'zip\n00501\n02134\n""\n'


def test_parquet_duplicate_names_and_corrupt_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table([[1], [2]], names=["a", "a"]), tmp_path / "dup.parquet")
    with pytest.raises(InputError, match="duplicate column name"):
        read_table(tmp_path / "dup.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really PAR1")
    with pytest.raises(InputError, match="cannot read .*bad.parquet as Parquet"):
        read_table(tmp_path / "bad.parquet")


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    write_table(tmp_path / "t.parquet", _typed_frame())
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(InputError, match=r"needs pyarrow: pip install 'advsynth\[parquet\]'"):
        read_table(tmp_path / "t.parquet")
    with pytest.raises(OutputError, match=r"advsynth\[parquet\]"):
        write_table(tmp_path / "u.parquet", _typed_frame())
    assert not (tmp_path / "u.parquet").exists()


def test_unreadable_input_is_one_line(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="input is a directory"):
        read_table(tmp_path)
    path = tmp_path / "locked.csv"
    path.write_text("a\n1\n")

    def denied(self):  # chmod 000 does not stop root, so the kernel's answer is simulated
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_bytes", denied)
    with pytest.raises(InputError, match=r"cannot read .*locked.csv: Permission denied \(EACCES\)"):
        read_table(path)


@mock_aws
def test_s3_access_denied_is_one_line(monkeypatch):
    from botocore.exceptions import ClientError

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="t.csv", Body=b"a,b\n1,x\n")
    import advsynth.io as aio

    real_client = aio._s3_client

    def denying_client():
        client = real_client()

        def get_object(**kwargs):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

        client.get_object = get_object
        return client

    monkeypatch.setattr(aio, "_s3_client", denying_client)
    with pytest.raises(InputError, match="cannot read s3://data/t.csv: AccessDenied"):
        read_table("s3://data/t.csv")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_failed_write_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, code):
    target = tmp_path / "out" / "t.csv"
    target.parent.mkdir()

    def fail(*args):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OutputError) as err:
        write_csv_atomic(target, pd.DataFrame({"a": [1]}))
    assert f"({errno.errorcode[code]})" in str(err.value) and str(target) in str(err.value)
    assert list(target.parent.iterdir()) == []


def test_write_under_a_regular_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot write .*file/sub/t.csv"):
        write_csv_atomic(tmp_path / "file" / "sub" / "t.csv", pd.DataFrame({"a": [1]}))
    assert (tmp_path / "file").read_text() == "x"


@mock_aws
def test_s3_parquet_and_csv_out_and_back():
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="out")
    df = _typed_frame()
    write_table("s3://out/t.parquet", df)
    pd.testing.assert_frame_equal(read_table("s3://out/t.parquet"), df, check_dtype=False)
    write_table("s3://out/t.csv", df[["NA"]])
    assert read_table("s3://out/t.csv", na_values=[])["NA"].tolist() == ["NA", "b", "NA"]
    with pytest.raises(OutputError, match="cannot write s3://nobucket/t.csv: NoSuchBucket"):
        write_table("s3://nobucket/t.csv", df)


# --------------------------------------------------------------------------- writing in the input's dialect

def _run_cli(*args):
    from advsynth.cli import main

    assert main([str(a) for a in args]) == 0


def test_synthetic_csv_keeps_fixed_decimals_and_full_precision(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    n = 200
    pd.DataFrame({
        "price": [f"{v:.2f}" for v in rng.uniform(1, 50, n)],       # always two decimals: "1.50"
        "full": rng.normal(size=n),                                  # pandas' shortest repr, full precision
        "loose": rng.choice(["1.5", "2.25", "3"], n),                # mixed counts: written as numbers are
        "group": rng.choice(["a", "b"], n),
    }).to_csv(tmp_path / "real.csv", index=False)
    _run_cli("run", "--data", tmp_path / "real.csv", "--out", tmp_path / "run", "--generator", "baseline")
    text = pd.read_csv(tmp_path / "run" / "synthetic.csv", dtype=str)
    assert text["price"].str.fullmatch(r"\d+\.\d\d").all()          # "2.50", never "2.5"
    assert (text["price"].str.endswith("0")).any()
    assert text["loose"].isin(["1.5", "2.25", "3.0"]).all()
    full = text["full"].str.replace("-", "").str.replace(".", "").str.lstrip("0").str.len()
    assert full.median() >= 15                                        # never rounded
    typed = read_table(tmp_path / "run" / "synthetic.csv")
    assert typed["price"].dtype == float and typed["full"].dtype == float


def test_decimal_comma_input_is_written_back_in_its_dialect_and_evaluates_alike(tmp_path):
    import json

    import numpy as np

    rng = np.random.default_rng(1)
    rows = ["price;qty;score;group"] + [
        f"{rng.uniform(1, 99):.2f};{rng.integers(1, 9)};{rng.normal()!r};{rng.choice(['a', 'b'])}".replace(".", ",")
        for _ in range(300)]
    (tmp_path / "real.csv").write_text("\n".join(rows) + "\n")
    _run_cli("run", "--data", tmp_path / "real.csv", "--out", tmp_path / "run", "--generator", "baseline")
    lines = (tmp_path / "run" / "synthetic.csv").read_text().splitlines()
    assert lines[0] == "price;qty;score;group"
    fields = [line.split(";") for line in lines[1:]]
    assert all(len(f) == 4 and "." not in line for f, line in zip(fields, lines[1:]))
    assert all(pd.Series([f[0] for f in fields]).str.fullmatch(r"\d+,\d\d"))
    typed = read_table(tmp_path / "run" / "synthetic.csv")          # re-reading sniffs ';' and ','
    assert typed["price"].dtype == float and typed["score"].dtype == float and typed["qty"].dtype == "int64"
    # advsynth evaluate on that file reads every number (no wrong types) and reaches the run's AUC
    _run_cli("evaluate", "--real", tmp_path / "real.csv", "--synthetic", tmp_path / "run" / "synthetic.csv",
             "--out", tmp_path / "eval")
    ran = json.loads((tmp_path / "run" / "metrics.json").read_text())
    judged = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert judged["input"]["wrong_types"] == {}
    assert judged["detector"]["roc_auc"] == pytest.approx(ran["detector"]["roc_auc"], abs=1e-12)
    assert judged["fidelity"]["summary"]["mean_ks"] == pytest.approx(ran["fidelity"]["summary"]["mean_ks"], abs=1e-12)


def test_parquet_output_of_a_decimal_comma_csv_stays_typed(tmp_path):
    pytest.importorskip("pyarrow")
    rows = ["price;group"] + [f"{1 + i % 17},{i % 100:02d};{'ab'[i % 2]}" for i in range(120)]
    (tmp_path / "real.csv").write_text("\n".join(rows) + "\n")
    _run_cli("run", "--data", tmp_path / "real.csv", "--out", tmp_path / "run", "--generator", "baseline",
             "--format", "parquet")
    out = pd.read_parquet(tmp_path / "run" / "synthetic.parquet")
    assert out["price"].dtype == float and out["price"].notna().all()


def test_header_is_read_from_a_prefix_grown_until_the_record_ends():
    """The header record is parsed from a prefix of the text; a quoted name running past the
    prefix (even across lines) grows it, so the record is the one the whole text gives."""
    from advsynth.io import _raw_header

    text = 'id,"a long\nquoted name",x\n1,2,3\n4,5,6\n'
    for prefix in (1, 4, 8, 30, 1 << 16):
        assert _raw_header(text, ",", False, prefix=prefix) == ["id", "a long\nquoted name", "x"]
    assert _raw_header("a;b", ";", False, prefix=1) == ["a", "b"]   # no newline at all
    assert _raw_header("", ",", False) == []
