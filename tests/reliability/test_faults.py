"""Faults: a process killed mid-save or mid-import leaves a consistent database; a killed job worker is
marked failed with its log tail; a read-only database and a full disk give a clear sentence, not a
traceback, and lose nothing."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from backend.access.auth import create_user
from backend.annotation import get_rationale_view, list_revisions, save_edit
from backend.display.errors import describe_db_error
from backend.jobs import store
from backend.jobs.runner import spawn_job
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import JobKind, JobStatus, Rationale, RationaleSource, Revision, Role, Step, User
from tests.factories import make_dataset, make_problem

ROOT = Path(__file__).resolve().parents[2]


def _one_rationale(engine: Engine) -> tuple[int, User]:
    with Session(engine) as session:
        user = create_user(session, username="ann", role=Role.annotator)
        problem = make_problem(session, make_dataset(session))
        draft = RationaleDraft(steps=[StepText("How many?", "3 * 5 = 15")], final_answer="15")
        rationale = add_rationale(session, problem=problem, draft=draft, source=RationaleSource.teacher)
        session.commit()
        assert rationale.id is not None
        return rationale.id, user


def _assert_consistent(engine: Engine) -> None:
    """integrity_check ok, and every rationale whole: revision 1, revisions without gaps up to the current
    one, and step rows that are exactly the current revision's steps."""
    with Session(engine) as session:
        assert session.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        for rationale in session.exec(select(Rationale)).all():
            numbers = [r.number for r in list_revisions(session, rationale_id=rationale.id)]  # type: ignore[arg-type]
            assert numbers == list(range(1, rationale.current_revision + 1)), (rationale.id, numbers)
            steps = session.exec(
                select(Step).where(Step.rationale_id == rationale.id).order_by(col(Step.position))
            )
            stored = [{"sub_question": s.sub_question, "text": s.text} for s in steps.all()]
            current = list_revisions(session, rationale_id=rationale.id)[-1].content  # type: ignore[arg-type]
            assert stored == current["steps"] and rationale.num_steps == len(stored)
            assert rationale.final_answer == current["final_answer"]


def _wait_for_lines(process: subprocess.Popen[str], count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    seen = 0
    while seen < count:
        line = process.stdout.readline()
        assert line, f"worker ended early with {process.poll()}"
        seen += 1
        assert time.monotonic() < deadline, "worker too slow"


def test_sigkill_mid_save_leaves_every_rationale_whole(engine: Engine):
    rationale_id, _ = _one_rationale(engine)
    rng = random.Random(6)
    for _ in range(3):
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability.fault_workers",
                "save",
                str(engine.url),
                str(rationale_id),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        _wait_for_lines(worker, rng.randint(5, 30))
        time.sleep(rng.random() * 0.05)  # land somewhere inside a save
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        _assert_consistent(engine)
    with Session(engine) as session:
        assert get_rationale_view(session, rationale_id=rationale_id).revision_number > 15


def _gsm8k_file(path: Path, count: int) -> Path:
    with path.open("w") as handle:
        for i in range(count):
            answer = f"Tom buys {i} pens at 2 each.\nHe pays {i}*2=<<{i}*2={2 * i}>>{2 * i}.\n#### {2 * i}"
            handle.write(
                json.dumps({"question": f"Tom buys {i} pens at 2 dollars each. How much?", "answer": answer})
                + "\n"
            )
    return path


def test_sigkill_mid_import_stores_nothing_half_and_the_job_is_marked_failed(engine: Engine, tmp_path: Path):
    source = _gsm8k_file(tmp_path / "train.jsonl", 40_000)
    with Session(engine) as session:
        job = store.create_job(
            session, kind=JobKind.import_data, params={"importer": "gsm8k", "path": str(source)}
        )
        assert job.id is not None
        job_id = job.id
    worker = spawn_job(job_id, database_url=str(engine.url), logs_dir=tmp_path / "logs")
    deadline = time.monotonic() + 120
    with Session(engine) as session:
        while (job := store.get_job(session, job_id=job_id)).done == 0:  # mid-import: progress reported
            assert worker.poll() is None and time.monotonic() < deadline, (
                "import ended before it could be killed"
            )
            time.sleep(0.05)
            session.expire_all()
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    _assert_consistent(engine)
    with Session(engine) as session:
        rationales = session.exec(select(func.count()).select_from(Rationale)).one()
        revisions = session.exec(select(func.count()).select_from(Revision).where(Revision.number == 1)).one()
        assert rationales == revisions  # no rationale without its revision 1 (0 == 0: one transaction)
        assert store.reconcile_orphans(session) == [job_id]
        job = store.get_job(session, job_id=job_id)
        assert job.status == JobStatus.failed and job.error is not None
        assert job.error.startswith("the worker process ended without finishing")
        assert "\n" not in job.error  # one line for viewers: the log file keeps the worker's output


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MB tmpfs mounted for the test (needs root); the folder holds the database."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs to simulate a full or read-only disk: {result.stderr.strip()}"
        )
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _database_on(folder: Path) -> tuple[Engine, int]:
    engine = make_engine(f"sqlite:///{folder / 'studio.db'}")
    upgrade_to_head(engine)
    rationale_id, _ = _one_rationale(engine)
    return engine, rationale_id


def _try_save(engine: Engine, rationale_id: int) -> str:
    with Session(engine) as session, pytest.raises(DBAPIError) as failure:
        user = session.exec(select(User)).one()
        view = get_rationale_view(session, rationale_id=rationale_id)
        save_edit(
            session,
            rationale_id=rationale_id,
            expected_version=view.version,
            steps=[StepText(None, "x" * 200_000)],
            final_answer="1",
            author=user,
        )
    return describe_db_error(failure.value, database="studio.db")


def test_full_disk_gives_a_clear_error_and_loses_nothing(small_disk: Path):
    engine, rationale_id = _database_on(small_disk)
    filler = small_disk / "filler"
    with filler.open("wb") as handle, pytest.raises(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    message = _try_save(engine, rationale_id)
    assert message.startswith("The disk is full (studio.db)"), message
    assert "Nothing was saved" in message
    filler.unlink()
    engine.dispose()
    engine = make_engine(str(engine.url))
    _assert_consistent(engine)
    with Session(engine) as session:
        assert get_rationale_view(session, rationale_id=rationale_id).revision_number == 1


def test_read_only_database_gives_a_clear_error(small_disk: Path):
    engine, rationale_id = _database_on(small_disk)
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    result = subprocess.run(
        ["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    message = _try_save(make_engine(str(engine.url)), rationale_id)
    assert message.startswith(("The database file is read-only", "The database file cannot be opened")), (
        message
    )
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    _assert_consistent(make_engine(str(engine.url)))


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root ignores file permissions; the read-only mount test covers it"
)
def test_read_only_file_gives_a_clear_error(tmp_path: Path):
    engine, rationale_id = _database_on(tmp_path)
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    (tmp_path / "studio.db").chmod(0o444)
    message = _try_save(make_engine(str(engine.url)), rationale_id)
    assert message.startswith(("The database file is read-only", "The database file cannot be opened")), (
        message
    )
