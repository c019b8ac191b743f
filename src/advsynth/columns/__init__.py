"""The typing layer: one reversible transformer per column kind (in the spirit of RDT).

Three steps, each in one place:

* ``parse_text_frame`` decides what a column of text read from a file is (numbers, integers,
  dates, codes, text) and records what the text itself says (decimals written, date
  format, stray non-numeric tokens) in ``df.attrs[TEXT_FACTS]`` so the schema can give the
  output the same precision and the same text format.
* ``fit_column`` learns a column's facts into a ``ColumnSpec`` (plain JSON-able fields:
  schema.json travels to the containers) and ``transformer_for(spec)`` rebuilds its
  transformer from them.
* A transformer's ``transform`` gives the model values every model reads (float64 with NaN,
  or category strings with ``OTHER_LEVEL``); ``reverse_transform`` gives back a series typed
  exactly like the input column: the same dtype, the same decimals, the same discrete
  values, the same levels, the same time zone.

One module per kind, one signature (``fit(series)``, ``transform(series)`` → model values,
``reverse_transform(values, rng, first_row)`` → the typed column) and one missing-value
convention (``base``: NaN in model values, the input's own missing marker in the output):

* ``base``: the layer's constants, typed casts, the ``ColumnTransformer`` base;
* ``parsing``: what a text column is, and what its text says;
* ``zones``: fixed offsets, IANA names, the zone a local time follows;
* ``numeric``, ``categorical`` (and booleans), ``dates``: the modelled kinds;
* ``passthrough`` (constant, all missing), ``identifiers``, ``text``: written from their facts;
* ``kinds``: which transformer a column gets (``infer_kind``, ``fit_column``, ``transformer_for``).
"""

from .base import CSV_DIALECT, CSV_SEP, OTHER_LEVEL, TEXT_FACTS, ColumnTransformer, float_values, round_decimals
from .categorical import MAX_LEVELS
from .kinds import fit_column, infer_kind, transformer_for
from .parsing import parse_text_frame

__all__ = ["CSV_DIALECT", "CSV_SEP", "MAX_LEVELS", "OTHER_LEVEL", "TEXT_FACTS", "ColumnTransformer", "fit_column",
           "float_values", "infer_kind", "parse_text_frame", "round_decimals", "transformer_for"]
