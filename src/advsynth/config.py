"""Experiment configuration: which table, how to read it, which generator, which detector settings.

A config is a small YAML file (see ``config/adult.yaml``) parsed into typed dataclasses.
Every key is checked, and so is every value's type and range: a typo, ``header: 'no'``,
``seed: 1.7`` or ``rounds: "ten"`` fails with one line naming the key and what it expects,
instead of silently falling back to a default or being read as something else. Paths in a
config are relative to the config file, so a config works from any directory; ``advsynth:NAME`` names a table bundled with the package
(``advsynth.datasets``), so ``config/adult.yaml`` works from any clone or install.

Values are checked in ``__post_init__``, so a ``RunConfig`` built in Python (the benchmark,
tests) is held to the same rules as one read from YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from .datasets import is_bundled
from .errors import ConfigError
from .io import is_s3, read_table
from .protocol import DetectorConfig

# share of real rows withheld from the generator (privacy and utility compare against them)
DEFAULT_HOLDOUT = 0.2

# A run name becomes a folder name under runs/: one path component, no '..', no separators.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_MAX_SEED = 2**32 - 1  # numpy's SeedSequence/RandomState accept 0 .. 2**32 - 1


def _kind(value) -> str:
    """The YAML word for a value's type, for error messages."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a whole number", float: "a number", str: "text", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)


def _fail(key: str, expected: str, value) -> ConfigError:
    return ConfigError(f"{key} must be {expected}, got {value!r} ({_kind(value)})")


def check_bool(key: str, value) -> bool:
    """Only a real boolean: YAML's ``'no'`` in quotes is text, and text is not read as true."""
    if not isinstance(value, bool):
        raise _fail(key, "true or false", value)
    return value


def check_int(key: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(key, "a whole number", value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise _fail(key, f"a whole number {bounds}", value)
    return value


def check_share(key: str, value, low: float, high: float) -> float:
    """A number strictly between ``low`` and ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
        raise _fail(key, f"a number between {low:g} and {high:g} (exclusive)", value)
    return float(value)


def check_str(key: str, value, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(key, "non-empty text", value)
    return value


def check_name(key: str, value) -> str:
    """A name that becomes a folder: one path component (``../..`` cannot leave ``runs/``)."""
    check_str(key, value)
    if not _SAFE_NAME.match(value) or ".." in value:
        raise _fail(key, "a plain name (letters, digits, '.', '_', '-'; no path separators or '..')", value)
    return value


def check_generator(key: str, value) -> str:
    """A generator: a plain name (``gmm``) or a plug-in's import path (``pkg.mod:Class``, ``sdv:Model``)."""
    check_str(key, value)
    if ":" in value:
        from .synthesizers.plugins import check_import_path

        return check_import_path(key, value)
    return check_name(key, value)


def safe_name(text: str) -> str:
    """A run name made from a file name (``my data.v2`` → ``my_data.v2``); never a path."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:100].replace("..", "_")
    return name or "run"


def check_str_list(key: str, value, *, optional: bool = True, allow_numbers: bool = False) -> list[str] | None:
    if value is None and optional:
        return None
    scalars = (str, int, float) if allow_numbers else (str,)
    if not isinstance(value, list) or not all(isinstance(v, scalars) and not isinstance(v, bool) for v in value):
        raise _fail(key, "a list of " + ("text or numbers" if allow_numbers else "text"), value)
    return [str(v) for v in value]


def check_keys(section, allowed: set[str], where: str) -> None:
    """Refuse a section that is not a mapping or holds a key outside ``allowed`` (typos fail loudly)."""
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a mapping of keys to values, got {section!r} ({_kind(section)})")
    unknown = sorted(map(str, set(section) - allowed))
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


@dataclass
class DataConfig:
    """Where the real table is and how to read it (see ``advsynth.io.read_table``).

    sep : None sniffs the delimiter; decimal : None infers it; na_values : None keeps
    pandas' missing markers, a list replaces them (``[]``: only empty cells are missing).
    """

    path: str
    header: bool = True
    columns: list[str] | None = None
    na_values: list[str] | None = None
    skipinitialspace: bool = False
    sep: str | None = None
    decimal: str | None = None
    types: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.path = check_str("data.path", self.path)
        check_bool("data.header", self.header)
        check_bool("data.skipinitialspace", self.skipinitialspace)
        self.columns = check_str_list("data.columns", self.columns)
        if self.columns is not None:
            from .errors import InputError
            from .io import check_column_names

            try:
                check_column_names(self.columns, "data.columns")
            except InputError as err:  # the same words, as a config problem
                raise ConfigError(str(err)) from None
        self.na_values = check_str_list("data.na_values", self.na_values, allow_numbers=True)
        if self.sep is not None and (not isinstance(self.sep, str) or len(self.sep) != 1 or self.sep in "\"'\n\r"):
            raise _fail("data.sep", "one delimiter character such as ',', ';', '|' or a tab", self.sep)
        if self.decimal is not None and self.decimal not in (".", ","):
            raise _fail("data.decimal", "'.' or ','", self.decimal)
        if self.decimal is not None and self.decimal == self.sep:
            raise ConfigError(f"data.decimal and data.sep are both {self.sep!r}; they must differ")
        self.types = self.types or {}
        if not isinstance(self.types, dict):
            raise _fail("data.types", "a mapping of column name to type", self.types)
        from .schema import KINDS

        for column, kind in self.types.items():
            if kind not in KINDS:
                raise _fail(f"data.types.{column}", f"one of {', '.join(KINDS)}", kind)


@dataclass
class RunConfig:
    data: DataConfig
    name: str = "run"
    seed: int = 0
    target: str | None = None
    generator: str = "gmm"
    generators: dict[str, dict] = field(default_factory=dict)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    rows: int | None = None  # synthetic rows; None = as many as the real table
    # share of real rows withheld from the generator: the unseen rows that privacy (DCR) and
    # utility (TSTR) compare against; without it those figures would flatter a memorising model
    holdout: float = DEFAULT_HOLDOUT
    extras: bool = True  # fidelity, privacy and utility metrics beside the detector's
    # synthetic.csv or synthetic.parquet; None: Parquet when the input is Parquet, else CSV
    output_format: str | None = None
    # the GMM's settings chosen by a detector on the generator's training rows (synthesizers/adversarial.py)
    adversarial: bool = False

    def __post_init__(self):
        if not isinstance(self.data, DataConfig):
            raise _fail("data", "a data section", self.data)
        check_name("name", self.name)
        check_int("seed", self.seed, 0, _MAX_SEED)
        check_str("target", self.target, optional=True)
        check_generator("generator", self.generator)
        self.generators = self.generators or {}
        check_keys(self.generators, set(self.generators), "generators")
        for gen, params in self.generators.items():
            if params is not None and not isinstance(params, dict):
                raise _fail(f"generators.{gen}", "a mapping of parameter names to values", params)
        if self.detector is None or isinstance(self.detector, dict):  # built in Python with a plain dict
            self.detector = DetectorConfig.from_dict(self.detector, "detector")
        elif not isinstance(self.detector, DetectorConfig):
            raise _fail("detector", "a mapping of detector settings", self.detector)
        if self.rows is not None:
            check_int("rows", self.rows, 1)
        self.holdout = check_share("holdout", self.holdout, 0, 0.5)
        check_bool("extras", self.extras)
        if self.output_format is not None and self.output_format not in ("csv", "parquet"):
            raise _fail("output_format", "'csv' or 'parquet'", self.output_format)
        if self.adversarial == "refine":  # an earlier mode: refinement is now part of the gmm itself
            raise ConfigError("adversarial must be true or false, got 'refine' (density-ratio refinement is now the "
                              "gmm's own 'refine' parameter, on by default)")
        check_bool("adversarial", self.adversarial)
        if self.data.columns is not None and self.target is not None and self.target not in self.data.columns:
            raise ConfigError(f"target '{self.target}' is not one of data.columns")

    def generator_params(self, name: str | None = None) -> dict:
        return dict(self.generators.get(name or self.generator) or {})


_DATA_KEYS = {f.name for f in fields(DataConfig)}
_TOP_KEYS = {f.name for f in fields(RunConfig)}


def read_yaml(path: Path, what: str, allowed: set[str]) -> dict:
    """The top-level mapping of a YAML file, checked against ``allowed``; every failure is one line."""
    if not path.exists():
        raise ConfigError(f"{what} not found: {path}")
    if path.is_dir():
        raise ConfigError(f"{what} is a directory, not a file: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{what} {path} is not valid YAML: {str(err).strip().splitlines()[0]}") from None
    except OSError as err:
        raise ConfigError(f"cannot read {what} {path}: {err.strerror or err}") from None
    check_keys(raw, allowed, f"{what} {path}")
    return raw


def load_config(path: str | Path) -> RunConfig:
    """Parse and validate a YAML config; any problem is a ConfigError naming the key."""
    path = Path(path)
    raw = read_yaml(path, "config", _TOP_KEYS)
    data = raw.get("data")
    if not isinstance(data, dict) or "path" not in data:
        raise ConfigError(f"config {path} needs a 'data' section with a 'path'")
    check_keys(data, _DATA_KEYS, "data")
    data_path = check_str("data.path", data["path"])
    if not is_s3(data_path) and not is_bundled(data_path) and not Path(data_path).is_absolute():
        data_path = str((path.parent / data_path).resolve())
    detector = raw.get("detector")
    if detector is not None and not isinstance(detector, dict):
        raise _fail("detector", "a mapping of detector settings", detector)
    generators = raw.get("generators")
    if generators is not None and not isinstance(generators, dict):
        raise _fail("generators", "a mapping of generator name to parameters", generators)
    return RunConfig(
        data=DataConfig(**{**data, "path": data_path}),
        name=raw.get("name", safe_name(path.stem)),
        seed=raw.get("seed", 0),
        target=raw.get("target"),
        generator=raw.get("generator", "gmm"),
        generators=generators or {},
        detector=DetectorConfig.from_dict(detector, "detector"),
        rows=raw.get("rows"),
        holdout=raw.get("holdout", DEFAULT_HOLDOUT),
        extras=raw.get("extras", True),
        output_format=raw.get("output_format"),
        adversarial=raw.get("adversarial", False),
    )


def config_for_csv(path: str) -> RunConfig:
    """The config ``advsynth run --data FILE`` uses: a table with a header, every type inferred."""
    return RunConfig(data=DataConfig(path=str(path)), name=safe_name(Path(str(path)).stem))


def load_real(cfg: RunConfig):
    """The real table as the config reads it (path, header, names, missing-value tokens, delimiter)."""
    d = cfg.data
    return read_table(
        d.path, header=d.header, names=d.columns, na_values=d.na_values,
        skipinitialspace=d.skipinitialspace, sep=d.sep, decimal=d.decimal,
    )
