"""Where the newest demo chain stands: its step, and that step's own job while it runs."""

from datetime import timedelta

from sqlmodel import Session

from backend.demo.progress import latest_chain
from db.models import Job, JobKind, JobStatus
from db.models.common import utcnow


def _job(session: Session, **fields: object) -> Job:
    job = Job(**fields)  # type: ignore[arg-type]
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def test_no_chain_yet(session: Session) -> None:
    _job(session, kind=JobKind.train)
    assert latest_chain(session) is None


def test_a_running_chain_names_its_step_job_and_elapsed_time(session: Session) -> None:
    _job(session, kind=JobKind.demo, status=JobStatus.failed)  # an older chain: the newest one counts
    chain = _job(session, kind=JobKind.demo, status=JobStatus.running, params={"train_problems": 100},
                 started_at=utcnow() - timedelta(minutes=3))  # fmt: skip
    step = _job(session, kind=JobKind.train, status=JobStatus.running, done=40, total=150)
    chain.message = f"3/5 training the decomposer (job #{step.id})"
    session.add(chain)
    session.commit()
    progress = latest_chain(session)
    assert progress is not None and progress.active and progress.chain.id == chain.id
    assert progress.step_job is not None and progress.step_job.id == step.id
    assert 170 < progress.elapsed_seconds() < 200
    assert progress.expected_seconds < latest_expected_for(session, 300)


def latest_expected_for(session: Session, train_problems: int) -> float:
    """A larger chain is expected to take longer (the figure comes from the chain's own parameters)."""
    _job(session, kind=JobKind.demo, status=JobStatus.queued, params={"train_problems": train_problems})
    progress = latest_chain(session)
    assert progress is not None and progress.step_job is None
    return progress.expected_seconds


def test_a_finished_chain_has_no_step_job_and_stops_its_clock(session: Session) -> None:
    step = _job(session, kind=JobKind.evaluate, status=JobStatus.succeeded)
    started = utcnow() - timedelta(minutes=30)
    finished = started + timedelta(minutes=20)
    _job(session, kind=JobKind.demo, status=JobStatus.succeeded, message=f"5/5 (job #{step.id})",
         started_at=started, finished_at=finished, params={"unknown_field": 1})  # fmt: skip
    progress = latest_chain(session)
    assert progress is not None and not progress.active and progress.step_job is None
    assert progress.elapsed_seconds() == 20 * 60
    assert progress.expected_seconds > 0  # an old chain's unknown parameters fall back to the defaults
