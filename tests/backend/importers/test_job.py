"""Imports as jobs (what the web app starts): progress, success message, clean failure."""

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.jobs import store
from backend.jobs.runner import run_job
from db.models import JobKind, JobStatus
from tests.backend.importers.conftest import row_counts

ROWS = [
    {"question": f"What is {n} + 1?", "answer": f"{n} + 1 = <<{n}+1={n + 1}>>{n + 1}\n#### {n + 1}"}
    for n in range(5)
]


def start(engine: Engine, params: dict) -> int:
    with Session(engine) as session:
        job = store.create_job(session, kind=JobKind.import_data, params=params)
    assert job.id is not None
    return job.id


def test_gsm8k_job(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    job_id = start(engine, {"importer": "gsm8k", "path": str(path), "name": "toy"})
    assert run_job(engine, job_id) == JobStatus.succeeded
    with Session(engine) as session:
        job = store.get_job(session, job_id=job_id)
    assert job.message.startswith("toy: 5 added, 0 unchanged") and (job.done, job.total) == (5, 5)
    assert row_counts(engine)["Problem"] == 5


def test_table_and_reasoning_gym_jobs(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("q,a\nOne plus one?,2\n")
    table = start(
        engine, {"importer": "table", "path": str(path), "columns": {"question": "q", "answer": "a"}}
    )
    gym = start(engine, {"importer": "reasoning_gym", "generator": "gsm_symbolic", "size": 2, "seed": 1})
    assert run_job(engine, table) == run_job(engine, gym) == JobStatus.succeeded
    assert row_counts(engine)["Problem"] == 3


def test_failed_job_stores_nothing_and_says_why(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{broken\n")
    bad_file = start(engine, {"importer": "gsm8k", "path": str(path)})
    bad_params = start(engine, {"importer": "gsm8k", "file": str(path)})
    unknown = start(engine, {"importer": "parquet", "path": str(path)})
    for job_id, expected in [
        (bad_file, "train.jsonl line 2: invalid JSON"),
        (bad_params, "bad parameters for the gsm8k importer"),
        (unknown, "unknown importer 'parquet'"),
    ]:
        assert run_job(engine, job_id) == JobStatus.failed
        with Session(engine) as session:
            assert expected in (store.get_job(session, job_id=job_id).error or "")
    assert row_counts(engine)["Problem"] == 0


def test_cancel_while_reading_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    from backend.importers.job import run_import_job
    from backend.jobs.context import JobCancelled, JobContext

    path = tmp_path / "train.jsonl"
    row = json.dumps(ROWS[0]).replace('"What', '"Q{}: What')
    path.write_text("".join(row.replace("{}", str(n)) + "\n" for n in range(1500)))
    job_id = start(engine, {"importer": "gsm8k", "path": str(path)})
    store.mark_started(engine, job_id=job_id, log_path=None)
    with Session(engine) as session:
        store.request_cancel(session, job_id=job_id)  # a running job stops at its next progress report
    with pytest.raises(JobCancelled):
        run_import_job(
            JobContext(engine=engine, job_id=job_id, params={"importer": "gsm8k", "path": str(path)})
        )
    assert row_counts(engine)["Problem"] == 0
