"""Concurrent annotators on one rationale: exactly one save per version wins, the others are refused with
the winner's change shown, and no successful save is lost (every one is a revision, numbered without gaps).
Threads and processes, on SQLite and (slow) on a real PostgreSQL server."""

import multiprocessing
import threading
from collections import Counter

import pytest
from sqlmodel import Session, col, select

from backend.access.auth import create_user, get_user
from backend.annotation import StaleEdit, get_rationale_view, review_rationale, save_edit
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from db.engine import make_engine
from db.models import RationaleSource, Revision, Role
from tests.factories import make_dataset, make_problem
from tests.reliability.workers import Outcome, annotate, annotate_in_process

ANNOTATORS = ["ada", "bo", "cy", "di"]
ROUNDS = 6


def _prepare(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        for name in ANNOTATORS:
            create_user(session, username=name, role=Role.annotator)
        problem = make_problem(session, make_dataset(session))
        draft = RationaleDraft(steps=[StepText("How many pens?", "3 * 5 = 15")], final_answer="15")
        rationale = add_rationale(session, problem=problem, draft=draft, source=RationaleSource.teacher)
        session.commit()
        assert rationale.id is not None
        rationale_id = rationale.id
    engine.dispose()
    return rationale_id


def _check(url: str, rationale_id: int, outcomes: list[Outcome]) -> None:
    assert len(outcomes) == len(ANNOTATORS) * ROUNDS
    winners = Counter(round_number for _, round_number, result, _ in outcomes if result == "won")
    assert winners == Counter(range(ROUNDS)), f"not exactly one winner per round: {winners}"
    won = {round_number: (name, text) for name, round_number, result, text in outcomes if result == "won"}
    for _name, round_number, result, message in outcomes:
        if result == "stale":
            winner = won[round_number][0]
            assert f"{winner} saved an edit as revision {round_number + 2}" in message, message
            assert f"round {round_number}" in message  # the word diff shows the two texts
    engine = make_engine(url)
    with Session(engine) as session:
        revisions = session.exec(
            select(Revision).where(Revision.rationale_id == rationale_id).order_by(col(Revision.number))
        ).all()
        assert [r.number for r in revisions] == list(range(1, ROUNDS + 2))  # contiguous, nothing lost
        for revision in revisions[1:]:
            round_number = revision.number - 2
            assert revision.content["steps"][0]["text"] == won[round_number][1]
            assert revision.version == round_number + 2
        view = get_rationale_view(session, rationale_id=rationale_id)
        assert view.version == ROUNDS + 1 and view.revision_number == ROUNDS + 1
        assert view.steps[0].text == won[ROUNDS - 1][1]
    engine.dispose()


def test_threads_racing_on_one_rationale(db_url: str):
    rationale_id = _prepare(db_url)
    barrier = threading.Barrier(len(ANNOTATORS))
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            outcomes.extend(annotate(db_url, name, rationale_id, ROUNDS, barrier))
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(name,)) for name in ANNOTATORS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    _check(db_url, rationale_id, outcomes)


@pytest.mark.slow  # four spawned interpreters: about 15 s on 2 busy cores
def test_processes_racing_on_one_rationale(db_url: str):
    rationale_id = _prepare(db_url)
    context = multiprocessing.get_context("spawn")  # no engine or connection crosses a fork
    barrier, results = context.Barrier(len(ANNOTATORS)), context.Queue()
    processes = [
        context.Process(
            target=annotate_in_process, args=(db_url, name, rationale_id, ROUNDS, barrier, results)
        )
        for name in ANNOTATORS
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    failures = [item for item in collected if isinstance(item, str)]
    assert not failures, failures
    _check(db_url, rationale_id, [outcome for batch in collected for outcome in batch])


def test_reviews_of_the_same_content_both_stand_but_not_after_an_edit(db_url: str):
    rationale_id = _prepare(db_url)
    engine = make_engine(db_url)
    with Session(engine) as session:
        ada, bo, cy = (get_user(session, username=name) for name in ("ada", "bo", "cy"))
        assert ada and bo and cy
        seen = get_rationale_view(session, rationale_id=rationale_id).version
        review_rationale(
            session, rationale_id=rationale_id, expected_version=seen, verdict="accept", reviewer=ada
        )
        review_rationale(
            session, rationale_id=rationale_id, expected_version=seen, verdict="reject", reviewer=bo
        )
        save_edit(
            session,
            rationale_id=rationale_id,
            expected_version=seen + 2,
            steps=[StepText(None, "new")],
            final_answer="15",
            author=cy,
        )
        with pytest.raises(StaleEdit, match="cy saved an edit as revision 2"):
            review_rationale(
                session, rationale_id=rationale_id, expected_version=seen, verdict="accept", reviewer=ada
            )
        assert len(get_rationale_view(session, rationale_id=rationale_id).reviews) == 2
    engine.dispose()
