"""Generators, by the name the CLI and configs use."""

from ..errors import ConfigError
from .base import Synthesizer
from .baseline import BaselineSynthesizer
from .cart import CARTSynthesizer
from .gmm import GMMSynthesizer
from .plugins import PluginSynthesizer, check_import_path, is_plugin
from .sdv import SDVSynthesizer

GENERATORS = {"baseline": BaselineSynthesizer, "gmm": GMMSynthesizer, "cart": CARTSynthesizer}


def pipeline_parameter_name(parameter: str) -> str:
    """The pipeline parameter carrying a generator parameter: ``pca_variance`` -> ``PcaVariance``."""
    return "".join(word.capitalize() for word in parameter.split("_"))


def make_generator(name: str, **params) -> Synthesizer:
    """Build a generator by name; unknown names, unknown parameters and values outside a parameter's
    declared constraints (``_parameter_constraints``) are one-line ConfigErrors, not TypeErrors later.

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
    gen = cls(**params)
    gen.check_params()  # values too, before any data is read
    return gen


def make_plugin(name: str, random_state: int = 0, **params) -> Synthesizer:
    """The adapter for ``name``: ``sdv:Model`` → SDV's synthesizer, ``pkg.mod:Class`` → any class.

    The class is imported and its parameters checked here, so a bad name fails before any
    data is read.
    """
    if name.startswith("sdv:"):
        gen = SDVSynthesizer(model=name.partition(":")[2], params=params, random_state=random_state)
    else:
        gen = PluginSynthesizer(target=check_import_path("generator", name), params=params, random_state=random_state)
    gen.check_params()
    gen._resolve()
    return gen


__all__ = ["BaselineSynthesizer", "CARTSynthesizer", "GMMSynthesizer", "PluginSynthesizer", "Synthesizer", "GENERATORS",
           "is_plugin", "make_generator"]
