"""The GMM's own privacy check: the fitted model is shown training rows it never saw.

Why: the better a generator learns a table, the closer it gets to the rows it learned from,
and where that line falls depends on the table. On a table of few-valued columns (statsmodels'
fair: eight columns of 4–7 values) every combination is rare, so a mixture of many components,
a refinement that pulls draws towards the training rows and leaves of a few dozen rows hand
out training rows' combinations more often than unseen rows': the privacy adversary flags it,
on some seeds and not others. No fixed setting is right for every table, so the generator
measures it on its own rows before it is used, the way it already measures fit.

``held_back`` picks the rows: a share ``SHARE`` of the training rows, at most ``MAX_ROWS`` (whole
groups of a group key, as the run's holdout keeps them). The GMM is fitted on the others only
(a table of more than 12,500 training rows loses little: its mixture is fitted on a subsample of
10,000 rows anyway). ``check`` then asks the privacy adversary's questions (``privacy_report``)
with the fitted rows as members and the held-back rows as non-members, and counts a test
against the model when it fires at ``ALPHA``, a far looser significance than the verdict's, with
the verdict's effect thresholds: the guard has about the verdict's power (a few thousand rows on
each side), so it must stop a model the verdict could flag, not only one it surely would.
When a test fires, ``GMMSynthesizer`` lowers its capacity one step at a time and
checks again: first the density-ratio refinement is weakened (its ratio capped lower, so that
``WEAKER_ACCEPTANCE`` of the draws pass instead of ``refine_acceptance``: it pulls draws towards
the training rows, and most of what it buys survives a lower cap), then it goes (cheap to drop),
then the redraw's trees are refitted with leaves ``LEAF_GROWTH``
times larger (a leaf of ten rows of few-valued columns is nearly one combination, and a level
drawn from it rebuilds a training row), then k is halved down to 1, then the redraw goes, until
the check passes (or nothing is left to give up: the model is kept, with a warning, for the
run's privacy adversary to judge). The model
returned is the one that passed: the held-back rows stay unseen by it, so their exposure is
nil (the run's privacy adversary counts them among its members, which dilutes its figures by
their share, a fifth at most), and that adversary still judges it against the run's own
holdout, which no part of the fit has touched.

Off by default (``privacy_guard: true`` in a config's ``generators.gmm`` turns it on), because
its check is only as sure as a few thousand held-back rows allow, and a false alarm is dear.
On a table of few-valued columns it turns a flagged default clean, at a cost in fidelity; on
tables whose refinement sits near the exact-copy threshold, a check on other rows than the
run's can fire where the run's adversary does not, and refinement is weakened or goes (README,
"Generators", has the figures). Sharper checks are open work.

Not a privacy proof, and not the verdict: it is the generator choosing its capacity by the
adversary's statistics on its own rows (the run's holdout is never read), the same idea as
the adversarial search's privacy check, which judges its candidates on the selection split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiment.splits import held_out
from ..metrics.evaluate import modelled_kinds
from ..metrics.privacy import flags_of, privacy_report
from ..schema import Schema

SHARE = 0.2  # of the training rows held back from the fit ...
MAX_ROWS = 2_500  # ... at most this many
MIN_ROWS = 2_000  # fewer training rows: no guard (a few hundred rows test nothing, and a small table would lose a fifth)
ALPHA = 0.01  # a test counts against the model when it passes its threshold at this significance
MAX_DRAWS = 10_000  # synthetic rows the check draws at most (one per fitted row below that)
WEAKER_ACCEPTANCE = 0.5  # the first step: refinement keeps this share of draws (a lower cap on its ratio)
LEAF_GROWTH = 4  # the redraw's leaves grow this many times at the third step


def held_back(n_rows: int, groups: np.ndarray | None, seed: int) -> np.ndarray | None:
    """The mask of training rows the guard holds back from the fit (its own seed stream), or None
    when the table is too small to check (fewer than ``MIN_ROWS`` rows)."""
    if n_rows < MIN_ROWS:
        return None
    n_hold = min(int(round(SHARE * n_rows)), MAX_ROWS)
    return held_out(n_rows, n_hold, np.random.default_rng([int(seed), 8]), groups)


def check(gen, fitted: pd.DataFrame, held: pd.DataFrame, seed: int) -> dict:
    """The privacy adversary's statistics on ``gen``'s draws, ``fitted`` (model frame of the rows it
    was fitted on) as members and ``held`` (rows it never saw) as non-members, and the tests that
    count against it (``fired``)."""
    schema: Schema = gen.schema_
    numeric, categorical, dates = modelled_kinds(schema)
    draws = schema.model_frame(gen.sample(min(len(fitted), MAX_DRAWS), random_state=[int(seed), 9]))
    # model values throughout: dates are numbers here, and no identifier is modelled as one
    report = privacy_report(fitted, held, draws, [*numeric, *dates], categorical, random_state=int(seed),
                            identifiers=[])
    fired = flags_of(report, ALPHA)
    attacks = report["membership"]["attacks"]
    return {
        "fired": [f["test"] for f in fired],
        "near_copies_excess": round(float(report["copies"]["near"]["excess"]), 4),
        "exact_copies_excess": round(float(report["copies"]["exact"]["excess"]), 4),
        "membership_auc": {name: round(float(a["roc_auc"]), 4) for name, a in attacks.items()
                           if a.get("roc_auc") is not None},
    }
