"""Identifiers: one distinct value per row, drawn fresh in the real format."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .base import ColumnTransformer, _cast



class IdTransformer(ColumnTransformer):
    """One distinct value per row: not modelled (nothing may memorise it); fresh identifiers in the output.

    Fresh identifiers keep the real ones' format when it is regular (``fit_id_format``): the
    same length, the characters that never change ("r00…", "case-"), each other position from
    the same character class (digits, hex, letters), so "A-10293" comes back as "A-57120", not
    "synthetic-1". A drawn identifier may coincide with a real one (as integer IDs 1..n do).

    The identifier is a function of the row's place in the whole table (``first_row`` is the
    place of this batch's first row), so a table drawn in blocks, or in shards on several
    instances, has distinct identifiers throughout, as one draw would.
    """

    modelled = False

    def reverse_transform(self, values, rng, first_row=0):
        n = len(values)
        rows = np.arange(int(first_row), int(first_row) + n, dtype=np.int64)
        if self.spec.kind == "integer":
            return _cast(rows + 1, self.spec.dtype or "int64", np.zeros(n, bool))
        values = draw_ids(self.spec.id_format, rows, rng)
        if values is None:
            values = np.char.add("synthetic-", (rows + 1).astype(str)).astype(object)
        return _cast(values, self.spec.dtype, np.zeros(n, bool))


# character classes an identifier position may draw from, smallest first
_ID_ALPHABETS = {
    "digit": "0123456789", "hex": "0123456789abcdef", "HEX": "0123456789ABCDEF",
    "lower": "abcdefghijklmnopqrstuvwxyz", "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "alnum": "0123456789abcdefghijklmnopqrstuvwxyz", "ALNUM": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "mixed": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
}
ID_FORMAT_SAMPLE = 5000  # identifiers read to learn their format
_ID_STRIDE = 2_147_483_647  # a prime: coprime with any product of the alphabets' sizes


def fit_id_format(values: pd.Series) -> dict | None:
    """The format of text identifiers, or None when it is irregular (then ``synthetic-N``).

    ``{"template": [char or class name, ...]}`` when every identifier has the same length:
    a position that holds one character in every sampled value is that literal, any other
    the smallest class holding its characters. ``{"prefix": p}`` when the identifiers are a
    common prefix followed by a number of varying width ("case-7", "case-1204").
    """
    text = values.astype(str)
    sample = text.iloc[np.sort(np.random.default_rng(0).choice(len(text), min(len(text), ID_FORMAT_SAMPLE),
                                                                replace=False))]
    lengths = text.str.len()
    if lengths.nunique() == 1:
        grid = np.array([list(v) for v in sample], dtype="<U1")
        template = []
        for column in grid.T:
            chars = set(column.tolist())
            if len(chars) == 1:
                template.append(str(column[0]))
                continue
            cls = next((name for name, alphabet in _ID_ALPHABETS.items() if chars <= set(alphabet)), None)
            if cls is None:
                return None
            template.append({"class": cls})
        return {"template": template}
    prefix = str(pd.Series(sample).str.extract(r"^(\D*)", expand=False).mode().iloc[0])
    rest = text.str.slice(len(prefix))
    if text.str.startswith(prefix).all() and rest.str.fullmatch(r"[1-9]\d*|0").all():
        return {"prefix": prefix}
    return None


def draw_ids(fmt: dict | None, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """Identifiers in format ``fmt`` (``fit_id_format``) for the table's rows ``rows`` (their places
    in the whole table), distinct for distinct rows; None if the format cannot hold them.

    A prefix is followed by the row's number. A template's varying positions spell the number
    ``row * stride`` (mod the template's capacity, mixed radix), so the identifiers are distinct
    and scattered; past 2**62 combinations (UUID-like) each position is drawn independently (a
    repeat among 10 million draws has probability below 1e-5).
    """
    if not fmt:
        return None
    rows = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    if "prefix" in fmt:
        return np.char.add(fmt["prefix"], (rows + 1).astype(str)).astype(object)
    template = fmt["template"]
    slots = [i for i, t in enumerate(template) if isinstance(t, dict)]
    bases = [len(_ID_ALPHABETS[template[i]["class"]]) for i in slots]
    capacity = math.prod(bases)  # exact (a float product loses digits past 2**53)
    if capacity <= (int(rows.max()) if n else 0):
        return None
    chars = np.empty((n, len(template)), dtype="<U1")
    for i, t in enumerate(template):
        if not isinstance(t, dict):
            chars[:, i] = t
    if capacity > 2**62:
        for i, base in zip(slots, bases):
            chars[:, i] = np.array(list(_ID_ALPHABETS[template[i]["class"]]))[rng.integers(0, base, n)]
    else:
        # row * stride (mod capacity): distinct for rows < capacity as the stride, a prime above
        # every alphabet's size, shares no factor with the capacity; scattered, not consecutive
        size = capacity
        number = rows * _ID_STRIDE % size  # int64: exact below 4 billion rows
        for i, base in zip(reversed(slots), reversed(bases)):
            chars[:, i] = np.array(list(_ID_ALPHABETS[template[i]["class"]]))[number % base]
            number //= base
    return np.array(["".join(row) for row in chars], dtype=object)
