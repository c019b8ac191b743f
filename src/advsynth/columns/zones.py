"""Time zones of datetime columns: fixed offsets, IANA names, and the zone a local time's offsets follow."""

from __future__ import annotations

import re
from datetime import timedelta, timezone

import numpy as np
import pandas as pd




# regions searched first for the zone of a local-time column: an Atlantic or African zone with the
# same rules as a European one (Africa/Ceuta, Europe/Berlin) gives the same offsets; the name should be the familiar one
_REGIONS = ("Europe/", "America/", "Asia/", "Australia/", "Africa/", "Pacific/", "Atlantic/", "Indian/", "Antarctica/")
_ZONE_SAMPLE = 400  # (instant, offset) pairs every candidate zone is tried on before all pairs are checked


def _zone_of(parsed_utc: pd.Series, offsets: pd.Series) -> str | None:
    """The IANA zone whose UTC offset at every instant is the offset the text gave it (a European
    local time writes +01:00 in winter and +02:00 in summer), or None when no zone fits."""
    import zoneinfo

    sign = np.where(offsets.str.startswith("-"), -1, 1)
    digits = offsets.str.replace(r"[^0-9]", "", regex=True).where(offsets != "Z", "0000")
    minutes = sign * (digits.str[:2].astype(int) * 60 + digits.str[2:4].replace("", "0").astype(int))
    pairs = pd.DataFrame({"t": parsed_utc.to_numpy(), "m": minutes.to_numpy()}).drop_duplicates()
    if pairs["t"].duplicated().any():  # one instant written with two offsets: no single zone
        return None
    # every distinct offset, then an even spread of instants
    probe = pd.concat([pairs.drop_duplicates("m"), pairs.sort_values("t").iloc[
        np.linspace(0, len(pairs) - 1, min(len(pairs), _ZONE_SAMPLE)).astype(int)]]).drop_duplicates()
    try:
        names = zoneinfo.available_timezones()
    except Exception:  # no time-zone database: keep UTC
        return None
    ordered = sorted((n for n in names if n.startswith(_REGIONS)),
                     key=lambda n: (next(i for i, r in enumerate(_REGIONS) if n.startswith(r)), n))

    def fits(name: str, rows: pd.DataFrame) -> bool:
        instants = pd.DatetimeIndex(rows["t"])
        local = instants.tz_convert(name).tz_localize(None)
        shift = (local - instants.tz_localize(None)).total_seconds() // 60
        return bool(np.array_equal(shift.to_numpy(dtype=np.int64), rows["m"].to_numpy(dtype=np.int64)))

    for name in ordered:
        if fits(name, probe) and fits(name, pairs):
            return name
    return None


def _offset_name(offset: str) -> str:
    offset = offset if ":" in offset else offset[:3] + ":" + offset[3:]
    return "UTC" if offset in ("+00:00", "-00:00") else offset


def _tz(name: str | None):
    """A tz pandas accepts from its stored name: an IANA name, "UTC", or a fixed offset "+02:00"."""
    if name is None:
        return None
    m = re.fullmatch(r"(?:UTC)?([+-])(\d{2}):(\d{2})", name)
    if m:
        minutes = int(m[2]) * 60 + int(m[3])
        return timezone(timedelta(minutes=minutes if m[1] == "+" else -minutes))
    return name


def _tz_name(tz) -> str:
    name = str(tz)
    m = re.fullmatch(r"UTC([+-]\d{2}:\d{2})", name)
    return m[1] if m else name


# --------------------------------------------------------------------------- helpers
