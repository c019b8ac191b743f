"""Configs become typed, validated objects: every wrong key, type or range is one line naming the key."""

import pytest

from advsynth.config import DataConfig, RunConfig, config_for_csv, load_config
from advsynth.errors import ConfigError
from advsynth.protocol import DetectorConfig
from conftest import ADULT_CONFIG


def _load(tmp_path, body: str):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  path: d.csv\n" + body)
    return load_config(path)


@pytest.mark.parametrize("body, needle", [
    ("name: ../..\n", "name must be a plain name"),
    ("name: runs/x\n", "name must be a plain name"),
    ("seed: 1.7\n", "seed must be a whole number, got 1.7 (a number)"),
    ("seed: -1\n", "seed must be a whole number between 0 and 4294967295, got -1"),
    ("seed: '3'\n", "seed must be a whole number, got '3' (text)"),
    ("rows: 0\n", "rows must be a whole number >= 1, got 0"),
    ("rows: true\n", "rows must be a whole number, got True (a boolean)"),
    ("holdout: 0.9\n", "holdout must be a number between 0 and 0.5"),
    ("holdout: '0.2'\n", "holdout must be a number between 0 and 0.5 (exclusive), got '0.2' (text)"),
    ("extras: 'yes'\n", "extras must be true or false, got 'yes' (text)"),
    ("target: 3\n", "target must be non-empty text, got 3"),
    ("generator: ../x\n", "generator must be a plain name"),
    ("generators:\n  gmm: 5\n", "generators.gmm must be a mapping"),
    ("genrator: gmm\n", "unknown key(s) in config"),
    ("detector:\n  rounds: ten\n", "detector.rounds must be a whole number >= 1, got 'ten'"),
    ("detector:\n  max_depth: -1\n", "detector.max_depth must be a whole number >= 1, got -1"),
    ("detector:\n  tset_size: 0.3\n", "unknown key(s) in detector: tset_size"),
    ("detector: [1, 2]\n", "detector must be a mapping"),
], ids=lambda v: v if len(v) < 30 else None)
def test_top_level_and_detector_errors(tmp_path, body, needle):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, body)
    assert needle in str(err.value) and "\n" not in str(err.value), str(err.value)


@pytest.mark.parametrize("data, needle", [
    ("  header: 'no'\n", "data.header must be true or false, got 'no' (text)"),
    ("  header: 0\n", "data.header must be true or false, got 0"),
    ("  sep: 5\n", "data.sep must be one delimiter character"),
    ("  sep: ';;'\n", "data.sep must be one delimiter character"),
    ("  decimal: ';'\n", "data.decimal must be '.' or ','"),
    ("  sep: ','\n  decimal: ','\n", "data.decimal and data.sep are both ','"),
    ("  na_values: '?'\n", "data.na_values must be a list of text or numbers, got '?'"),
    ("  columns: [a, b, a]\n", "duplicate column name(s): 'a'"),
    ("  columns: [a, '', c]\n", "empty column name(s) at position(s) 2"),
    ("  columns: a\n", "data.columns must be a list of text"),
    ("  types: {age: float}\n", "data.types.age must be one of numeric, integer"),
    ("  types: [age]\n", "data.types must be a mapping"),
    ("  skipinitialspace: 'true'\n", "data.skipinitialspace must be true or false"),
    ("  pth: x\n", "unknown key(s) in data: pth"),
], ids=lambda v: v if len(v) < 30 else None)
def test_data_section_errors(tmp_path, data, needle):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, data)
    assert needle in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_target_must_be_a_named_column(tmp_path):
    with pytest.raises(ConfigError, match="target 'y' is not one of data.columns"):
        _load(tmp_path, "  header: false\n  columns: [a, b]\ntarget: y\n")


def test_valid_config_is_typed(tmp_path):
    cfg = _load(tmp_path, "  header: no\n  na_values: []\n  sep: \"\\t\"\n  decimal: ','\nseed: 4\nrows: 50\n"
                          "detector:\n  rounds: 30\n")
    assert cfg.data.header is False and cfg.data.na_values == [] and cfg.data.sep == "\t"
    assert cfg.data.decimal == "," and cfg.data.path == str(tmp_path / "d.csv")
    assert (cfg.seed, cfg.rows, cfg.name) == (4, 50, "c")
    assert isinstance(cfg.detector, DetectorConfig) and cfg.detector.rounds == 30
    assert _load(tmp_path, "  na_values: ['?', -999]\n").data.na_values == ["?", "-999"]


def test_adult_config_loads():
    cfg = load_config(ADULT_CONFIG)
    assert cfg.data.header is False and len(cfg.data.columns) == 15 and cfg.target == "income"
    assert cfg.detector == DetectorConfig()  # the adult config keeps the protocol's defaults


def test_configs_built_in_python_are_checked_too(tmp_path):
    assert RunConfig(data=DataConfig(path="x.csv"), detector={"rounds": 5}).detector.rounds == 5
    with pytest.raises(ConfigError, match="seed must be"):
        RunConfig(data=DataConfig(path="x.csv"), seed=-1)
    with pytest.raises(ConfigError, match="detector.rounds"):
        RunConfig(data=DataConfig(path="x.csv"), detector={"rounds": 0})


def test_names_from_file_names_stay_plain():
    assert config_for_csv("/data/my table.v2.csv").name == "my_table.v2"
    assert config_for_csv("/data/...csv").name == "run"


def test_an_unquoted_null_key_in_the_detector_section_is_one_line(tmp_path):
    # YAML reads `null: false` as {None: False}; the message says how to write it
    with pytest.raises(ConfigError, match="quoted"):
        _load(tmp_path, "detector:\n  null: false\n")
    assert _load(tmp_path, "detector:\n  \"null\": false\n").detector.null is False
