"""Columns that are functions of another column, found on the training rows and rebuilt from it.

Real tables are full of exact relations a density model only approximates: a timestamp
fixes its year, month, day and hour columns; a code fixes its label; an education level
fixes its number of years. Every synthetic row that breaks one is a giveaway, and the
detector finds them first. Such a column carries nothing its parent does not, so the honest
model of it is the lookup itself: it is dropped from what the generator draws and rebuilt
from the drawn parent by the training rows' own mapping.

``find_dependencies`` tests every ordered pair of modelled columns (on at most
``MAX_ROWS`` training rows, each pair one ``np.unique`` of paired codes): ``child`` depends on
``parent`` when every parent value seen comes with a single child value (missing counts as a
value). A single value proves nothing, and a column of distinct values determines every
other column trivially (rebuilding from it would copy whole training rows), so the parent
must repeat: at least ``MIN_REPEATED_SHARE`` of the rows share their parent value with
another row, and the groups of repeated values must be many and large enough that, were
the two columns unrelated, ``MIN_EVIDENCE`` rows would be expected to break the relation (a
binary child is constant in a pair of rows half the time by chance). Columns are visited from the most to the fewest distinct values, and a
column is derived only from a column that is itself drawn, so chains collapse onto their root
(a timestamp, not the day derived from it, rebuilds the month) and a one-to-one pair keeps its
first column.

``Dependency.apply`` maps drawn parent values to child values: a categorical parent by its
level, a numeric parent by the nearest training value (a drawn value between two training
values takes the closer one's child). A parent level the mapping never saw keeps the child
the generator drew.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import Schema
from .trees import column_values, model_levels

MAX_ROWS = 20_000  # training rows the pairs are tested on; the mapping itself uses every row
MIN_REPEATED_SHARE = 0.5  # rows whose parent value another row shares, at least
MIN_EVIDENCE = 10.0  # parent groups expected to break the dependency by chance, at least
MAX_COLUMNS = 200  # wider tables test only their first columns' pairs (the test is quadratic in columns)


@dataclass(frozen=True)
class Dependency:
    """``child`` as a function of ``parent``: sorted parent keys and the child value of each."""

    child: str
    parent: str
    numeric_parent: bool
    keys: np.ndarray  # sorted parent values (float, NaN last) or level codes (-1: missing)
    values: np.ndarray  # the child's value per key: float (NaN missing) or level code (-1 missing)

    def apply(self, parent: np.ndarray, current: np.ndarray) -> np.ndarray:
        """The child for each drawn ``parent`` value; ``current`` (the generator's child) where the mapping has no key."""
        if self.numeric_parent:
            present = ~np.isnan(self.keys)
            keys, values = self.keys[present], self.values[present]
            out = current.copy()
            drawn = ~np.isnan(parent)
            if len(keys):
                x = parent[drawn]
                right = np.clip(np.searchsorted(keys, x), 0, len(keys) - 1)
                left = np.maximum(right - 1, 0)
                out[drawn] = values[np.where(np.abs(x - keys[left]) <= np.abs(keys[right] - x), left, right)]
            if (~present).any():
                out[~drawn] = self.values[~present][0]
            return out
        pos = np.searchsorted(self.keys, parent)
        pos = np.minimum(pos, len(self.keys) - 1)
        found = self.keys[pos] == parent
        return np.where(found, self.values[pos], current)


def _codes(values: np.ndarray) -> np.ndarray:
    """Dense integer codes of a column's plain values, missing as a code of its own."""
    return pd.factorize(values, use_na_sentinel=False)[0].astype(np.int64)


def find_dependencies(df: pd.DataFrame, schema: Schema, random_state: int = 0) -> list[Dependency]:
    """The dependencies of ``df`` (a training model frame), each child derived from a drawn parent."""
    names = [c.name for c in schema.modelled][:MAX_COLUMNS]
    if len(df) > MAX_ROWS:
        keep = np.sort(np.random.default_rng([random_state, 17]).choice(len(df), MAX_ROWS, replace=False))
        sample = df.iloc[keep]
    else:
        sample = df
    plain = {c: column_values(df, schema, c) for c in names}
    codes = {c: _codes(column_values(sample, schema, c)) for c in names}
    distinct = {c: int(codes[c].max()) + 1 if len(codes[c]) else 0 for c in names}
    order = sorted(names, key=lambda c: (-distinct[c], names.index(c)))
    drawn: list[str] = []
    found = []
    for child in order:
        parent = next((p for p in drawn if _determines(codes[p], distinct[p], codes[child], distinct[child])), None)
        if parent is None or distinct[child] < 2:
            drawn.append(child)
            continue
        found.append(_mapping(child, parent, plain[parent], plain[child], schema))
    return found


def _determines(parent: np.ndarray, n_parent: int, child: np.ndarray, n_child: int) -> bool:
    """Whether every parent code comes with one child code, on enough repeated parent values to mean it."""
    if n_parent < n_child or len(np.unique(parent * n_child + child)) != n_parent:
        return False
    sizes = np.bincount(parent, minlength=n_parent)
    if sizes[sizes >= 2].sum() < MIN_REPEATED_SHARE * len(parent):
        return False
    share = np.bincount(child, minlength=n_child) / len(child)
    group_sizes, groups = np.unique(sizes[sizes >= 2], return_counts=True)
    # were the columns unrelated, a group of s rows would hold one child value with probability
    # sum(share ** s), and about s * (1 - max(share)) of its rows would differ from the most common
    expected_breaks = sum(g * min((1.0 - float(np.sum(share ** s))) * (s - 1), s * (1.0 - share.max()))
                          for s, g in zip(group_sizes, groups))
    return expected_breaks >= MIN_EVIDENCE


def _mapping(child: str, parent: str, parent_values: np.ndarray, child_values: np.ndarray,
             schema: Schema) -> Dependency:
    """The child value of each parent value, from every training row (the first row's where rows disagree:
    the pair was tested on a sample, so a rare exception keeps the majority of one)."""
    numeric = schema[parent].is_numeric
    keys, first = np.unique(parent_values, return_index=True)
    return Dependency(child, parent, numeric, keys, child_values[first])


def apply_dependencies(raw: pd.DataFrame, dependencies: list[Dependency], schema: Schema) -> pd.DataFrame:
    """``raw`` with every derived column rebuilt from its parent's drawn values."""
    out = raw.copy()
    for dep in dependencies:
        parent = column_values(out, schema, dep.parent)
        current = column_values(out, schema, dep.child)
        values = dep.apply(parent, current)
        if schema[dep.child].is_numeric:
            out[dep.child] = values.astype(np.float64)
        else:
            out[dep.child] = pd.Categorical.from_codes(values, categories=model_levels(schema, dep.child))
    return out
