"""Named seed streams: every random choice of the experiment draws from the stream named for it.

A run has one seed. Each random choice the experiment makes (which real rows are held out,
which rows the detector's validation slice takes, how the null halves the real table, ...)
gets its own stream derived from that seed, so that adding a choice never moves another, and
so that a door (a container, a benchmark) that makes one of the choices on its own makes it
exactly as ``advsynth run`` does. The derivations are part of the results' contract: changing
one changes the rows or the figures for every seed.

Two kinds of stream:

* ``spawn``: ``numpy.random.SeedSequence([seed, key])``: an independent stream, for draws
  advsynth makes itself;
* ``offset``: the integer ``seed + key``, for libraries that take an integer seed
  (scikit-learn's splitters, a generator's ``random_state``). Offset streams of the same key
  are the same integer; they are kept apart by being used for different things.

The generator's own internal streams (its subsamples and calibration draws) are the
generator's business and live with it; these are the experiment's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stream:
    name: str
    kind: str  # "spawn" or "offset"
    key: int
    why: str


STREAMS = {s.name: s for s in (
    Stream("detector", "offset", 0, "balance's pick of rows, the detector's test split, its trees"),
    Stream("validation", "offset", 1, "the early-stopping slice carved from the detector's training rows"),
    Stream("null", "offset", 1, "the real-vs-real null's random halves of the real table"),
    Stream("holdout", "spawn", 7, "the real rows held out from the generator (privacy, utility, holdout-only AUC)"),
    Stream("selection", "spawn", 11, "the adversarial search's fit / validation rows of the training rows"),
    Stream("selection_draw", "offset", 1, "the draws a selection candidate is judged on"),
    Stream("privacy", "spawn", 17, "the privacy adversary's subsamples of rows to attack and query"),
)}


def stream(name: str) -> Stream:
    try:
        return STREAMS[name]
    except KeyError:
        raise KeyError(f"no seed stream {name!r}; the streams are {', '.join(STREAMS)}") from None


def seed_of(seed: int, name: str) -> int:
    """The integer seed of offset stream ``name`` for a run seeded ``seed``."""
    s = stream(name)
    if s.kind != "offset":
        raise ValueError(f"seed stream {name!r} is a spawned stream: use rng_of")
    return int(seed) + s.key


def rng_of(seed: int, name: str) -> np.random.Generator:
    """A numpy Generator on stream ``name`` for a run seeded ``seed``."""
    s = stream(name)
    if s.kind == "offset":
        return np.random.default_rng(int(seed) + s.key)
    return np.random.default_rng(np.random.SeedSequence([int(seed), s.key]))
