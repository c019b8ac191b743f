"""The experiment's row splits, as small objects that can be saved and handed on.

* ``RealSplit``: the real table's rows the generator may see (``train``) and the holdout it never
  sees (whole groups of a group key on one side). Privacy, utility and the holdout-only AUC are only honest against the holdout. The
  pipeline's training step saves it beside the model (``split.json``) and the evaluation step
  reads it back, so both judge the very rows the fit used.
* ``selection_split``: the adversarial search's own fit / validation rows, drawn from the
  training rows only (the holdout stays unseen by every choice the search makes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import DEFAULT_HOLDOUT
from ..errors import InputError
from .seeds import rng_of
from .trace import stage

SELECTION_VALIDATION = 0.3  # share of the (capped) training rows the search's candidates are judged against
SELECTION_MAX_ROWS = 40_000  # training rows the search reads at most (fit + validation): its cost is bounded


@dataclass
class RealSplit:
    """Row numbers (sorted) of the real table: ``train`` for the generator, ``holdout`` never seen by it."""

    seed: int
    holdout_share: float
    n_real: int
    train: np.ndarray
    holdout: np.ndarray

    @classmethod
    @stage("holdout_split")
    def of(cls, n_real: int, seed: int, holdout_share: float = DEFAULT_HOLDOUT,
           groups: np.ndarray | None = None) -> "RealSplit":
        """The seeded split (stream "holdout"): a share ``holdout_share`` of the rows, at least one.

        ``groups`` (a label per row, ``Schema.split_groups``): whole groups go to the holdout, in
        a seeded order, until it holds the share of rows (a group more, at most, and never every
        group), so no group has rows on both sides."""
        n_hold = max(1, int(round(int(n_real) * holdout_share)))
        held = held_out(int(n_real), n_hold, rng_of(seed, "holdout"), groups)
        return cls(int(seed), float(holdout_share), int(n_real), np.flatnonzero(~held), np.flatnonzero(held))

    def apply(self, real: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(train rows, holdout rows) of ``real``, which must be the table the split was made for."""
        if len(real) != self.n_real:
            raise InputError(f"the split was made for a real table of {self.n_real} rows, this one has {len(real)} rows")
        return real.iloc[self.train], real.iloc[self.holdout]

    def to_json(self) -> str:
        return json.dumps({"seed": self.seed, "holdout_share": self.holdout_share, "n_real": self.n_real,
                           "holdout_rows": self.holdout.tolist()})

    @classmethod
    def from_json(cls, text: str, n_real: int, what: str) -> "RealSplit":
        try:
            data = json.loads(text)
            holdout = np.asarray(data["holdout_rows"], dtype=np.int64)
            if int(data["n_real"]) != n_real:
                raise InputError(f"{what}: the generator was fitted on a real table of {data['n_real']} rows, "
                                 f"the real table input has {n_real}")
            return cls(int(data["seed"]), float(data["holdout_share"]), n_real,
                       np.setdiff1d(np.arange(n_real), holdout), holdout)
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"{what} is not a split description: {err}") from None


def split_real(real: pd.DataFrame, seed: int, holdout: float = DEFAULT_HOLDOUT,
               schema=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout) rows of ``real`` as ``advsynth run`` splits them (``RealSplit.of``; with
    ``schema``, by the groups of its group keys, as a run does)."""
    return RealSplit.of(len(real), seed, holdout, groups=None if schema is None else schema.split_groups(real)).apply(real)


def held_out(n_rows: int, n_hold: int, rng: np.random.Generator, groups: np.ndarray | None = None) -> np.ndarray:
    """A mask of ``n_hold`` of ``n_rows`` rows in ``rng``'s order, or with ``groups`` (a label per row)
    of whole groups until they hold that many (``_first_groups``): the holdout's rule, also the GMM's
    privacy guard's for the rows it holds back from its own fit."""
    if groups is None:
        mask = np.zeros(n_rows, dtype=bool)
        mask[rng.permutation(n_rows)[:n_hold]] = True
        return mask
    labels = np.asarray(groups)
    if len(labels) != n_rows:
        raise InputError(f"{len(labels)} group labels for a real table of {n_rows} rows")
    _, labels = np.unique(labels, return_inverse=True)
    return _first_groups(labels, rng.permutation(labels.max() + 1), n_hold)


def _first_groups(labels: np.ndarray, order: np.ndarray, n_rows: int) -> np.ndarray:
    """Rows (a mask) of the first groups of ``order`` that hold at least ``n_rows`` rows: a group
    more at most, at least one group, never every group of ``order``."""
    sizes = np.bincount(labels, minlength=len(order))
    taken = min(int(np.searchsorted(np.cumsum(sizes[order]), n_rows)) + 1, len(order) - 1)
    return np.isin(labels, order[:max(taken, 1)])


@stage("selection_split")
def selection_split(train: pd.DataFrame, seed: int, validation: float = SELECTION_VALIDATION,
                    max_rows: int | None = SELECTION_MAX_ROWS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit, validation) rows of the generator's training rows (stream "selection"); at most ``max_rows`` in all.

    Row by row even with a group key: the split only chooses settings, and the verdict is a
    fresh detector on fresh draws. (Whole groups were tried on nassCDS: the search then stopped
    at five redrawn columns and read 0.581 fresh against 0.539 row by row.)"""
    order = rng_of(seed, "selection").permutation(len(train))
    if max_rows is not None:
        order = order[: int(max_rows)]
    n_val = max(1, int(round(len(order) * validation)))
    return train.iloc[np.sort(order[n_val:])], train.iloc[np.sort(order[:n_val])]
