#!/usr/bin/env bash
# Regenerate the initial Alembic migration from db/models (allowed only until the first release lands;
# after that, add a new revision instead: alembic revision --autogenerate).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f db/migrations/versions/0001_initial_schema.py
tmp=$(mktemp -d)
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from db.migrate import alembic_config
command.revision(alembic_config(f"sqlite:///{sys.argv[1]}/gen.db"), message="initial schema", autogenerate=True, rev_id="0001")
PY
rm -rf "$tmp"
