"""The detector protocol: one configuration object, parsed once, used by every front door.

``advsynth run``, ``advsynth evaluate``, ``advsynth bench``, ``advsynth report``, the container
entrypoints and the pipeline definition (whose parameter defaults come from here) all take
a ``DetectorConfig``; no other module writes a detector default. Changing a default here
changes it everywhere, which is the point: the number advsynth prints must come from one
experiment, whichever door it went through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .errors import ConfigError

# training rows from which ``nthread`` 0 uses every core (below it one thread is faster on a busy machine)
AUTO_THREADS_MIN_ROWS = 100_000
# XGBoost parameters the protocol sets itself; ``params`` may add others but not these.
_OWNED_PARAMS = {"max_depth", "eta", "colsample_bytree", "learning_rate", "seed", "random_state", "num_boost_round", "n_estimators"}


def _carried(parameter: str, hyperparameter: str | None = None) -> dict:
    """A field the pipeline carries: its pipeline parameter (the value every step receives, as a
    command option ``--field-name`` of the processing steps and, with ``hyperparameter``, under
    that name as a built-in XGBoost hyperparameter of the training step and in the tuning job's
    JSON). ``carried`` reads these; nothing else spells them."""
    return {"parameter": parameter, **({"hyperparameter": hyperparameter} if hyperparameter else {})}


def carried(key: str) -> dict[str, str]:
    """DetectorConfig field -> its name in one transport: "parameter" (pipeline parameters and the
    processing steps' command options) or "hyperparameter" (the built-in XGBoost contract)."""
    return {f.name: f.metadata[key] for f in fields(DetectorConfig) if key in f.metadata}


@dataclass(frozen=True)
class DetectorConfig:
    """Every setting of the classifier two-sample test.

    rounds : the most boosting rounds; with ``early_stopping_rounds`` the detector stops
        earlier when the validation AUC stops improving.
    max_depth, eta : tree depth and learning rate.
    early_stopping_rounds : patience on the validation split (0: train all ``rounds``).
    validation_size : share of the training rows kept aside for early stopping (never the
        test rows: the reported AUC stays held-out).
    test_size : share of the balanced rows held out for the reported AUC.
    cv : 0 for the held-out protocol; K ≥ 2 for K-fold cross-validation (mean, SD, folds).
    null : also run the real-vs-real null.
    nthread : XGBoost threads; 0 (the default) chooses: one thread when the detector trains on
        fewer than ``AUTO_THREADS_MIN_ROWS`` rows, else every core the process may use
        (``advsynth.resources.available_cores``). XGBoost's hist trees are the same for any
        thread count (checked bit for bit: 250,000 Adult-like rows per class, 1,000 rounds, 1 and
        2 threads give identical scores), so the choice changes the time, never the numbers; the
        count used is recorded in ``params``. Why not always every core: on a small table (Adult,
        32k rows per class) the threads' synchronisation costs more than they save on a busy
        machine (6.5 s with one thread vs 8-15 s with two at load 9). advsynth sets
        ``OMP_WAIT_POLICY=PASSIVE`` (unless set), so threads waiting for work sleep instead of
        spinning: without it two threads on a busy machine burned 4x the CPU of one (250k rows per
        class at load 9: 308 vs 83 CPU seconds, 1,004 vs 253 s wall).
    max_rows_per_class : the most rows of each class (real, synthetic) the detector uses, and
        of each real half the null uses; larger tables are subsampled uniformly (seeded). Past
        a few hundred thousand rows per class the held-out AUC's interval is already about
        ±0.003 wide while cost and memory keep growing linearly, so a 10-million-row table costs
        what a 250,000-row one does. The interval is computed on the rows actually used, and
        metrics.json records them (``rows_per_class``, ``rows_available``).
    params : further XGBoost parameters (e.g. ``min_child_weight``); the owned ones above
        cannot be set here.
    colsample_bytree : share of the feature columns each tree draws (1.0: all columns).

    Why these defaults: depth 8, each tree drawing half the feature columns (``colsample_bytree``
    0.5), eta 0.2 and early stopping (patience 100, at most 2,000 rounds) come within a few
    thousandths of AUC of a panel of independently tuned detectors (``benchmarks/detector_panel.py``;
    the figures are README's). Patience matters most: on fakes that are close to the real rows the
    validation AUC plateaus for dozens of rounds before the trees find the next interaction (a
    patience of 50 stopped at 155 rounds and read 0.02 of AUC low), and with 10 rounds the detector
    stops before it finds interactions with no marginal signal (joint missingness). eta 0.2 with
    2,000 rounds reaches what eta 0.1 reaches in 3,000 at two thirds of the cost; on the tables
    where the fakes are easy the detector still stops after a few hundred rounds. The validation
    slice is 10 % of the training rows, so the trees keep 63 % of all rows. ``nthread`` 0
    (automatic): see above.
    """

    rounds: int = field(default=2000, metadata=_carried("DetectorRounds", "num_round"))
    max_depth: int = field(default=8, metadata=_carried("DetectorMaxDepth", "max_depth"))
    eta: float = field(default=0.2, metadata=_carried("DetectorEta", "eta"))
    early_stopping_rounds: int = field(default=100, metadata=_carried("DetectorEarlyStoppingRounds",
                                                                     "early_stopping_rounds"))
    validation_size: float = field(default=0.1, metadata=_carried("DetectorValidationSize"))
    test_size: float = field(default=0.3, metadata=_carried("DetectorTestSize"))
    cv: int = 0
    null: bool = True
    nthread: int = field(default=0, metadata={"hyperparameter": "nthread"})  # read, never written: the machine's
    max_rows_per_class: int = 250_000
    colsample_bytree: float = field(default=0.5, metadata=_carried("DetectorColsampleBytree", "colsample_bytree"))
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        _check_int("rounds", self.rounds, 1)
        _check_int("max_depth", self.max_depth, 1)
        _check_int("early_stopping_rounds", self.early_stopping_rounds, 0)
        _check_int("cv", self.cv, 0)
        _check_int("nthread", self.nthread, 0)
        _check_int("max_rows_per_class", self.max_rows_per_class, 10)
        if self.cv == 1:
            raise ConfigError("detector.cv must be 0 (held-out) or at least 2 folds, got 1")
        if isinstance(self.colsample_bytree, bool) or not isinstance(self.colsample_bytree, (int, float)) \
                or not 0 < self.colsample_bytree <= 1:
            raise ConfigError(f"detector.colsample_bytree must be a number in (0, 1], got {self.colsample_bytree!r}")
        for name in ("eta", "validation_size", "test_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
                raise ConfigError(f"detector.{name} must be a number between 0 and 1, got {value!r}")
        if not isinstance(self.null, bool):
            raise ConfigError(f"detector.null must be true or false, got {self.null!r}")
        if not isinstance(self.params, dict):
            raise ConfigError(f"detector.params must be a mapping of XGBoost parameters, got {self.params!r}")
        owned = sorted(set(self.params) & _OWNED_PARAMS)
        if owned:
            raise ConfigError(f"detector.params may not set {', '.join(owned)}: use the detector keys of the same meaning")

    @classmethod
    def from_dict(cls, data: dict | None, where: str = "detector") -> "DetectorConfig":
        """Parse a config section; unknown keys and wrong types are one-line ConfigErrors."""
        data = dict(data or {})
        allowed = {f.name for f in fields(cls)}
        if None in data:  # YAML reads an unquoted ``null:`` key as no key at all
            raise ConfigError(f"{where} has a key YAML reads as null: write the 'null' setting quoted, \"null\": false")
        unknown = sorted(map(str, set(data) - allowed))
        if unknown:
            raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        return cls(**data)

    @classmethod
    def coerce(cls, value: "DetectorConfig | dict | None", where: str = "detector") -> "DetectorConfig":
        """A DetectorConfig from a config section (dict), an existing one, or None (the defaults)."""
        return value if isinstance(value, cls) else cls.from_dict(value, where)

    def replace(self, **changes) -> "DetectorConfig":
        return type(self).from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict:
        return asdict(self)

    def fit_rows(self, n_real: int, n_synthetic: int) -> int:
        """The rows the verdict's trees train on: the balanced rows of both classes, less the
        test rows and the early-stopping slice (what ``threads`` is asked about)."""
        rows = 2 * min(int(n_real), int(n_synthetic), int(self.max_rows_per_class)) * (1 - float(self.test_size))
        return int(rows * (1 - float(self.validation_size)) if self.early_stopping_rounds > 0 else rows)

    def threads(self, rows: int | None = None) -> int:
        """The XGBoost threads for training on ``rows`` rows (see ``nthread``; unknown rows: one)."""
        if self.nthread:
            return int(self.nthread)
        if rows is None or int(rows) < AUTO_THREADS_MIN_ROWS:
            return 1
        from .resources import available_cores

        return available_cores()

    def xgb_params(self, seed: int = 0, nthread: int | None = None, rows: int | None = None) -> dict:
        """The parameters ``xgboost.train`` receives (``rows``: the training rows, for ``nthread`` 0)."""
        return {
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "tree_method": "hist",
            "max_depth": int(self.max_depth),
            "eta": float(self.eta),
            "colsample_bytree": float(self.colsample_bytree),
            "nthread": int(nthread or self.threads(rows)),
            **self.params,
            "seed": int(seed),
        }


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"detector.{name} must be a whole number >= {minimum}, got {value!r}")
