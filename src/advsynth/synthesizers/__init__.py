"""Generators, by the name the CLI and configs use."""

from ..errors import ConfigError
from .base import Synthesizer
from .baseline import BaselineSynthesizer
from .cart import CARTSynthesizer
from .gmm import GMMSynthesizer
from .plugins import PluginSynthesizer, is_plugin, make_plugin

GENERATORS = {"baseline": BaselineSynthesizer, "gmm": GMMSynthesizer, "cart": CARTSynthesizer}


def make_generator(name: str, **params) -> Synthesizer:
    """Build a generator by name; unknown names and parameters are ConfigErrors, not TypeErrors.

    A name with a colon is a plug-in: ``package.module:Class`` (any fit/sample class) or
    ``sdv:Model`` (an SDV single-table synthesizer); see ``plugins.py``.
    """
    if is_plugin(name):
        return make_plugin(name, **params)
    if name not in GENERATORS:
        raise ConfigError(f"unknown generator {name!r}; choose one of {', '.join(GENERATORS)}, "
                          "or give an import path 'package.module:Class' or 'sdv:Model'")
    cls = GENERATORS[name]
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ConfigError(f"generator {name!r} has no parameter(s) {', '.join(unknown)}; it takes {', '.join(valid)}")
    return cls(**params)


__all__ = ["BaselineSynthesizer", "CARTSynthesizer", "GMMSynthesizer", "PluginSynthesizer", "Synthesizer", "GENERATORS",
           "is_plugin", "make_generator"]
