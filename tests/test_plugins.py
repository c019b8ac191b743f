"""Plug-in generators by import path (``pkg.mod:Class``) and the SDV adapters (``sdv:Model``).

The plug-ins are real classes written into a module under tmp_path and imported the way a
user's package would be. The SDV adapter's own logic (metadata, parameters, the missing
extra) is tested without SDV through a stand-in class; the tests marked ``sdv`` run the
real SDV synthesizers and are skipped, with the reason shown, where SDV is not installed
(CI's ``.[dev]`` environment has pandas 3, which SDV 2.0 does not accept).
"""

import importlib.util
import json
import logging
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from conftest import make_mixed
from advsynth.errors import ConfigError, InputError
from advsynth.schema import infer_schema
from advsynth.synthesizers import PluginSynthesizer, make_generator
from advsynth.synthesizers import sdv as sdv_adapter

HAS_SDV = importlib.util.find_spec("sdv") is not None
requires_sdv = pytest.mark.skipif(
    not HAS_SDV, reason="SDV is not installed (advsynth[sdv] needs pandas<3): run `pytest -m sdv` where it is")

PLUGIN_SOURCE = '''
import numpy as np
import pandas as pd


class Resampler:
    """Rows drawn with replacement, numeric columns jittered: a stand-in third-party generator."""

    def __init__(self, random_state=None, noise=0.0):
        if noise < 0:
            raise ValueError("noise must be >= 0")
        self.random_state = random_state
        self.noise = noise

    def fit(self, df):
        self.df_ = df.copy()
        return self

    def sample(self, n):
        rng = np.random.default_rng(self.random_state)
        out = self.df_.iloc[rng.integers(0, len(self.df_), n)].reset_index(drop=True)
        for name in out.columns:
            if pd.api.types.is_float_dtype(out[name]):
                out[name] = out[name] + rng.normal(0, self.noise, n)
        return out


class Unseeded(Resampler):
    def __init__(self):
        super().__init__(random_state=None)

    def sample(self, n):
        return self.df_.sample(n, replace=True).reset_index(drop=True)


class TakesSeedInSample(Resampler):
    def __init__(self):
        super().__init__()

    def sample(self, n, random_state=None):
        return self.df_.sample(n, replace=True, random_state=random_state).reset_index(drop=True)


class DropsColumn(Resampler):
    def sample(self, n):
        return super().sample(n).drop(columns=["x"]).assign(extra=1)


class TextInNumbers(Resampler):
    def sample(self, n):
        return super().sample(n).assign(count="many")


class NewLevel(Resampler):
    def sample(self, n):
        return super().sample(n).assign(group="zzz")


class ShortSample(Resampler):
    def sample(self, n):
        return super().sample(n - 1)


class ReturnsArray(Resampler):
    def sample(self, n):
        return super().sample(n).to_numpy()


class FitOnly:
    def fit(self, df):
        return self


def make_something():
    return Resampler()
'''


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    """A user's module on sys.path, under a name unique to the test (no cached import)."""
    name = f"user_plugins_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def fitted(path, df, **params):
    gen = make_generator(path, **params)
    return gen.fit(df, infer_schema(df))


# ----------------------------------------------------------------------------- import-path plug-ins


def test_plugin_output_is_typed_like_the_real_table(plugin_module, mixed):
    gen = fitted(f"{plugin_module}:Resampler", mixed, random_state=1, noise=0.5)
    assert isinstance(gen, PluginSynthesizer)
    assert gen.model_.noise == 0.5 and gen.model_.random_state == 1  # params and seed reach the class
    out = gen.sample(300)
    assert list(out.columns) == list(mixed.columns) and len(out) == 300
    assert out["count"].dtype == np.int64  # the plug-in's floats/ints are typed by advsynth's schema
    assert out["x"].dropna().between(mixed["x"].min(), mixed["x"].max()).all()  # jitter clipped to real bounds
    assert set(out["group"].dropna()) <= set(mixed["group"].dropna())
    assert out["x"].isna().any()  # missing values pass through
    assert gen.get_params() == {"params": {"noise": 0.5}, "random_state": 1, "target": f"{plugin_module}:Resampler"}


def test_plugin_is_deterministic_with_random_state(plugin_module, mixed):
    path = f"{plugin_module}:Resampler"
    first = fitted(path, mixed, random_state=7, noise=0.1).sample(200)
    again = fitted(path, mixed, random_state=7, noise=0.1).sample(200)
    other = fitted(path, mixed, random_state=8, noise=0.1).sample(200)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_sample_random_state_is_passed_when_sample_takes_it(plugin_module, mixed):
    gen = fitted(f"{plugin_module}:TakesSeedInSample", mixed, random_state=0)
    pd.testing.assert_frame_equal(gen.sample(100, random_state=3), gen.sample(100, random_state=3))
    assert not gen.sample(100, random_state=3).equals(gen.sample(100, random_state=4))


def test_unseeded_plugin_is_warned_about_once(plugin_module, mixed, caplog):
    with caplog.at_level(logging.WARNING, logger="advsynth"):
        fitted(f"{plugin_module}:Unseeded", mixed).sample(10)
        fitted(f"{plugin_module}:Unseeded", mixed).sample(10)
    warnings = [r.getMessage() for r in caplog.records if "random_state" in r.getMessage()]
    assert len(warnings) == 1 and f"{plugin_module}:Unseeded" in warnings[0]


def test_plugin_sees_modelled_columns_only(plugin_module):
    df = make_mixed(200).assign(row_id=np.arange(200), when=pd.date_range("2020-01-01", periods=200, freq="D"))
    gen = fitted(f"{plugin_module}:Resampler", df)
    assert "row_id" not in gen.model_.df_.columns  # ID-like columns are never modelled
    out = gen.sample(50)
    assert list(out.columns) == list(df.columns)
    assert out["row_id"].tolist() == list(range(1, 51))  # fresh identifiers, as for built-in generators
    assert pd.api.types.is_datetime64_any_dtype(out["when"]) and out["when"].isin(df["when"]).all()


@pytest.mark.parametrize("path, needle", [
    ("no_such_pkg_xyz.models:Synth", "module 'no_such_pkg_xyz' not found"),
    ("{mod}:Missing", "has no attribute 'Missing'"),
    ("{mod}:make_something", "is a function, not a class"),
    ("{mod}:FitOnly", "no sample method"),
    ("{mod}:", "is not an import path"),
    ("{mod}:Resampler:x", "is not an import path"),
])
def test_bad_import_paths_are_one_line_config_errors(plugin_module, path, needle):
    with pytest.raises(ConfigError, match=needle) as err:
        make_generator(path.format(mod=plugin_module))
    assert "\n" not in str(err.value)


def test_unknown_plugin_parameter_names_the_valid_ones(plugin_module):
    with pytest.raises(ConfigError, match=r"no parameter\(s\) epochs; it takes random_state, noise"):
        make_generator(f"{plugin_module}:Resampler", epochs=3)


def test_plugin_refusing_its_parameter_value_is_one_line(plugin_module, mixed):
    with pytest.raises(ConfigError, match=r"refused its parameters \['noise', 'random_state'\]: "
                                          "ValueError: noise must be >= 0"):
        fitted(f"{plugin_module}:Resampler", mixed, noise=-1)


@pytest.mark.parametrize("cls, needle", [
    ("DropsColumn", r"wrong columns: missing \['x'\], unexpected \['extra'\]"),
    ("TextInNumbers", "values that are not integer in column 'count': \\['many'\\]"),
    ("NewLevel", "outside the real levels of column 'group': \\['zzz'\\]"),
    ("ShortSample", r"sample\(20\) returned 19 rows"),
    ("ReturnsArray", "returned a ndarray, not a pandas DataFrame"),
])
def test_wrong_plugin_output_is_one_line_input_error(plugin_module, mixed, cls, needle):
    gen = fitted(f"{plugin_module}:{cls}", mixed)
    with pytest.raises(InputError, match=needle) as err:
        gen.sample(20)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- through the CLI and configs


def _main(capsys, *args):
    from advsynth.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_run_with_plugin_generator_is_reproducible(plugin_module, tmp_path, capsys):
    data = tmp_path / "mixed.csv"
    make_mixed(300).to_csv(data, index=False)
    path = f"{plugin_module}:Resampler"
    for out in ("a", "b"):
        code, stdout, err = _main(capsys, "run", "--data", data, "--generator", path, "--out", tmp_path / out,
                                  "--seed", 4, "--no-extras")
        assert code == 0, err
        assert "detector ROC-AUC" in stdout
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["generator"] == path and metrics["generator_params"]["random_state"] == 4
    assert (tmp_path / "a" / "synthetic.csv").read_bytes() == (tmp_path / "b" / "synthetic.csv").read_bytes()
    # a resampler copies real rows: the detector cannot tell them apart, so the AUC sits near 0.5
    assert metrics["detector"]["roc_auc"] < 0.65


def test_cli_run_default_out_folder_for_plugin_is_a_plain_name(plugin_module, tmp_path, capsys, monkeypatch):
    data = tmp_path / "mixed.csv"
    make_mixed(200).to_csv(data, index=False)
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(capsys, "run", "--data", data, "--generator", f"{plugin_module}:Resampler", "--no-extras")
    assert code == 0, err
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith(f"mixed-{plugin_module}.Resampler-") or folder.name.startswith(
        f"mixed-{plugin_module}_Resampler-")
    assert ":" not in folder.name


def test_cli_bad_plugin_is_one_line(plugin_module, tmp_path, capsys):
    data = tmp_path / "mixed.csv"
    make_mixed(200).to_csv(data, index=False)
    for generator, needle in ((f"{plugin_module}:Nope", "has no attribute 'Nope'"),
                              (f"{plugin_module}:DropsColumn", "wrong columns"),
                              ("../evil:X", "is not an import path")):
        code, _, err = _main(capsys, "run", "--data", data, "--generator", generator, "--out", tmp_path / "r")
        lines = [line for line in err.strip().splitlines() if not line.startswith("WARNING ")]
        assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
        assert lines[0].startswith("advsynth: error:") and needle in lines[0], lines[0]
        assert not (tmp_path / "r").exists()


def test_config_names_plugin_and_its_params(plugin_module, tmp_path, capsys):
    data = tmp_path / "mixed.csv"
    make_mixed(200).to_csv(data, index=False)
    path = f"{plugin_module}:Resampler"
    config = tmp_path / "c.yaml"
    config.write_text(f"name: mixed\ndata:\n  path: mixed.csv\ngenerator: '{path}'\n"
                      f"generators:\n  '{path}': {{noise: 0.25}}\nextras: false\n")
    code, _, err = _main(capsys, "run", "--config", config, "--out", tmp_path / "run")
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["generator_params"]["params"] == {"noise": 0.25}


def test_bench_config_accepts_plugin_types_and_checks_them_early(plugin_module, tmp_path):
    from advsynth.bench import load_bench_config, run_benchmark

    def write(gen_type, params="{}"):
        path = tmp_path / "bench.yaml"
        path.write_text(f"name: t\nseeds: [0]\nextras: false\ndetector: {{rounds: 20}}\n"
                        f"generators:\n  mine: {{type: '{gen_type}', params: {params}}}\n"
                        f"datasets:\n  iris: {{sklearn: iris}}\n")
        return path

    with pytest.raises(ConfigError, match="has no attribute 'Nope'"):
        load_bench_config(write(f"{plugin_module}:Nope"))
    with pytest.raises(ConfigError, match=r"no parameter\(s\) bogus"):
        load_bench_config(write(f"{plugin_module}:Resampler", "{bogus: 1}"))
    cfg = load_bench_config(write(f"{plugin_module}:Resampler", "{noise: 0.1}"))
    results = run_benchmark(cfg, tmp_path / "out", progress=None)
    assert results["generator"].tolist() == ["mine"] and results["generator_type"].tolist() == [f"{plugin_module}:Resampler"]
    assert 0.0 <= results["roc_auc"].iloc[0] <= 1.0


# ----------------------------------------------------------------------------- SDV adapter, without SDV


class StandInSynthesizer:
    """Stands in for an SDV 1.x single-table synthesizer class: (metadata, **params), fit(df),
    sample(num_rows) → df, drawing from numpy's global generator as SDV does."""

    instances = []

    def __init__(self, metadata, epochs=300, enforce_rounding=True):
        if epochs < 1:
            raise ValueError("epochs must be a positive integer")
        self.metadata, self.epochs, self.enforce_rounding = metadata, epochs, enforce_rounding
        self.sampled_with = []
        StandInSynthesizer.instances.append(self)

    def fit(self, data):
        self.data = data.copy()

    def sample(self, num_rows):
        self.sampled_with.append(num_rows)
        idx = np.random.randint(0, len(self.data), num_rows)
        return self.data.iloc[idx].reset_index(drop=True)


class StandInTablesSynthesizer(StandInSynthesizer):
    """SDV 2.x's form of the same: fit({name: df}), sample(num_rows) → {name: df}."""

    def fit(self, data):
        assert isinstance(data, dict) and list(data) == [sdv_adapter.TABLE]
        super().fit(data[sdv_adapter.TABLE])

    def sample(self, num_rows):
        return {sdv_adapter.TABLE: super().sample(num_rows)}


@pytest.fixture(params=[StandInSynthesizer, StandInTablesSynthesizer], ids=["sdv1-api", "sdv2-api"])
def stand_in(request, monkeypatch):
    cls = request.param

    def fake_import(model):
        if model not in sdv_adapter.MODELS:  # the adapter's own check still applies
            raise ConfigError(f"unknown SDV model {model!r}")
        return cls, cls is StandInTablesSynthesizer

    monkeypatch.setattr(sdv_adapter, "_import_sdv", fake_import)
    monkeypatch.setattr(sdv_adapter, "_build_metadata", lambda meta: meta)
    StandInSynthesizer.instances.clear()
    return cls


def test_sdv_metadata_follows_advsynth_schema():
    df = make_mixed(100).assign(row_id=np.arange(100), when=pd.date_range("2021-01-01", periods=100, freq="h"))
    meta = sdv_adapter.metadata_dict(infer_schema(df, {"count": "categorical"}))
    assert meta == {"columns": {
        "group": {"sdtype": "categorical"},
        "x": {"sdtype": "numerical"},
        "count": {"sdtype": "categorical"},  # the config's type wins over the data's look
        "spend": {"sdtype": "numerical"},
        "flag": {"sdtype": "categorical"},   # booleans as categories: levels reproduced exactly
        "when": {"sdtype": "datetime"},
    }}  # row_id is ID-like: no generator models it


def test_sdv_params_pass_through_and_seed_global_generators(stand_in, mixed):
    gen = make_generator("sdv:CTGAN", random_state=5, epochs=3)
    assert gen.get_params() == {"model": "CTGAN", "params": {"epochs": 3}, "random_state": 5}
    gen.fit(mixed, infer_schema(mixed))
    model = stand_in.instances[-1]
    assert model.epochs == 3 and model.enforce_rounding is True
    assert model.metadata == sdv_adapter.metadata_dict(infer_schema(mixed))
    assert list(model.data.columns) == list(mixed.columns)
    first, again = gen.sample(80), gen.sample(80)
    pd.testing.assert_frame_equal(first, again)  # the globals are seeded before each draw
    assert not first.equals(gen.sample(80, random_state=6))
    assert model.sampled_with[-1] == 80


def test_sdv_refused_parameter_value_is_one_line(stand_in, mixed):
    gen = make_generator("sdv:TVAE", epochs=0)
    with pytest.raises(ConfigError, match="'sdv:TVAE' refused its parameters: epochs must be a positive integer"):
        gen.fit(mixed)


def test_sdv_unknown_model_and_param_are_config_errors(stand_in):
    with pytest.raises(ConfigError, match="unknown SDV model 'Nope'"):
        make_generator("sdv:Nope")
    with pytest.raises(ConfigError, match=r"'sdv:GaussianCopula' has no parameter\(s\) bogus; it takes epochs, "
                                          "enforce_rounding"):
        make_generator("sdv:GaussianCopula", bogus=1)


def test_missing_sdv_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sdv", None)  # import sdv → ImportError, as without the extra
    monkeypatch.setitem(sys.modules, "sdv.single_table", None)
    with pytest.raises(ConfigError) as err:
        make_generator("sdv:CTGAN", epochs=1)
    assert str(err.value) == "generator 'sdv:CTGAN' needs SDV, which is not installed: pip install 'advsynth[sdv]'"


def test_unknown_sdv_model_is_refused_before_importing_sdv(monkeypatch):
    monkeypatch.setitem(sys.modules, "sdv", None)
    with pytest.raises(ConfigError, match="unknown SDV model 'GPT'; choose one of sdv:GaussianCopula, sdv:CTGAN"):
        make_generator("sdv:GPT")


# ----------------------------------------------------------------------------- real SDV (marker: sdv)


@pytest.mark.sdv
@requires_sdv
@pytest.mark.parametrize("model, params", [("GaussianCopula", {}), ("CTGAN", {"epochs": 2}), ("TVAE", {"epochs": 2}),
                                           ("CopulaGAN", {"epochs": 2})])
def test_real_sdv_synthesizer_typed_and_deterministic(model, params):
    df = make_mixed(300).assign(when=pd.date_range("2021-01-01", periods=300, freq="D"))
    schema = infer_schema(df)
    first = make_generator(f"sdv:{model}", random_state=3, **params).fit(df, schema).sample(200)
    again = make_generator(f"sdv:{model}", random_state=3, **params).fit(df, schema).sample(200)
    other = make_generator(f"sdv:{model}", random_state=4, **params).fit(df, schema).sample(200)
    assert list(first.columns) == list(df.columns)
    assert first["count"].dtype == np.int64 and set(first["group"].dropna()) <= set(df["group"].dropna())
    assert pd.api.types.is_datetime64_any_dtype(first["when"])
    assert first["x"].isna().any()  # missing values modelled, not dropped
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


@pytest.mark.sdv
@requires_sdv
def test_real_sdv_params_reach_the_model(mixed):
    gen = make_generator("sdv:CTGAN", random_state=0, epochs=1, batch_size=50).fit(mixed, infer_schema(mixed))
    assert gen.model_.get_parameters()["epochs"] == 1 and gen.model_.get_parameters()["batch_size"] == 50


@pytest.mark.sdv
@requires_sdv
def test_real_sdv_bad_parameter_value_is_one_line():
    with pytest.raises(ConfigError, match="'sdv:GaussianCopula' refused its parameters: .*enforce_rounding") as err:
        make_generator("sdv:GaussianCopula", enforce_rounding="yes").fit(make_mixed(100))
    assert "\n" not in str(err.value)


@pytest.mark.sdv
@requires_sdv
def test_real_sdv_through_the_cli(tmp_path, capsys):
    data = tmp_path / "mixed.csv"
    make_mixed(300).to_csv(data, index=False)
    code, stdout, err = _main(capsys, "run", "--data", data, "--generator", "sdv:GaussianCopula",
                              "--out", tmp_path / "run")
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["generator"] == "sdv:GaussianCopula" and 0.5 <= metrics["detector"]["roc_auc"] <= 1.0
    assert "privacy" in metrics and "utility" in metrics


COPYING_SOURCE = '''
class Copier:
    """Returns its training rows as they are: integer 0/1 flags and rare codes included."""

    def __init__(self, random_state=0):
        self.random_state = random_state

    def fit(self, df):
        self.df_ = df.reset_index(drop=True)
        return self

    def sample(self, n, random_state=None):
        return self.df_.iloc[[i % len(self.df_) for i in range(n)]].reset_index(drop=True)
'''


def test_a_plugins_levels_come_back_as_it_wrote_them(tmp_path, monkeypatch):
    """A plug-in's 0/1 flags and the rare codes of a many-level column are real values: typed as
    they were, never redrawn (0/1 integers were matched to the level text "0"/"1" and failed, so
    half of a copied flag column was re-drawn at random; a rare code was refused)."""
    import advsynth.columns

    monkeypatch.setattr(advsynth.columns.categorical, "MAX_LEVELS", 50)  # so that 'case' keeps a tail of rare codes
    name = f"copying_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(COPYING_SOURCE))
    monkeypatch.syspath_prepend(str(tmp_path))
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"flag": rng.integers(0, 2, 600), "x": rng.normal(size=600),
                       "case": [f"c{i // 8}" for i in range(600)]})  # 75 codes: many levels, not a group key
    schema = infer_schema(df)
    assert schema["flag"].kind == "boolean" and schema["case"].tail
    out = make_generator(f"{name}:Copier").fit(df, schema).sample(600)
    assert out["flag"].tolist() == df["flag"].tolist()
    assert out["case"].tolist() == df["case"].tolist()
    sys.modules.pop(name, None)
