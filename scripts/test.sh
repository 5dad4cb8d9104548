#!/usr/bin/env bash
# Set up the project's virtual environment with the test extras and run the suite
# (two workers). Tests that need a real LocalStack or Redis run when one is
# reachable (LOCALSTACK_ENDPOINT, REDIS_URL or the default ports), are skipped with
# the reason otherwise, and fail instead of skipping when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
