"""The samples-per-question benchmark end to end on a tiny ladder: two rounds from one student, the
student evaluated once, and every comparison on the same problems."""

import json
from pathlib import Path

import pytest

from tests.bench.conftest import run_bench


@pytest.mark.slow
def test_two_rounds_from_a_tiny_ladders_student_share_its_evaluation(
    tmp_path: Path, tiny_cot_ladder: Path, shared_datasets: Path
) -> None:
    ladder, work = tiny_cot_ladder, tmp_path / "rounds"
    before = (ladder / "ladder.db").stat().st_mtime
    command = ["bench/round_bench.py", "--ladder", str(ladder), "--work", str(work), "--seed", "1",
               "--samples", "2,1", "--questions", "2", "--eval-limit", "3"]  # fmt: skip
    run_bench(command, shared_datasets)
    result = json.loads((work / "rounds.json").read_text())
    four, one = result["rounds"]["2"], result["rounds"]["1"]
    assert four["before_id"] == one["before_id"]  # the student's evaluation ran once
    assert four["compare"]["n"] == one["compare"]["n"] == 3
    assert result["paired"]["k=2 vs k=1"]["n"] == 3
    assert "2 questions" in four["message"] and set(four["seconds"]) >= {f"round-{four['job_id']}-samples"}
    assert (ladder / "ladder.db").stat().st_mtime == before  # the ladder's database is only copied
    # run again: both rounds are found finished, nothing is redone
    run_bench(command, shared_datasets)
    assert json.loads((work / "rounds.json").read_text())["rounds"]["1"]["job_id"] == one["job_id"]
