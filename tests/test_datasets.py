"""The bundled tables: the main job needs nothing beside the package."""

import gzip
import hashlib

import pytest

from advsynth.config import load_config
from advsynth.datasets import DATASETS, path
from advsynth.errors import InputError
from advsynth.io import read_table
from advsynth.config import load_real

from conftest import ADULT_CONFIG


def test_bundled_adult_is_the_original_file():
    # the checksum the UCI file has (shared/datasets/adult/README.md): the rows are unchanged
    raw = gzip.decompress(path("adult").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == DATASETS["adult"][1]
    assert path("adult").stat().st_size < 1_000_000


def test_adult_config_reads_the_bundled_table():
    cfg = load_config(ADULT_CONFIG)
    assert cfg.data.path == "advsynth:adult"
    real = load_real(cfg)
    assert real.shape == (32561, 15)
    assert real["workclass"].isna().sum() == 1836  # '?' read as missing


def test_unknown_bundled_table_is_one_line():
    with pytest.raises(InputError, match="no bundled table 'nope'; advsynth ships adult"):
        read_table("advsynth:nope")


def test_gzip_csv_is_read_like_the_text(tmp_path):
    text = "a,b\n1,x\n2,y\n"
    plain, packed = tmp_path / "t.csv", tmp_path / "t.csv.gz"
    plain.write_text(text)
    packed.write_bytes(gzip.compress(text.encode()))
    assert read_table(packed).equals(read_table(plain))
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(text.encode())[:12])
    with pytest.raises(InputError, match="damaged gzip"):
        read_table(broken)
