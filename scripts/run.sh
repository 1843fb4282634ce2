#!/usr/bin/env bash
# Install everything (once) and start Socratic Studio on its embedded defaults: an SQLite file under
# ~/.socratic-studio, demo problems from reasoning-gym, and SmolLM2-135M-Instruct prepared once.
#   scripts/run.sh [serve options, e.g. --port 7861]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/socratic-studio serve "$@"
