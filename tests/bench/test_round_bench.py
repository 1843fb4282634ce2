"""The samples-per-question benchmark end to end on a tiny ladder: two rounds from one student, the
student evaluated once, and every comparison on the same problems."""

import json
import sqlite3
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
    # per split of the ladder: each split's evaluated problems, and only the splits holding some
    splits = json.loads((ladder / "results.json").read_text())["splits"]
    with sqlite3.connect(work / "rounds.db") as db:
        query = "SELECT problem_id FROM evaltrace WHERE eval_run_id = ?"
        evaluated = {row[0] for row in db.execute(query, (four["before_id"],))}
    covered = {name: len(evaluated & set(ids)) for name, ids in splits.items()}
    assert {name: r["n"] for name, r in four["by_split"].items()} == {k: n for k, n in covered.items() if n}
    assert "train" not in four["by_split"]  # (the tiny ladder's GSM8K split is 4 drawn problems)
    assert set(result["paired"]["k=2 vs k=1"]["by_split"]) == set(four["by_split"])
    reasoning = four["reasoning"]  # every kept sample is a repeat of the set's reasoning or new
    assert reasoning["repeats"] + reasoning["new_reasoning"] == reasoning["passed"]
    assert f"kept {reasoning['passed']} of" in four["message"]
    assert "2 questions" in four["message"]
    # the same call again with a control evaluation (here the start's own): nothing is redone
    run_bench([*command, "--control", f"round-{four['job_id']}-before"], shared_datasets)
    controlled = json.loads((work / "rounds.json").read_text())
    against = controlled["against_control"]
    keys = ("n", "before", "after", "wins", "losses")
    assert (against["control vs start"]["wins"], against["control vs start"]["losses"]) == (0, 0)
    assert [against["k=2 vs control"][k] for k in keys] == [four["compare"][k] for k in keys]
    assert controlled["rounds"]["2"]["job_id"] == four["job_id"] and set(four["seconds"]) >= {
        f"round-{four['job_id']}-samples"
    }
    assert (ladder / "ladder.db").stat().st_mtime == before  # the ladder's database is only copied
    # the k = 1 round's bench process killed mid-round: its row still reads "running", with a dead pid
    with sqlite3.connect(work / "rounds.db") as db:
        db.execute("UPDATE job SET status = 'running', pid = 2147483647 WHERE id = ?", (one["job_id"],))
    # run again for k = 1 only: the dead round resumes (nothing left to redo), k = 2 stays in the record
    run_bench([*command[:8], "1", *command[9:]], shared_datasets)
    again = json.loads((work / "rounds.json").read_text())
    assert again["rounds"]["1"]["job_id"] == one["job_id"] and again["rounds"]["2"] == four
    assert again["paired"]["k=2 vs k=1"]["n"] == 3
    # a rationalizing round joins the same record and is paired with the others
    run_bench([*command[:8], "1", *command[9:], "--rationalize"], shared_datasets)
    third = json.loads((work / "rounds.json").read_text())
    hinted = third["rounds"]["1+rationalize"]
    with sqlite3.connect(work / "rounds.db") as db:
        (params,) = db.execute("SELECT params FROM job WHERE id = ?", (hinted["job_id"],)).fetchone()
    assert json.loads(params)["rationalize"] is True and hinted["before_id"] == one["before_id"]
    assert (
        third["paired"]["k=1 vs k=1+rationalize"]["n"] == 3 and third["rounds"]["1"] == again["rounds"]["1"]
    )
    # the k = 2 round again with --distinct: its samples are reused (no teacher run added), the same
    # samples pass, and only those that reason otherwise join the set
    with sqlite3.connect(work / "rounds.db") as db:
        runs_before = db.execute("SELECT count(*) FROM teacherrun").fetchone()
    run_bench([*command[:8], "2", *command[9:], "--distinct"], shared_datasets)
    fourth = json.loads((work / "rounds.json").read_text())
    distinct = fourth["rounds"]["2+distinct"]
    with sqlite3.connect(work / "rounds.db") as db:
        assert db.execute("SELECT count(*) FROM teacherrun").fetchone() == runs_before
    assert distinct["reasoning"] == four["reasoning"] and distinct["before_id"] == four["before_id"]
    assert f"kept {four['reasoning']['new_reasoning']} of" in distinct["message"]
    assert "k=2 vs k=2+distinct" in fourth["paired"]
