"""Reading and writing tables, locally or on S3, without ever leaving half-written files.

Reads decode the bytes strictly as UTF-8 first so that a bad byte is reported with its
position instead of surfacing as a pandas traceback. Writes go to a temporary file in the
destination folder and are renamed into place (an S3 PUT is atomic per object already).
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import logging
import os
import re
import shutil
import socket
import tempfile
import warnings
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from .errors import InputError, OutputError

log = logging.getLogger(__name__)


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
    """Fetch a file's bytes from a local path, ``s3://bucket/key`` or a bundled table
    (``advsynth:adult``); gzip-compressed files come back decompressed. Every failure is one line."""
    raw = _fetch_bytes(uri)
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise InputError(f"cannot read {uri}: a damaged gzip file ({err})") from None
    return raw


_GZIP_MAGIC = b"\x1f\x8b"


def _fetch_bytes(uri: str | os.PathLike) -> bytes:
    from .datasets import resolve

    uri = resolve(uri)
    if is_s3(uri):
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = _split_s3(str(uri))
        try:
            return _s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NoSuchBucket"):
                raise InputError(f"input not found: {uri}") from None
            raise InputError(f"cannot read {uri}: {code or err}") from None
        except BotoCoreError as err:  # no credentials, endpoint unreachable, ...
            raise InputError(f"cannot read {uri}: {err}") from None
    path = Path(uri)
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a directory, not a file: {path}")
    try:
        return path.read_bytes()
    except OSError as err:  # permission denied, I/O error, ...
        raise InputError(f"cannot read {path}: {describe_os_error(err)}") from None


def describe_os_error(err: OSError) -> str:
    """``Permission denied (EACCES)``: the system's words plus the errno name a search finds."""
    name = errno.errorcode.get(err.errno or 0)
    text = err.strerror or str(err)
    return f"{text} ({name})" if name else text


# Delimiters a table may use, in the order that wins a tie.
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_RECORDS = 50
_PARQUET_MAGIC = b"PAR1"


def is_parquet(uri: str | os.PathLike, raw: bytes | None = None) -> bool:
    """Parquet by extension (``.parquet``, ``.pq``) or by its magic bytes."""
    if str(uri).lower().endswith((".parquet", ".pq")):
        return True
    return raw is not None and raw[:4] == _PARQUET_MAGIC and raw[-4:] == _PARQUET_MAGIC


def sniff_delimiter(text: str, *, skipinitialspace: bool = False) -> str:
    """The delimiter that splits the first records into the same number (> 1) of fields.

    Why not ``csv.Sniffer`` alone: it guesses from character frequencies and is fooled by
    decimal commas and by punctuation inside text. A table's delimiter is the one under
    which (nearly) every record has the same width; ties go to the more fields, then to the
    order of ``DELIMITERS``. A file no candidate splits is one column (comma).
    """
    sample = text[: 1 << 16]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole records only
    best, best_key = ",", None
    for rank, delimiter in enumerate(DELIMITERS):
        reader = csv.reader(io.StringIO(sample), delimiter=delimiter, skipinitialspace=skipinitialspace)
        try:
            widths = [len(record) for _, record in zip(range(_SNIFF_RECORDS), reader) if record]
        except csv.Error:
            continue
        if not widths:
            continue
        width = max(set(widths), key=lambda w: (widths.count(w), w))
        if width < 2:
            continue
        key = (widths.count(width) / len(widths), width, -rank)
        if best_key is None or key > best_key:
            best, best_key = delimiter, key
    return best


_COMMA_NUMBER = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")


def _uses_decimal_commas(df: pd.DataFrame) -> bool:
    """True when some column's every value is a number written with a decimal comma (``1,5``)."""
    for name in df.columns:
        text = df[name].dropna().str.strip()
        if text.empty:
            continue
        comma = text.str.match(_COMMA_NUMBER)
        if comma.any() and (comma | text.str.match(_WHOLE_NUMBER)).all():
            return True
    return False


def _raw_header(text: str, sep: str, skipinitialspace: bool, prefix: int = 1 << 16) -> list[str]:
    """The first record exactly as written (pandas would rename duplicates to ``age.1``).

    Read from a prefix of the text, grown while the record may run past it (a quoted header
    spanning lines): a ``StringIO`` of the whole text copied the file once more (1.2 s of a
    1,000,000-row read)."""
    while True:
        chunk = text[:prefix]
        buffer = io.StringIO(chunk)
        reader = csv.reader(buffer, delimiter=sep, skipinitialspace=skipinitialspace)
        try:
            record = next(reader, [])
        except csv.Error as err:
            if len(chunk) < len(text):
                prefix *= 4
                continue
            raise InputError(f"cannot parse the header row: {err}") from None
        if len(chunk) == len(text) or buffer.tell() < len(chunk):  # the record ended inside the prefix
            return record
        prefix *= 4


def check_column_names(names: list, where: str) -> None:
    """Refuse empty or duplicate column names: each column must be addressable by its name."""
    empty = [i + 1 for i, n in enumerate(names) if n is None or not str(n).strip()]
    if empty:
        raise InputError(f"{where} has empty column name(s) at position(s) {', '.join(map(str, empty))}; "
                         "name every column")
    seen, duplicates = set(), []
    for name in map(str, names):
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise InputError(f"{where} has duplicate column name(s): {', '.join(map(repr, duplicates))}; "
                         "every column needs its own name")


def read_table(
    uri: str | os.PathLike,
    *,
    header: bool = True,
    names: list[str] | None = None,
    na_values: list[str] | None = None,
    skipinitialspace: bool = False,
    sep: str | None = None,
    decimal: str | None = None,
    parse: bool = True,
) -> pd.DataFrame:
    """Read a CSV or Parquet table; every failure is an InputError naming the file and the problem.

    CSV cells are read as text and typed by ``advsynth.columns.parse_text_frame`` (so that
    ``00501`` stays a code and ``NA`` can stay a category); Parquet arrives typed.

    sep : the delimiter; None sniffs it (comma, semicolon, tab or pipe).
    decimal : the decimal mark of numbers; None infers ``,`` for a non-comma file whose
        numbers are written ``1,5``.
    na_values : the text markers of a missing value. None: pandas' defaults (``NA``,
        ``null``, ``nan``, ...); a list replaces them (``[]``: only empty cells are missing).
    names : column names (for a file without a header, or to rename); their number must
        match the file's fields.
    parse : type the CSV's text cells (``columns.parse_text_frame``). False keeps them as
        text, for a table that an existing schema types (a synthetic table judged against
        a real one: its wrong-typed cells must be counted, not read as missing markers).
    """
    raw = read_bytes(uri)
    if not raw.strip():
        raise InputError(f"input is empty: {uri}")
    if is_parquet(uri, raw):
        return _read_parquet(raw, uri, names)
    return _read_csv(raw, uri, header=header, names=names, na_values=na_values,
                     skipinitialspace=skipinitialspace, sep=sep, decimal=decimal, parse=parse)


def _read_csv(raw: bytes, uri, *, header, names, na_values, skipinitialspace, sep, decimal,
              parse=True) -> pd.DataFrame:
    from . import columns

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"input is not UTF-8: {uri} has byte 0x{raw[err.start]:02x} at offset {err.start}"
        ) from None
    sniffed = sep is None
    if sniffed:
        sep = sniff_delimiter(text, skipinitialspace=skipinitialspace)
    first = _raw_header(text, sep, skipinitialspace)
    if names is not None:
        check_column_names(names, "the config's columns")
    elif header:
        check_column_names(first, str(uri))
    if names is not None and len(names) != len(first):
        raise InputError(f"{uri} has {len(first)} fields per row but the config names {len(names)} columns")
    column_names = [str(n) for n in (names if names is not None else first)] if header or names else None
    try:
        with warnings.catch_warnings():
            # rows wider than the header: pandas would drop the extra fields with a warning
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.StringIO(text),
                header=0 if header else None,
                names=column_names,
                index_col=False,
                # every cell as written (Python str in object columns, NaN when missing: the same frame
                # under pandas 2 and 3); parse_text_frame decides what is a number, a date or a code
                dtype=object,
                na_values=None if na_values is None else ["", *map(str, na_values)],
                keep_default_na=na_values is None,  # an empty cell is missing either way
                skipinitialspace=skipinitialspace,
                sep=sep,
            )
    except pd.errors.ParserError as err:
        raise InputError(f"cannot parse {uri} as CSV: {str(err).strip().splitlines()[-1]}") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"input is empty: {uri}") from None
    except pd.errors.ParserWarning:
        raise InputError(f"cannot parse {uri} as CSV: some rows have more than the {len(first)} fields of "
                         f"the first row (delimiter {sep!r}; set --sep / data.sep if that is wrong)") from None
    df.columns = [str(c) for c in df.columns]
    if decimal is None:
        decimal = "," if sep != "," and _uses_decimal_commas(df) else "."
    log.info("read %s: %d rows x %d columns, delimiter %r (%s), decimal %r", uri, len(df), len(df.columns),
             sep, "sniffed" if sniffed else "given", decimal)
    out = columns.parse_text_frame(df, decimal=decimal) if parse else df
    out.attrs[columns.CSV_DIALECT] = {"sep": sep, "decimal": decimal}  # a synthetic CSV is written alike
    return out


def _read_parquet(raw: bytes, uri, names: list[str] | None) -> pd.DataFrame:
    """A Parquet file keeps its types: no text parsing, only the column-name checks."""
    try:
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise InputError(f"reading Parquet ({uri}) needs pyarrow: pip install 'advsynth[parquet]'") from None
    import pyarrow as pa

    try:
        parquet = pq.ParquetFile(pa.BufferReader(raw))
        check_column_names(parquet.schema_arrow.names, str(uri))
        table = parquet.read()
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"cannot read {uri} as Parquet: {str(err).strip().splitlines()[0]}") from None
    if names is not None:
        if len(names) != table.num_columns:
            raise InputError(f"{uri} has {table.num_columns} columns but the config names {len(names)}")
        table = table.rename_columns([str(n) for n in names])
    df = table.to_pandas()
    df.columns = [str(c) for c in df.columns]
    log.info("read %s: %d rows x %d columns (Parquet)", uri, len(df), len(df.columns))
    return df


# --------------------------------------------------------------------------- staging
# An output is written under a hidden staging name beside it and renamed into place. The name
# says which process on which host stages it, ``.{name}.staging-{host}-{pid}-{random}``, so a
# later write of the same output can tell a dead writer's leftovers (a run killed with
# SIGKILL cannot clean up after itself) from a live writer's file, and remove only the former.
_STAGING = ".staging-"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40] or "host"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return True
    return True


def clean_stale_staging(target: Path) -> None:
    """Remove what dead writers on this host left staged for ``target`` (files or folders)."""
    prefix = f".{target.name}{_STAGING}{_host()}-"
    try:
        entries = [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        log.info("removing %s, left by a run that died while writing", entry)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def staging_prefix(target: Path) -> str:
    """The hidden staging name's prefix for ``target``, after clearing dead writers' leftovers."""
    clean_stale_staging(target)
    return f".{target.name}{_STAGING}{_host()}-{os.getpid()}-"


def staging_file(target: Path, suffix: str = "") -> Path:
    """A new empty hidden file beside ``target`` (mode 0644: outputs are read by other users)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=staging_prefix(target), suffix=suffix, dir=target.parent)
    os.close(fd)
    os.chmod(name, 0o644)
    return Path(name)


def staging_dir(target: Path) -> Path:
    """A new hidden folder beside ``target``."""
    return Path(tempfile.mkdtemp(prefix=staging_prefix(target), dir=target.parent))


def write_bytes_atomic(uri: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` so a reader sees the old file or the complete new one, never a torn one.

    A failure (disk full, read-only file system, no permission, a file where a folder
    should be) is an OutputError naming the path, and leaves no temporary file behind.
    """
    if is_s3(uri):
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = _split_s3(str(uri))
        try:
            _s3_client().put_object(Bucket=bucket, Key=key, Body=data)
        except ClientError as err:
            raise OutputError(f"cannot write {uri}: {err.response.get('Error', {}).get('Code') or err}") from None
        except BotoCoreError as err:
            raise OutputError(f"cannot write {uri}: {err}") from None
        return
    path = Path(uri)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = staging_file(path)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {describe_os_error(err)}") from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(uri: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(uri, text.encode("utf-8"))


def csv_text(df: pd.DataFrame, *, header: bool = True) -> str:
    """``df`` as CSV text, with the delimiter ``Schema.text_frame`` recorded in its attrs (the
    real file's: a ``;`` file with decimal commas gets a ``;`` synthetic file), else a comma."""
    from .columns import CSV_SEP

    sep = df.attrs.get(CSV_SEP) or ","
    return df.to_csv(index=False, header=header, lineterminator="\n", sep=sep)


def write_csv_atomic(uri: str | os.PathLike, df: pd.DataFrame, *, header: bool = True) -> None:
    write_text_atomic(uri, csv_text(df, header=header))


TABLE_FORMATS = ("csv", "parquet")


def table_format(uri: str | os.PathLike, format: str | None = None) -> str:
    """``format`` if given, else Parquet for ``.parquet``/``.pq`` and CSV for anything else."""
    if format is None:
        return "parquet" if is_parquet(uri) else "csv"
    if format not in TABLE_FORMATS:
        raise InputError(f"unknown table format {format!r}; use one of {', '.join(TABLE_FORMATS)}")
    return format


def write_table(uri: str | os.PathLike, df: pd.DataFrame, format: str | None = None) -> None:
    """Write a table as CSV or Parquet, atomically (see ``write_bytes_atomic``)."""
    if table_format(uri, format) == "csv":
        write_csv_atomic(uri, df)
        return
    try:
        import pyarrow  # noqa: F401
    except ModuleNotFoundError:
        raise OutputError(f"writing Parquet ({uri}) needs pyarrow: pip install 'advsynth[parquet]'") from None
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False, engine="pyarrow")
    write_bytes_atomic(uri, buffer.getvalue())


def check_output_folder(out: str | os.PathLike, inputs: list[str] = ()) -> Path:
    """Refuse, before any work, an output folder that exists, would hold an input, or cannot be made.

    Nothing is created here: a run that fails later leaves nothing behind either. As
    root ``os.access`` still reports a read-only file system (EROFS).
    """
    out = Path(out)
    resolved = out.resolve()  # 'new/../old' is 'old'
    for source in inputs:
        if source and not is_s3(source) and Path(source).resolve().is_relative_to(resolved):
            raise OutputError(f"output folder {out} would contain the input {source}")
    if out.exists() or out.is_symlink() or resolved.exists():
        raise OutputError(f"output folder already exists: {out} (choose a new one; runs are never overwritten)")
    ancestor = resolved.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"cannot create output folder {out}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot create output folder {out}: {ancestor} is not writable")
    return out
