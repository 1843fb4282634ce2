"""The web server process never loads torch or transformers: step-through models live in the model
worker (backend.model_worker), training and evaluation in job workers. Checked in a fresh interpreter
that builds the whole app, as `socratic-studio serve` does."""

import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
import sys, tempfile
from pathlib import Path
from db.engine import open_database
from db.settings import Settings
from webapp.app import build_app
home = Path(tempfile.mkdtemp())
build_app(open_database(f"sqlite:///{home / 'studio.db'}"), Settings(home=home))
print(sorted(name for name in ("torch", "transformers", "trl", "vllm") if name in sys.modules))
"""


def test_building_the_app_imports_no_model_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
