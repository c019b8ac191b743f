"""Every generator, plug-ins included, keeps the generator contract (``synthesizers.checks``)."""

from __future__ import annotations

import functools
import sys
import textwrap

import pytest

from advsynth.errors import ConfigError
from advsynth.synthesizers import GENERATORS, make_generator
from advsynth.synthesizers.checks import check_generator
from conftest import make_mixed

FAST = {"gmm": {"max_components": 4, "n_candidates": 2, "selection_rows": 300, "max_iter": 50},
        "cart": {}, "baseline": {}}

PLUGIN = '''
import numpy as np


class Resampler:
    """A third-party generator: rows resampled with replacement."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, df):
        self.df_ = df.copy()
        return self

    def sample(self, n):
        rng = np.random.default_rng(self.random_state)
        return self.df_.iloc[rng.integers(0, len(self.df_), n)].reset_index(drop=True)
'''


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_builtin_generator_keeps_the_contract(name):
    assert set(FAST) == set(GENERATORS), "a new generator needs its entry here"
    ran = check_generator(functools.partial(make_generator, name, **FAST[name]), make_mixed(300))
    assert len(ran) == 8


def test_plugin_generator_keeps_the_contract(tmp_path, monkeypatch):
    (tmp_path / "conformance_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        check_generator(functools.partial(make_generator, "conformance_plugin:Resampler"), make_mixed(300))
    finally:
        sys.modules.pop("conformance_plugin", None)


def test_the_checks_catch_a_generator_that_breaks_the_contract():
    """A generator whose parameter has no declared constraint fails the first check."""
    from advsynth.synthesizers.baseline import BaselineSynthesizer

    class Undeclared(BaselineSynthesizer):
        def __init__(self, smoothing=1.0, random_state=0):
            super().__init__(random_state)
            self.smoothing = smoothing

    with pytest.raises(AssertionError, match="smoothing"):
        check_generator(Undeclared, make_mixed(300))


@pytest.mark.parametrize("params, needle", [
    ({"max_components": "lots"}, "max_components"),
    ({"pca_variance": 1.5}, "pca_variance"),
    ({"criterion": "best"}, "criterion"),
    ({"dependencies": "yes"}, "dependencies"),
    ({"n_init": True}, "n_init"),
    ({"min_components": 9, "max_components": 3}, "min_components <= max_components"),
    ({"redraw": [1, 2]}, "redraw"),
    ({"random_state": -1}, "random_state"),
])
def test_bad_gmm_values_fail_at_construction_in_one_line(params, needle):
    with pytest.raises(ConfigError, match=needle) as err:
        make_generator("gmm", **params)
    assert "\n" not in str(err.value)


@pytest.mark.sdv
@pytest.mark.skipif(__import__("importlib").util.find_spec("sdv") is None,
                    reason="SDV is not installed (advsynth[sdv] needs pandas<3): run `pytest -m sdv` where it is")
def test_sdv_adapter_keeps_the_contract():
    check_generator(functools.partial(make_generator, "sdv:GaussianCopula"), make_mixed(300))
