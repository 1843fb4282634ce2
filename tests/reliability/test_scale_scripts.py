"""The scale benchmark's scripts stay in step with the schema: a small database built by
bench/scale_build.py is whole and consistent, and bench/scale_bench.py runs on it end to end."""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from db.engine import make_engine
from db.models import Rationale, Review, Revision, Step
from tests.reliability.test_faults import _assert_consistent

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # about 40 s: a build, a whole-database consistency walk and a short benchmark
def test_small_scale_database_is_consistent_and_benchmarks(tmp_path: Path):
    path = tmp_path / "scale.db"
    build = [sys.executable, "bench/scale_build.py", str(path), "--problems", "200"]
    subprocess.run(build, cwd=ROOT, check=True, capture_output=True, timeout=120)
    engine = make_engine(f"sqlite:///{path}")
    _assert_consistent(engine)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Rationale)).one() == 2_000
        assert session.exec(select(func.count()).select_from(Revision)).one() == 2_000
        assert session.exec(select(func.count()).select_from(Step)).one() > 5_000
        assert session.exec(select(func.count()).select_from(Review)).one() > 0
    engine.dispose()
    bench = [sys.executable, "bench/scale_bench.py", str(path), "--requests", "10", "--chart-requests", "2"]
    result = subprocess.run(bench, cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    assert "| Save edit + revision |" in result.stdout and "naive / ours" in result.stdout
