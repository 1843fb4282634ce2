"""`socratic-studio failures send`: one error class of an evaluation into a named annotation queue."""

from sqlmodel import Session, select

from backend.annotation import named_queues
from db.engine import open_database
from db.models import AnnotationQueue, EvalTrace, Rationale
from tests.webapp.cli.test_data import cli, db_url  # noqa: F401 (db_url is a fixture)
from tests.webapp.seed import seed_eval_run, seed_rationales


def _run_with_two_classes(url: str) -> tuple[int, int]:
    """An evaluation with two failures, one of them re-classed as wrong arithmetic; (run id, its trace)."""
    cli(url, "jobs", "list")  # creates and migrates the database
    with Session(open_database(url)) as session:
        run = seed_eval_run(session, seed_rationales(session))
        trace = session.exec(select(EvalTrace).where(EvalTrace.correct == False)).all()[-1]  # noqa: E712
        trace.error_category = "arithmetic"
        session.add(trace)
        session.commit()
        return run.id or 0, trace.id or 0


def test_one_class_of_failures_goes_to_its_queue(db_url: str) -> None:  # noqa: F811
    run_id, trace_id = _run_with_two_classes(db_url)
    args = ("failures", "send", str(run_id), "--category", "arithmetic", "--queue", "arithmetic")
    assert "1 rationales of 1 failures in the queue 'arithmetic'" in cli(db_url, *args)
    with Session(open_database(db_url)) as session:
        queue = session.exec(select(AnnotationQueue)).one()
        (member,) = named_queues.queue_rationale_ids(session, queue_id=queue.id or 0)
        rationale = session.get(Rationale, member)
        assert rationale is not None and rationale.sample_index == 1_000_000 + trace_id  # that trace's


def test_bad_input_is_a_clear_error_and_writes_nothing(db_url: str) -> None:  # noqa: F811
    run_id, _ = _run_with_two_classes(db_url)
    assert "no evaluation run with id 999" in cli(db_url, "failures", "send", "999", ok=False)
    none = ("failures", "send", str(run_id), "--category", "nope")
    assert "no failure that matches" in cli(db_url, *none, ok=False)
    assert "send one of" in cli(db_url, "failures", "send", str(run_id), "--what", "all", ok=False)
    assert "not trained on a curated set" in cli(
        db_url, "failures", "send", str(run_id), "--what", "training", "--queue", "q", ok=False
    )
    with Session(open_database(db_url)) as session:
        assert session.exec(select(AnnotationQueue)).first() is None
        assert session.exec(select(Rationale).where(Rationale.source == "student")).first() is None
