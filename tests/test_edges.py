"""Unusual but valid data and interrupted writes: values near ±1e300, a local time with two
UTC offsets, and what a run killed with SIGKILL leaves behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advsynth.cli import main
from advsynth.detection import detect
from advsynth.io import read_table, staging_file, write_text_atomic


def _huge_table(n: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=n),
                       "huge": rng.choice([1.7e308, -1.7e308, 1e300, -5e-300, 0.0, 12.5], n),
                       "tiny": rng.normal(size=n) * 1e-300,
                       "g": rng.choice(list("xyz"), n)})
    df.loc[::7, "huge"] = np.nan
    return df


@pytest.mark.parametrize("generator, params", [("gmm", {}), ("gmm", {"redraw": "all"}), ("cart", {}), ("baseline", {})])
def test_values_near_the_float64_limits_are_judged_not_crashed(tmp_path, generator, params):
    data = tmp_path / "huge.csv"
    _huge_table().to_csv(data, index=False)
    config = tmp_path / "run.yaml"
    config.write_text(json.dumps({"data": {"path": str(data)}, "generator": generator,
                                  "generators": {generator: params}}))
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "out")]) == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert 0 <= metrics["detector"]["roc_auc"] <= 1
    out = read_table(tmp_path / "out" / "synthetic.csv")
    assert out["huge"].dtype == float and np.isfinite(out["huge"].dropna()).all()
    assert (out["huge"].abs() > 1e299).any()  # the extreme values are generated, not dropped


def test_the_detector_still_sees_a_column_of_huge_values():
    """Real values near ±1e300 against synthetic ones spread over ±1: the column alone gives the
    fakes away, so the detector must find it (it is not clipped into one float32 value)."""
    rng = np.random.default_rng(0)
    n = 1000
    real = pd.DataFrame({"v": rng.choice([-1e300, 1e300], n) * rng.uniform(1, 1.5, n), "w": rng.normal(size=n)})
    fake = pd.DataFrame({"v": rng.normal(size=n), "w": rng.normal(size=n)})
    result = detect(real, fake, seed=0)
    assert result.roc_auc > 0.99 and result.top_columns(1)[0][0] == "v"


def _berlin_times(n: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = pd.Timestamp("2024-01-01", tz="Europe/Berlin") + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h")
    return pd.Series(t.strftime("%Y-%m-%dT%H:%M:%S%z")).str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)


def test_a_local_time_with_two_utc_offsets_comes_back_in_its_own_offsets(tmp_path):
    data = tmp_path / "local.csv"
    pd.DataFrame({"when": _berlin_times(1500), "x": np.arange(1500) % 17}).to_csv(data, index=False)
    assert main(["run", "--data", str(data), "--out", str(tmp_path / "out"), "--no-extras"]) == 0
    text = pd.read_csv(tmp_path / "out" / "synthetic.csv", dtype=str)["when"]
    offsets = text.str[-6:]
    assert set(offsets) == {"+01:00", "+02:00"}
    # each value's offset is the one Europe/Berlin has at that instant (winter +01:00, summer +02:00)
    instants = pd.to_datetime(text, format="ISO8601", utc=True)
    local = instants.dt.tz_convert("Europe/Berlin")
    assert (local.dt.strftime("%Y-%m-%dT%H:%M:%S") == text.str[:19]).all()
    assert (offsets == local.dt.strftime("%z").str[:3] + ":" + local.dt.strftime("%z").str[3:]).all()


def test_offsets_no_zone_explains_are_kept_in_utc(tmp_path):
    """Offsets that follow no zone's rules (rows from several places) keep the previous behaviour: UTC."""
    rng = np.random.default_rng(0)
    t = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 365 * 24, 600), unit="h")
    offsets = rng.choice(["+05:30", "-03:00"], 600)
    text = [ts.tz_convert(f"Etc/GMT{'-' if o.startswith('+') else '+'}{int(o[1:3])}").strftime("%Y-%m-%dT%H:%M:%S")
            + o if o == "-03:00" else (ts + pd.Timedelta(minutes=330)).strftime("%Y-%m-%dT%H:%M:%S") + o
            for ts, o in zip(t, offsets)]
    data = tmp_path / "mixed.csv"
    pd.DataFrame({"when": text, "x": np.arange(600) % 5}).to_csv(data, index=False)
    frame = read_table(data)
    assert str(frame["when"].dt.tz) == "UTC"


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from advsynth.io import staging_file
    path = staging_file(Path(sys.argv[1]))
    path.write_text("half of a file")
    print(path, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_writer_killed_with_sigkill_leaves_staging_that_the_next_write_removes(tmp_path):
    target = tmp_path / "metrics.json"
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL
    leftover = Path(proc.stdout.strip())
    assert leftover.exists() and leftover.name.startswith(".metrics.json.")
    live = staging_file(target)  # this process's own staging: alive, so kept
    write_text_atomic(target, "{}\n")
    assert not leftover.exists() and live.exists()
    assert target.read_text() == "{}\n"
    live.unlink()


def test_a_run_killed_while_writing_its_folder_is_cleaned_up_by_the_next_run(tmp_path, small_table_csv):
    out = tmp_path / "runs" / "r1"
    script = textwrap.dedent(f"""
        import os, signal
        import advsynth.experiment.folder as folder
        real = folder.write_text_atomic
        def die(path, text):
            if str(path).endswith("metrics.json"):
                os.kill(os.getpid(), signal.SIGKILL)
            real(path, text)
        folder.write_text_atomic = die
        from advsynth.cli import main
        main(["run", "--data", {str(small_table_csv)!r}, "--out", {str(out)!r}, "--no-extras"])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL
    left = [p for p in out.parent.iterdir() if p.name.startswith(".r1.")]
    assert left and not out.exists()
    assert main(["run", "--data", str(small_table_csv), "--out", str(out.parent / "r2"), "--no-extras"]) == 0
    assert main(["run", "--data", str(small_table_csv), "--out", str(out), "--no-extras"]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["r1", "r2"]


@pytest.fixture
def small_table_csv(tmp_path):
    from conftest import make_mixed

    path = tmp_path / "small.csv"
    make_mixed(300).to_csv(path, index=False)
    return path


def test_one_offset_spelled_two_ways_stays_a_fixed_offset(tmp_path):
    """"Z" and "+00:00" are one offset: UTC, not a zone that happens to sit at +00:00 in winter."""
    rng = np.random.default_rng(0)
    t = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 1000, 400), unit="h"))
    text = t.dt.strftime("%Y-%m-%dT%H:%M:%S") + np.where(rng.random(400) < 0.5, "Z", "+00:00")
    data = tmp_path / "utc.csv"
    pd.DataFrame({"when": text, "x": rng.random(400)}).to_csv(data, index=False)
    assert str(read_table(data)["when"].dt.tz) == "UTC"
