"""Reading and writing tables, locally or on S3, without ever leaving half-written files.

Reads decode the bytes strictly as UTF-8 first so that a bad byte is reported with its
position instead of surfacing as a pandas traceback. Writes go to a temporary file in the
destination folder and are renamed into place (an S3 PUT is atomic per object already).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from .errors import InputError


def is_s3(uri: str | os.PathLike) -> bool:
    return str(uri).startswith("s3://")


def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def _s3_client():
    import boto3

    # Local-mode containers reach a mock S3 through this variable (SageMaker SDK v3 convention).
    endpoint = os.environ.get("S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
    return boto3.client("s3", endpoint_url=endpoint) if endpoint else boto3.client("s3")


def read_bytes(uri: str | os.PathLike) -> bytes:
    """Fetch a file's bytes from a local path or ``s3://bucket/key``; a clear error if absent."""
    if is_s3(uri):
        from botocore.exceptions import ClientError

        bucket, key = _split_s3(str(uri))
        try:
            return _s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NoSuchBucket"):
                raise InputError(f"input not found: {uri}") from None
            raise InputError(f"cannot read {uri}: {code or err}") from None
    path = Path(uri)
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a directory, not a file: {path}")
    return path.read_bytes()


def read_table(
    uri: str | os.PathLike,
    *,
    header: bool = True,
    names: list[str] | None = None,
    na_values: list[str] | None = None,
    skipinitialspace: bool = False,
    sep: str = ",",
) -> pd.DataFrame:
    """Read a CSV table; every failure is an InputError naming the file and the problem."""
    raw = read_bytes(uri)
    if not raw.strip():
        raise InputError(f"input is empty: {uri}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"input is not UTF-8: {uri} has byte 0x{raw[err.start]:02x} at offset {err.start}"
        ) from None
    try:
        df = pd.read_csv(
            io.StringIO(text),
            header=0 if header else None,
            names=names,
            na_values=na_values,
            skipinitialspace=skipinitialspace,
            sep=sep,
            keep_default_na=True,
            dtype=object,  # cells as written; columns.parse_text_frame types them
        )
    except pd.errors.ParserError as err:
        raise InputError(f"cannot parse {uri} as CSV: {str(err).strip().splitlines()[-1]}") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"input is empty: {uri}") from None
    if names is not None and len(names) != len(df.columns):
        raise InputError(f"{uri} has {len(df.columns)} columns but the config names {len(names)}")
    if df.columns.duplicated().any():
        raise InputError(f"{uri} has duplicate column names: {sorted(set(df.columns[df.columns.duplicated()]))}")
    df.columns = [str(c) for c in df.columns]
    from .columns import parse_text_frame

    return parse_text_frame(df)


_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"


def parse_iso_dates(df: pd.DataFrame) -> pd.DataFrame:
    """Turn text columns whose every value is an ISO 8601 date or date-time into ``datetime64``.

    Why only ISO 8601 without a zone: it is unambiguous (``01/02/2020`` is not), and a
    column of dates must stay a column of dates through generation, not become a
    categorical with one level per day.
    """
    for name in df.columns:
        col = df[name]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        text = col.dropna()
        # the first value decides cheaply for almost every column; then all must match
        if text.empty or not re.match(_ISO_DATE, str(text.iloc[0])) or not text.astype(str).str.match(_ISO_DATE).all():
            continue
        parsed = pd.to_datetime(col, format="ISO8601", errors="coerce")
        if parsed.notna().sum() == len(text):
            df[name] = parsed
    return df


def write_bytes_atomic(uri: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` so a reader sees the old file or the complete new one, never a torn one."""
    if is_s3(uri):
        bucket, key = _split_s3(str(uri))
        _s3_client().put_object(Bucket=bucket, Key=key, Body=data)
        return
    path = Path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are read by other users (e.g. containers' uid 1000)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(uri: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(uri, text.encode("utf-8"))


def write_csv_atomic(uri: str | os.PathLike, df: pd.DataFrame, *, header: bool = True) -> None:
    write_text_atomic(uri, df.to_csv(index=False, header=header, lineterminator="\n"))
