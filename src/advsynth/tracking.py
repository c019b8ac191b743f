"""Experiment tracking in MLflow (the optional ``advsynth[mlflow]`` extra; SageMaker's managed tracking is MLflow).

``advsynth run|evaluate|bench --mlflow URI`` logs, after the run folder is written, what the run
folder holds: parameters (the resolved config.json, flattened to dotted keys), metrics (both
adversaries, fidelity with its real-vs-real references, utility, timings; see ``run_metrics``) and
artifacts (metrics.json, config.json, report.html). A benchmark is one parent run with a nested
child run per (dataset, generator, seed). Everything is read back from the folders, so what MLflow
holds is exactly what the files say, and tracking can never change a result.

mlflow is imported lazily: without the extra the rest of advsynth works, and ``--mlflow`` fails
before any work with one line naming the extra. The server is contacted once before the run
starts (a wrong URI fails in a second, not after the experiment), with few retries.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import time
from pathlib import Path

from .errors import AdvsynthError, InputError

DEFAULT_EXPERIMENT = "advsynth"
ARTIFACTS = ("metrics.json", "config.json", "report.html")
MAX_PARAM_CHARS = 500  # MLflow keeps 6,000 characters per parameter; a long list is unreadable long before


class TrackingError(AdvsynthError):
    """MLflow could not be reached or refused what was logged."""


@contextlib.contextmanager
def _quiet():
    """MLflow's and urllib3's own warnings (retries, header plug-ins) off while advsynth talks to the
    server: a failure is reported once, as one ``advsynth: error:`` line."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "urllib3")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _mlflow():
    """The mlflow client module, or one line saying which extra to install."""
    # a wrong or dead URI should fail in seconds: MLflow's defaults retry for minutes
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    try:
        import mlflow  # noqa: F401
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise InputError("--mlflow needs mlflow: pip install 'advsynth[mlflow]'") from None
    return MlflowClient


class Tracker:
    """One MLflow tracking server and experiment; ``connect`` checks both before any work is done."""

    def __init__(self, uri: str, experiment: str = DEFAULT_EXPERIMENT):
        if not uri or not isinstance(uri, str):
            raise InputError("--mlflow needs a tracking URI, e.g. http://127.0.0.1:5000 or sqlite:///mlflow.db")
        self.uri, self.experiment = uri, experiment or DEFAULT_EXPERIMENT
        self.client = None
        self.experiment_id = None

    def connect(self) -> "Tracker":
        client_cls = _mlflow()
        try:
            with _quiet():
                self.client = client_cls(tracking_uri=self.uri)
                found = self.client.get_experiment_by_name(self.experiment)
                self.experiment_id = found.experiment_id if found else self.client.create_experiment(self.experiment)
        except Exception as err:  # mlflow raises MlflowException, requests' errors or OSError by backend
            raise TrackingError(f"cannot use the MLflow tracking server {self.uri}: {_one_line(err)}") from None
        return self

    def log_folder(self, run_dir: str | Path, run_name: str | None = None, parent_run_id: str | None = None,
                   tags: dict | None = None) -> str:
        """Log one run folder (params, metrics, artifacts) as an MLflow run; returns its run id."""
        run_dir = Path(run_dir)
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        config_path = run_dir / "config.json"
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
        all_tags = {"advsynth.run_dir": str(run_dir.resolve()), "advsynth.generator": str(metrics.get("generator")),
                    "advsynth.dataset": str(metrics.get("name")), **(tags or {})}
        if parent_run_id:
            all_tags["mlflow.parentRunId"] = parent_run_id  # what makes MLflow show it nested
        return self._log(run_name or run_dir.name, flat_params(config), run_metrics(metrics), all_tags,
                         [run_dir / name for name in ARTIFACTS if (run_dir / name).exists()])

    def log_parent(self, run_name: str, params: dict, metrics: dict, artifacts: list[Path]) -> str:
        return self._log(run_name, flat_params(params), metrics, {"advsynth.kind": "benchmark"}, artifacts)

    def _log(self, run_name: str, params: dict, metrics: dict, tags: dict, artifacts: list[Path]) -> str:
        with _quiet():
            return self._log_quietly(run_name, params, metrics, tags, artifacts)

    def _log_quietly(self, run_name: str, params: dict, metrics: dict, tags: dict, artifacts: list[Path]) -> str:
        from mlflow.entities import Metric, Param

        try:
            run = self.client.create_run(self.experiment_id, run_name=run_name, tags={k: str(v) for k, v in tags.items()})
            run_id = run.info.run_id
            stamp = int(time.time() * 1000)
            items = sorted(params.items())
            for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
                self.client.log_batch(run_id, params=[Param(k, v) for k, v in items[i:i + 100]])
            values = sorted(metrics.items())
            for i in range(0, len(values), 1000):
                self.client.log_batch(run_id, metrics=[Metric(k, v, stamp, 0) for k, v in values[i:i + 1000]])
            for path in artifacts:
                self.client.log_artifact(run_id, str(path))
            self.client.set_terminated(run_id)
        except Exception as err:
            raise TrackingError(f"logging to MLflow at {self.uri} failed ({_one_line(err)}); the run folder is "
                                "complete, re-log it with the same command's --mlflow later") from None
        return run_id


def _one_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:300]


def flat_params(config: dict, prefix: str = "") -> dict[str, str]:
    """A nested config as MLflow params: dotted keys (``detector.rounds``), values as text, long ones cut."""
    out: dict[str, str] = {}
    for key, value in (config or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_params(value, f"{name}."))
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
            out[name] = text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 1] + "…"
    return out


def _number(value) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _dig(data: dict, *keys):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def run_metrics(metrics: dict) -> dict[str, float]:
    """The headline numbers of a metrics.json, flat, for MLflow (names are stable across versions).

    Detector: ``detector_auc``, ``detector_auc_lo/hi``, ``detector_p_value``, ``null_auc``,
    ``holdout_only_auc``. Privacy: ``privacy_flagged`` (0/1), ``privacy_flags`` (how many tests
    fired), ``mia_distance_auc``, ``mia_density_auc``, ``dcr_share``, ``dcr_share_equal_size``,
    ``dcr_expected``, ``exact_copy_rate``, ``near_copy_rate`` and their chance rates. Fidelity:
    ``mean_ks``, ``mean_tvd``, ``mean_abs_association_diff`` and each one's ``reference_`` value.
    Utility: ``tstr_auc``, ``trtr_auc``, ``auc_gap`` (or the R² ones). Timings: ``time_<phase>_s``.
    A figure the run did not compute is left out, never logged as 0.
    """
    det = metrics.get("detector") or {}
    priv = metrics.get("privacy") or {}
    fid = metrics.get("fidelity") or {}
    tstr = _dig(metrics, "utility", "tstr") or {}
    ci = det.get("roc_auc_ci") or [None, None]
    ref = _dig(fid, "reference", "summary") or {}
    candidates = {
        "detector_auc": det.get("roc_auc"), "detector_auc_lo": ci[0], "detector_auc_hi": ci[1],
        "detector_p_value": det.get("p_value"), "null_auc": det.get("null_roc_auc"),
        "holdout_only_auc": _dig(metrics, "holdout_only", "roc_auc"),
        "n_real": metrics.get("n_real"), "n_synthetic": metrics.get("n_synthetic"),
        "mia_distance_auc": _dig(priv, "membership", "attacks", "distance", "roc_auc"),
        "mia_density_auc": _dig(priv, "membership", "attacks", "density_ratio", "roc_auc"),
        "dcr_share": _dig(priv, "dcr", "share"), "dcr_share_equal_size": _dig(priv, "dcr", "share_equal_size"),
        "dcr_expected": _dig(priv, "dcr", "expected"),
        "exact_copy_rate": _dig(priv, "copies", "exact", "rate"),
        "exact_copy_chance_rate": _dig(priv, "copies", "exact", "chance_rate"),
        "near_copy_rate": _dig(priv, "copies", "near", "rate"),
        "near_copy_chance_rate": _dig(priv, "copies", "near", "chance_rate"),
        "mean_ks": _dig(fid, "summary", "mean_ks"), "mean_tvd": _dig(fid, "summary", "mean_tvd"),
        "mean_ks_holdout_size": ref.get("synthetic_mean_ks"), "mean_tvd_holdout_size": ref.get("synthetic_mean_tvd"),
        "reference_mean_ks": ref.get("mean_ks"), "reference_mean_tvd": ref.get("mean_tvd"),
        "mean_abs_association_diff": ref.get("synthetic_mean_abs_association_diff"),
        "reference_mean_abs_association_diff": ref.get("mean_abs_association_diff"),
        "tstr_auc": _dig(tstr, "tstr", "auc"), "trtr_auc": _dig(tstr, "trtr", "auc"), "auc_gap": tstr.get("auc_gap"),
        "tstr_r2": _dig(tstr, "tstr", "r2"), "trtr_r2": _dig(tstr, "trtr", "r2"), "r2_gap": tstr.get("r2_gap"),
    }
    if priv:
        candidates["privacy_flagged"] = bool(priv.get("flagged"))
        candidates["privacy_flags"] = len(priv.get("flags") or [])
    for phase, seconds in (metrics.get("timings_s") or {}).items():
        candidates[f"time_{phase}_s"] = seconds
    return {k: v for k, v in ((k, _number(v)) for k, v in candidates.items()) if v is not None}


def log_benchmark(tracker: Tracker, bench_dir: str | Path, bench_config: dict) -> str:
    """A benchmark as one parent run (its config, run count, summary artifacts) with a nested run per
    run folder listed in results.csv; returns the parent's run id."""
    import pandas as pd

    bench_dir = Path(bench_dir)
    results = pd.read_csv(bench_dir / "results.csv")
    artifacts = [bench_dir / n for n in ("results.csv", "summary.md", "benchmark.json", "comparison.html")
                 if (bench_dir / n).exists()]
    flagged = results["privacy_flagged"].astype(str).str.lower().eq("true").sum() if "privacy_flagged" in results else 0
    parent = tracker.log_parent(bench_config.get("name") or bench_dir.name, bench_config,
                                {"runs": float(len(results)), "runs_privacy_flagged": float(flagged)}, artifacts)
    for _, row in results.iterrows():
        run_dir = bench_dir / str(row["run_dir"])
        if (run_dir / "metrics.json").exists():
            tracker.log_folder(run_dir, run_name=run_dir.name, parent_run_id=parent,
                               tags={"advsynth.variant": str(row["generator"]), "advsynth.seed": str(row["seed"])})
    return parent


def add_tracking_options(parser: argparse.ArgumentParser) -> None:
    """``--mlflow URI`` and ``--mlflow-experiment NAME``, worded once for run, evaluate and bench."""
    group = parser.add_argument_group("tracking (advsynth[mlflow])")
    group.add_argument("--mlflow", metavar="URI", help="also log the run to this MLflow tracking server (e.g. "
                       "http://127.0.0.1:5000): config as parameters, both adversaries' figures, fidelity with its "
                       "references, utility and timings as metrics, metrics.json, config.json and report.html as "
                       "artifacts; a benchmark is a parent run with a nested run per run folder")
    group.add_argument("--mlflow-experiment", metavar="NAME", default="advsynth",
                       help="MLflow experiment to log into (created if absent; default advsynth)")


def tracking_from_args(args: argparse.Namespace):
    """The MLflow tracker of ``--mlflow URI`` (connected, so a wrong URI fails before any work), or None."""
    if not getattr(args, "mlflow", None):
        return None
    return Tracker(args.mlflow, args.mlflow_experiment).connect()
