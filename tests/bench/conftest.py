"""A tiny `gsm8k-cpu` ladder (its CoT student, seed 1), built once for the benchmarks that start from one:
each copies its database and never writes the ladder's."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_cot_ladder(
    tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path, shared_datasets: Path
) -> Path:
    ladder = tmp_path_factory.mktemp("tiny-ladder")
    command = [sys.executable, "bench/ladder.py", "--preset", "gsm8k-cpu", "--dry-run", "--arms", "cot",
               "--seeds", "1", "--base-model", str(tiny_llama), "--work", str(ladder)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=bench_env(shared_datasets), capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return ladder


def bench_env(shared_datasets: Path) -> dict[str, str]:
    """What a benchmark's process gets: the datasets, two threads, no settings of this shell."""
    return {"SOCRATIC_DATASETS": str(shared_datasets), "OMP_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"}
