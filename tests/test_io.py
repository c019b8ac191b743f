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
