"""The four container commands of the pipeline, thin shells over the library.

``python -m advsynth.sagemaker COMMAND [ARGS]``:

* ``generator-train`` (training job, channel ``train``): fit the PCA+GMM generator,
  write ``generator.joblib`` + ``schema.json`` to ``/opt/ml/model``.
* ``sample`` (processing): load the generator from ``processing/model``, draw the
  synthetic table and write the detector's splits in built-in XGBoost CSV format
  (label first, no header) plus ``features.json``.
* ``detector-train`` (training job, channels ``train`` and ``validation``): the
  built-in XGBoost algorithm contract; writes ``/opt/ml/model/xgboost-model``.
* ``evaluate`` (processing): score the held-out split, the real-vs-real null, the
  column importance; writes ``evaluation.json`` = ``{"detector": {...}}`` with the
  keys of ``metrics.json``'s ``detector`` section.

Every statistic and encoding comes from ``advsynth.detection`` / the synthesizers;
what is here is file handling. Outputs are written atomically and only to output
folders; archives are extracted into a temporary folder, never into an input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..io import read_table, write_text_atomic
from . import contract
from .contract import Hyperparameter as HP

log = logging.getLogger(__name__)

GENERATOR_FILE = "generator.joblib"
SCHEMA_FILE = "schema.json"
XGBOOST_MODEL_FILE = "xgboost-model"
DETECTOR_META_FILE = "advsynth-detector.json"
MODEL_ARCHIVE = "model.tar.gz"
FEATURES_FILE = "features.json"
SYNTHETIC_FILE = "synthetic.csv"
TRAIN_FILE = "train.csv"
VALIDATION_FILE = "validation.csv"
EVALUATION_FILE = "evaluation.json"
MIN_ROWS_PER_CLASS = 10

GENERATOR_HYPERPARAMETERS: Dict[str, HP] = {
    "pca_variance": HP(float),
    "min_components": HP(int),
    "max_components": HP(int),
    "n_candidates": HP(int),
    "criterion": HP(str),
    "covariance_type": HP(str),
    "selection_rows": HP(int),
    "fit_rows": HP(int, allow_none=True),
    "max_iter": HP(int),
    "n_init": HP(int),
    "seed": HP(int, default=0),
}

# The built-in XGBoost algorithm's names; only the given ones reach xgboost.train
# (advsynth.protocol.DetectorConfig fills the rest).
DETECTOR_HYPERPARAMETERS: Dict[str, HP] = {
    "num_round": HP(int, required=True),
    "early_stopping_rounds": HP(int),
    "objective": HP(str),
    "eval_metric": HP(str),
    "max_depth": HP(int),
    "eta": HP(float),
    "gamma": HP(float),
    "min_child_weight": HP(float),
    "max_delta_step": HP(float),
    "subsample": HP(float),
    "colsample_bytree": HP(float),
    "colsample_bylevel": HP(float),
    "colsample_bynode": HP(float),
    "lambda": HP(float),
    "alpha": HP(float),
    "scale_pos_weight": HP(float),
    "tree_method": HP(str),
    "max_bin": HP(int),
    "nthread": HP(int),
    "seed": HP(int, default=0),
    "verbosity": HP(int),
}


# ---------------------------------------------------------------- helpers
@contextlib.contextmanager
def _atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed onto it when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _metric(name: str, value) -> None:
    """One ``name: value`` line on stdout (what the pipeline's metric regexes match)."""
    print(f"{name}: {value}", flush=True)


class _Parser(argparse.ArgumentParser):
    """argparse that raises ConfigError (one line, failure file) instead of exiting."""

    def error(self, message):  # noqa: D102
        raise ConfigError(f"{self.prog}: {message}")


def _read_real(folder: Path, what: str) -> pd.DataFrame:
    return read_table(contract.single_data_file(folder, what))


def _safe_member_name(name: str) -> Optional[str]:
    """The member's relative path if it is a plain path inside the archive, else None."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return None
    parts = [p for p in path.parts if p not in ("", ".")]
    return "/".join(parts) if parts else None


def extract_model(model_input: Path, wanted: Sequence[str], what: str = "model") -> Path:
    """Make the model files ``wanted`` available in a fresh temporary folder; return it.

    ``model_input`` is the processing input folder of a model artifact: it holds
    ``model.tar.gz`` (what SageMaker downloads for ``ModelArtifacts.S3ModelArtifacts``)
    or, already extracted, the files themselves. Only regular files with plain
    relative names are extracted (no links, devices or ``..``), so a crafted archive
    cannot write outside the temporary folder; the input folder is never written to.
    The caller removes the folder.
    """
    target = Path(tempfile.mkdtemp(prefix="advsynth-model-"))
    try:
        files = contract.data_files(model_input, f"{what} input")
        archives = [p for p in files if p.name.endswith((".tar.gz", ".tgz", ".tar"))]
        if archives:
            if len(archives) > 1:
                raise InputError(f"{what} input holds several archives: {', '.join(p.name for p in archives)}")
            try:
                with tarfile.open(archives[0]) as tar:
                    for member in tar.getmembers():
                        rel = _safe_member_name(member.name)
                        if rel is None or not member.isfile():
                            continue
                        dest = target / rel
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        source = tar.extractfile(member)
                        with open(dest, "wb") as out:
                            shutil.copyfileobj(source, out)
            except (tarfile.TarError, EOFError, OSError) as err:
                raise InputError(f"{what} archive {archives[0].name} cannot be read: {err}") from None
        else:
            for path in files:
                dest = target / path.relative_to(model_input)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
        for name in wanted:
            if not (target / name).is_file():
                raise InputError(f"{what} artifact lacks {name} (looked in {model_input})")
        return target
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _format_matrix(y: np.ndarray, X: np.ndarray) -> str:
    """Built-in XGBoost CSV: label first, no header, numbers only, NaN as an empty field."""
    frame = pd.DataFrame(np.asarray(X, dtype=np.float64))
    frame.insert(0, "label", np.asarray(y).astype(np.int64))
    return frame.to_csv(index=False, header=False, na_rep="", float_format="%.9g", lineterminator="\n")


def read_xgboost_csv(folder: Path, what: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read the CSV file(s) of a built-in-XGBoost channel: label first, no header, numbers."""
    frames = []
    for path in contract.data_files(folder, what):
        frame = read_table(path, header=False)
        non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if non_numeric:
            col = non_numeric[0]
            example = frame[col].dropna().astype(str).iloc[0] if frame[col].notna().any() else ""
            raise InputError(
                f"{what}: {path.name} column {int(col) + 1} is not numeric (e.g. {example!r}); "
                "expected numbers only, label first, no header"
            )
        frames.append(frame)
    widths = {f.shape[1] for f in frames}
    if len(widths) > 1:
        raise InputError(f"{what}: files have different numbers of columns: {sorted(widths)}")
    data = pd.concat(frames, ignore_index=True).to_numpy(dtype=np.float64)
    if data.shape[1] < 2:
        raise InputError(f"{what}: need a label column and at least one feature, got {data.shape[1]} column(s)")
    y = data[:, 0]
    if np.isnan(y).any():
        raise InputError(f"{what}: the label (first column) is missing in {int(np.isnan(y).sum())} row(s)")
    return data[:, 1:], y


# ---------------------------------------------------------------- generator-train
def generator_train(argv: Optional[List[str]] = None) -> None:
    from ..schema import infer_schema
    from ..synthesizers import make_generator

    _Parser(prog="generator-train", description="Fit the generator (SageMaker training job).").parse_args(argv or [])
    hp = contract.read_hyperparameters(GENERATOR_HYPERPARAMETERS)
    seed = hp.pop("seed")
    generator = make_generator("gmm", random_state=seed, **hp)  # validates names; fit validates values
    real = _read_real(contract.channel_dir("train"), "input channel 'train'")
    schema = infer_schema(real)
    start = time.perf_counter()
    generator.fit(real, schema)
    fit_seconds = time.perf_counter() - start

    out = contract.model_dir()
    with _atomic_target(out / GENERATOR_FILE) as tmp:
        generator.save(tmp)
    write_text_atomic(out / SCHEMA_FILE, schema.to_json() + "\n")

    criterion = generator.criterion
    _metric("rows", len(real))
    _metric("criterion", criterion)
    _metric(criterion, f"{generator.selection_[generator.n_components_]:.6f}")
    _metric("n_components", int(generator.n_components_))
    _metric("pca_components", int(generator.pca_.n_components_))
    _metric("fit_seconds", f"{fit_seconds:.3f}")


# ---------------------------------------------------------------- sample
def sample(argv: Optional[List[str]] = None) -> None:
    from ..detection import DetectorFeatures, balance, split_rows, stack
    from ..protocol import DetectorConfig
    from ..schema import Schema
    from ..synthesizers import Synthesizer

    parser = _Parser(prog="sample", description="Draw the synthetic table and the detector's splits.")
    parser.add_argument("--rows", type=int, default=0, help="synthetic rows (0: as many as the real table)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=float, default=DetectorConfig().test_size)
    args = parser.parse_args(argv or [])
    if args.rows < 0:
        raise ConfigError(f"--rows must be 0 (as many as real) or positive, got {args.rows}")
    if not 0 < args.test_size < 1:
        raise ConfigError(f"--test-size must be between 0 and 1, got {args.test_size}")

    proc = contract.processing_path
    model = extract_model(proc("model"), [GENERATOR_FILE, SCHEMA_FILE], "generator model")
    try:
        generator = Synthesizer.load(model / GENERATOR_FILE)
        schema = Schema.from_dict(json.loads((model / SCHEMA_FILE).read_text(encoding="utf-8")))
    finally:
        shutil.rmtree(model, ignore_errors=True)
    real = _read_real(proc("real"), "real table input")
    schema.validate_frame(real, "real table")

    n_rows = args.rows or len(real)
    synthetic = generator.sample(n_rows, random_state=args.seed)
    real_b, synth_b = balance(real, synthetic, args.seed)
    if len(real_b) < MIN_ROWS_PER_CLASS:
        raise InputError(f"need at least {MIN_ROWS_PER_CLASS} rows of each class to detect, got {len(real_b)}")
    exclude = tuple(c.name for c in schema.columns if c.id_like)
    features = DetectorFeatures.fit(schema, real_b, synth_b)
    X, y = stack(features.transform(real_b), features.transform(synth_b))
    # no early stopping in the containers yet: the validation channel carries the test rows
    split = split_rows(y, DetectorConfig(test_size=args.test_size, early_stopping_rounds=0), args.seed)
    X_tr, X_te, y_tr, y_te = X[split.train], X[split.test], y[split.train], y[split.test]

    write_text_atomic(proc("synthetic", SYNTHETIC_FILE),
                      synthetic.to_csv(index=False, header=True, lineterminator="\n"))
    write_text_atomic(proc("detector", "train", TRAIN_FILE), _format_matrix(y_tr, X_tr))
    write_text_atomic(proc("detector", "validation", VALIDATION_FILE), _format_matrix(y_te, X_te))
    # DetectorFeatures.from_json reads "schema"/"numeric"/"categorical"; "split" is for evaluate.
    payload = json.loads(features.to_json())
    payload["split"] = {"test_size": args.test_size, "seed": args.seed, "n_train": int(len(y_tr)),
                        "n_test": int(len(y_te)), "excluded_columns": list(exclude)}
    write_text_atomic(proc("detector", "features", FEATURES_FILE), json.dumps(payload, indent=1) + "\n")

    _metric("synthetic_rows", len(synthetic))
    _metric("detector_features", X_tr.shape[1])
    _metric("train_rows", len(y_tr))
    _metric("validation_rows", len(y_te))


# ---------------------------------------------------------------- detector-train
def detector_train(argv: Optional[List[str]] = None) -> None:
    from ..detection import train_detector

    _Parser(prog="detector-train", description="Train the XGBoost detector (built-in XGBoost contract).").parse_args(argv or [])
    hp = contract.read_hyperparameters(DETECTOR_HYPERPARAMETERS)
    rounds = hp.pop("num_round")
    seed = hp.pop("seed")
    if rounds < 1:
        raise ConfigError(f"hyperparameter 'num_round' must be positive, got {rounds}")
    X, y = read_xgboost_csv(contract.channel_dir("train"), "input channel 'train'")
    evals = {}
    if contract.channel_dir("validation").exists():
        X_val, y_val = read_xgboost_csv(contract.channel_dir("validation"), "input channel 'validation'")
        if X_val.shape[1] != X.shape[1]:
            raise InputError(
                f"channel 'validation' has {X_val.shape[1]} features but 'train' has {X.shape[1]}"
            )
        evals["validation"] = (X_val, y_val)
    # verbose_eval=True prints "[i]\ttrain-auc:...\tvalidation-auc:..." every round,
    # the built-in algorithm's log format (CloudWatch shows the tab as #011).
    config = detector_config_from_hyperparameters(rounds, hp)
    X_val, y_val = evals.get("validation", (None, None))  # watched; used to stop only with early_stopping_rounds
    booster = train_detector(X, y, config, seed=seed, X_val=X_val, y_val=y_val, verbose_eval=True)

    out = contract.model_dir()
    with _atomic_target(out / XGBOOST_MODEL_FILE) as tmp:
        ubj = tmp.with_name(tmp.name + ".ubj")        # xgboost picks the format by extension
        try:
            booster.save_model(str(ubj))
            os.replace(ubj, tmp)
        finally:
            ubj.unlink(missing_ok=True)
    meta = {"rounds": rounds, "params": config.xgb_params(seed=seed), "seed": seed, "n_train": int(len(y)),
            "config": config.to_dict()}
    write_text_atomic(out / DETECTOR_META_FILE, json.dumps(meta, indent=1) + "\n")
    _metric("train_rows", len(y))
    _metric("features", X.shape[1])


def detector_config_from_hyperparameters(rounds: int, hp: dict):
    """The DetectorConfig behind built-in-XGBoost hyperparameters (num_round, max_depth, eta, ...)."""
    from ..protocol import DetectorConfig

    hp = dict(hp)
    base = DetectorConfig()
    return DetectorConfig.from_dict({
        **base.to_dict(),
        "rounds": int(rounds),
        "max_depth": int(hp.pop("max_depth", base.max_depth)),
        "eta": float(hp.pop("eta", base.eta)),
        "nthread": int(hp.pop("nthread", base.nthread)),
        "early_stopping_rounds": int(hp.pop("early_stopping_rounds", 0)),
        "params": {**base.params, **hp},
    })


def _load_booster(path: Path):
    """Load ``xgboost-model``: ours (UBJSON), JSON, or the built-in image's formats.

    The built-in XGBoost algorithm writes ``Booster.save_model`` output; its
    script mode and older versions pickle the Booster, which is tried last (the
    artifact comes from this pipeline's own training step, never from a user).
    """
    import pickle

    import xgboost as xgb

    raw = path.read_bytes()
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(raw))   # from memory: format sniffed, no extension warning
        return booster
    except xgb.core.XGBoostError as err:
        first_error = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    try:
        loaded = pickle.loads(raw)  # noqa: S301 - our own pipeline's artifact
    except Exception:  # noqa: BLE001
        loaded = None
    if isinstance(loaded, xgb.Booster):
        return loaded
    raise InputError(f"{path.name} is not an XGBoost model xgboost {xgb.__version__} can read: {first_error}")


def _booster_params(booster) -> Tuple[int, dict]:
    """Rounds and the main training parameters of a booster without advsynth metadata
    (e.g. one trained by the built-in XGBoost image), read from its saved config."""
    config = json.loads(booster.save_config())
    learner = config.get("learner", {})
    params: dict = {}
    objective = learner.get("objective", {}).get("name")
    if objective:
        params["objective"] = objective
    metrics = [m.get("name") for m in learner.get("metrics", []) if m.get("name")]
    if metrics:
        params["eval_metric"] = metrics[0] if len(metrics) == 1 else metrics
    tree = learner.get("gradient_booster", {}).get("tree_train_param", {})
    for key, cast in (("eta", float), ("max_depth", int), ("subsample", float), ("min_child_weight", float)):
        if key in tree:
            params[key] = cast(tree[key])
    generic = learner.get("generic_param", {})
    if "seed" in generic:
        params["seed"] = int(generic["seed"])
    return int(booster.num_boosted_rounds()), params


# ---------------------------------------------------------------- evaluate
def evaluate(argv: Optional[List[str]] = None) -> None:
    import xgboost as xgb

    from ..detection import DetectionResult, DetectorFeatures, column_importance, null_on_real, score_stats
    from ..protocol import DetectorConfig
    from ..schema import Schema

    parser = _Parser(prog="evaluate", description="Score the detector; write evaluation.json.")
    parser.add_argument("--seed", type=int, default=None, help="seed of the null run (default: the split's)")
    parser.add_argument("--no-null", action="store_true", help="skip the real-vs-real null AUC")
    args = parser.parse_args(argv or [])

    proc = contract.processing_path
    features_path = contract.single_data_file(proc("features"), "features input")
    try:
        payload = json.loads(features_path.read_text(encoding="utf-8"))
        features = DetectorFeatures.from_json(json.dumps(payload))
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{features_path.name} is not a detector feature description: {err}") from None
    split = payload.get("split", {})
    seed = args.seed if args.seed is not None else int(split.get("seed", 0))
    test_size = float(split.get("test_size", DetectorConfig().test_size))

    model = extract_model(proc("model"), [XGBOOST_MODEL_FILE], "detector model")
    try:
        booster = _load_booster(model / XGBOOST_MODEL_FILE)
        meta_path = model / DETECTOR_META_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else None
    finally:
        shutil.rmtree(model, ignore_errors=True)
    if meta:
        rounds, params = int(meta["rounds"]), dict(meta["params"])
        params.pop("seed", None)
    else:
        rounds, params = _booster_params(booster)
        params.pop("seed", None)

    X_te, y_te = read_xgboost_csv(proc("validation"), "validation input")
    n_features = len(features.columns)
    if X_te.shape[1] != n_features:
        raise InputError(f"validation split has {X_te.shape[1]} features but features.json describes {n_features}")
    stats = score_stats(y_te, booster.predict(xgb.DMatrix(X_te)))
    null_value, null_ci = None, None
    if not args.no_null:
        real = _read_real(proc("real"), "real table input")
        config = DetectorConfig.coerce((meta or {}).get("config") or {"rounds": rounds, "test_size": test_size,
                                                                       "early_stopping_rounds": 0})
        null_value, null_ci, _ = null_on_real(real, config.replace(test_size=test_size),
                                              schema=Schema.from_dict(features.schema), seed=seed)
    result = DetectionResult(
        **stats,
        null_roc_auc=null_value,
        null_roc_auc_ci=null_ci,
        column_importance=column_importance(booster, features.columns),
        n_train=int(split.get("n_train") or (meta or {}).get("n_train") or 0),
        n_test=int(len(y_te)),
        test_size=test_size,
        rounds=rounds,
        params=params,
    )
    evaluation = {"detector": result.to_dict()}
    write_text_atomic(proc("evaluation", EVALUATION_FILE), json.dumps(evaluation, indent=2, sort_keys=True) + "\n")
    _metric("roc_auc", f"{result.roc_auc:.6f}")
    _metric("roc_auc_ci", f"{result.roc_auc_ci[0]:.6f} {result.roc_auc_ci[1]:.6f}")
    _metric("p_value", f"{result.p_value:.6g}")
    if null_value is not None:
        _metric("null_roc_auc", f"{null_value:.6f}")
    top = ", ".join(f"{c} {s:.3f}" for c, s in result.top_columns(3))
    _metric("top_columns", top)


COMMANDS = {
    "generator-train": (generator_train, contract.TRAINING),
    "detector-train": (detector_train, contract.TRAINING),
    "sample": (sample, contract.PROCESSING),
    "evaluate": (evaluate, contract.PROCESSING),
}
