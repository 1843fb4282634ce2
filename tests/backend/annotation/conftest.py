"""Rows for annotation tests: users of each role and rationales stored the real way (revision 1)."""

import pytest
from sqlmodel import Session

from backend.access.auth import create_user
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from db.models import Problem, Rationale, RationaleSource, Role, User, Verdict
from tests.factories import make_dataset, make_problem, make_run


def store_rationale(
    session: Session,
    problem: Problem,
    *,
    run_id: int | None = None,
    sample: int = 0,
    verdict: Verdict = Verdict.correct,
) -> Rationale:
    draft = RationaleDraft(
        steps=[
            StepText("How many pens are in the boxes?", "3 * 5 = <<3*5=15>>15 pens."),
            StepText("How many are left?", "15 - 2 = <<15-2=13>>13 pens."),
        ],
        final_answer="13",
        verdict=verdict,
        sample_index=sample,
    )
    rationale = add_rationale(
        session, problem=problem, draft=draft, source=RationaleSource.teacher, run_id=run_id
    )
    session.commit()
    session.refresh(rationale)
    return rationale


@pytest.fixture
def users(session: Session) -> dict[str, User]:
    return {
        "alice": create_user(session, username="alice", role=Role.annotator),
        "bob": create_user(session, username="bob", role=Role.annotator),
        "viewer": create_user(session, username="vera", role=Role.viewer),
        "admin": create_user(session, username="root", role=Role.admin),
    }


@pytest.fixture
def rationale(session: Session) -> Rationale:
    problem = make_problem(session, make_dataset(session))
    return store_rationale(session, problem)


@pytest.fixture
def many(session: Session) -> list[Rationale]:
    """Twelve rationales over two datasets, alternating correct and wrong."""
    rows = []
    for d in range(2):
        dataset = make_dataset(session, name=f"set{d}")
        run = make_run(session, dataset, name=f"run{d}")
        for p in range(3):
            problem = make_problem(session, dataset, external_id=f"p{p}")
            for sample in range(2):
                verdict = Verdict.correct if sample == 0 else Verdict.wrong
                rows.append(store_rationale(session, problem, run_id=run.id, sample=sample, verdict=verdict))
    return rows
