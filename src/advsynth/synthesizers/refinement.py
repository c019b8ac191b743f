"""Density-ratio refinement: a classifier's verdict, turned into a better sampler.

Why: a classifier that tells a generator's draws q from its training rows p estimates the
density ratio p / q = (1 - s) / s (s its probability that a row is synthetic). Keeping each
draw with a probability proportional to that ratio (rejection sampling) turns draws of q into
draws of p where q covers p: rows in regions the real table never reaches are dropped, rows the
real table has more of are kept more often. Repeated like boosting, each round's classifier
compares the training rows with draws of the sampler refined so far, and the ratios multiply.

What it never does: copy a real row. Rejection only keeps or drops the generator's own draws,
so a kept row is exactly as new as before; the classifier sees only the generator's training
rows (never the run's holdout), and the run's verdict is a fresh detector on fresh draws, the
privacy adversary beside it.

The acceptance probability is ``min(1, ratio / M)``; M is fixed at fit time so that about
``acceptance`` of the draws pass, so the sampler's distribution does not depend on how many rows
are asked for, and a table drawn in blocks (or shards) is the same sampler in every block. The
cap at 1 bounds the cost: ``1 / acceptance`` draws per kept row, whatever the ratio's tails.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.model_selection import train_test_split

from ..detection import DetectorFeatures, predict, stack, train_detector
from ..errors import ConfigError
from ..protocol import DetectorConfig
from ..resources import available_cores
from ..schema import Schema

log = logging.getLogger(__name__)

# The classifier of each round: the detector's learner, shallower than the verdict's (a density
# ratio needs calibrated probabilities over the whole table, not the sharpest split), early
# stopped on its own validation rows by log loss, not by the detector's AUC: the AUC only ranks,
# so it stalls once the first trees have found where the draws differ, while the log odds that
# become the ratio are still a fraction of their size (on a ring with a hole the AUC stopped
# after 2 trees and the round kept most draws in the hole). Fixed here, not taken from the run's
# detector settings: the generator must not change when the user strengthens the adversary that
# judges it.
RATIO_CLASSIFIER = DetectorConfig(max_depth=6, eta=0.1, rounds=1000, early_stopping_rounds=50, validation_size=0.2,
                                  params={"eval_metric": "logloss"}, null=False, cv=0)
CLIP = 1e-3  # probabilities clipped to [CLIP, 1 - CLIP]: a ratio within (1e-3, 1e3) per round
CALIBRATION_ROWS = 50_000  # unrefined draws M is set on
MAX_BATCH_DRAWS = 100_000  # draws held at once by the rejection sampler (bounded memory per block)


class DensityRatio:
    """The rounds' classifiers over one set of detector features, and the acceptance threshold M.

    Fitted by ``GMMSynthesizer`` (``refine`` rounds): ``add_round`` with the training rows and
    draws of the sampler refined so far, then ``calibrate`` on fresh unrefined draws.
    """

    def __init__(self, schema: Schema, seed: int):
        self.schema = schema
        self.seed = int(seed)
        self.features: DetectorFeatures | None = None
        self.boosters: list[xgb.Booster] = []
        self.log_m = 0.0

    def add_round(self, real_mf: pd.DataFrame, synthetic_mf: pd.DataFrame) -> "DensityRatio":
        """One more classifier: ``real_mf`` (model frame of training rows) against ``synthetic_mf``."""
        if self.features is None:
            self.features = DetectorFeatures.fit_model_frames(self.schema, real_mf, synthetic_mf)
        X, y = stack(self.features.transform_model_frame(real_mf), self.features.transform_model_frame(synthetic_mf))
        seed = self.seed + len(self.boosters)
        fit, val = train_test_split(np.arange(len(y)), test_size=RATIO_CLASSIFIER.validation_size, stratify=y,
                                    random_state=seed)
        self.boosters.append(train_detector(X[fit], y[fit], RATIO_CLASSIFIER, seed=seed, X_val=X[val], y_val=y[val]))
        return self

    def log_ratio(self, mf: pd.DataFrame) -> np.ndarray:
        """log p / q of every row of a model frame: the sum of the rounds' log odds of "real"."""
        X = self.features.transform_model_frame(mf)
        total = np.zeros(len(mf))
        for booster in self.boosters:
            s = np.clip(predict(booster, X, threads=available_cores()).astype(np.float64), CLIP, 1 - CLIP)
            total += np.log1p(-s) - np.log(s)
        return total

    def calibrate(self, log_ratio: np.ndarray, acceptance: float) -> float:
        """Set M so that ``acceptance`` of rows with these log ratios pass; returns that share."""
        # at log M = max - log(acceptance) no row passes with more than ``acceptance``; at min - 1 all pass
        lo, hi = float(log_ratio.min()) - 1.0, float(log_ratio.max()) - float(np.log(acceptance)) + 1.0
        for _ in range(60):  # bisection: the accepted share falls as log M grows
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if self.accept_probability(log_ratio, mid).mean() > acceptance else (lo, mid)
        self.log_m = hi
        return float(self.accept_probability(log_ratio).mean())

    def accept_probability(self, log_ratio: np.ndarray, log_m: float | None = None) -> np.ndarray:
        return np.exp(np.minimum(0.0, log_ratio - (self.log_m if log_m is None else log_m)))

    def summary(self) -> dict:
        return {"rounds": len(self.boosters), "trees": [int(b.num_boosted_rounds()) for b in self.boosters],
                "log_m": round(self.log_m, 4)}


def rejection_sample(draw, ratio: DensityRatio, n: int, acceptance: float, rng: np.random.Generator,
                     max_batches: int = 100) -> pd.DataFrame:
    """``n`` rows of ``draw(m, rng)`` (a typed frame of m draws) kept by ``ratio``'s acceptance.

    Batches are sized from the acceptance measured at fit time, so a few suffice, and hold at
    most ``MAX_BATCH_DRAWS`` draws, so memory stays bounded whatever ``n``; the rows come in draw
    order. A sampler that keeps almost nothing (a ratio far off on new draws) is an error rather
    than an endless loop: ``max_batches`` batches in a row without reaching ``n``."""
    kept: list[pd.DataFrame] = []
    need = n
    budget = max_batches + int(np.ceil(n / max(acceptance, 1e-3) / MAX_BATCH_DRAWS))  # the batches n needs, plus slack
    for _ in range(budget):
        m = min(int(np.ceil(need / max(acceptance, 1e-3) * 1.1)) + 16, MAX_BATCH_DRAWS)
        rows = draw(m, rng)
        p = ratio.accept_probability(ratio.log_ratio(ratio.schema.model_frame(rows)))
        keep = np.flatnonzero(rng.random(m) < p)[:need]
        kept.append(rows.iloc[keep])
        need -= len(keep)
        if need == 0:
            return pd.concat(kept, ignore_index=True)
    raise ConfigError(f"refinement kept only {n - need} of {n} rows after {budget} batches of draws: its "
                      "classifier rejects almost every new draw (fit the gmm with refine: 0)")
