"""Are two sets of run folders the same experiment? For a refactoring that must not move the numbers.

    python benchmarks/compare_runs.py BEFORE AFTER

BEFORE and AFTER hold run folders of the same names (``advsynth run --out BEFORE/adult ...`` on
one tree, ``--out AFTER/adult`` on the other). For each folder: ``synthetic.csv`` /
``.parquet``, ``scores.csv`` and ``schema.json`` must be byte-identical, and ``metrics.json``
equal to 1e-9 (relative, for numbers) except timings, versions and paths; keys only one side
has are listed (a field a change adds is expected to show here). Prints one line per file and
exits 1 when anything differs.
"""

from __future__ import annotations

import filecmp
import json
import math
import sys
from pathlib import Path

SKIP = {"timings_s", "versions", "synthetic_path", "real_path", "holdout_path", "seconds"}


def differences(old, new, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            if key in SKIP or key.endswith("_s"):
                continue
            if key not in old or key not in new:
                out.append(f"{path}.{key}: only in {'AFTER' if key in new else 'BEFORE'}")
            else:
                out += differences(old[key], new[key], f"{path}.{key}")
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{path}: {len(old)} vs {len(new)} items"]
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool):
        same = old == new or (math.isnan(old) and math.isnan(new)) or abs(old - new) <= 1e-9 * max(1.0, abs(old))
        return [] if same else [f"{path}: {old} vs {new}"]
    return [] if old == new else [f"{path}: {str(old)[:60]} vs {str(new)[:60]}"]


def main(before: Path, after: Path) -> int:
    for side in (before, after):
        if not side.is_dir():
            raise SystemExit(f"compare_runs: {side} is not a folder of run folders")
    bad = False
    for folder in sorted(p for p in before.iterdir() if p.is_dir() and (p / "metrics.json").exists()):
        other = after / folder.name
        if not other.is_dir():
            print(f"{folder.name}: missing in AFTER")
            bad = True
            continue
        for name in ("synthetic.csv", "synthetic.parquet", "scores.csv", "schema.json"):
            if (folder / name).exists():
                same = (other / name).exists() and filecmp.cmp(folder / name, other / name, shallow=False)
                print(f"{folder.name}/{name}: {'identical' if same else 'DIFFERENT'}")
                bad |= not same
        if not (other / "metrics.json").exists():
            print(f"{folder.name}/metrics.json: missing in AFTER")
            bad = True
            continue
        diffs = differences(json.loads((folder / "metrics.json").read_text()),
                            json.loads((other / "metrics.json").read_text()))
        moved = [d for d in diffs if "only in AFTER" not in d]
        print(f"{folder.name}/metrics.json: {'equal' if not moved else 'DIFFERENT'}"
              + (f" ({'; '.join(diffs)})" if diffs else ""))
        bad |= bool(moved)
    return int(bad)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
