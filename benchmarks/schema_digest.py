"""A digest of what the typing layer and the detector's features make of every benchmark table.

    python benchmarks/schema_digest.py > after.txt     # on this tree
    (on another tree, the same)                         # then: diff before.txt after.txt

One line per table of ``benchmarks/tables.py`` (the stress tables at 100,000 rows): the
table, the first 16 hex digits of sha256(schema.json + the detector's features.json fitted on
the real rows), and the columns the detector reads on its sign-preserving log scale (a range
beyond float32). Two trees that print the same lines type every table alike and give the
detector the same features, so a change to those layers moved no benchmark figure.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tables  # noqa: E402

from advsynth.detection import DetectorFeatures  # noqa: E402
from advsynth.schema import infer_schema  # noqa: E402


def main() -> None:
    for name in tables.TABLES:
        df = tables.load(name, **({"stress_rows": 100_000} if name in ("stress", "levels") else {}))
        schema = infer_schema(df, tables.table_types("adult") if name == "adult" else None)
        features = DetectorFeatures.fit(schema, df)
        digest = hashlib.sha256((schema.to_json() + features.to_json()).encode()).hexdigest()[:16]
        logged = [c for c, info in features.numeric.items() if info.get("signed_log")]
        print(name, digest, "signed_log:", ",".join(logged) or "-", flush=True)


if __name__ == "__main__":
    main()
