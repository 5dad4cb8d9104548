#!/usr/bin/env bash
# Set up the project's virtual environment with the test extras, the Node.js host's
# npm packages and Deno, and run the suite (two workers). Tests that need a real
# LocalStack, Redis or PostgreSQL run when one is reachable (LOCALSTACK_ENDPOINT,
# REDIS_URL, DATABASE_URL or the default ports), are skipped with the reason otherwise, and fail instead of
# skipping when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# Deno for the deno: consumers, pinned, from npm into the cache (a no-op once there)
.venv/bin/python -m simulator.clients.deno install
.venv/bin/python -m simulator.clients.node     # the Node.js host's npm packages (tsx, AWS SDK), pinned
# Powertools 3.34.0 (before the #8386 fix) in a cached venv, for the overlapping-executions test (a no-op once there)
.venv/bin/python -m simulator.clients.venvs powertools-3.34.0 >/dev/null
exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
