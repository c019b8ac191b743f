import os

# moto and the SageMaker SDK need a region and (fake) credentials; never real ones in tests.
for _key, _value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                     "AWS_SECRET_ACCESS_KEY": "testing", "SAGEMAKER_VALIDATE_ROLE": "false"}.items():
    os.environ.setdefault(_key, _value)

import numpy as np
import pandas as pd
import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from advsynth.datasets import path as bundled_path

ADULT = bundled_path("adult")  # the UCI Adult table bundled with the package (gzip; read_table decompresses it)
ADULT_CONFIG = ROOT / "config" / "adult.yaml"


@pytest.fixture(scope="session")
def adult_path() -> Path:
    # The bundled table ships with the package; its absence is a broken install, not a skip.
    assert ADULT.exists(), f"the bundled Adult table is missing: {ADULT}"
    return ADULT


def make_mixed(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small mixed-type table with dependence between columns, a point mass and missing values."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    shift = pd.Series(group).map({"a": 0.0, "b": 3.0, "c": 6.0}).to_numpy()
    x = rng.normal(shift, 1.0)
    count = rng.poisson(3 + shift).astype(float)
    spend = np.where(rng.random(n) < 0.6, 0.0, np.round(rng.lognormal(3, 1, n), 2))
    flag = rng.random(n) < 0.3
    df = pd.DataFrame({"group": group, "x": np.round(x, 3), "count": count.astype(int), "spend": spend, "flag": flag})
    df.loc[rng.random(n) < 0.1, "x"] = np.nan
    df["group"] = df["group"].astype(object)
    df.loc[rng.random(n) < 0.05, "group"] = None
    return df


@pytest.fixture
def mixed() -> pd.DataFrame:
    return make_mixed()
