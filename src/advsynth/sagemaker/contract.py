"""The SageMaker container contract: where things are under ``/opt/ml`` and how a job fails.

Training jobs (``docker run IMAGE train``)::

    /opt/ml/input/config/hyperparameters.json   every value a string
    /opt/ml/input/config/resourceconfig.json    current_host and hosts (one per instance)
    /opt/ml/input/config/inputdataconfig.json   per channel: content type, S3DistributionType
    /opt/ml/input/data/<channel>/               one folder per input channel
    /opt/ml/model/                              tarred into model.tar.gz after the job
    /opt/ml/output/data/                        tarred into output.tar.gz
    /opt/ml/output/failure                      the reason, shown as FailureReason

Processing jobs (ContainerEntrypoint + ContainerArguments)::

    /opt/ml/processing/<input or output>/       the LocalPath of each input/output
    /opt/ml/config/resourceconfig.json          current_host and hosts (one per instance)
    /opt/ml/output/message                      first 1 KB shown as ExitMessage

(Processing has no "failure" file: AWS documents ``/opt/ml/output/message`` as the
place a processing container explains why it failed.)

Tests move the whole tree with ``ADVSYNTH_SM_ROOT`` (default ``/opt/ml``) and the
processing tree with ``ADVSYNTH_PROCESSING_ROOT`` (default ``<root>/processing``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from ..errors import AdvsynthError, ConfigError, InputError

log = logging.getLogger(__name__)

SM_ROOT_ENV = "ADVSYNTH_SM_ROOT"
PROCESSING_ROOT_ENV = "ADVSYNTH_PROCESSING_ROOT"
DEFAULT_SM_ROOT = "/opt/ml"
# SageMaker shows at most 1 KB of a failure reason / exit message.
MAX_REASON_BYTES = 1024

TRAINING = "training"
PROCESSING = "processing"


# ---------------------------------------------------------------- paths
def sm_root() -> Path:
    return Path(os.environ.get(SM_ROOT_ENV) or DEFAULT_SM_ROOT)


def processing_root() -> Path:
    return Path(os.environ.get(PROCESSING_ROOT_ENV) or (sm_root() / "processing"))


def hyperparameters_path() -> Path:
    return sm_root() / "input" / "config" / "hyperparameters.json"


def resource_config_path(kind: str = TRAINING) -> Path:
    """``resourceconfig.json`` (``current_host``, ``hosts``): the job's instances. Training jobs
    find it under ``input/config``, processing jobs under ``config``."""
    return sm_root() / ("config" if kind == PROCESSING else "input/config") / "resourceconfig.json"


def input_data_config_path() -> Path:
    """``inputdataconfig.json`` of a training job: per channel its content type and, on AWS,
    ``S3DistributionType`` (local mode writes no distribution type)."""
    return sm_root() / "input" / "config" / "inputdataconfig.json"


def channel_dir(channel: str) -> Path:
    return sm_root() / "input" / "data" / channel


def model_dir() -> Path:
    return sm_root() / "model"


def output_dir() -> Path:
    return sm_root() / "output"


def failure_path(kind: str = TRAINING) -> Path:
    """``output/failure`` for training jobs, ``output/message`` for processing jobs."""
    return output_dir() / ("message" if kind == PROCESSING else "failure")


def processing_path(*parts: str) -> Path:
    return processing_root().joinpath(*parts)


# ---------------------------------------------------------------- input files
def data_files(folder: Path, what: str) -> list[Path]:
    """Regular, non-hidden files under ``folder`` (an input channel or processing input), sorted.

    Raises InputError when the folder is missing or holds no file, naming ``what``.
    """
    if not folder.is_dir():
        raise InputError(f"{what} not found: {folder} does not exist")
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise InputError(f"{what} is empty: no file in {folder}")
    return files


def single_data_file(folder: Path, what: str) -> Path:
    """The one data file of ``folder``; InputError when there is none or several."""
    files = data_files(folder, what)
    if len(files) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in files[:5])
        more = f" and {len(files) - 5} more" if len(files) > 5 else ""
        raise InputError(f"{what} must hold exactly one CSV file, found {len(files)}: {names}{more}")
    return files[0]


# ---------------------------------------------------------------- hyperparameters
@dataclass(frozen=True)
class Hyperparameter:
    """A declared hyperparameter: ``kind`` is int, float, bool or str; ``default`` None = omitted."""

    kind: type
    default: Any = None
    required: bool = False
    allow_none: bool = False   # "none"/"null"/"" -> None (e.g. fit_rows: no subsampling)


_KIND_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
BOOL_WORDS = {"true": True, "false": False}  # a boolean hyperparameter's only spellings (the pipeline writes them)
_NONE_WORDS = {"", "none", "null"}
# Keys SageMaker or the SDK may add on their own; never a user's typo.
_IGNORED_PREFIXES = ("sagemaker_", "_tuning", "_")


def _unquote(value: Any) -> Any:
    """Undo the SDK's JSON encoding of string values (``"\\"bic\\""``), if present."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, str):
            return decoded
    return value


def parse_hyperparameter(name: str, raw: Any, spec: Hyperparameter) -> Any:
    value = _unquote(raw)
    if spec.allow_none and (value is None or str(value).strip().lower() in _NONE_WORDS):
        return None
    try:
        if spec.kind is bool:
            # the words JSON and the pipeline's "true"/"false" parameters write; never 1/0 or "yes"
            if isinstance(value, bool):
                return value
            return BOOL_WORDS[str(value).strip().lower()]
        if spec.kind is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            text = str(value).strip()
            try:
                return int(text)
            except ValueError:
                as_float = float(text)          # "40.0" is a fine integer
                if not as_float.is_integer():
                    raise
                return int(as_float)
        if spec.kind is float:
            if isinstance(value, bool):
                raise ValueError
            number = float(str(value).strip())
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
            return number
        if isinstance(value, (dict, list)):
            raise ValueError
        return str(value).strip()
    except (TypeError, ValueError, KeyError):
        raise ConfigError(
            f"hyperparameter '{name}' must be {_KIND_WORDS.get(spec.kind, spec.kind.__name__)}, got {raw!r}"
        ) from None


def read_hyperparameters(spec: Dict[str, Hyperparameter], path: Optional[Path] = None,
                         strict: bool = True) -> Dict[str, Any]:
    """Parse ``hyperparameters.json`` (string values) into the declared types.

    Returns every declared name that was given or has a default. A missing file means
    no hyperparameters. Raises ConfigError naming the hyperparameter for a value of
    the wrong type, a missing required one, or (``strict``) an undeclared one.
    """
    path = path or hyperparameters_path()
    raw: Dict[str, Any] = {}
    if path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        if text:
            try:
                raw = json.loads(text)
            except ValueError as err:
                raise ConfigError(f"{path} is not valid JSON: {err}") from None
            if not isinstance(raw, dict):
                raise ConfigError(f"{path} must hold a JSON object, got {type(raw).__name__}")
    unknown = sorted(k for k in raw if k not in spec and not k.startswith(_IGNORED_PREFIXES))
    if unknown and strict:
        raise ConfigError(
            f"unknown hyperparameter(s) {', '.join(repr(k) for k in unknown)}; "
            f"accepted: {', '.join(sorted(spec))}"
        )
    values: Dict[str, Any] = {}
    for name, item in spec.items():
        if name in raw:
            values[name] = parse_hyperparameter(name, raw[name], item)
        elif item.required:
            raise ConfigError(f"hyperparameter '{name}' is required")
        elif item.default is not None:
            values[name] = item.default
    return values


# ---------------------------------------------------------------- failure handling
def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    encoded = line.encode("utf-8")
    if len(encoded) > MAX_REASON_BYTES:
        line = encoded[: MAX_REASON_BYTES - 3].decode("utf-8", "ignore") + "..."
    return line


def write_failure(message: str, kind: str = TRAINING) -> Optional[Path]:
    """Write the one-line reason where SageMaker looks for it; never raises."""
    path = failure_path(kind)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(message + "\n", encoding="utf-8")
        return path
    except OSError as err:  # a read-only or missing /opt/ml/output must not hide the reason
        print(f"advsynth: could not write {path}: {err}", file=sys.stderr)
        return None


def run_entrypoint(fn: Callable[[], Any], kind: str = TRAINING) -> int:
    """Run ``fn`` under the container contract and return the process exit code.

    * success: 0;
    * AdvsynthError (a problem the user can fix, including missing input files): its
      one-line message on stderr and in the failure file, exit ``error.exit_code``
      (2), no traceback;
    * any other exception (a bug): the traceback on stderr, its last line in the
      failure file, exit 1.
    """
    try:
        fn()
        return 0
    except AdvsynthError as err:
        message = _one_line(str(err))
        print(f"advsynth: error: {message}", file=sys.stderr, flush=True)
        write_failure(message, kind)
        return int(getattr(err, "exit_code", 2) or 2)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as err:
        message = _one_line(f"input not found: {err.filename or err}")
        print(f"advsynth: error: {message}", file=sys.stderr, flush=True)
        write_failure(message, kind)
        return 2
    except KeyboardInterrupt:
        write_failure("interrupted", kind)
        return 130
    except Exception as err:  # noqa: BLE001 - the contract: log, record, exit 1
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        message = _one_line(f"internal error: {type(err).__name__}: {err}")
        write_failure(message, kind)
        return 1


def current_shard(resource_config: str | Path = "/opt/ml/config/resourceconfig.json") -> tuple[int, int]:
    """``(index, count)`` of this instance in a SageMaker job: its place in ``hosts`` of
    ``resourceconfig.json`` (processing and training jobs), else in ``SM_HOSTS`` by
    ``SM_CURRENT_HOST``; ``(0, 1)`` outside SageMaker."""
    path = Path(resource_config)
    if path.exists():
        info = json.loads(path.read_text(encoding="utf-8"))
        hosts, current = list(info["hosts"]), info["current_host"]
    elif os.environ.get("SM_HOSTS") and os.environ.get("SM_CURRENT_HOST"):
        hosts, current = json.loads(os.environ["SM_HOSTS"]), os.environ["SM_CURRENT_HOST"]
    else:
        return 0, 1
    if current not in hosts:
        raise ConfigError(f"current host {current!r} is not among the job's hosts {hosts}")
    return hosts.index(current), len(hosts)
