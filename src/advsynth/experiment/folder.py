"""The run folder: synthetic table, metrics.json, schema.json, scores.csv and config.json,
staged beside the target and renamed into place in one step."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd

from ..errors import OutputError
from ..io import describe_os_error, staging_dir, write_csv_atomic, write_table, write_text_atomic


def write_run(out_path: Path, synthetic: pd.DataFrame | Path, metrics: dict, schema_json: str, *,
              scores: pd.DataFrame | None = None, config: dict | None = None, fmt: str = "csv") -> None:
    """Write the run folder: synthetic.csv (or .parquet with ``fmt``), metrics.json, schema.json,
    and scores.csv (held-out detector and null scores, for ROC curves) and config.json (the
    resolved config) when given. ``synthetic`` is a frame, or a file already written (by a
    streamed run) that is moved into the folder.

    The files are staged in a hidden sibling folder and renamed into place in one step.
    ``rename`` onto a folder that holds files fails, so when two runs share an ``--out`` the
    second one to finish is refused and the first one's folder stays intact; on any failure
    (disk full, read-only, no permission) the staging folder and any parent folder made for
    it are removed: nothing partial is left.
    """
    out_path = Path(out_path)
    made = [p for p in (out_path.parent, *out_path.parent.parents) if not p.exists()]
    staging = None
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_dir(out_path)
        if isinstance(synthetic, pd.DataFrame):
            write_table(staging / f"synthetic.{fmt}", synthetic, fmt)
        else:
            os.replace(synthetic, staging / f"synthetic.{fmt}")
        write_text_atomic(staging / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        write_text_atomic(staging / "schema.json", schema_json + "\n")
        if scores is not None:
            write_csv_atomic(staging / "scores.csv", scores)
        if config is not None:
            write_text_atomic(staging / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
        try:
            staging.rename(out_path)
        except OSError:
            if out_path.exists():
                raise OutputError(f"output folder {out_path} was created by someone else while this run was "
                                  "writing (two runs with the same --out?); it was left as it is and this "
                                  "run's results were not written") from None
            raise
    except BaseException as err:
        if not isinstance(synthetic, pd.DataFrame):
            Path(synthetic).unlink(missing_ok=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in made:  # innermost first; only the ones this call created, and only if empty
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(err, OSError):
            raise OutputError(f"cannot write the run folder {out_path}: {describe_os_error(err)}") from None
        raise
