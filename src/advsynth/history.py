"""Append-only benchmark history, in a local folder or under ``s3://bucket/prefix``.

Every run record is ONE JSON object written atomically (local: temp file + rename; S3: a
single PUT) under ``records/<UTC timestamp>-<uuid>.json``. Nothing is ever rewritten or
deleted, so a benchmark killed halfway leaves every finished run's record intact, and two
benchmarks can write to the same history at once without locking.

A record holds: ``timestamp`` (UTC ISO 8601), ``git_revision`` (``git rev-parse HEAD`` of
the checkout the package runs from, ``None`` outside a checkout) and ``git_dirty``,
``versions`` (advsynth, numpy, pandas, scikit-learn, xgboost, python), ``config_hash``
(sha256 of the canonical JSON of the run's resolved config: data, generator and params,
detector, rows, seed excluded), ``seed``, ``dataset``, ``generator``, ``bench_id`` (one
benchmark invocation), ``metrics``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import platform
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path

from ._version import __version__
from .errors import InputError
from .io import _s3_client, _split_s3, is_s3, read_bytes, write_text_atomic
from .stats import mean_interval

log = logging.getLogger(__name__)

RECORD_VERSION = 1


def git_revision(path: str | Path | None = None) -> tuple[str | None, bool | None]:
    """(HEAD commit, dirty?) of the git checkout holding ``path`` (default: this package); (None, None) outside one."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None, None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                                capture_output=True, text=True, timeout=10)
        return head.stdout.strip() or None, (bool(status.stdout.strip()) if status.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return None, None


def config_hash(obj) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of a config dict."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"advsynth": __version__, "python": platform.python_version()}
    for dist, key in (("numpy", "numpy"), ("pandas", "pandas"), ("scikit-learn", "sklearn"), ("xgboost", "xgboost")):
        try:
            out[key] = version(dist)
        except PackageNotFoundError:
            out[key] = None
    return out


def make_record(*, dataset: str, generator: str, seed: int, config: dict, metrics: dict,
                bench_id: str | None = None, bench_config_hash: str | None = None,
                timestamp: datetime | None = None) -> dict:
    rev, dirty = git_revision()
    ts = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
    hashed = {k: v for k, v in config.items() if k != "seed"}
    return {
        "record_version": RECORD_VERSION,
        "timestamp": ts.isoformat(timespec="microseconds"),
        "git_revision": rev,
        "git_dirty": dirty,
        "versions": package_versions(),
        "config_hash": config_hash(hashed),
        "bench_id": bench_id,
        "bench_config_hash": bench_config_hash,
        "seed": int(seed),
        "dataset": dataset,
        "generator": generator,
        "metrics": metrics,
    }


class HistoryStore:
    """Records under ``LOCATION/records/``; LOCATION is a folder or ``s3://bucket/prefix``."""

    def __init__(self, location: str | Path):
        self.location = str(location).rstrip("/")
        if not self.location:
            raise InputError("history location is empty")

    def __repr__(self) -> str:
        return f"HistoryStore({self.location!r})"

    def _key(self, record: dict) -> str:
        ts = datetime.fromisoformat(record["timestamp"]).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"records/{ts}-{uuid.uuid4().hex}.json"

    def append(self, record: dict) -> str:
        """Write one record as its own object; returns its URI/path."""
        uri = f"{self.location}/{self._key(record)}"
        write_text_atomic(uri, json.dumps(_clean(record), sort_keys=True, default=str, allow_nan=False) + "\n")
        return uri

    def _uris(self) -> list[str]:
        if is_s3(self.location):
            from botocore.exceptions import ClientError

            bucket, prefix = _split_s3(self.location + "/records/")
            uris = []
            try:
                for page in _s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                    uris += [f"s3://{bucket}/{o['Key']}" for o in page.get("Contents", []) if o["Key"].endswith(".json")]
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                raise InputError(f"cannot list history {self.location}: {code or err}") from None
            return sorted(uris)
        folder = Path(self.location) / "records"
        if not folder.exists():
            return []
        # temp files of an interrupted write start with "." and never end in ".json"
        return sorted(str(p) for p in folder.glob("*.json") if not p.name.startswith("."))

    def records(self) -> list[dict]:
        """Every readable record, oldest first; an unreadable object is skipped with a warning."""
        out = []
        for uri in self._uris():
            try:
                rec = json.loads(read_bytes(uri).decode("utf-8"))
                if not isinstance(rec, dict) or "timestamp" not in rec:
                    raise ValueError("not a record")
                out.append(rec)
            except (ValueError, UnicodeDecodeError, InputError) as err:
                log.warning("skipping unreadable history record %s: %s", uri, err)
        return sorted(out, key=lambda r: r["timestamp"])


def _clean(obj):
    """JSON-ready copy: NaN/inf become None (strict JSON), numpy scalars become Python numbers."""
    if hasattr(obj, "item") and not isinstance(obj, (list, dict, str)):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- trend


def _auc(rec: dict) -> tuple[float | None, float | None, float | None]:
    det = rec.get("metrics", {}).get("detector", {})
    ci = det.get("roc_auc_ci") or [None, None]
    return det.get("roc_auc"), ci[0], ci[1]


def trend(records: list[dict], level: float = 0.95) -> list[dict]:
    """Group records by dataset × generator over time and flag regressions.

    Within a group, records are ordered by timestamp and batched by ``bench_id`` (one
    benchmark invocation, usually several seeds; a record without a bench id is its own
    batch). The *latest* batch L is the batch of the newest record; *previous* P is every
    record of the earlier batches.

    Regression rule (higher detector AUC = fakes easier to spot = worse):
    ``regression = latest_lo > previous_hi`` where

    * ``latest_lo`` = mean over L's records of their DeLong 95 % CI lower bound
      (for one record, simply its lower bound);
    * ``previous_hi`` = upper end of the 95 % Student-t interval of the mean AUC of P
      (``mean + t(0.975, n-1) · sd / √n``) when P has ≥ 2 records; with exactly 1 record,
      that record's DeLong upper bound.

    No previous batch → no verdict (``regression`` False, ``previous_*`` None). The rule is
    deliberately conservative: it fires only when even the pessimistic end of the new
    AUC clears the optimistic end of the old mean, i.e. seed noise cannot explain it.
    ``config_changed`` says whether L's config hash differs from the previous batch's (a
    changed config explains a move without it being a code regression).
    """
    groups: dict[tuple, list[dict]] = {}
    for rec in sorted(records, key=lambda r: r["timestamp"]):
        groups.setdefault((rec.get("dataset"), rec.get("generator")), []).append(rec)
    rows = []
    for (dataset, generator), recs in groups.items():
        batch_of = lambda r: r.get("bench_id") or f"single:{r['timestamp']}"  # noqa: E731
        latest_batch = batch_of(recs[-1])
        latest = [r for r in recs if batch_of(r) == latest_batch]
        previous = [r for r in recs if batch_of(r) != latest_batch and r["timestamp"] < latest[0]["timestamp"]]
        l_aucs = [_auc(r) for r in latest]
        latest_mean = float(sum(a for a, _, _ in l_aucs) / len(l_aucs))
        lows = [lo for _, lo, _ in l_aucs if lo is not None]
        latest_lo = float(sum(lows) / len(lows)) if lows else None
        prev_mean = prev_hi = None
        if previous:
            p_aucs = [_auc(r) for r in previous]
            prev_mean, half = mean_interval([a for a, _, _ in p_aucs], level)
            if half is not None:
                prev_hi = prev_mean + half
            else:
                prev_hi = p_aucs[0][2]
        regression = bool(latest_lo is not None and prev_hi is not None and latest_lo > prev_hi)
        prev_batches = sorted({batch_of(r) for r in previous})
        prev_hash = next((r.get("config_hash") for r in reversed(previous)), None)
        rows.append({
            "dataset": dataset, "generator": generator, "runs": len(recs),
            "batches": len(prev_batches) + 1,
            "latest_time": latest[-1]["timestamp"], "latest_revision": (latest[-1].get("git_revision") or "")[:10] or None,
            "latest_n": len(latest), "latest_auc": latest_mean, "latest_lo": latest_lo,
            "previous_n": len(previous), "previous_mean": prev_mean, "previous_hi": prev_hi,
            "config_changed": bool(previous) and prev_hash != latest[-1].get("config_hash"),
            "regression": regression,
        })
    return rows


def format_trend(rows: list[dict]) -> str:
    if not rows:
        return "no records in the history"
    f = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    header = (f"{'dataset':<16} {'generator':<12} {'runs':>4} {'latest AUC':>10} {'lo':>6} "
              f"{'prev mean':>9} {'prev hi':>7}  {'revision':<10} verdict")
    lines = [header, "-" * len(header)]
    for r in rows:
        verdict = "REGRESSION" if r["regression"] else ("no previous" if r["previous_n"] == 0 else "ok")
        if r["config_changed"]:
            verdict += " (config changed)"
        lines.append(f"{str(r['dataset']):<16} {str(r['generator']):<12} {r['runs']:>4} {f(r['latest_auc']):>10} "
                     f"{f(r['latest_lo']):>6} {f(r['previous_mean']):>9} {f(r['previous_hi']):>7}  "
                     f"{str(r['latest_revision'] or '–'):<10} {verdict}")
    return "\n".join(lines)
