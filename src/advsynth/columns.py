"""The typing layer: from the text (or typed frame) a user gives to the values models read, and back.

This module is the seam between reading a table (``advsynth.io``: bytes → a frame of text
columns, or a typed frame from Parquet or the Python API) and the schema
(``advsynth.schema``). ``parse_text_frame`` is what the reader hands its frame to.
"""

from __future__ import annotations

import pandas as pd


def parse_text_frame(df: pd.DataFrame, *, decimal: str = ".") -> pd.DataFrame:
    """The frame the schema is inferred from, given a frame of text columns as read from a file.

    Today: a column whose every value is a number becomes numeric, ISO 8601 dates become
    datetimes, everything else stays text.
    """
    from .io import parse_iso_dates

    out = df.copy()
    for name in out.columns:
        col = out[name]
        if col.dtype == object:
            text = col.dropna().astype(str)
            if decimal != ".":
                text = text.str.replace(decimal, ".", regex=False)
            numbers = pd.to_numeric(text, errors="coerce")
            if len(text) and numbers.notna().all():
                values = pd.to_numeric(col.astype(str).str.replace(decimal, ".", regex=False).where(col.notna()),
                                       errors="coerce")
                out[name] = values
    return parse_iso_dates(out)
