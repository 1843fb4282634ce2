"""Annotators racing on one rationale, shared by the thread and the process tests.

Each round, every annotator opens the rationale (reads its version), waits at a barrier so they all
hold the same version, then saves its own text. Exactly one save per round may win; the others must get
StaleEdit naming the winner. Outcomes come back as plain tuples so they cross process boundaries.
"""

from typing import Any, Protocol

from sqlmodel import Session, select

from backend.annotation import StaleEdit, get_rationale_view, save_edit
from backend.student_formats import StepText
from db.engine import make_engine
from db.models import User

Outcome = tuple[str, int, str, str]  # (username, round, "won" | "stale", message or saved text)


class Barrier(Protocol):
    def wait(self, timeout: float | None = None) -> Any: ...


def text_for(username: str, round_number: int) -> str:
    return f"{username} round {round_number}: 3 * 5 = 15 pens."


def annotate(url: str, username: str, rationale_id: int, rounds: int, barrier: Barrier) -> list[Outcome]:
    engine = make_engine(url)
    outcomes: list[Outcome] = []
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.username == username)).one()
            for round_number in range(rounds):
                view = get_rationale_view(session, rationale_id=rationale_id)
                barrier.wait(timeout=60)  # everyone now holds the same version
                mine = text_for(username, round_number)
                try:
                    save_edit(
                        session,
                        rationale_id=rationale_id,
                        expected_version=view.version,
                        steps=[StepText("How many pens?", mine)],
                        final_answer="15",
                        author=user,
                    )
                    outcomes.append((username, round_number, "won", mine))
                except StaleEdit as refused:
                    outcomes.append((username, round_number, "stale", str(refused)))
                barrier.wait(timeout=60)  # the round is over for everyone before the next read
    finally:
        engine.dispose()
    return outcomes


def annotate_in_process(
    url: str, username: str, rationale_id: int, rounds: int, barrier: Barrier, results: Any
):
    """multiprocessing entry point: puts the outcomes (or the error) on a queue."""
    try:
        results.put(annotate(url, username, rationale_id, rounds, barrier))
    except BaseException as error:
        results.put(repr(error))
        raise
