"""Identifiers and group keys: drawn fresh in the real format, never modelled.

An identifier has one distinct value per row. A group key (a case number shared by the 1-11
occupants of a car, an order number shared by its lines) has values that each cover a handful
of rows: modelled as a many-level categorical it would hand real case numbers to synthetic
rows. Both are instead regenerated: fresh values in the real format, and for a group key the
real distribution of group sizes, with the columns that are constant within every real group
(``ColumnSpec.group["constant"]``) constant within every synthetic group too.
"""

from __future__ import annotations

import math
import re
import threading
import zlib

import numpy as np
import pandas as pd

from .base import ColumnTransformer, _cast

# a text column with at least KEY_MIN_DISTINCT distinct values, each covering on average at most
# 1 / KEY_MIN_SHARE rows, identifies rows or groups of rows (the privacy adversary checks the same columns)
KEY_MIN_DISTINCT = 100
KEY_MIN_SHARE = 0.2
GROUP_CONSTANT_SHARE = 0.95  # a column constant within this share of the real multi-row groups is a group attribute
GROUP_CHUNK = 10_000  # group sizes are drawn per chunk of this many rows (divides SAMPLE_BLOCK_ROWS)
MAX_GROUP_SIZES = 1000  # distinct group sizes kept (bounded schema.json); larger ones merge into the largest kept


def is_group_key(present: pd.Series) -> bool:
    """Values (missing ones dropped) that each cover a handful of rows: a key of rows or of groups."""
    distinct = present.nunique()
    return distinct >= KEY_MIN_DISTINCT and distinct >= KEY_MIN_SHARE * len(present)


def fit_groups(present: pd.Series) -> dict:
    """The group sizes of a key: ``{"sizes": [size, ...], "counts": [groups of that size, ...]}``."""
    sizes = present.value_counts().value_counts().sort_index()
    if len(sizes) > MAX_GROUP_SIZES:
        kept = sizes.iloc[:MAX_GROUP_SIZES].copy()
        kept.iloc[-1] += int(sizes.iloc[MAX_GROUP_SIZES:].sum())
        sizes = kept
    return {"sizes": [int(s) for s in sizes.index], "counts": [int(c) for c in sizes.to_numpy()], "constant": []}


def constant_within_groups(df: pd.DataFrame, key: str, columns) -> list[str]:
    """The ``columns`` constant (missing counts as a value) within at least ``GROUP_CONSTANT_SHARE``
    of the real groups of ``key`` that have more than one row: group attributes (a case's date, an
    order's customer) that a synthetic group must share too."""
    present = df[df[key].notna()]
    size = present.groupby(key, sort=False)[key].transform("size")
    multi = present[size.to_numpy() > 1]
    if multi.empty:
        return []
    grouped = multi.groupby(key, sort=False)
    return [c for c in columns
            if float((grouped[c].nunique(dropna=False) == 1).mean()) >= GROUP_CONSTANT_SHARE]


def _chunk_starts(spec, chunk: int) -> np.ndarray:
    """The first rows of the groups of chunk ``chunk`` (places in the whole table), drawn from the
    real group sizes from a seed of the column's name and the chunk's number."""
    sizes = np.minimum(np.asarray(spec.group["sizes"], dtype=np.int64), GROUP_CHUNK)
    weights = np.asarray(spec.group["counts"], dtype=float)
    rng = np.random.default_rng([zlib.crc32(spec.name.encode()), int(chunk)])
    drawn = sizes[rng.choice(len(sizes), GROUP_CHUNK, p=weights / weights.sum())]  # one row each at least: enough
    starts = int(chunk) * GROUP_CHUNK + np.concatenate([[0], np.cumsum(drawn)[:-1]])
    return starts[starts < (int(chunk) + 1) * GROUP_CHUNK]


_GROUPS_BEFORE: dict = {}  # (column, sizes) -> groups in chunks 0, 1, ... (cumulative): each chunk drawn once
_GROUPS_LOCK = threading.Lock()


def _groups_before(spec, chunk: int) -> int:
    """How many groups the chunks before ``chunk`` hold (drawn once per process, then remembered,
    so numbering a table block by block stays linear in its rows)."""
    key = (spec.name, tuple(spec.group["sizes"]), tuple(spec.group["counts"]))
    with _GROUPS_LOCK:
        counts = _GROUPS_BEFORE.setdefault(key, [0])
        while len(counts) <= chunk:
            counts.append(counts[-1] + len(_chunk_starts(spec, len(counts) - 1)))
        return counts[chunk]


def group_starts(spec, first_row: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For rows ``first_row .. first_row + n - 1`` of the whole table: the place of the first row of
    the group each belongs to, and the group's number (its order among the table's groups).

    The table is cut into chunks of ``GROUP_CHUNK`` rows; each chunk is filled with group sizes
    drawn from the real ones (``_chunk_starts``; a group that would cross the chunk's end is cut
    there). A row's group is therefore a function of its place, so blocks and shards of one table
    group and number their rows exactly as one draw would, and no group crosses a sampling block
    (``GROUP_CHUNK`` divides ``SAMPLE_BLOCK_ROWS``). Numbering groups rather than rows keeps fresh
    keys within a format that holds as many keys as the real table has groups.
    """
    rows = np.arange(int(first_row), int(first_row) + int(n), dtype=np.int64)
    starts = np.empty(len(rows), dtype=np.int64)
    numbers = np.empty(len(rows), dtype=np.int64)
    for chunk in np.unique(rows // GROUP_CHUNK):
        chunk_starts = _chunk_starts(spec, int(chunk))
        here = rows // GROUP_CHUNK == chunk
        position = np.searchsorted(chunk_starts, rows[here], side="right") - 1
        starts[here] = chunk_starts[position]
        numbers[here] = _groups_before(spec, int(chunk)) + position
    return starts, numbers


class IdTransformer(ColumnTransformer):
    """An identifier or a group key: not modelled (nothing may memorise it); fresh values in the output.

    Fresh identifiers keep the real ones' format when it is regular (``fit_id_format``): the
    same length, the characters that never change ("r00…", "case-"), each other position from
    the same character class (digits, hex, letters), so "A-10293" comes back as "A-57120", not
    "synthetic-1". A drawn identifier may coincide with a real one (as integer IDs 1..n do).

    The identifier is a function of the row's place in the whole table (``first_row`` is the
    place of this batch's first row), so a table drawn in blocks, or in shards on several
    instances, has distinct identifiers throughout, as one draw would.

    A group key's rows share one fresh value per group (``group_starts``), numbered by the group's
    order in the table; its missing values fall on rows drawn from the same chunk seeds.
    """

    modelled = False

    def reverse_transform(self, values, rng, first_row=0):
        n = len(values)
        if self.spec.group:
            return self._group_keys(int(first_row), n, rng)
        rows = np.arange(int(first_row), int(first_row) + n, dtype=np.int64)
        if self.spec.kind == "integer":
            return _cast(rows + 1, self.spec.dtype or "int64", np.zeros(n, bool))
        values = draw_ids(self.spec.id_format, rows, rng)
        if values is None:
            values = np.char.add("synthetic-", (rows + 1).astype(str)).astype(object)
        return _cast(values, self.spec.dtype, np.zeros(n, bool))

    def _group_keys(self, first_row: int, n: int, rng: np.random.Generator) -> pd.Series:
        groups, inverse = np.unique(group_starts(self.spec, first_row, n)[1], return_inverse=True)
        keys = draw_ids(self.spec.id_format, groups, rng)
        if keys is None:
            keys = np.char.add("synthetic-", (groups + 1).astype(str)).astype(object)
        missing = np.zeros(n, bool)
        if self.spec.missing_rate > 0:
            rows = np.arange(first_row, first_row + n, dtype=np.int64)
            salt = zlib.crc32(self.spec.name.encode()) ^ 1
            for chunk in np.unique(rows // GROUP_CHUNK):
                here = rows // GROUP_CHUNK == chunk
                u = np.random.default_rng([salt, int(chunk)]).random(GROUP_CHUNK)
                missing[here] = u[rows[here] % GROUP_CHUNK] < self.spec.missing_rate
        return _cast(np.asarray(keys, dtype=object)[inverse], self.spec.dtype, missing)


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
    return _fit_fields(sample)


def _fit_fields(sample: pd.Series) -> dict | None:
    """``{"fields": [literal or {"low", "high", "width"}, ...]}`` when every sampled value is the same
    separators around numbers ("2:13:1", "2019-A-0042" is not: letters vary), else None.
    ``width``: a number written zero-padded to a fixed width ("007"), else None."""
    tokens = [re.findall(r"\d+|\D+", v) for v in sample]
    shape = [t if not t.isdigit() else None for t in tokens[0]]
    if any(len(t) != len(shape) for t in tokens) or all(s is not None for s in shape):
        return None
    fields = []
    for i, literal in enumerate(shape):
        column = [t[i] for t in tokens]
        if literal is not None:
            if any(v != literal for v in column):
                return None
            fields.append(literal)
            continue
        if not all(v.isdigit() for v in column):
            return None
        numbers = [int(v) for v in column]
        widths = {len(v) for v in column}
        padded = len(widths) == 1 and any(v.startswith("0") and len(v) > 1 for v in column)
        fields.append({"low": min(numbers), "high": max(numbers), "width": widths.pop() if padded else None})
    return {"fields": fields}


def _draw_fields(fields: list, numbers: np.ndarray) -> np.ndarray:
    """Distinct numbers as distinct values of a ``fields`` format: the last number fields spell
    ``number`` in their real ranges (mixed radix, scattered by a prime stride when the format holds
    every number), the first number field takes what is left, growing past its real maximum
    rather than repeating a value."""
    slots = [i for i, f in enumerate(fields) if isinstance(f, dict)]
    bases = [fields[i]["high"] - fields[i]["low"] + 1 for i in slots]
    capacity = math.prod(bases)
    number = numbers.astype(np.int64)
    if len(number) and int(number.max()) < capacity and capacity < 2**62 // _ID_STRIDE:
        number = number * _ID_STRIDE % capacity
    parts = [np.full(len(number), f, dtype=object) if not isinstance(f, dict) else None for f in fields]
    for i, base in zip(reversed(slots[1:]), reversed(bases[1:])):
        parts[i] = number % base + fields[i]["low"]
        number = number // base
    parts[slots[0]] = number + fields[slots[0]]["low"]
    out = np.full(len(number), "", dtype=object)
    for i, part in enumerate(parts):
        if isinstance(fields[i], dict):
            text = part.astype(str)
            if fields[i]["width"]:
                text = np.char.zfill(text, fields[i]["width"])
            part = text.astype(object)
        out = out + part
    return out


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
    if "fields" in fmt:
        return _draw_fields(fmt["fields"], rows)
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
