"""Processes the fault tests kill with SIGKILL in the middle of their work.

Run: python -m tests.reliability.fault_workers save DATABASE_URL RATIONALE_ID
(saves edits to one rationale forever, printing "saved N" after each commit).
"""

import sys

from sqlmodel import Session, select

from backend.annotation import get_rationale_view, save_edit
from backend.student_formats import StepText
from db.engine import make_engine
from db.models import User


def save_forever(url: str, rationale_id: int) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        author = session.exec(select(User)).first()
        assert author is not None
        number = 0
        while True:
            view = get_rationale_view(session, rationale_id=rationale_id)
            # Vary the number of steps so a torn save would show as a step count that disagrees.
            steps = [
                StepText(f"q{i}?", f"save {number} step {i}: 2 * {i} = {2 * i}")
                for i in range(1 + number % 5)
            ]
            save_edit(
                session,
                rationale_id=rationale_id,
                expected_version=view.version,
                steps=steps,
                final_answer=str(number),
                author=author,
            )
            number += 1
            print(f"saved {number}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] != ["save"] or len(sys.argv) != 4:
        raise SystemExit(__doc__)
    save_forever(sys.argv[2], int(sys.argv[3]))
