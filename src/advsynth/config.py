"""Experiment configuration: which table, how to read it, which generator, which detector settings.

A config is a small YAML file (see ``config/adult.yaml``); every key is checked so that a
typo fails with a message naming it instead of silently falling back to a default. Paths
in a config are relative to the config file, so a config works from any directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError
from .io import is_s3
from .protocol import DetectorConfig

_TOP_KEYS = {"name", "seed", "data", "target", "generator", "generators", "detector", "rows", "holdout", "extras"}
_DATA_KEYS = {"path", "header", "columns", "na_values", "skipinitialspace", "sep", "types"}
_DETECTOR_KEYS = set(DetectorConfig.__dataclass_fields__)  # the one detector protocol's settings


@dataclass
class DataConfig:
    path: str
    header: bool = True
    columns: list[str] | None = None
    na_values: list[str] | None = None
    skipinitialspace: bool = False
    sep: str = ","
    types: dict[str, str] = field(default_factory=dict)


@dataclass
class RunConfig:
    data: DataConfig
    name: str = "run"
    seed: int = 0
    target: str | None = None
    generator: str = "gmm"
    generators: dict[str, dict] = field(default_factory=dict)
    detector: dict = field(default_factory=dict)
    rows: int | None = None  # synthetic rows; None = as many as the real table
    # share of real rows withheld from the generator: the unseen rows that privacy (DCR) and
    # utility (TSTR) compare against; without it those figures would flatter a memorising model
    holdout: float = 0.2
    extras: bool = True  # fidelity, privacy and utility metrics beside the detector's

    def __post_init__(self):
        if not 0 < float(self.holdout) < 0.5:
            raise ConfigError(f"holdout must be a share between 0 and 0.5, got {self.holdout!r}")
        if not isinstance(self.extras, bool):
            raise ConfigError(f"extras must be true or false, got {self.extras!r}")

    def generator_params(self, name: str | None = None) -> dict:
        return dict(self.generators.get(name or self.generator) or {})


def check_keys(section, allowed: set[str], where: str) -> None:
    """Refuse a section that is not a mapping or holds a key outside ``allowed`` (typos fail loudly)."""
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a mapping of keys to values")
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def read_yaml(path: Path, what: str, allowed: set[str]) -> dict:
    """The top-level mapping of a YAML file, checked against ``allowed``; every failure is one line."""
    if not path.exists():
        raise ConfigError(f"{what} not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{what} {path} is not valid YAML: {str(err).strip().splitlines()[0]}") from None
    check_keys(raw, allowed, f"{what} {path}")
    return raw


def load_config(path: str | Path) -> RunConfig:
    path = Path(path)
    raw = read_yaml(path, "config", _TOP_KEYS)
    data = raw.get("data")
    if not isinstance(data, dict) or "path" not in data:
        raise ConfigError(f"config {path} needs a 'data' section with a 'path'")
    check_keys(data, _DATA_KEYS, "data")
    detector = raw.get("detector") or {}
    check_keys(detector, _DETECTOR_KEYS, "detector")
    data_path = str(data["path"])
    if not is_s3(data_path) and not Path(data_path).is_absolute():
        data_path = str((path.parent / data_path).resolve())
    try:
        cfg = RunConfig(
            data=DataConfig(**{**data, "path": data_path}),
            name=str(raw.get("name", path.stem)),
            seed=int(raw.get("seed", 0)),
            target=raw.get("target"),
            generator=str(raw.get("generator", "gmm")),
            generators=raw.get("generators") or {},
            detector=detector,
            rows=raw.get("rows"),
            holdout=float(raw.get("holdout", 0.2)),
            extras=raw.get("extras", True),
        )
    except (TypeError, ValueError) as err:
        raise ConfigError(f"config {path}: {err}") from None
    if cfg.data.columns is not None and cfg.target is not None and cfg.target not in cfg.data.columns:
        raise ConfigError(f"config target '{cfg.target}' is not one of the data columns")
    return cfg


def config_for_csv(path: str) -> RunConfig:
    """The config ``advsynth run --data FILE`` uses: a CSV with a header, every type inferred."""
    return RunConfig(data=DataConfig(path=str(path)), name=Path(str(path)).stem)
