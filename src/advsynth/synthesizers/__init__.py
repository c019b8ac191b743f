"""Generators, by the name the CLI and configs use."""

from ..errors import ConfigError
from .base import Synthesizer
from .baseline import BaselineSynthesizer
from .gmm import GMMSynthesizer

GENERATORS = {"baseline": BaselineSynthesizer, "gmm": GMMSynthesizer}


def make_generator(name: str, **params) -> Synthesizer:
    """Build a generator by name; unknown names and parameters are ConfigErrors, not TypeErrors."""
    if name not in GENERATORS:
        raise ConfigError(f"unknown generator {name!r}; choose one of {', '.join(GENERATORS)}")
    cls = GENERATORS[name]
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ConfigError(f"generator {name!r} has no parameter(s) {', '.join(unknown)}; it takes {', '.join(valid)}")
    return cls(**params)


__all__ = ["BaselineSynthesizer", "GMMSynthesizer", "Synthesizer", "GENERATORS", "make_generator"]
