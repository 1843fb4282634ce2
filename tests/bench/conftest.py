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
    run_bench(["bench/ladder.py", "--preset", "gsm8k-cpu", "--dry-run", "--arms", "cot", "--seeds", "1",
               "--base-model", str(tiny_llama), "--work", str(ladder)], shared_datasets)  # fmt: skip
    return ladder


def run_bench(arguments: list[str], shared_datasets: Path) -> subprocess.CompletedProcess[str]:
    """A benchmark script run to its end, as its command line runs it: the datasets, two threads and none
    of this shell's settings; it must succeed."""
    env = {"SOCRATIC_DATASETS": str(shared_datasets), "OMP_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done
