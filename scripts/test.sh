#!/usr/bin/env bash
# The test command (README "Run the tests", and CI): set up what the suite needs from nothing, then pytest.
#   bash scripts/test.sh            # everything: unit, end-to-end on Adult, container tier, then SDV + CART
#   bash scripts/test.sh -m "not container"   # extra arguments go to the main suite's pytest
#
# Two environments, because SDV needs pandas < 3 and the main one runs pandas 3:
#   .venv      the main suite (every marker), with the [dev] extra
#   .venv-sdv  the tests marked sdv or cart, with the [sdv,dev] extras, pandas < 3 and PyTorch's CPU
#              build (torch==2.13.0 installs from this machine's disk; installing it first keeps SDV's
#              torch requirement from pulling a multi-GB CUDA build)
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

# pytest exits 5 when it collected no test: a broken suite, never a pass.
run_pytest() {  # run_pytest NAME PYTHON ARGS...: pytest's exit code, 5 reported as a failure
  local name=$1 python=$2 status
  shift 2
  set +e
  "$python" -m pytest -q "$@"
  status=$?
  set -e
  [ "$status" -eq 5 ] && echo "test.sh: $name: pytest collected no tests" >&2
  return "$status"
}

main_status=0
run_pytest "main suite" .venv/bin/python "$@" || main_status=$?

if [ ! -x .venv-sdv/bin/python ]; then
  python3 -m venv .venv-sdv
fi
.venv-sdv/bin/pip install --quiet torch==2.13.0
.venv-sdv/bin/pip install --quiet -e '.[sdv,dev]' 'pandas<3'
sdv_status=0
run_pytest "SDV + CART (.venv-sdv)" .venv-sdv/bin/python -m "sdv or cart" || sdv_status=$?

echo "test.sh: main suite exit $main_status, SDV + CART exit $sdv_status" >&2
[ "$main_status" -eq 0 ] && [ "$sdv_status" -eq 0 ]
