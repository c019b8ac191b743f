"""Free text: new text from the real word counts and the words at least two rows use."""

from __future__ import annotations


import numpy as np
import pandas as pd

from .base import ColumnTransformer, _cast
from .identifiers import ID_FORMAT_SAMPLE



class TextTransformer(ColumnTransformer):
    """Free text with one distinct value per row (titles, comments): not modelled jointly with
    the other columns; each output row is new text drawn word by word.

    ``fit_text`` keeps the distribution of the number of words and the frequencies of at most
    ``MAX_VOCABULARY`` words (only words found in at least two values: a word one row alone
    holds is not copied out), so the output reads like the column without being any real row,
    in bounded memory whatever the table. Drawn with the run's generator: same seed, same text.
    """

    modelled = False

    def reverse_transform(self, values, rng, first_row=0):
        n = len(values)
        t = self.spec.text
        lengths = np.asarray(t["lengths"], dtype=np.int64)
        p = lengths[:, 1] / lengths[:, 1].sum()
        words_per_row = lengths[rng.choice(len(lengths), size=n, p=p), 0]
        weights = np.asarray(t["counts"], dtype=float)
        words = np.asarray(t["words"], dtype=object)[rng.choice(len(weights), size=int(words_per_row.sum()),
                                                                p=weights / weights.sum())]
        ends = np.cumsum(words_per_row)
        out = np.array([" ".join(words[e - k: e]) for e, k in zip(ends, words_per_row)], dtype=object)
        return _cast(out, self.spec.dtype, np.zeros(n, bool))


MAX_VOCABULARY = 2000   # words kept per free-text column
TEXT_FIT_ROWS = 20_000  # values read to learn a free-text column (bounded time and memory)
MAX_TEXT_WORDS = 200    # longest text drawn, in words


def is_free_text(values: pd.Series) -> bool:
    """Words with spaces, of varying length (titles, comments), as opposed to codes
    ("A-10293", UUIDs): most values hold a space and their lengths differ."""
    text = values.astype(str).str.strip()
    sample = text.iloc[:ID_FORMAT_SAMPLE]
    return bool(sample.str.contains(r"\s", regex=True).mean() >= 0.5 and sample.str.len().nunique() > 1)


def fit_text(values: pd.Series) -> dict:
    """Word-count distribution and word frequencies of a free-text column (see ``TextTransformer``)."""
    text = values.astype(str)
    if len(text) > TEXT_FIT_ROWS:
        text = text.iloc[np.sort(np.random.default_rng(0).choice(len(text), TEXT_FIT_ROWS, replace=False))]
    words = text.str.split()
    lengths = np.clip(words.str.len().to_numpy(), 1, MAX_TEXT_WORDS)
    counts = words.explode().dropna().value_counts(sort=True)
    shared = counts[counts >= 2]
    kept = (shared if len(shared) else counts).iloc[:MAX_VOCABULARY]
    kept = kept.sort_index(kind="stable").sort_values(ascending=False, kind="stable")  # ties by word: deterministic
    histogram = np.bincount(lengths)
    return {"words": [str(w) for w in kept.index], "counts": [int(c) for c in kept.to_numpy()],
            "lengths": [[int(k), int(c)] for k, c in enumerate(histogram) if c]}
