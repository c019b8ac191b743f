"""Detector-guided choice of the GMM's settings, judged honestly.

The reference design pairs a generator with an adversary: settings that an information
criterion likes (AIC keeps falling as k grows) are not necessarily the ones a detector finds
hardest to tell from real rows. ``select_by_detector`` lets a detector choose them.

Which rows see what (the point of this module):

* The run splits the real table into the generator's training rows and a holdout
  (``split_real``); the holdout is never touched here.
* The training rows are split again: candidates are fitted on the *selection-fit* part, and
  the detector compares their draws with the *selection-validation* part, real rows the
  candidate never saw (so a candidate that memorises its rows gains nothing).
* The chosen settings are then refitted on all training rows, and the verdict comes from a
  fresh detector on fresh draws (the run's usual detector against the whole real table, and
  one against the holdout alone: real rows no fit and no selection has used).

The search is a bounded coordinate search: each stage varies one setting around the best so
far, so its cost is ``sum(len(stage))`` fits on at most ``max_rows`` rows each.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..detection import detect
from ..protocol import DetectorConfig
from ..schema import Schema
from .gmm import GMMSynthesizer

log = logging.getLogger(__name__)

# Each stage: the values tried for some settings, the rest kept at the best so far.
DEFAULT_STAGES: tuple[tuple[dict, ...], ...] = (
    ({"n_components": 80}, {"n_components": 160}, {"n_components": 200}),
    ({"pca_variance": 0.95}, {"pca_variance": 1.0}),
    ({"latent_min_levels": 1}, {"latent_min_levels": 1000}),
)
BASE_SETTINGS = {"n_components": 120, "pca_variance": 0.99, "latent_min_levels": 20}


@dataclass
class Selection:
    """What the search tried and chose; ``to_dict`` goes into metrics.json under ``adversarial``."""

    chosen: dict
    selection_auc: float
    candidates: list[dict] = field(default_factory=list)
    fit_index: np.ndarray = field(default=None, repr=False)         # labels of the real rows fitted on
    validation_index: np.ndarray = field(default=None, repr=False)  # labels of the real rows compared with
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "selection_auc": self.selection_auc,
            "selection_auc_is": "detector AUC on the selection-validation split of the generator's training rows "
                                "(the best of the candidates, so optimistic); the verdict is the run's fresh detector",
            "chosen": self.chosen,
            "candidates": self.candidates,
            "n_selection_fit": int(len(self.fit_index)),
            "n_selection_validation": int(len(self.validation_index)),
            "seconds": round(self.seconds, 3),
        }


def gmm_params(settings: dict, base: dict | None = None) -> dict:
    """GMM constructor parameters for a candidate's settings (``n_components`` fixes k: no sweep)."""
    params = dict(base or {})
    for key, value in settings.items():
        if key == "n_components":
            params["min_components"] = params["max_components"] = int(value)
        else:
            params[key] = value
    return params


def selection_split(train: pd.DataFrame, seed: int, validation: float = 0.3,
                    max_rows: int | None = 20_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit, validation) rows of the generator's training rows, seeded; at most ``max_rows`` in all."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 11]))
    order = rng.permutation(len(train))
    if max_rows is not None:
        order = order[: int(max_rows)]
    n_val = max(1, int(round(len(order) * validation)))
    return train.iloc[np.sort(order[n_val:])], train.iloc[np.sort(order[:n_val])]


def select_by_detector(train: pd.DataFrame, schema: Schema, detector: DetectorConfig | None = None, *,
                       base_params: dict | None = None, stages=None, seed: int = 0,
                       validation: float = 0.3, max_rows: int | None = 20_000,
                       time_budget: float | None = 120.0) -> Selection:
    """Choose GMM settings by a detector's AUC on rows of ``train`` the candidates were not fitted on.

    ``train`` must hold only the generator's training rows (never the holdout); nothing else
    is read. ``base_params`` are the config's GMM parameters (fixed unless a stage varies them).
    ``time_budget`` (seconds) stops the search after the candidate that crosses it.
    """
    started = time.perf_counter()
    detector = DetectorConfig.coerce(detector or DetectorConfig()).replace(null=False, cv=0)
    fit_rows, val_rows = selection_split(train, seed, validation, max_rows)
    tried: dict[tuple, float] = {}
    candidates: list[dict] = []

    def score(settings: dict) -> float:
        key = tuple(sorted(settings.items()))
        if key not in tried:
            t = time.perf_counter()
            gen = GMMSynthesizer(**gmm_params(settings, base_params), random_state=seed).fit(fit_rows, schema)
            synthetic = gen.sample(len(val_rows), random_state=seed + 1)
            auc = float(detect(val_rows, synthetic, detector, schema=schema, seed=seed, null=False).roc_auc)
            tried[key] = auc
            candidates.append({"settings": dict(settings), "auc": round(auc, 4),
                               "seconds": round(time.perf_counter() - t, 2)})
            log.info("adversarial candidate %s: AUC %.4f", settings, auc)
        return tried[key]

    best = dict(BASE_SETTINGS)
    best_auc = score(best)
    for stage in DEFAULT_STAGES if stages is None else stages:
        for change in stage:
            if time_budget is not None and time.perf_counter() - started > time_budget:
                log.warning("adversarial search stopped at its time budget (%.0f s)", time_budget)
                break
            candidate = {**best, **change}
            auc = score(candidate)
            if auc < best_auc:
                best, best_auc = candidate, auc
    return Selection(chosen=best, selection_auc=round(best_auc, 4), candidates=candidates,
                     fit_index=fit_rows.index.to_numpy(), validation_index=val_rows.index.to_numpy(),
                     seconds=time.perf_counter() - started)
