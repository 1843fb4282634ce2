"""The multi-GPU entry point, run directly on one device (what `accelerate launch -m` runs per process)."""

import pytest
from sqlmodel import select

from backend.jobs import store
from backend.training import launch
from db.models import JobStatus, ModelCheckpoint
from tests.backend.training.test_job import prepare


def test_launch_runs_a_prepared_run_and_finishes_its_job(engine, session, tiny_llama, tmp_path, capsys):
    run_id, _ = prepare(session, tiny_llama, tmp_path, kind="unified", max_steps=2)
    assert launch.main(["--run-id", str(run_id), "--db", str(engine.url)]) == 0
    checkpoint = session.exec(select(ModelCheckpoint).where(ModelCheckpoint.training_run_id == run_id)).one()
    assert checkpoint.role == "unified" and checkpoint.step == 2
    assert f"checkpoint {checkpoint.name!r}" in capsys.readouterr().out
    job = store.get_job(session, job_id=1)
    assert job.status == JobStatus.succeeded and job.started_at is not None


def test_launch_refuses_a_run_that_is_not_in_the_database(engine):
    with pytest.raises(SystemExit, match="training run 99 is not in this database"):
        launch.main(["--run-id", "99", "--db", str(engine.url)])
