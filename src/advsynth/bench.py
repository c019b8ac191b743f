"""Benchmarks: every generator variant × dataset × seed, with progress, a CSV and a summary.

A benchmark config (``config/benchmark.yaml``) names generator *variants* (a generator
type plus parameters, e.g. ``gmm_bic: {type: gmm, params: {criterion: bic}}``) and
*datasets* (an experiment config such as ``config/adult.yaml``, a scikit-learn toy table
such as ``sklearn: wine``, or a CSV). ``run_benchmark`` runs each combination through
``advsynth.run.run`` (the function behind ``advsynth run``, so the benchmark measures what
users run) and writes::

    OUT/results.csv        one row per finished run (rewritten atomically after each run)
    OUT/summary.md         mean ± 95 % interval of the AUC per dataset × generator, timings
    OUT/benchmark.json     the resolved benchmark config, its hash, the machine
    OUT/data/NAME.csv      scikit-learn tables materialised as CSV (so runs are reproducible)
    OUT/runs/DATASET-GENERATOR-sSEED/   the run folder (synthetic.csv, metrics.json, …)

Cost saving: the null AUC (the detector on real vs real) does not depend on the
generator, so it is computed once per dataset × seed (``advsynth.detection.null_on_real``,
the same protocol ``advsynth run`` uses) and handed to each generator's ``run(...,
null=...)``, which writes it into that run's folder like its own (``null_s`` in
results.csv is its one-off time). Run folders are written once, by ``run``; the benchmark
never reopens them.

Every detector setting is an ``advsynth.protocol.DetectorConfig``: the dataset config's
``detector`` section, overridden by the benchmark's and then the dataset entry's
(``detector_config``).

Fidelity, privacy and utility come from ``advsynth.run`` itself (``evaluate_extras``), so a
benchmark run's metrics.json holds the same figures as an ``advsynth run``.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .config import check_keys, read_yaml
from .errors import ConfigError, InputError
from .history import HistoryStore, config_hash, make_record
from .stats import mean_interval

log = logging.getLogger(__name__)

SKLEARN_TABLES = ("wine", "breast_cancer", "iris")
_TOP_KEYS = {"name", "seeds", "datasets", "generators", "detector", "extras", "history", "rows"}
_DATASET_KEYS = {"config", "sklearn", "csv", "target", "rows", "detector", "types"}
_GENERATOR_KEYS = {"type", "params"}

# results.csv columns, in order (extras columns are empty when extras are off)
RESULT_COLUMNS = [
    "dataset", "generator", "generator_type", "seed", "n_real", "n_synthetic",
    "roc_auc", "roc_auc_lo", "roc_auc_hi", "null_roc_auc", "null_lo", "null_hi", "p_value", "precision", "recall",
    "fit_s", "sample_s", "detect_s", "null_s", "extras_s", "total_s", "fit_rows_per_s", "rows_per_s",
    "mean_ks", "mean_tvd", "mean_abs_corr_diff", "exact_match_rate", "holdout_exact_match_rate", "dcr_ratio",
    "privacy_flagged", "privacy_flags", "mia_auc", "mia_density_auc", "dcr_share", "near_copy_rate",
    "tstr_auc", "trtr_auc", "auc_gap", "holdout_only_auc", "run_dir",
]


# --------------------------------------------------------------------------- config


@dataclass
class DatasetSpec:
    name: str
    kind: str  # "config" | "sklearn" | "csv"
    source: str  # config path, sklearn table name, or CSV path
    target: str | None = None
    rows: int | None = None
    detector: dict = field(default_factory=dict)
    types: dict = field(default_factory=dict)


@dataclass
class GeneratorSpec:
    name: str
    type: str
    params: dict = field(default_factory=dict)


@dataclass
class BenchConfig:
    name: str
    seeds: list[int]
    datasets: list[DatasetSpec]
    generators: list[GeneratorSpec]
    detector: dict = field(default_factory=dict)
    extras: bool = False
    history: str | None = None
    rows: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def hash(self) -> str:
        return config_hash(self.to_dict())

    def select(self, datasets=None, generators=None, seeds=None) -> "BenchConfig":
        """A copy restricted to the named datasets / generator variants / seeds (None keeps all)."""
        cfg = copy.deepcopy(self)
        for attr, wanted in (("datasets", datasets), ("generators", generators)):
            if wanted:
                have = {s.name: s for s in getattr(cfg, attr)}
                unknown = [w for w in wanted if w not in have]
                if unknown:
                    raise ConfigError(f"unknown {attr[:-1]}(s) {', '.join(unknown)}; the config has {', '.join(have)}")
                setattr(cfg, attr, [have[w] for w in wanted])
        if seeds:
            cfg.seeds = [int(s) for s in seeds]
        return cfg


def load_bench_config(path: str | Path, only: list[str] | None = None) -> BenchConfig:
    """Read and check a benchmark YAML; paths inside it are relative to the file. ``only``: the
    variants that will run (None: all); only their plug-ins are imported and checked, so a config
    with SDV variants runs its other variants where SDV is not installed."""
    path = Path(path)
    raw = read_yaml(path, "benchmark config", _TOP_KEYS)
    for key in ("datasets", "generators"):
        if not isinstance(raw.get(key), dict) or not raw[key]:
            raise ConfigError(f"benchmark config {path} needs a non-empty '{key}' mapping")
    seeds = raw.get("seeds", [0])
    if isinstance(seeds, int):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise ConfigError(f"'seeds' must be a list of integers, got {seeds!r}")

    from .synthesizers import GENERATORS, is_plugin, make_generator

    generators = []
    for name, spec in raw["generators"].items():
        spec = spec or {}
        check_keys(spec, _GENERATOR_KEYS, f"generators.{name}")
        gtype = str(spec.get("type", name))
        if is_plugin(gtype):
            if only is None or name in only:  # imported and checked now, not hours in
                make_generator(gtype, **dict(spec.get("params") or {}))
        elif gtype not in GENERATORS:
            raise ConfigError(f"generators.{name}: unknown type {gtype!r}; choose one of {', '.join(GENERATORS)}")
        generators.append(GeneratorSpec(str(name), gtype, dict(spec.get("params") or {})))

    datasets = []
    for name, spec in raw["datasets"].items():
        spec = spec or {}
        check_keys(spec, _DATASET_KEYS, f"datasets.{name}")
        kinds = [k for k in ("config", "sklearn", "csv") if k in spec]
        if len(kinds) != 1:
            raise ConfigError(f"datasets.{name} needs exactly one of 'config', 'sklearn' or 'csv'")
        kind = kinds[0]
        source = str(spec[kind])
        if kind == "sklearn" and source not in SKLEARN_TABLES:
            raise ConfigError(f"datasets.{name}: unknown scikit-learn table {source!r}; choose one of {', '.join(SKLEARN_TABLES)}")
        if kind in ("config", "csv") and not source.startswith("s3://") and not Path(source).is_absolute():
            source = str((path.parent / source).resolve())
        datasets.append(DatasetSpec(str(name), kind, source, spec.get("target"), spec.get("rows"),
                                    dict(spec.get("detector") or {}), dict(spec.get("types") or {})))
    history = raw.get("history")
    # every detector section must be a valid DetectorConfig on its own (typos fail here, not mid-benchmark)
    from .protocol import DetectorConfig

    DetectorConfig.from_dict(raw.get("detector"), "benchmark detector")
    for spec in datasets:
        DetectorConfig.from_dict({**(raw.get("detector") or {}), **spec.detector}, f"datasets.{spec.name}.detector")
    return BenchConfig(
        name=str(raw.get("name", path.stem)), seeds=[int(s) for s in seeds], datasets=datasets,
        generators=generators, detector=dict(raw.get("detector") or {}), extras=bool(raw.get("extras", False)),
        history=None if history is None else str(history), rows=raw.get("rows"),
    )


# --------------------------------------------------------------------------- datasets


def load_sklearn_table(name: str) -> tuple[pd.DataFrame, str]:
    """A scikit-learn toy table (shipped with scikit-learn, no download) and its target column."""
    import sklearn.datasets as skd

    loader = getattr(skd, f"load_{name}", None)
    if name not in SKLEARN_TABLES or loader is None:
        raise ConfigError(f"unknown scikit-learn table {name!r}; choose one of {', '.join(SKLEARN_TABLES)}")
    frame = loader(as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_").replace("(", "").replace(")", "") for c in frame.columns]
    return frame, "target"


def dataset_run_config(spec: DatasetSpec, data_dir: Path):
    """The ``RunConfig`` of one dataset (scikit-learn tables are written to ``data_dir`` first)."""
    from .config import DataConfig, RunConfig, load_config

    if spec.kind == "config":
        cfg = load_config(spec.source)
    elif spec.kind == "csv":
        cfg = RunConfig(data=DataConfig(path=spec.source), name=spec.name)
    else:
        frame, target = load_sklearn_table(spec.source)
        csv = data_dir / f"{spec.name}.csv"
        if not csv.exists():
            from .io import write_csv_atomic

            write_csv_atomic(csv, frame)
        cfg = RunConfig(data=DataConfig(path=str(csv), types={target: "categorical"}), name=spec.name, target=target)
    cfg.name = spec.name
    if spec.target is not None:
        cfg.target = spec.target
    if spec.types:
        cfg.data.types = {**cfg.data.types, **spec.types}
    return cfg


# --------------------------------------------------------------------------- extras


def extras_columns(extras: dict | None) -> dict:
    """The few extras figures results.csv and the history keep (the full dicts stay in metrics.json)."""
    if not extras:
        return {}
    fs = extras["fidelity"]["summary"]
    priv = extras["privacy"]
    tstr = (extras.get("utility") or {}).get("tstr") or {}
    attacks = (priv.get("membership") or {}).get("attacks") or {}
    return {
        "mean_ks": fs.get("mean_ks"),
        "mean_tvd": fs.get("mean_tvd"),
        "mean_abs_corr_diff": fs.get("mean_abs_corr_diff"),
        "exact_match_rate": priv.get("exact_match_rate"),
        "holdout_exact_match_rate": priv.get("holdout_exact_match_rate"),
        "dcr_ratio": priv["dcr"].get("ratio_median"),
        "privacy_flagged": bool(priv.get("flagged")),
        "privacy_flags": ",".join(f["test"] for f in priv.get("flags") or []),
        "mia_auc": (attacks.get("distance") or {}).get("roc_auc"),
        "mia_density_auc": (attacks.get("density_ratio") or {}).get("roc_auc"),
        "dcr_share": priv["dcr"].get("share_equal_size"),
        "near_copy_rate": (priv.get("copies") or {}).get("near", {}).get("rate"),
        "tstr_auc": (tstr.get("tstr") or {}).get("auc"),
        "trtr_auc": (tstr.get("trtr") or {}).get("auc"),
        "auc_gap": tstr.get("auc_gap"),
        "extras_s": round(sum(extras["timings_s"].values()), 3),
    }


# --------------------------------------------------------------------------- running


def detector_config(base, bench: dict, dataset: dict):
    """The DetectorConfig of one dataset: the dataset config's detector section, overridden by the
    benchmark's ``detector:`` and then the dataset entry's own; DetectorConfig fills the rest."""
    from .protocol import DetectorConfig

    base = base.to_dict() if isinstance(base, DetectorConfig) else dict(base or {})
    return DetectorConfig.from_dict({**base, **(bench or {}), **(dataset or {})}, "benchmark detector")


def result_row(dataset: str, gen: GeneratorSpec, seed: int, metrics: dict, run_dir: str,
               null_s: float | None = None) -> dict:
    """One results.csv row; ``null_s`` is the time of a null computed once for several runs."""
    det, t = metrics["detector"], metrics["timings_s"]
    ci, nci = det.get("roc_auc_ci") or [None, None], det.get("null_roc_auc_ci") or [None, None]
    fit_s, sample_s = t.get("fit"), t.get("sample")
    row = {
        "dataset": dataset, "generator": gen.name, "generator_type": gen.type, "seed": seed,
        "n_real": metrics["n_real"], "n_synthetic": metrics["n_synthetic"],
        "roc_auc": det["roc_auc"], "roc_auc_lo": ci[0], "roc_auc_hi": ci[1],
        "null_roc_auc": det.get("null_roc_auc"), "null_lo": nci[0], "null_hi": nci[1],
        "p_value": det["p_value"], "precision": det["precision"], "recall": det["recall"],
        "fit_s": fit_s, "sample_s": sample_s, "detect_s": t.get("detect"), "null_s": null_s if null_s is not None else t.get("null_overlapped"),
        "total_s": t.get("total"),
        "fit_rows_per_s": round(metrics["n_real"] / fit_s, 1) if fit_s else None,
        "rows_per_s": round(metrics["n_synthetic"] / sample_s, 1) if sample_s else None,
        "holdout_only_auc": (metrics.get("holdout_only") or {}).get("roc_auc"),
        "run_dir": run_dir,
    }
    row.update(extras_columns(metrics.get("extras_for_bench")))
    return {c: row.get(c) for c in RESULT_COLUMNS}


def _fmt_s(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def stderr_progress(event: dict) -> None:
    """Default progress: one line per finished run on stderr, with elapsed time and ETA."""
    if event["event"] != "run_done":
        return
    r = event["row"]
    print(f"[{event['done']}/{event['total']}] {r['dataset']} {r['generator']} seed {r['seed']}: "
          f"AUC {r['roc_auc']:.3f} [{r['roc_auc_lo']:.3f}, {r['roc_auc_hi']:.3f}] "
          f"fit {r['fit_s']:.1f}s sample {r['sample_s']:.1f}s detect {r['detect_s']:.1f}s | "
          f"elapsed {_fmt_s(event['elapsed_s'])}, ETA {_fmt_s(event['eta_s'])}", file=sys.stderr, flush=True)


def _eta(durations: dict, plan: list, done: int) -> float:
    """Remaining seconds: each pending run costs the mean of finished runs of its dataset × generator,
    else the mean of finished runs of its generator, else of all finished runs."""
    all_d = [d for ds in durations.values() for d in ds]
    if not all_d:
        return float("nan")
    by_gen: dict = {}
    for (ds, g), values in durations.items():
        by_gen.setdefault(g, []).extend(values)
    total = 0.0
    for ds, gen, _seed in plan[done:]:
        pool = durations.get((ds.name, gen.name)) or by_gen.get(gen.name) or all_d
        total += float(np.mean(pool))
    return total


def machine_info() -> dict:
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "loadavg": load, "platform": platform.platform(), "python": platform.python_version()}


def run_benchmark(bench_cfg: BenchConfig, out_dir: str | Path, history=None,
                  progress: Callable[[dict], None] | None = stderr_progress) -> pd.DataFrame:
    """Run every dataset × seed × generator variant; returns the results table (also OUT/results.csv).

    ``history`` is a ``HistoryStore`` (or a location string) that receives one record per
    run as soon as the run is done, so an interrupted benchmark keeps its finished runs.
    ``progress(event)`` is called with ``{"event": "run_done", "done", "total", "row",
    "elapsed_s", "eta_s"}`` after each run (and ``"start"`` before the first); an
    exception it raises stops the benchmark (the finished runs stay written).
    """
    from .detection import null_on_real
    from .io import write_csv_atomic, write_text_atomic
    from .config import load_real
    from .run import run
    from .schema import infer_schema

    out = Path(out_dir)
    if (out / "results.csv").exists():
        raise InputError(f"benchmark folder already holds results: {out} (choose a new one)")
    if isinstance(history, (str, os.PathLike)):
        history = HistoryStore(str(history))
    progress = progress or (lambda event: None)
    out.mkdir(parents=True, exist_ok=True)
    bench_hash = bench_cfg.hash()
    bench_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{bench_hash[:8]}"
    write_text_atomic(out / "benchmark.json", json.dumps(
        {"bench_id": bench_id, "config": bench_cfg.to_dict(), "config_hash": bench_hash, "machine": machine_info()},
        indent=2, default=str) + "\n")

    plan = [(ds, gen, seed) for ds in bench_cfg.datasets for seed in bench_cfg.seeds for gen in bench_cfg.generators]
    rows: list[dict] = []
    durations: dict = {}
    start = time.perf_counter()
    progress({"event": "start", "done": 0, "total": len(plan), "bench_id": bench_id})
    cache: dict = {}
    for i, (ds, gen, seed) in enumerate(plan):
        run_start = time.perf_counter()
        if ds.name not in cache:
            cfg = dataset_run_config(ds, out / "data")
            real = load_real(cfg)
            cache.clear()  # one dataset in memory at a time
            cache[ds.name] = (cfg, real, infer_schema(real, cfg.data.types), {})
        base_cfg, real, schema, nulls = cache[ds.name]
        detector = detector_config(base_cfg.detector, bench_cfg.detector, ds.detector)
        params = {**base_cfg.generator_params(gen.type), **gen.params}
        # ``adversarial`` is a run setting, not a generator parameter: a variant may set it (race.yaml)
        adversarial = params.pop("adversarial", base_cfg.adversarial)
        cfg = replace(base_cfg, seed=int(seed), generator=gen.type, generators={gen.type: params},
                      adversarial=adversarial, detector=detector, rows=ds.rows or bench_cfg.rows or base_cfg.rows, extras=bench_cfg.extras)
        run_dir = out / "runs" / f"{ds.name}-{gen.name}-s{seed}"
        null = null_s = None
        if detector.null:
            # The null depends on the real table, the seed and the protocol only: computed once per
            # dataset × seed and handed to every generator's run, which writes it with its own files.
            if seed not in nulls:
                t = time.perf_counter()
                nulls[seed] = (null_on_real(real, detector, schema=schema, seed=seed, nthread=detector.nthread),
                               round(time.perf_counter() - t, 3))
            null, null_s = nulls[seed]
        metrics = run(cfg, run_dir, generator=gen.type, null=null)
        run_config = {"data": asdict(cfg.data), "name": cfg.name, "seed": cfg.seed, "target": cfg.target,
                      "generator": gen.type, "generator_variant": gen.name, "generators": cfg.generators,
                      "detector": detector.to_dict(), "rows": cfg.rows}
        extras = None
        if bench_cfg.extras:
            extras = {k: metrics[k] for k in ("fidelity", "privacy", "utility")}
            extras["timings_s"] = {"extras": metrics["timings_s"].get("extras_overlapped", metrics["timings_s"].get("extras"))}
        row = result_row(ds.name, gen, int(seed), {**metrics, "extras_for_bench": extras}, str(run_dir.relative_to(out)),
                         null_s=null_s)
        rows.append(row)
        write_csv_atomic(out / "results.csv", pd.DataFrame(rows, columns=RESULT_COLUMNS))
        if history is not None:
            summary = {k: row[k] for k in RESULT_COLUMNS if k not in ("dataset", "generator", "seed", "run_dir")}
            history.append(make_record(
                dataset=ds.name, generator=gen.name, seed=int(seed), config=run_config,
                metrics={"summary": summary, "detector": metrics["detector"], "timings_s": metrics["timings_s"]},
                bench_id=bench_id, bench_config_hash=bench_hash,
            ))
        durations.setdefault((ds.name, gen.name), []).append(time.perf_counter() - run_start)
        progress({"event": "run_done", "done": i + 1, "total": len(plan), "row": row,
                  "elapsed_s": time.perf_counter() - start, "eta_s": _eta(durations, plan, i + 1)})
    results = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    write_text_atomic(out / "summary.md", summary_markdown(results, bench_cfg, bench_id,
                                                          time.perf_counter() - start))
    return results


# --------------------------------------------------------------------------- summary


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset × generator: the AUC's mean over seeds with two kinds of uncertainty
    side by side, timings and extras means.

    * ``auc_sd`` and ``auc_t_pm``: the spread across generator seeds (sample SD, and the half
      width of the 95 % Student-t interval of the mean; None with one seed). This is the
      variation a user sees when re-running the generator.
    * ``delong_pm``: the mean half width of the runs' own DeLong intervals. It covers only the
      detector's split noise for one synthetic draw, not the generator's seed-to-seed
      variation, so neither figure stands in for the other (``benchmarks/bench_adult.py`` prints both).
    """
    out = []
    for (ds, gen), g in results.groupby(["dataset", "generator"], sort=False):
        auc, half = mean_interval(g["roc_auc"])
        aucs = pd.to_numeric(g["roc_auc"], errors="coerce").dropna()
        delong = (pd.to_numeric(g["roc_auc_hi"], errors="coerce") - pd.to_numeric(g["roc_auc_lo"], errors="coerce")) / 2
        row = {"dataset": ds, "generator": gen, "seeds": len(g), "auc_mean": auc,
               "auc_sd": float(aucs.std(ddof=1)) if len(aucs) >= 2 else None, "auc_t_pm": half,
               "delong_pm": float(delong.mean()) if delong.notna().any() else None,
               "null_mean": pd.to_numeric(g["null_roc_auc"], errors="coerce").mean()}
        for col in ("holdout_only_auc", "fit_s", "sample_s", "detect_s", "rows_per_s", "mean_ks", "mean_tvd", "dcr_ratio",
                    "auc_gap", "mia_auc", "mia_density_auc", "dcr_share"):
            row[col] = pd.to_numeric(g[col], errors="coerce").mean()
        flagged = g["privacy_flagged"].map(_truthy)
        row["flagged_seeds"] = int(flagged.sum()) if g["privacy_flagged"].notna().any() else None
        row["privacy_flags"] = ",".join(sorted({t for v in g["privacy_flags"].dropna() for t in str(v).split(",") if t}))
        out.append(row)
    return rank_generators(pd.DataFrame(out))


def _truthy(value) -> bool:
    """results.csv's ``privacy_flagged``, read back from CSV (True/False/'True'/NaN)."""
    return str(value).strip().lower() in ("true", "1", "1.0")


def rank_generators(summary: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, the generators by mean AUC among those the privacy adversary never flagged; a
    generator flagged on any seed gets no rank and goes last, whatever its AUC: a copier must
    never top the table (``rank`` 1 is the winner)."""
    if summary.empty:
        return summary.assign(rank=pd.Series(dtype="Int64"))
    flagged = summary["flagged_seeds"].fillna(0) > 0
    ordered = summary.assign(_flagged=flagged).sort_values(["dataset", "_flagged", "auc_mean"], kind="stable")
    ordered["rank"] = pd.array([None] * len(ordered), dtype="Int64")
    for _, idx in ordered[~ordered["_flagged"]].groupby("dataset", sort=False).groups.items():
        ordered.loc[idx, "rank"] = range(1, len(idx) + 1)
    order = {d: i for i, d in enumerate(dict.fromkeys(summary["dataset"]))}
    ordered = ordered.sort_values("dataset", key=lambda c: c.map(order), kind="stable")
    return ordered.drop(columns="_flagged").reset_index(drop=True)


def _f(value, fmt: str) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def privacy_cell(row) -> str:
    """A summary row's privacy verdict in words: "clean", "FLAGGED 3/3 (exact_copies, ...)", or "–" without extras."""
    if row.get("flagged_seeds") is None or pd.isna(row.get("flagged_seeds")):
        return "–"
    if not row["flagged_seeds"]:
        return "clean"
    return f"**FLAGGED** {int(row['flagged_seeds'])}/{row['seeds']} ({row['privacy_flags'].replace(',', ', ')})"


def summary_markdown(results: pd.DataFrame, bench_cfg: BenchConfig | None = None, bench_id: str = "",
                     elapsed_s: float | None = None) -> str:
    s = summarise(results)
    lines = [f"# Benchmark {bench_cfg.name if bench_cfg else ''} {bench_id}".rstrip(), ""]
    if elapsed_s is not None:
        lines.append(f"{len(results)} runs in {_fmt_s(elapsed_s)} on {os.cpu_count()} CPUs "
                     f"(load average {machine_info()['loadavg']}).")
        lines.append("")
    lines += [
        "Detector ROC-AUC: 0.5 = synthetic rows indistinguishable from real, 1.0 = trivially detected. "
        "Two kinds of uncertainty, side by side: **seed SD** and **± t95** are the spread of the AUC across "
        "generator seeds (SD, and the half width of the 95 % Student-t interval of the mean; – with one seed); "
        "**± DeLong** is the mean half width of the runs' DeLong 95 % intervals, which cover only the detector's "
        "split noise for one synthetic draw, not the generator's seed-to-seed variation. "
        "Holdout-only = the same detector with its real rows limited to the holdout the generator never saw "
        "(weaker for having fewer rows, but free of synthetic twins of training rows; – without extras). "
        "Null = real-vs-real AUC. Times are means per run in seconds; rows/s is sampling throughput. "
        "**Privacy**: the second adversary's verdict (flagged on how many seeds, and which tests fired); "
        "**MIA AUC**: the distance membership attack's ROC-AUC (0.5 = nothing leaks); **DCR share**: the share of "
        "synthetic rows closest to a training row, for equal-size reference sets (50 % expected). Generators are "
        "ranked by AUC among the unflagged; a flagged generator gets no rank, whatever its AUC.",
        "",
        "| rank | dataset | generator | seeds | AUC mean | seed SD | ± t95 (seeds) | ± DeLong (split) | holdout-only AUC "
        "| null AUC | privacy | MIA AUC | DCR share | fit s | sample s | detect s | rows/s | mean KS | mean TVD "
        "| DCR ratio | TSTR AUC gap |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for _, r in s.iterrows():
        lines.append(
            f"| {'–' if pd.isna(r['rank']) else int(r['rank'])} | {r['dataset']} | {r['generator']} | {r['seeds']} "
            f"| {r['auc_mean']:.3f} | {_f(r['auc_sd'], '.3f')} "
            f"| {_f(r['auc_t_pm'], '.3f')} | {_f(r['delong_pm'], '.3f')} | {_f(r['holdout_only_auc'], '.3f')} "
            f"| {_f(r['null_mean'], '.3f')} | {privacy_cell(r)} | {_f(r['mia_auc'], '.3f')} | {_f(r['dcr_share'], '.1%')} "
            f"| {_f(r['fit_s'], '.2f')} | {_f(r['sample_s'], '.2f')} "
            f"| {_f(r['detect_s'], '.2f')} | {_f(r['rows_per_s'], ',.0f')} | {_f(r['mean_ks'], '.3f')} "
            f"| {_f(r['mean_tvd'], '.3f')} | {_f(r['dcr_ratio'], '.2f')} | {_f(r['auc_gap'], '.3f')} |"
        )
    return "\n".join(lines) + "\n"
