"""The container commands of the pipeline, thin shells over the library.

``python -m advsynth.sagemaker COMMAND [ARGS]``:

* ``generator-train`` (training job, channel ``train``): type the real table with the
  config's column types (hyperparameter ``types``, JSON), fit the PCA+GMM generator on
  the rows ``split_real(real, seed, holdout, schema)`` leaves for training (as ``advsynth run``
  does), write ``generator.joblib`` + ``schema.json`` to ``/opt/ml/model``.
* ``generator-trial-train`` (training job of the tuning variant, channel ``train``): one
  candidate of the detector-guided search, scored as ``advsynth run --adversarial`` scores it
  (``validation:auc`` and the tuning objective on stdout), then refitted on the generator's
  training rows and written to ``/opt/ml/model`` like ``generator-train``.
* ``sample`` (processing, one or more instances): each instance finds its place in
  ``/opt/ml/config/resourceconfig.json`` and draws its contiguous share of the table's
  seed blocks (``advsynth.experiment.sampling.shard_blocks``; the union over instances is exactly the table
  one instance draws for the seed), writing ``synthetic/synthetic-SSSSS-of-NNNNN.csv`` and,
  in ``selected/``, its rows among those ``detection.balance`` gives the detector.
* ``prepare`` (processing, one instance): the sample step's selected rows, or (evaluate-only)
  a given table from ``processing/given``, plus the real table become the detector's three
  splits in built-in XGBoost CSV format (label first, no header): ``train`` (in as many files
  as detector instances), ``validation`` (early stopping, carved from the training rows) and
  ``test`` (the reported AUC), plus ``features.json`` (features, schema, split, detector config).
  Its cost is bounded by ``max_rows_per_class``, not by the synthetic table's size.
* ``detector-train`` (training job, channels ``train`` and ``validation``, one or more
  instances): the built-in XGBoost algorithm contract (``num_round``,
  ``early_stopping_rounds``...), distributed over XGBoost's collective when the job has
  several hosts; writes ``/opt/ml/model/xgboost-model``.
* ``evaluate`` (processing): score the test split, the real-vs-real null, the
  column importance; writes ``evaluation.json`` = ``{"detector": {...}}`` with the
  keys of ``metrics.json``'s ``detector`` section.

Every detector setting is an ``advsynth.protocol.DetectorConfig``: the processing
commands take its fields as options (defaults from ``DetectorConfig()``), the training
command maps the built-in algorithm's hyperparameter names onto it. Every statistic and
encoding comes from ``advsynth.detection`` / the synthesizers; what is here is file
handling. Outputs are written atomically and only to output folders; archives are
extracted into a temporary folder, never into an input.
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
from ..experiment.splits import RealSplit
from ..experiment.stages import holdout_only_auc
from ..protocol import carried
from ..synthesizers.gmm import GMMSynthesizer
from ..io import read_table, staging_file, write_text_atomic
from . import contract
from .contract import Hyperparameter as HP

log = logging.getLogger(__name__)

GENERATOR_FILE = "generator.joblib"
SCHEMA_FILE = "schema.json"
SPLIT_FILE = "split.json"  # the real table's training and holdout rows (generator model artifact)
XGBOOST_MODEL_FILE = "xgboost-model"
DETECTOR_META_FILE = "advsynth-detector.json"
MODEL_ARCHIVE = "model.tar.gz"
FEATURES_FILE = "features.json"
SYNTHETIC_FILE = "synthetic.csv"
TRAIN_FILE = "train.csv"
VALIDATION_FILE = "validation.csv"
TEST_FILE = "test.csv"
EVALUATION_FILE = "evaluation.json"

GENERATOR_HYPERPARAMETERS: Dict[str, HP] = {
    # the gmm's parameters the job takes, typed from their declared constraints (``redraw``: "auto", "all"
    # or a JSON list of column names, ``redraw_value``)
    **{name: HP(kind, allow_none=allow_none)
       for name, (kind, allow_none) in ((n, GMMSynthesizer.parameter_kind(n)) for n in GMMSynthesizer._job_parameters)},
    "seed": HP(int, default=0),
    # The experiment, as ``advsynth run`` defines it: the share of real rows withheld from
    # the generator (``RunConfig.holdout``) and the config's column types (JSON object).
    "holdout": HP(float),
    "types": HP(str, default="{}"),
}

# The built-in XGBoost algorithm's names. num_round, max_depth, eta, early_stopping_rounds
# and nthread are DetectorConfig fields; the others (beyond objective/eval_metric, which
# the protocol fixes) go to DetectorConfig.params.
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
    tmp = staging_file(path)
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


def read_xgboost_csv(folder: Path, what: str, files: Optional[Sequence[Path]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Read the CSV file(s) of a built-in-XGBoost channel (or ``files`` of it): label first, no header, numbers."""
    frames = []
    for path in files if files is not None else contract.data_files(folder, what):
        frame = read_table(path, header=False)
        # an all-empty column is a feature no row has (sparse one-hot: absent = missing), read as NaN
        non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) and frame[c].notna().any()]
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


# ---------------------------------------------------------------- the experiment's settings
def parse_types(text: Optional[str], where: str = "types") -> Dict[str, str]:
    """The config's column types (``data.types``) from their JSON form, e.g. ``{"age": "integer"}``."""
    try:
        types = json.loads(text or "{}")
    except ValueError:
        raise ConfigError(f"{where} must be a JSON object of column types, got {text!r}") from None
    if not isinstance(types, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in types.items()):
        raise ConfigError(f"{where} must be a JSON object mapping column names to type names, got {text!r}")
    return types


# DetectorConfig fields the processing commands take as options (--rounds, --max-depth, ...).
# the DetectorConfig fields the pipeline carries to its processing steps as command options
DETECTOR_OPTION_FIELDS = tuple(carried("parameter"))


def add_detector_options(parser: argparse.ArgumentParser) -> None:
    """The detector protocol as command options; every default is ``DetectorConfig()``'s."""
    from ..protocol import DetectorConfig

    defaults = DetectorConfig()
    for name in DETECTOR_OPTION_FIELDS:
        value = getattr(defaults, name)
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=type(value), default=value)
    parser.add_argument("--detector-params", default=json.dumps(defaults.params),
                        help="further XGBoost parameters (JSON object), DetectorConfig.params")


def detector_config_from_args(args: argparse.Namespace):
    """The DetectorConfig the options describe (validated by ``DetectorConfig.from_dict``)."""
    from ..protocol import DetectorConfig

    try:
        params = json.loads(args.detector_params)
    except ValueError:
        raise ConfigError(f"--detector-params must be a JSON object, got {args.detector_params!r}") from None
    return DetectorConfig.from_dict({**{name: getattr(args, name) for name in DETECTOR_OPTION_FIELDS},
                                     "params": params}, where="detector options")


def detector_arguments(cfg) -> List[str]:
    """The command options that reproduce ``cfg`` (inverse of ``detector_config_from_args``)."""
    args: List[str] = []
    for name in DETECTOR_OPTION_FIELDS:
        args += ["--" + name.replace("_", "-"), str(getattr(cfg, name))]
    return args + ["--detector-params", json.dumps(cfg.params, sort_keys=True)]


# Built-in XGBoost hyperparameter -> DetectorConfig field.
_HP_FIELDS = {hp: name for name, hp in carried("hyperparameter").items()}
# Fixed by the protocol (DetectorConfig.xgb_params): accepted for the built-in contract, never overridden.
PROTOCOL_FIXED = {"objective", "eval_metric"}


def _protocol_fixed() -> Dict[str, str]:
    from ..protocol import DetectorConfig

    params = DetectorConfig().xgb_params()
    return {name: str(params[name]) for name in sorted(PROTOCOL_FIXED)}


def detector_hyperparameters(cfg, seed: int) -> Dict[str, str]:
    """The built-in XGBoost hyperparameters (all strings) of ``cfg``; the inverse of
    ``detector_config_from_hyperparameters``. The pipeline definition uses the same names."""
    hp = {**_protocol_fixed(), "seed": str(seed)}
    for name, field_name in _HP_FIELDS.items():
        if field_name != "nthread":
            hp[name] = str(getattr(cfg, field_name))
    hp.update({k: str(v) for k, v in cfg.params.items()})
    return hp


def detector_config_from_hyperparameters(hp: Dict[str, object]):
    """(DetectorConfig, seed) from parsed built-in XGBoost hyperparameters."""
    from ..protocol import DetectorConfig

    hp = dict(hp)
    seed = hp.pop("seed")
    for name, fixed in _protocol_fixed().items():
        given = hp.pop(name, fixed)
        if given != fixed:
            raise ConfigError(f"hyperparameter '{name}' must be {fixed!r} (the detector protocol), got {given!r}")
    fields = {field_name: hp.pop(name) for name, field_name in _HP_FIELDS.items() if name in hp}
    return DetectorConfig.from_dict({**fields, "params": hp}, where="detector hyperparameters"), seed


# ---------------------------------------------------------------- generator-train
def redraw_value(text: str | None):
    """The ``redraw`` hyperparameter's text as the gmm's parameter: None, "auto", "all" or a list of names."""
    if text is None or text in ("auto", "all"):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ConfigError(f"hyperparameter 'redraw' must be none, auto, all or a JSON list of column names, got {text!r}")
    return value


def generator_train(argv: Optional[List[str]] = None) -> None:
    from ..schema import infer_schema
    from ..synthesizers import make_generator

    _Parser(prog="generator-train", description="Fit the generator (SageMaker training job).").parse_args(argv or [])
    hp = contract.read_hyperparameters(GENERATOR_HYPERPARAMETERS)
    seed, types, holdout = _experiment(hp)
    if "redraw" in hp:
        hp["redraw"] = redraw_value(hp["redraw"])
    generator = make_generator("gmm", random_state=seed, **hp)  # validates names and values before reading data
    real = _read_real(contract.channel_dir("train"), "input channel 'train'")
    schema = infer_schema(real, types)
    # The same rows advsynth run fits on: the holdout stays unseen by the generator.
    split = RealSplit.of(len(real), seed, holdout, groups=schema.split_groups(real))
    train = real.iloc[split.train]
    start = time.perf_counter()
    generator.fit(train, schema)
    fit_seconds = time.perf_counter() - start

    _save_generator(generator, schema, split)

    criterion = generator.criterion
    _metric("rows", len(real))
    _metric("generator_train_rows", len(train))
    _metric("criterion", criterion)
    swept = [v for v in generator.selection_.values() if v is not None]
    if swept:  # the criterion's best over the sweep (k may have grown past it: GMMSynthesizer.grown_k)
        _metric(criterion, f"{min(swept):.6f}")
    _metric("n_components", int(generator.n_components_))
    _metric("pca_components", int(generator.pca_.n_components_))
    _metric("fit_seconds", f"{fit_seconds:.3f}")


# ---------------------------------------------------------------- synthetic tables
def _given_synthetic(folder: Path, real: pd.DataFrame, schema, many: bool = False) -> Tuple[pd.DataFrame, dict]:
    """The synthetic table given to an evaluate-only run, checked as ``advsynth evaluate`` checks
    it: columns aligned to the real table's (missing/extra/renamed ones refused in one line),
    unseen levels and wrong-typed values counted per column (they reach the detector as
    ``__other__`` / missing, giveaways like any other). Returns the table and those checks."""
    from ..evaluation import align_columns, input_checks

    # text cells, typed by the real table's schema (as advsynth evaluate reads it)
    if many:   # the sample step's shards, in shard order
        synthetic = _read_text_tables(folder, "the sample step's selected rows")
    else:
        synthetic = read_table(contract.single_data_file(folder, "synthetic table input"), parse=False)
    synthetic, reordered = align_columns(real, synthetic)
    return synthetic, {"reordered": reordered, **input_checks(schema, synthetic)}


# ---------------------------------------------------------------- sample (N instances)
def sample(argv: Optional[List[str]] = None) -> None:
    """Draw this instance's share of the synthetic table (processing job on SampleInstanceCount
    instances): ``synthetic/synthetic-SSSSS-of-NNNNN.csv`` and, in ``selected/``, its rows among
    those ``detection.balance`` gives the detector (at most ``max_rows_per_class``), which
    ``prepare`` turns into the detector's splits. Cost: O(rows / instances) per instance."""
    from ..detection import balance_indices
    from ..experiment.sampling import SAMPLE_BLOCK_ROWS, SyntheticWriter, shard_blocks, shard_file_name, write_shard
    from ..schema import Schema
    from ..synthesizers import Synthesizer

    parser = _Parser(prog="sample", description="Draw this instance's shard of the synthetic table.")
    parser.add_argument("--rows", type=int, default=0, help="synthetic rows (0: as many as the real table)")
    parser.add_argument("--seed", type=int, default=0)
    add_detector_options(parser)
    args = parser.parse_args(argv or [])
    if args.rows < 0:
        raise ConfigError(f"--rows must be 0 (as many as real) or positive, got {args.rows}")
    detector = detector_config_from_args(args)
    shard, n_shards = contract.current_shard(contract.resource_config_path(contract.PROCESSING))

    proc = contract.processing_path
    real = _read_real(proc("real"), "real table input")
    model = extract_model(proc("model"), [GENERATOR_FILE, SCHEMA_FILE], "generator model")
    try:
        generator = Synthesizer.load(model / GENERATOR_FILE)
        schema = Schema.from_dict(json.loads((model / SCHEMA_FILE).read_text(encoding="utf-8")))
    finally:
        shutil.rmtree(model, ignore_errors=True)
    schema.validate_frame(real, "real table")
    n_rows = int(args.rows or len(real))
    keep = balance_indices(len(real), n_rows, args.seed, detector.max_rows_per_class)[1]
    if keep is None:  # the detector uses every row (at most max_rows_per_class of them)
        keep = np.arange(n_rows)
    start = time.perf_counter()
    try:
        _, selected = write_shard(generator, n_rows, args.seed, schema, proc("synthetic"), shard, n_shards, keep=keep)
    except ConfigError as err:  # too many instances: say which pipeline parameter to change
        raise ConfigError(f"{err} (SampleInstanceCount) or more rows (SampleRows)") from None
    seconds = time.perf_counter() - start
    if len(selected):  # an instance none of whose rows the detector uses writes no file
        with _atomic_target(proc("selected", shard_file_name("selected", shard, n_shards))) as tmp:
            selected_writer = SyntheticWriter(tmp, "csv", schema)
            selected_writer.write(selected)
            selected_writer.close()
            os.chmod(tmp, 0o644)
    drawn = sum(min(SAMPLE_BLOCK_ROWS, n_rows - b * SAMPLE_BLOCK_ROWS) for b in shard_blocks(n_rows, n_shards, shard))
    _metric("instance", f"{shard + 1} of {n_shards}")
    _metric("synthetic_rows", drawn)
    _metric("selected_rows", len(selected))
    _metric("sample_seconds", f"{seconds:.3f}")
    _metric("sample_rows_per_second", f"{drawn / max(seconds, 1e-9):.0f}")


# ---------------------------------------------------------------- prepare (one instance)
def _read_text_tables(folder: Path, what: str) -> pd.DataFrame:
    """Every data file of ``folder`` (one table or its shards, in name = shard order) as text cells."""
    frames = [read_table(path, parse=False) for path in contract.data_files(folder, what)]
    columns = {tuple(map(str, f.columns)) for f in frames}
    if len(columns) > 1:
        raise InputError(f"{what}: the files have different headers")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _read_tables(folder: Path, what: str) -> pd.DataFrame:
    """Every data file of ``folder`` (one table or its shards, in shard order), typed."""
    frames = [read_table(path) for path in contract.data_files(folder, what)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def prepare(argv: Optional[List[str]] = None) -> None:
    """Build the detector's splits (one processing instance; cost bounded by max_rows_per_class).

    The synthetic rows are either the sample step's ``selected`` shards (``--drawn-rows``: they
    are ``balance``'s pick of a table of that many rows) or a given table (``given``, the
    evaluate-only pipeline). Either way the same composition as ``detect``: balance, features,
    stratified splits; so any SampleInstanceCount gives the detector the same rows. The
    training split goes into ``--train-files`` files (row i into file i mod n), so a detector
    job on that many instances with ``ShardedByS3Key`` gives every instance a balanced share.
    """
    from ..detection import MIN_ROWS_PER_CLASS, DetectorFeatures, balance_indices, split_rows, stack
    from ..experiment.sampling import shard_file_name
    from ..schema import Schema, infer_schema

    parser = _Parser(prog="prepare", description="Build the detector's splits from the synthetic rows.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--types", default="{}", help="evaluate-only: the config's column types (JSON)")
    parser.add_argument("--drawn-rows", type=int, default=None,
                        help="the sample step drew this many rows (0: as many as real); 'selected' holds balance's pick")
    parser.add_argument("--train-files", type=int, default=1, help="files of the training split (detector instances)")
    add_detector_options(parser)
    args = parser.parse_args(argv or [])
    if args.train_files < 1:
        raise ConfigError(f"--train-files must be at least 1, got {args.train_files}")
    detector = detector_config_from_args(args)

    proc = contract.processing_path
    real = _read_real(proc("real"), "real table input")
    checks = None
    if proc("given").exists():   # evaluate-only: the synthetic table is an input
        schema = infer_schema(real, parse_types(args.types, "--types"))
        synthetic, checks = _given_synthetic(proc("given"), real, schema)
        n_synthetic = len(synthetic)
        idx_real, idx_synth = balance_indices(len(real), n_synthetic, args.seed, detector.max_rows_per_class)
        synth_b = synthetic if idx_synth is None else synthetic.iloc[idx_synth].reset_index(drop=True)
    else:
        if args.drawn_rows is None or args.drawn_rows < 0:
            raise ConfigError("--drawn-rows (the sample step's row count, 0: as many as real) is required "
                              "with the sample step's 'selected' rows")
        model = extract_model(proc("model"), [SCHEMA_FILE], "generator model")
        try:
            schema = Schema.from_dict(json.loads((model / SCHEMA_FILE).read_text(encoding="utf-8")))
        finally:
            shutil.rmtree(model, ignore_errors=True)
        schema.validate_frame(real, "real table")
        n_synthetic = int(args.drawn_rows or len(real))
        idx_real, idx_synth = balance_indices(len(real), n_synthetic, args.seed, detector.max_rows_per_class)
        synth_b, _ = _given_synthetic(proc("selected"), real, schema, many=True)
        expected = n_synthetic if idx_synth is None else len(idx_synth)
        if len(synth_b) != expected:
            raise InputError(f"the sample step's selected rows number {len(synth_b)}, expected {expected} for "
                             f"{n_synthetic} drawn rows (did every sampling instance write its shard?)")
    real_b = real if idx_real is None else real.iloc[idx_real].reset_index(drop=True)
    if len(real_b) < MIN_ROWS_PER_CLASS:
        raise InputError(f"need at least {MIN_ROWS_PER_CLASS} rows of each class to detect, got {len(real_b)}")
    features = DetectorFeatures.fit(schema, real_b, synth_b)
    X, y = stack(features.transform(real_b), features.transform(synth_b))
    split = split_rows(y, detector, args.seed)
    X_tr, y_tr, X_te, y_te = X[split.train], y[split.train], X[split.test], y[split.test]
    if len(split.validation):
        X_val, y_val = X[split.validation], y[split.validation]
    else:
        # Early stopping off: nothing is selected on the validation channel, but the built-in
        # algorithm expects data there; it repeats the training rows (train-auc = validation-auc).
        X_val, y_val = X_tr, y_tr
    if len(y_tr) < args.train_files:
        raise ConfigError(f"{len(y_tr)} training rows cannot fill {args.train_files} files (DetectorInstanceCount)")

    if checks is not None:   # evaluate-only: the given table as read (aligned), for evaluate's giveaways
        write_text_atomic(proc("synthetic", SYNTHETIC_FILE),
                          synthetic.to_csv(index=False, header=True, lineterminator="\n"))
    for part in range(args.train_files):
        name = TRAIN_FILE if args.train_files == 1 else shard_file_name("train", part, args.train_files)
        write_text_atomic(proc("detector", "train", name),
                          _format_matrix(y_tr[part::args.train_files], X_tr[part::args.train_files]))
    write_text_atomic(proc("detector", "validation", VALIDATION_FILE), _format_matrix(y_val, X_val))
    write_text_atomic(proc("detector", "test", TEST_FILE), _format_matrix(y_te, X_te))
    # DetectorFeatures.from_json reads its own keys; "schema", "split" and "detector" are for evaluate.
    payload = json.loads(features.to_json())
    payload["schema"] = json.loads(schema.to_json())
    payload["detector"] = detector.to_dict()
    payload["split"] = {"seed": args.seed, "n_train": int(len(split.train)), "n_validation": int(len(split.validation)),
                        "n_test": int(len(split.test)), "n_real": int(len(real)), "n_synthetic": n_synthetic,
                        "train_files": args.train_files}
    if checks is not None:
        payload["input"] = checks
    write_text_atomic(proc("detector", "features", FEATURES_FILE), json.dumps(payload, indent=1) + "\n")

    _metric("synthetic_rows", n_synthetic)
    _metric("detector_features", X_tr.shape[1])
    _metric("train_rows", len(y_tr))
    _metric("validation_rows", len(split.validation))
    _metric("test_rows", len(y_te))


# ---------------------------------------------------------------- detector-train
# The port the first host's RabitTracker listens on (ADVSYNTH_TRACKER_PORT overrides it).
TRACKER_PORT = 9099


def _hosts() -> Tuple[List[str], str]:
    """``(hosts, current_host)`` of this training job (one host outside SageMaker)."""
    path = contract.resource_config_path(contract.TRAINING)
    if not path.is_file():
        return ["localhost"], "localhost"
    info = json.loads(path.read_text(encoding="utf-8"))
    return list(info["hosts"]), str(info["current_host"])


def _train_files(rank: int, n_hosts: int) -> Optional[List[Path]]:
    """The training files this host reads: all of its channel when SageMaker sharded it
    (``ShardedByS3Key``), else (local mode copies every file to every host) every
    ``n_hosts``-th file from its rank on, which is the share ``ShardedByS3Key`` would give."""
    if n_hosts == 1:
        return None
    config = contract.input_data_config_path()
    channel = json.loads(config.read_text(encoding="utf-8")).get("train", {}) if config.is_file() else {}
    files = contract.data_files(contract.channel_dir("train"), "input channel 'train'")
    if channel.get("S3DistributionType") == "ShardedByS3Key":
        return files
    if len(files) < n_hosts:
        raise InputError(f"input channel 'train' has {len(files)} file(s) for {n_hosts} instances; "
                         "each instance needs at least one (the prepare step writes DetectorInstanceCount files)")
    return files[rank::n_hosts]


@contextlib.contextmanager
def _collective(hosts: List[str], rank: int) -> Iterator[None]:
    """XGBoost's collective over the job's hosts: the first host runs the tracker, every host
    joins it (retrying while the first one starts). One host: nothing to set up."""
    if len(hosts) == 1:
        yield
        return
    port = int(os.environ.get("ADVSYNTH_TRACKER_PORT") or TRACKER_PORT)
    from xgboost import collective
    from xgboost.tracker import RabitTracker

    tracker = None
    if rank == 0:
        tracker = RabitTracker(n_workers=len(hosts), host_ip="0.0.0.0", port=port, sortby="task")
        tracker.start()
    log.info("host %d of %d joins the tracker on %s:%d", rank + 1, len(hosts), hosts[0], port)
    with collective.CommunicatorContext(dmlc_communicator="rabit", dmlc_tracker_uri=hosts[0],
                                        dmlc_tracker_port=port, dmlc_task_id=str(rank), dmlc_retry=60):
        yield
    if tracker is not None:
        tracker.wait_for()


def detector_train(argv: Optional[List[str]] = None) -> None:
    """Train the detector under the built-in XGBoost contract. On several instances
    (``resourceconfig.json`` lists several hosts) the training is XGBoost's distributed one: each
    host reads its share of the training files, histograms are summed across hosts every round,
    and only the first host writes the model."""
    from ..detection import train_detector

    _Parser(prog="detector-train", description="Train the XGBoost detector (built-in XGBoost contract).").parse_args(argv or [])
    cfg, seed = detector_config_from_hyperparameters(contract.read_hyperparameters(DETECTOR_HYPERPARAMETERS))
    hosts, current = _hosts()
    if current not in hosts:
        raise ConfigError(f"current host {current!r} is not among the job's hosts {hosts}")
    rank = hosts.index(current)
    X, y = read_xgboost_csv(contract.channel_dir("train"), "input channel 'train'", _train_files(rank, len(hosts)))
    validation = None
    if contract.channel_dir("validation").exists():
        X_val, y_val = read_xgboost_csv(contract.channel_dir("validation"), "input channel 'validation'")
        if X_val.shape[1] != X.shape[1]:
            raise InputError(
                f"channel 'validation' has {X_val.shape[1]} features but 'train' has {X.shape[1]}"
            )
        validation = (X_val, y_val)
    elif cfg.early_stopping_rounds:
        raise InputError("early_stopping_rounds needs the 'validation' channel (rows carved from the training split)")
    # verbose_eval=True prints "[i]\ttrain-auc:...\tvalidation-auc:..." every round,
    # the built-in algorithm's log format (CloudWatch shows the tab as #011); with several
    # hosts XGBoost prints on the first one only, with the AUCs over all hosts' rows.
    X_val, y_val = validation or (None, None)
    with _collective(hosts, rank):
        booster = train_detector(X, y, cfg, seed=seed, X_val=X_val, y_val=y_val, verbose_eval=True)
        n_train = len(y)
        if len(hosts) > 1:
            from xgboost import collective

            n_train = int(collective.allreduce(np.array([len(y)], dtype=np.float64), collective.Op.SUM)[0])
            if rank == 0:
                _save_detector(booster, cfg, seed, n_train, len(hosts))
            # No host leaves before the first one has saved the model: a job (and local mode's
            # compose run) may stop the others when the first instance exits.
            collective.allreduce(np.zeros(1), collective.Op.SUM)
        else:
            _save_detector(booster, cfg, seed, n_train, 1)
    _metric("instance", f"{rank + 1} of {len(hosts)}")
    _metric("train_rows", len(y))
    _metric("features", X.shape[1])
    _metric("rounds_used", int(booster.num_boosted_rounds()))


def _save_detector(booster, cfg, seed: int, n_train: int, n_hosts: int) -> None:
    out = contract.model_dir()
    with _atomic_target(out / XGBOOST_MODEL_FILE) as tmp:
        ubj = tmp.with_name(tmp.name + ".ubj")        # xgboost picks the format by extension
        try:
            booster.save_model(str(ubj))
            os.replace(ubj, tmp)
        finally:
            ubj.unlink(missing_ok=True)
    # What this job knows of the protocol (the split shares belong to the prepare step).
    meta = {"xgb_params": cfg.xgb_params(seed=seed), "rounds": cfg.rounds,
            "early_stopping_rounds": cfg.early_stopping_rounds, "seed": seed, "n_train": int(n_train),
            "rounds_used": int(booster.num_boosted_rounds()), "instances": int(n_hosts)}
    write_text_atomic(out / DETECTOR_META_FILE, json.dumps(meta, indent=1) + "\n")


def _best_rounds_only(booster):
    """The trees up to the best round when the model carries early stopping's trailing rounds.

    Why: ``advsynth.detection.train_detector`` keeps only the best rounds, but the built-in
    XGBoost image saves the booster ``xgb.train`` returned, with the ``early_stopping_rounds``
    rounds after the best one still in it (and ``best_iteration`` as an attribute). Scoring
    with those would not be the protocol's detector.
    """
    best = booster.attr("best_iteration")
    if best is not None and int(best) + 1 < booster.num_boosted_rounds():
        return booster[: int(best) + 1]
    return booster


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
        return _best_rounds_only(booster)
    except xgb.core.XGBoostError as err:
        first_error = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    try:
        loaded = pickle.loads(raw)  # noqa: S301 - our own pipeline's artifact
    except Exception:  # noqa: BLE001
        loaded = None
    if isinstance(loaded, xgb.Booster):
        return _best_rounds_only(loaded)
    raise InputError(f"{path.name} is not an XGBoost model xgboost {xgb.__version__} can read: {first_error}")


# ---------------------------------------------------------------- evaluate
def _giveaways(result, real: pd.DataFrame, synthetic: pd.DataFrame, schema, detector, seed: int,
               y_te: np.ndarray, scores: np.ndarray, n_synthetic: Optional[int] = None) -> dict:
    """``detect``'s giveaways (surest-fake held-out synthetic rows, over/under-represented levels of
    the top columns), rebuilt from the synthetic rows: the same balance and split give the test
    rows' positions, checked against the test split's labels. ``synthetic`` is the whole table,
    or (the sample step's ``selected`` shards) ``balance``'s pick of a table of ``n_synthetic`` rows."""
    from ..detection import GIVEAWAY_COLUMNS, balance_indices, giveaway_levels, giveaway_rows, split_rows

    n_synthetic = int(n_synthetic or len(synthetic))
    idx_real, idx_synth = balance_indices(len(real), n_synthetic, seed, detector.max_rows_per_class)
    picked = n_synthetic if idx_synth is None else len(idx_synth)
    if len(synthetic) == n_synthetic and idx_synth is not None:
        synthetic = synthetic.iloc[idx_synth]
    elif len(synthetic) != picked:
        raise InputError(f"the synthetic rows input holds {len(synthetic)} rows; the split was built from "
                         f"{picked} of {n_synthetic} (was it written by this run's sample step?)")
    real_b = real if idx_real is None else real.iloc[idx_real].reset_index(drop=True)
    synth_b = synthetic.reset_index(drop=True)
    y = np.concatenate([np.zeros(len(real_b)), np.ones(len(synth_b))])
    split = split_rows(y, detector, seed)
    if len(split.test) != len(y_te) or not np.array_equal(y[split.test], y_te):
        raise InputError("the synthetic table input does not match the test split (was it written by this run's sample step?)")
    synth_test = split.test >= len(real_b)
    top = [c for c, v in result.top_columns(GIVEAWAY_COLUMNS) if v > 0]
    return {"rows": giveaway_rows(synth_b, split.test[synth_test] - len(real_b), scores[synth_test]),
            "levels": giveaway_levels(schema, real_b, synth_b, top)}


def evaluate(argv: Optional[List[str]] = None) -> None:
    from ..detection import DetectorFeatures, Split, null_on_real, predict, result_from_scores
    from ..protocol import DetectorConfig
    from ..schema import Schema

    parser = _Parser(prog="evaluate", description="Score the detector on the test split; write evaluation.json.")
    parser.add_argument("--seed", type=int, default=None, help="seed of the null run (default: the split's)")
    parser.add_argument("--no-null", action="store_true", help="skip the real-vs-real null AUC")
    args = parser.parse_args(argv or [])

    proc = contract.processing_path
    features_path = contract.single_data_file(proc("features"), "features input")
    try:
        payload = json.loads(features_path.read_text(encoding="utf-8"))
        features = DetectorFeatures.from_json(json.dumps(payload))
        schema = Schema.from_dict(payload["schema"])
        detector = DetectorConfig.from_dict(payload["detector"], where=f"{features_path.name} detector")
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{features_path.name} is not a detector feature description: {err}") from None
    split = payload.get("split", {})
    seed = args.seed if args.seed is not None else int(split.get("seed", 0))

    model = extract_model(proc("model"), [XGBOOST_MODEL_FILE], "detector model")
    try:
        booster = _load_booster(model / XGBOOST_MODEL_FILE)
    finally:
        shutil.rmtree(model, ignore_errors=True)

    X_te, y_te = read_xgboost_csv(proc("test"), "test split input")
    n_features = len(features.columns)
    if X_te.shape[1] != n_features:
        raise InputError(f"test split has {X_te.shape[1]} features but features.json describes {n_features}")
    # Row counts of the splits this step does not read (the result reports them).
    rows = Split(train=np.arange(int(split.get("n_train") or 0)),
                 validation=np.arange(int(split.get("n_validation") or 0)), test=np.arange(len(y_te)))
    scores = predict(booster, X_te)
    result = result_from_scores(booster, features, rows, y_te, scores, detector, seed)
    real = None
    if proc("real").exists():
        real = _read_real(proc("real"), "real table input")
        schema.validate_frame(real, "real table")
    synthetic = None
    if proc("synthetic").exists() and real is not None:
        synthetic = _read_tables(proc("synthetic"), "synthetic rows input")   # one table or the sample step's shards
        result.giveaways = _giveaways(result, real, synthetic, schema, detector, seed, y_te, scores,
                                      split.get("n_synthetic"))
    if not args.no_null and detector.null:
        if real is None:
            raise InputError("the null needs the real table input (processing/real)")
        result.with_null(*null_on_real(real, detector, schema=schema, seed=seed))
    evaluation = {"detector": result.to_dict()}
    if proc("generator").exists():  # the second adversary, on the rows the generator's fit used and never saw
        if real is None or synthetic is None:
            raise InputError("the privacy adversary needs the real table and the synthetic rows inputs")
        from ..metrics.evaluate import privacy_of

        model = extract_model(proc("generator"), [SPLIT_FILE], "generator model")
        try:
            rows = RealSplit.from_json((model / SPLIT_FILE).read_text(encoding="utf-8"), len(real), SPLIT_FILE)
        finally:
            shutil.rmtree(model, ignore_errors=True)
        evaluation["privacy"] = privacy_of(real.iloc[rows.train], real.iloc[rows.holdout], synthetic, schema, seed)
        # the same detector on the holdout alone (real rows no fit has seen), as advsynth run reports it
        evaluation["holdout_only"] = holdout_only_auc(real.iloc[rows.holdout], synthetic, detector, schema, seed)
    if "input" in payload:  # evaluate-only: what the given table's checks found, as advsynth evaluate reports it
        evaluation["input"] = payload["input"]
    write_text_atomic(proc("evaluation", EVALUATION_FILE), json.dumps(evaluation, indent=2, sort_keys=True) + "\n")
    _metric("roc_auc", f"{result.roc_auc:.6f}")
    _metric("roc_auc_ci", f"{result.roc_auc_ci[0]:.6f} {result.roc_auc_ci[1]:.6f}")
    _metric("p_value", f"{result.p_value:.6g}")
    if result.null_roc_auc is not None:
        _metric("null_roc_auc", f"{result.null_roc_auc:.6f}")
    top = ", ".join(f"{c} {s:.3f}" for c, s in result.top_columns(3))
    _metric("top_columns", top)
    if (evaluation.get("holdout_only") or {}).get("roc_auc") is not None:
        _metric("holdout_only_auc", f"{evaluation['holdout_only']['roc_auc']:.6f}")
    if "privacy" in evaluation:
        privacy = evaluation["privacy"]
        _metric("privacy_flagged", int(privacy["flagged"]))
        _metric("privacy_flags", ",".join(f["test"] for f in privacy["flags"]) or "none")
        attack = privacy["membership"]["attacks"].get("distance") or {}
        if attack.get("roc_auc") is not None:
            _metric("membership_auc", f"{attack['roc_auc']:.6f}")


# ---------------------------------------------------------------- generator-trial-train
# The tuning job's trial: the generator's hyperparameters, the candidate's k, the selection split
# (defaults: advsynth.synthesizers.adversarial's) and the detector that judges (DetectorConfig fields, JSON).
TRIAL_HYPERPARAMETERS: Dict[str, HP] = {
    **GENERATOR_HYPERPARAMETERS,
    "n_components": HP(int),          # fixes k (min = max); absent: the configured sweep
    "selection_validation": HP(float),
    "selection_max_rows": HP(int, allow_none=True),
    "detector": HP(str, default="{}"),
}
# What the tuning job minimises: the selection AUC, or 1 (the worst) when the search's copy
# rule (SelectionJudge.allowed_copy_rate) refuses the candidate, so a copying candidate never becomes the best training job.
TRIAL_OBJECTIVE = "selection:objective"
INELIGIBLE_OBJECTIVE = 1.0


def _experiment(hp: Dict[str, object]) -> Tuple[int, Dict[str, str], float]:
    """(seed, column types, holdout) popped from a generator job's parsed hyperparameters: the
    experiment as ``advsynth run`` defines it (what the rest of ``hp`` fits is the generator's)."""
    from ..config import RunConfig

    seed = hp.pop("seed")
    types = parse_types(hp.pop("types"), "hyperparameter 'types'")
    holdout = hp.pop("holdout", RunConfig.__dataclass_fields__["holdout"].default)
    if not 0 < holdout < 0.5:
        raise ConfigError(f"hyperparameter 'holdout' must be a share between 0 and 0.5, got {holdout}")
    return seed, types, holdout


def _save_generator(generator, schema, split: RealSplit) -> None:
    """``generator.joblib`` + ``schema.json`` (what the sample step loads) and ``split.json`` (what
    the evaluation step judges privacy with) in /opt/ml/model."""
    out = contract.model_dir()
    with _atomic_target(out / GENERATOR_FILE) as tmp:
        generator.save(tmp)
    write_text_atomic(out / SCHEMA_FILE, schema.to_json() + "\n")
    write_text_atomic(out / SPLIT_FILE, split.to_json() + "\n")


def generator_trial_train(argv: Optional[List[str]] = None) -> None:
    """One trial of the pipeline's tuning job (training job; the image's ``train`` runs it when
    ``ADVSYNTH_ROLE=generator-trial``, the tuning job's environment).

    Scores one candidate exactly as ``advsynth run --adversarial`` does
    (``adversarial.SelectionJudge``: fitted on the selection-fit split of the generator's training
    rows, judged by the detector against the selection-validation split; the holdout is never
    read), prints ``validation:auc`` and the objective, then refits the candidate on all the
    generator's training rows (as the run refits its chosen settings) and writes it to
    ``/opt/ml/model`` like ``generator-train``: the best trial's model feeds the sample step.
    """
    from ..protocol import DetectorConfig
    from ..schema import infer_schema
    from ..synthesizers import make_generator
    from ..synthesizers.adversarial import MIN_VALIDATION_ROWS, SelectionJudge, gmm_params

    _Parser(prog="generator-trial-train",
            description="Score one generator candidate on the selection split (tuning job trial).").parse_args(argv or [])
    hp = contract.read_hyperparameters(TRIAL_HYPERPARAMETERS)
    seed, types, holdout = _experiment(hp)
    try:
        detector = DetectorConfig.from_dict(json.loads(hp.pop("detector")), where="hyperparameter 'detector'")
    except (ValueError, TypeError, AttributeError) as err:
        raise ConfigError(f"hyperparameter 'detector' must be a JSON object of DetectorConfig fields: {err}") from None
    split = {name: hp.pop(key) for key, name in (("selection_validation", "validation"), ("selection_max_rows", "max_rows"))
             if key in hp}
    settings = {"n_components": hp.pop("n_components")} if "n_components" in hp else {}
    if "redraw" in hp:
        hp["redraw"] = redraw_value(hp["redraw"])
    make_generator("gmm", random_state=seed, **gmm_params(settings, hp))  # validates names and values before reading data

    real = _read_real(contract.channel_dir("train"), "input channel 'train'")
    schema = infer_schema(real, types)
    rows = RealSplit.of(len(real), seed, holdout, groups=schema.split_groups(real))
    train = real.iloc[rows.train]  # the holdout stays unseen by every trial
    judge = SelectionJudge(train, schema, detector, seed=seed, **split)
    if judge.too_small:
        raise InputError(f"{len(judge.validation_rows)} selection-validation rows (< {MIN_VALIDATION_ROWS}): too few "
                         "for a detector to choose by; use the pipeline without tuning")
    candidate = judge.score(settings, hp)
    _metric("selection_fit_rows", len(judge.fit_rows))
    _metric("selection_validation_rows", len(judge.validation_rows))
    _metric("validation:auc", f"{candidate.auc:.6f}")
    _metric("validation:exact_copy_rate", f"{candidate.exact_copy_rate:.6f}")
    _metric("validation:eligible", int(candidate.eligible))
    _metric(TRIAL_OBJECTIVE, f"{candidate.auc if candidate.eligible else INELIGIBLE_OBJECTIVE:.6f}")

    start = time.perf_counter()
    generator = make_generator("gmm", random_state=seed, **gmm_params(settings, hp)).fit(train, schema)
    _save_generator(generator, schema, rows)
    _metric("generator_train_rows", len(train))
    _metric("n_components", int(generator.n_components_))
    _metric("pca_components", int(generator.pca_.n_components_))
    _metric("fit_seconds", f"{time.perf_counter() - start:.3f}")


COMMANDS = {
    "generator-train": (generator_train, contract.TRAINING),
    "detector-train": (detector_train, contract.TRAINING),
    "sample": (sample, contract.PROCESSING),
    "prepare": (prepare, contract.PROCESSING),
    "evaluate": (evaluate, contract.PROCESSING),
    "generator-trial-train": (generator_trial_train, contract.TRAINING),
}
