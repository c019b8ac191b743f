#!/usr/bin/env bash
# The test command (README "Run the tests", and CI): set up what the suite needs from nothing, then pytest.
#   bash scripts/test.sh            # everything: unit, end-to-end on Adult, container tier
#   bash scripts/test.sh -m "not container"   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

# Docker engine and the two images, for the local-mode pipeline tests (idempotent, seconds when warm).
bash scripts/local-docker.sh

# Debian's Chromium renders the HTML report headless in a test.
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet -e '.[dev]'

set +e
.venv/bin/python -m pytest -q "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: a broken suite, never a pass.
[ "$status" -eq 5 ] && echo "test.sh: pytest collected no tests" >&2
exit "$status"
