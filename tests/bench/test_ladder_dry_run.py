"""The gsm8k-cpu preset end to end at a tiny size; the snapshot that carries a staged run between calls."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench.ladder import restore, snapshot

ROOT = Path(__file__).resolve().parents[2]


def test_a_snapshot_keeps_results_and_database_but_drops_traces(tmp_path: Path) -> None:
    work, state, fresh = tmp_path / "work", tmp_path / "state", tmp_path / "fresh"
    work.mkdir()
    fresh.mkdir()
    with sqlite3.connect(work / "ladder.db") as db:
        db.execute("CREATE TABLE evaltrace (id INTEGER, raw_text TEXT)")
        db.execute("CREATE TABLE problem (id INTEGER)")
        db.execute("INSERT INTO evaltrace VALUES (1, 'long output')")
        db.execute("INSERT INTO problem VALUES (7)")
    (work / "results.json").write_text('{"results": []}')
    snapshot(work, state)
    restore(fresh, state)
    with sqlite3.connect(fresh / "ladder.db") as db:
        assert db.execute("SELECT count(*) FROM evaltrace").fetchone() == (0,)
        assert db.execute("SELECT id FROM problem").fetchall() == [(7,)]
    assert json.loads((fresh / "results.json").read_text()) == {"results": []}
    (fresh / "results.json").write_text("{}")
    restore(fresh, state)  # a warm machine's own run is never overwritten
    assert (fresh / "results.json").read_text() == "{}"


@pytest.mark.slow
def test_the_gsm8k_cpu_dry_run_runs_end_to_end(
    tmp_path: Path, tiny_llama: Path, shared_datasets: Path
) -> None:
    work = tmp_path / "work"
    command = [sys.executable, "bench/ladder.py", "--preset", "gsm8k-cpu", "--dry-run",
               "--base-model", str(tiny_llama), "--work", str(work)]  # fmt: skip
    env = {"SOCRATIC_DATASETS": str(shared_datasets), "OMP_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads((work / "results.json").read_text())
    assert (work / "datasets" / "gsm8k" / "test.jsonl").exists()  # read from the bundle's layout
    rows = {(r["arm"], r["dataset"], r["calculator"]) for r in payload["results"]}
    for arm in ("answer_only", "cot", "socratic_masked"):
        assert {(arm, "gsm8k_test", True), (arm, "gsm8k_test", False), (arm, "svamp", True)} <= rows
        assert (arm, "gsm8k_test_clean", True) in rows
    assert ("floor", "gsm8k_test", True) in rows and ("floor", "gsm8k_test", False) not in rows
    evaluated = [r for r in payload["results"] if "subset_of" not in r]
    assert all(len(r["outputs"]) == r["n_problems"] for r in evaluated)
    outputs = [output for row in evaluated for output in row["outputs"].values()]
    assert outputs and all({"answer", "text", "steps", "correct"} <= set(output) for output in outputs)
    assert payload["arm_training"]["cot"] == "supervised on reference solutions"
    assert "What trained each arm:" in done.stdout


@pytest.mark.slow
def test_a_gpu_stage_is_rehearsed_with_the_device_command_on_the_carried_bundle(
    tmp_path: Path, tiny_llama: Path, shared_datasets: Path
) -> None:
    carry, out = tmp_path / "carry", tmp_path / "out"
    env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "2", "SOCRATIC_DATASETS": str(shared_datasets)}
    bundle = ["bash", "bench/gpu_bundle.sh", "--datasets", str(carry / "b" / "datasets")]
    subprocess.run(bundle, cwd=ROOT, env=env, check=True, capture_output=True)
    # gpu_run.sh points SOCRATIC_DATASETS at the carry itself: ../shared is never read
    env = env | {"LADDER_CARRY": str(carry), "LADDER_WORK": str(tmp_path / "work"), "OUT": str(out)}
    env.pop("SOCRATIC_DATASETS")
    stage = ["bash", "bench/gpu_run.sh", "data", "--dry-run", "--base-model", str(tiny_llama)]
    done = subprocess.run(stage, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| data | data, teacher |" in (out / "stages.md").read_text()
    assert "| done |" in (out / "stages.md").read_text()
    assert (out / "state" / "ladder.db.gz").stat().st_size > 0
    assert (out / "state" / "results.json.gz").stat().st_size > 0
